"""Experiment configs read from a Python file given by path (``--config configs/fig3.py:paper``).

A config file is a plain Python file that defines ``get_config(name)`` and/or module-level presets (config dataclass
instances, e.g. ``paper = Fig3Config(n_seeds=10, ...)``). The repository's top-level ``configs/`` holds one per
experiment, built on the package's presets (``ising_diffusion/experiments/configs/``); copy one and edit it to make
your own. The file is loaded by path (never imported as a package), so nothing named ``configs`` is installed or
shadowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["config_file_presets", "load_config_file", "load_config_module", "split_config_spec"]


def split_config_spec(spec: str) -> tuple[Path, str | None]:
    """``"PATH.py:NAME"`` -> ``(Path("PATH.py"), "NAME")``; ``"PATH.py"`` -> ``(Path("PATH.py"), None)``."""
    path, sep, name = spec.rpartition(":")
    if sep and name.isidentifier() and path.endswith(".py"):
        return Path(path).expanduser(), name
    return Path(spec).expanduser(), None


def load_config_module(path: str | Path) -> ModuleType:
    """Execute a config file and return it as a module (registered under a private name derived from its path).

    Raises:
      ValueError: no such file, not a ``.py`` file, or the file fails to run (the message names the error).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ValueError(f"no such config file: {path}")
    if path.suffix != ".py":
        raise ValueError(f"a config file is a Python file (.py) defining get_config(name) or presets; got {path}")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"_ising_diffusion_config_{path.stem}_{digest}"  # not a package name anyone imports
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses defined in the file look their module up here
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise ValueError(f"config file {path} failed to load: {type(e).__name__}: {e}") from e
    return module


def config_file_presets(module: ModuleType) -> dict[str, Any]:
    """The module-level presets of a config file: public names bound to dataclass instances."""
    return {k: v for k, v in vars(module).items()
            if not k.startswith("_") and dataclasses.is_dataclass(v) and not isinstance(v, type)}


def load_config_file(spec: str, expected: type | tuple[type, ...] | None = None) -> Any:
    """The config named by ``spec`` = ``PATH[:NAME]``.

    ``NAME`` is a module-level preset of the file, or else what its ``get_config(NAME)`` returns. Without ``NAME``:
    ``get_config()`` with its default, or the file's only preset.

    Args:
      spec: e.g. ``"configs/fig3.py:paper"``, ``"my_run.py"``.
      expected: the config class the experiment needs (or a tuple of those it accepts); another type is refused.

    Returns:
      the config (a dataclass instance).

    Raises:
      ValueError: a missing or failing file, an unknown preset name (the message lists the file's presets), or a
        config of the wrong type.
    """
    path, name = split_config_spec(spec)
    try:
        module = load_config_module(path)
    except ValueError as e:
        raise ValueError(f"--config {spec}: {e}") from e
    presets = config_file_presets(module)
    get_config = getattr(module, "get_config", None)
    listed = sorted(presets)
    if callable(get_config) and hasattr(module, "PRESETS"):
        listed.append(f"get_config names {list(module.PRESETS)}")
    if name is not None and name in presets:
        config = presets[name]
    elif callable(get_config):
        try:
            config = get_config() if name is None else get_config(name)
        except (ValueError, KeyError) as e:
            raise ValueError(f"--config {spec}: {e}; {path} defines {', '.join(listed) or 'no presets'}") from e
    elif name is None and len(presets) == 1:
        config = next(iter(presets.values()))
    elif name is None:
        raise ValueError(f"--config {spec}: say which preset, as {path}:NAME; it defines {sorted(presets)}")
    else:
        raise ValueError(f"--config {spec}: {path} has no preset {name!r}; it defines {sorted(presets)} and no "
                         "get_config(name)")
    if expected is not None and not isinstance(config, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise ValueError(f"--config {spec} gives a {type(config).__name__}; this experiment needs a {names}")
    return config
