import os
from pathlib import Path

import jax
import pytest

# The command line turns JAX's persistent compilation cache on (ising_diffusion/compile_cache.py); tests that call it
# in-process must not write into the user's cache folder.
os.environ.setdefault("ISING_DIFFUSION_NO_CACHE", "1")

# One persistent compilation cache for the test run, in the repository's .pytest_cache (git-ignored): the xdist
# workers and the many tests that compile the same program (same function, shapes and settings) pay its compile once.
# The numbers are the same (the same program runs); a fresh clone starts empty. ISING_DIFFUSION_TEST_CACHE=0 turns it
# off.
TEST_CACHE_DIR = Path(__file__).resolve().parents[1] / ".pytest_cache" / "jax"
if os.environ.get("ISING_DIFFUSION_TEST_CACHE", "1") != "0":
    jax.config.update("jax_compilation_cache_dir", str(TEST_CACHE_DIR))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.3)

# Strict numerics in tests (diffrax test/conftest.py): implicit rank promotion is a bug.
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def key():
    return jax.random.key(0)
