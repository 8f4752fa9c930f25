"""Fig. 2 presets: MSE and energy variance (train / test / generated) against diffusion training epochs."""

import dataclasses

from ising_diffusion.experiments_lib.figures import Fig2Config

PRESETS = ("quick", "paper", "tiny")


def get_config(preset: str = "quick") -> Fig2Config:
    """``quick``: N=20, g=1, 400 training / 50 test samples, 3 seeds (CPU, minutes). ``paper``: 10 seeds and the
    package's full-length training. ``tiny``: seconds (smoke tests)."""
    if preset == "quick":
        from configs.quick import QUICK_AUGMENT, QUICK_GENERATOR

        return Fig2Config(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return Fig2Config(n_seeds=10)
    if preset == "tiny":
        from configs.tiny import TINY

        return dataclasses.replace(Fig2Config(n_spins=8, n_train=64, n_test=16, n_seeds=2), **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")

