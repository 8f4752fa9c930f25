import os

import jax
import pytest

# The command line turns JAX's persistent compilation cache on (ising_diffusion/compile_cache.py); tests that call it
# in-process must not write into the user's cache folder.
os.environ.setdefault("ISING_DIFFUSION_NO_CACHE", "1")

# Strict numerics in tests (diffrax test/conftest.py): implicit rank promotion is a bug.
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def key():
    return jax.random.key(0)
