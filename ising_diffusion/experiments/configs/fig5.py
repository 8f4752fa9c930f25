"""Fig. 5 presets: diffusion vs RBM vs VAE (vs GAN) as the augmenting generator, against training size, N = 40."""

import dataclasses

from ising_diffusion.experiments_lib.figures import Fig5Config

PRESETS = ("quick", "paper", "tiny")


def get_config(preset: str = "quick") -> Fig5Config:
    """``quick``: N=40, 1000-4000 training samples, DDPM/RBM/VAE, 3 seeds. ``paper``: 1000-8000 samples, GAN
    included, 10 seeds. ``tiny``: seconds."""
    if preset == "quick":
        from configs.quick import QUICK_AUGMENT, QUICK_GENERATOR

        return Fig5Config(augment=QUICK_AUGMENT, generator_configs={"ddpm": QUICK_GENERATOR})
    if preset == "paper":
        return Fig5Config(n_seeds=10, n_train_values=(1000, 2000, 4000, 8000), generators=("ddpm", "rbm", "vae", "gan"))
    if preset == "tiny":
        from configs.tiny import TINY, TINY_DDPM

        return dataclasses.replace(Fig5Config(n_spins=8, n_train_values=(32, 64), n_seeds=2,
                                              generators=("ddpm", "rbm"), generator_configs={"ddpm": TINY_DDPM}),
                                   augment=TINY["augment"])
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
