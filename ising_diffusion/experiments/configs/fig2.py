"""Fig. 2 presets: MSE and energy variance (train / test / generated) against diffusion training epochs."""

from __future__ import annotations

import dataclasses

from ising_diffusion.experiments.configs.base import (ExperimentConfig, check_coupling, check_sample_counts,
                                                     check_spin_count)
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT, PAPER_GENERATOR
from ising_diffusion.experiments.configs.quick import QUICK_AUGMENT, QUICK_GENERATOR
from ising_diffusion.experiments.configs.tiny import TINY

PRESETS = ("quick", "paper", "tiny")


@dataclasses.dataclass(frozen=True)
class Fig2Config(ExperimentConfig):
    """Fig. 2: MSE and energy variances against diffusion epochs at one (N, g, training size)."""

    n_spins: int = 20
    g: float = 1.0
    n_train: int = 400
    n_test: int = 50

    def __post_init__(self):
        super().__post_init__()
        check_spin_count(self)
        check_coupling(self)
        check_sample_counts(self)


def get_config(preset: str = "quick") -> Fig2Config:
    """``quick``: N=20, g=1, 400 training / 50 test samples, 3 seeds (CPU, minutes). ``paper``: 10 seeds and the
    package's full-length training. ``tiny``: seconds (smoke tests)."""
    if preset == "quick":
        return Fig2Config(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return Fig2Config(n_seeds=10, augment=PAPER_AUGMENT, generator_config=PAPER_GENERATOR)
    if preset == "tiny":
        return dataclasses.replace(Fig2Config(n_spins=8, n_train=64, n_test=16, n_seeds=2), **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")

