"""The main job's presets: the paper's core result on synthetic SK data the package generates itself."""

from __future__ import annotations

import dataclasses

from ising_diffusion.experiments.configs.base import (ExperimentConfig, check_g_values, check_sample_counts,
                                                     check_spin_count)
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT, PAPER_GENERATOR
from ising_diffusion.experiments.configs.quick import QUICK_AUGMENT, QUICK_GENERATOR
from ising_diffusion.experiments.configs.tiny import TINY

PRESETS = ("quick", "paper", "tiny")


@dataclasses.dataclass(frozen=True)
class MainConfig(ExperimentConfig):
    """The main job: the paper's core result (Figs. 2-3 style) on synthetic SK data at CPU scale."""

    n_spins: int = 20
    g_values: tuple = (1.0,)
    n_train: int = 400
    n_test: int = 50

    def __post_init__(self):
        super().__post_init__()
        check_spin_count(self)
        check_g_values(self)
        check_sample_counts(self)


def get_config(preset: str = "quick") -> MainConfig:
    """``quick`` (the default; CPU, a few minutes): N=20, g=1, 400 exact training samples and 50 test samples,
    3 seeds. ``paper``: g in {0.5, 1, 1.5, 2}, 10 seeds. ``tiny``: seconds."""
    if preset == "quick":
        return MainConfig(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return MainConfig(n_seeds=10, g_values=(0.5, 1.0, 1.5, 2.0), augment=PAPER_AUGMENT,
                          generator_config=PAPER_GENERATOR)
    if preset == "tiny":
        return dataclasses.replace(MainConfig(n_spins=8, n_train=64, n_test=16, n_seeds=2), **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
