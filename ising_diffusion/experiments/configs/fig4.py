"""Fig. 4 presets: MSE against training size (N = 20, 40, 100) and against the number of augmented samples."""

from __future__ import annotations

import dataclasses

from ising_diffusion.experiments.configs.base import ExperimentConfig
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT, PAPER_GENERATOR
from ising_diffusion.experiments.configs.quick import QUICK_AUGMENT, QUICK_GENERATOR
from ising_diffusion.experiments.configs.tiny import TINY

PRESETS = ("quick", "paper", "tiny")


@dataclasses.dataclass(frozen=True)
class Fig4Config(ExperimentConfig):
    """Fig. 4: (a-c) MSE against training size for each N; (d-f) against the number of augmented samples.

    Attributes:
      sizes: ``(N, (n_train, ...))`` pairs for panels (a-c).
      aug_n_train: ``(N, n_train)`` pairs: the training size of panels (d-f) per N.
      aug_counts: numbers of augmented samples for panels (d-f), as multiples of that training size.
      test_fraction: held-out test size as a fraction of the training size (METHODS.md: one eighth).
    """

    g: float = 1.0
    sizes: tuple = ((20, (100, 200, 400, 800)), (40, (1000, 2000)))
    aug_n_train: tuple = ((20, 400),)
    aug_counts: tuple = (0.5, 1.0, 2.0, 5.0, 10.0)
    test_fraction: float = 0.125


def get_config(preset: str = "quick") -> Fig4Config:
    """``quick``: N=20 (200-800 samples) and N=40 (1000-2000), the augmented-count sweep at N=20, 400 samples;
    3 seeds. ``paper``: METHODS.md's ranges for N = 20, 40, 100 and the count sweep for each N, 10 seeds.
    ``tiny``: seconds."""
    if preset == "quick":
        return Fig4Config(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return Fig4Config(
            n_seeds=10,
            sizes=((20, (100, 200, 400, 800)), (40, (1000, 2000, 4000, 8000)), (100, (5000, 10000, 20000, 40000))),
            aug_n_train=((20, 400), (40, 2000), (100, 10000)),
            aug_counts=(0.5, 1.0, 2.0, 5.0, 10.0, 20.0), augment=PAPER_AUGMENT, generator_config=PAPER_GENERATOR)
    if preset == "tiny":
        return dataclasses.replace(Fig4Config(sizes=((8, (32, 64)),), aug_n_train=((8, 32),),
                                              aug_counts=(1.0, 2.0), n_seeds=2), **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
