import jax
import pytest

# Strict numerics in tests (diffrax test/conftest.py): implicit rank promotion is a bug.
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def key():
    return jax.random.key(0)
