"""Fig. 3 presets: MSE from training data only vs from augmented data, against the coupling scale g."""

import dataclasses

from ising_diffusion.experiments_lib.figures import Fig3Config

PRESETS = ("quick", "paper", "tiny")


def get_config(preset: str = "quick") -> Fig3Config:
    """``quick``: N=20, g in {0.5, 1, 1.5, 2}, 400 training samples, 3 seeds. ``paper``: 10 seeds.
    ``tiny``: seconds."""
    if preset == "quick":
        from configs.quick import QUICK_AUGMENT, QUICK_GENERATOR

        return Fig3Config(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return Fig3Config(n_seeds=10)
    if preset == "tiny":
        from configs.tiny import TINY

        return dataclasses.replace(Fig3Config(n_spins=8, g_values=(0.5, 1.5), n_train=64, n_test=16, n_seeds=2),
                                   **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
