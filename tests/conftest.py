import os
from pathlib import Path

# Tests compile hundreds of small programs and run each a few times: XLA's compile, not the run, is most of the
# suite's time. With most of XLA's optimisations off (LLVM at -O0; the same HLO, so the same operations in the same
# order) the default suite took 274 s instead of 392 s on a 2-core machine, run one after the other within ten
# minutes (`python -m pytest -q -n 2`, 549 passed both ways; user CPU 524 s vs 758 s). Set in the environment so that
# the command-line tests' subprocesses inherit it. ISING_DIFFUSION_TEST_OPTIMIZED=1 runs the suite on fully optimised
# programs, as users run them.
if os.environ.get("ISING_DIFFUSION_TEST_OPTIMIZED", "0") == "0":
    os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import jax  # noqa: E402  (after the environment above)
import pytest  # noqa: E402

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
