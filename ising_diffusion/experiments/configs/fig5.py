"""Fig. 5 presets: diffusion vs RBM vs VAE (vs GAN) as the augmenting generator, against training size, N = 40."""

from __future__ import annotations

import dataclasses

from ising_diffusion.experiments.configs.base import ExperimentConfig
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT, PAPER_GENERATOR
from ising_diffusion.experiments.configs.quick import QUICK_AUGMENT, QUICK_GENERATOR
from ising_diffusion.experiments.configs.tiny import TINY, TINY_DDPM

PRESETS = ("quick", "paper", "tiny")


@dataclasses.dataclass(frozen=True)
class Fig5Config(ExperimentConfig):
    """Fig. 5: generators compared (diffusion, RBM, VAE, optional GAN) against training size."""

    n_spins: int = 40
    g: float = 1.0
    n_train_values: tuple = (1000, 2000, 4000)
    test_fraction: float = 0.125
    generators: tuple = ("ddpm", "rbm", "vae")
    generator_configs: dict = dataclasses.field(default_factory=dict)  # name -> overrides


def get_config(preset: str = "quick") -> Fig5Config:
    """``quick``: N=40, 1000-4000 training samples, DDPM/RBM/VAE, 3 seeds. ``paper``: 1000-8000 samples, GAN
    included, 10 seeds. ``tiny``: seconds."""
    if preset == "quick":
        return Fig5Config(augment=QUICK_AUGMENT, generator_configs={"ddpm": QUICK_GENERATOR})
    if preset == "paper":
        return Fig5Config(n_seeds=10, n_train_values=(1000, 2000, 4000, 8000), generators=("ddpm", "rbm", "vae", "gan"),
                          augment=PAPER_AUGMENT, generator_configs={"ddpm": PAPER_GENERATOR})
    if preset == "tiny":
        return dataclasses.replace(Fig5Config(n_spins=8, n_train_values=(32, 64), n_seeds=2,
                                              generators=("ddpm", "rbm"), generator_configs={"ddpm": TINY_DDPM}),
                                   augment=TINY["augment"])
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
