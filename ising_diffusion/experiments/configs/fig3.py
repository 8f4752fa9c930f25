"""Fig. 3 presets: MSE from training data only vs from augmented data, against the coupling scale g."""

from __future__ import annotations

import dataclasses

from ising_diffusion.experiments.configs.base import (ExperimentConfig, check_g_values, check_sample_counts,
                                                     check_spin_count)
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT, PAPER_GENERATOR
from ising_diffusion.experiments.configs.quick import QUICK_AUGMENT, QUICK_GENERATOR
from ising_diffusion.experiments.configs.tiny import TINY

PRESETS = ("quick", "paper", "tiny")


@dataclasses.dataclass(frozen=True)
class Fig3Config(ExperimentConfig):
    """Fig. 3: training-only vs augmented MSE against g."""

    n_spins: int = 20
    g_values: tuple = (0.5, 1.0, 1.5, 2.0)
    n_train: int = 400
    n_test: int = 50

    def __post_init__(self):
        super().__post_init__()
        check_spin_count(self)
        check_g_values(self)
        check_sample_counts(self)


def get_config(preset: str = "quick") -> Fig3Config:
    """``quick``: N=20, g in {0.5, 1, 1.5, 2}, 400 training samples, 3 seeds. ``paper``: 10 seeds.
    ``tiny``: seconds."""
    if preset == "quick":
        return Fig3Config(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return Fig3Config(n_seeds=10, augment=PAPER_AUGMENT, generator_config=PAPER_GENERATOR)
    if preset == "tiny":
        return dataclasses.replace(Fig3Config(n_spins=8, g_values=(0.5, 1.5), n_train=64, n_test=16, n_seeds=2),
                                   **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
