"""Experiment configs: one module per experiment (``fig2`` .. ``fig6``, ``main``, ``map``, ``msa``), each with a frozen
dataclass, ``PRESETS`` and ``get_config(preset)`` (``quick``: CPU minutes; ``paper``: the paper's scale, for a GPU; ``tiny``:
seconds, for smoke tests)."""

import importlib

from ising_diffusion.experiments.registry import EXPERIMENTS as _REGISTRY

__all__ = ["get_config", "EXPERIMENTS"]

#: the experiments' names (from :mod:`ising_diffusion.experiments.registry`)
EXPERIMENTS = tuple(_REGISTRY)


def get_config(experiment: str, preset: str = "quick"):
    """The config of ``experiment`` (one of :data:`EXPERIMENTS`) for ``preset``."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; choose from {EXPERIMENTS}")
    return importlib.import_module(f"{__name__}.{experiment}").get_config(preset)
