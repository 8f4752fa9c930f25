"""JAX's persistent compilation cache for the command line, on by default in a per-user folder.

A short run such as ``ising-diffusion main`` spends a large part of its time compiling; JAX can keep the compiled
programs on disk and reuse them in the next run (same results: the programs are the same). The command line turns
this on before anything is compiled, in ``$XDG_CACHE_HOME/ising_diffusion/jax`` (default
``~/.cache/ising_diffusion/jax``) unless the user already chose a folder (``JAX_COMPILATION_CACHE_DIR``). Setting
:data:`OPT_OUT_ENV` (``ISING_DIFFUSION_NO_CACHE=1``) turns it off. Compiled CPU code is specific to the processor:
keep the folder per machine. The library itself (``import ising_diffusion``) never turns it on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["OPT_OUT_ENV", "default_cache_dir", "enable_compilation_cache"]

#: Setting this environment variable (to anything non-empty) leaves the compilation cache off.
OPT_OUT_ENV = "ISING_DIFFUSION_NO_CACHE"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/ising_diffusion/jax``, or ``~/.cache/ising_diffusion/jax``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ising_diffusion" / "jax"


def enable_compilation_cache() -> Path | None:
    """Turn JAX's persistent compilation cache on (before the first compile); returns its folder, or ``None`` when
    opted out (:data:`OPT_OUT_ENV`). A folder the user set in ``JAX_COMPILATION_CACHE_DIR`` is kept.

    Without JAX imported yet this only sets ``JAX_COMPILATION_CACHE_DIR`` (so ``--help`` stays fast); otherwise it
    updates ``jax.config``.
    """
    if os.environ.get(OPT_OUT_ENV):
        return None
    folder = Path(os.environ.get("JAX_COMPILATION_CACHE_DIR") or default_cache_dir())
    if "jax" not in sys.modules:
        os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(folder))
        return folder
    import jax

    current = jax.config.jax_compilation_cache_dir
    if current:
        return Path(current)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    return folder
