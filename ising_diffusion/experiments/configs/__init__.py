"""Experiment configs: one module per entry point (``configs/fig2.py`` .. ``fig5.py``, ``main.py``), each with
``PRESETS`` and ``get_config(preset)`` returning a frozen dataclass (``quick``: CPU minutes; ``paper``: the paper's
scale, for a GPU; ``tiny``: seconds, for smoke tests)."""

import importlib

__all__ = ["get_config"]


def get_config(experiment: str, preset: str = "quick"):
    """The config of ``experiment`` (``"fig2"`` .. ``"fig5"``, ``"main"``) for ``preset``."""
    try:
        module = importlib.import_module(f"configs.{experiment}")
    except ModuleNotFoundError as e:
        raise ValueError(f"no config module configs/{experiment}.py") from e
    return module.get_config(preset)
