"""Fig. 4 presets: MSE against training size (N = 20, 40, 100) and against the number of augmented samples."""

import dataclasses

from ising_diffusion.experiments_lib.figures import Fig4Config

PRESETS = ("quick", "paper", "tiny")


def get_config(preset: str = "quick") -> Fig4Config:
    """``quick``: N=20 (200-800 samples) and N=40 (1000-2000), the augmented-count sweep at N=20, 400 samples;
    3 seeds. ``paper``: METHODS.md's ranges for N = 20, 40, 100 and the count sweep for each N, 10 seeds.
    ``tiny``: seconds."""
    if preset == "quick":
        from configs.quick import QUICK_AUGMENT, QUICK_GENERATOR

        return Fig4Config(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return Fig4Config(
            n_seeds=10,
            sizes=((20, (100, 200, 400, 800)), (40, (1000, 2000, 4000, 8000)), (100, (5000, 10000, 20000, 40000))),
            aug_n_train=((20, 400), (40, 2000), (100, 10000)),
            aug_counts=(0.5, 1.0, 2.0, 5.0, 10.0, 20.0))
    if preset == "tiny":
        from configs.tiny import TINY

        return dataclasses.replace(Fig4Config(sizes=((8, (32, 64)),), aug_n_train=((8, 32),),
                                              aug_counts=(1.0, 2.0), n_seeds=2), **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
