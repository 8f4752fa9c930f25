"""Fig. 5 presets: diffusion vs RBM vs VAE (vs GAN) as the augmenting generator, against training size, N = 40."""

from __future__ import annotations

import dataclasses

from ising_diffusion.checks import check_sweep
from ising_diffusion.experiments.configs.base import ExperimentConfig, check_coupling, check_spin_count
from ising_diffusion.experiments.configs.field_checks import check_dict, check_fraction, check_names, held_out_size
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

    def __post_init__(self):
        super().__post_init__()
        check_spin_count(self)
        check_coupling(self)
        values = check_sweep("Fig5Config", "n_train_values", self.n_train_values, integer=True, minimum=2)
        object.__setattr__(self, "n_train_values", values)
        check_fraction("Fig5Config", "test_fraction", self.test_fraction)
        if held_out_size(self.test_fraction, max(values)) < 2:  # the shared test set; augment needs 2
            raise ValueError(f"Fig5Config.test_fraction {self.test_fraction} leaves fewer than 2 test samples at "
                             f"M={max(values)}")
        object.__setattr__(self, "generators", check_names("Fig5Config", "generators", self.generators))
        check_dict("Fig5Config", "generator_configs", self.generator_configs, of_dicts=True)


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
