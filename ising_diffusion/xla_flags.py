"""The XLA CPU option the Metropolis sampler needs, put into ``XLA_FLAGS`` before JAX starts its CPU backend.

XLA CPU compiles a ``while`` loop into one kernel when the bytes its body touches (counted once) stay under a
threshold; the default is far smaller and leaves the sampler's sweep loop to the per-operation thunk dispatcher, 3-5x
slower (``benchmarks/README.md``). With 8 MB the sweep loops are compiled into kernels for N up to 1400 at least
(checked) while large loops (e.g. network training) stay with the thunk runtime and its multi-threaded kernels.

XLA reads ``XLA_FLAGS`` once, when JAX initialises its first backend, so ``import ising_diffusion`` sets it (without
importing JAX, so the command line starts fast); ``ising_diffusion.sampling`` asks again when it is imported.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["OPT_OUT_ENV", "SMALL_WHILE_LOOP_BYTES", "XLA_OPTION", "set_xla_cpu_flags"]

SMALL_WHILE_LOOP_BYTES = 8_000_000
XLA_OPTION = f"--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold={SMALL_WHILE_LOOP_BYTES}"
#: Setting this environment variable (to anything non-empty) leaves ``XLA_FLAGS`` alone.
OPT_OUT_ENV = "ISING_DIFFUSION_NO_XLA_FLAGS"


def set_xla_cpu_flags() -> bool:
    """Append the small-while-loop option to ``XLA_FLAGS`` if that can still take effect; returns whether it is set.

    This only works before any JAX computation ran. A user's own ``xla_backend_extra_options`` wins; setting the
    environment variable :data:`OPT_OUT_ENV` turns this off.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_small_while_loop_byte_threshold" in flags:
        return True
    if os.environ.get(OPT_OUT_ENV) or "xla_backend_extra_options" in flags:
        return False
    if "jax" in sys.modules:  # without JAX imported no backend can have started
        import jax
        from jax._src import xla_bridge  # private, but the only way to ask whether the flags can still take effect

        if xla_bridge.backends_are_initialized():
            if jax.default_backend() != "cpu":
                return False
            warnings.warn("ising_diffusion was imported after JAX initialised its backends, so XLA_FLAGS can no longer "
                          "be changed: the Metropolis sampler will run a few times slower on CPU. Import "
                          f"ising_diffusion first, or set XLA_FLAGS='{XLA_OPTION}' yourself.", RuntimeWarning,
                          stacklevel=3)
            return False
    os.environ["XLA_FLAGS"] = f"{flags} {XLA_OPTION}".strip()
    return True
