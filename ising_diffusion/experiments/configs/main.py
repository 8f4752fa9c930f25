"""The main job's presets: the paper's core result on synthetic SK data the package generates itself."""

import dataclasses

from ising_diffusion.experiments_lib.figures import MainConfig

PRESETS = ("quick", "paper", "tiny")


def get_config(preset: str = "quick") -> MainConfig:
    """``quick`` (the default; CPU, a few minutes): N=20, g=1, 400 exact training samples and 50 test samples,
    3 seeds. ``paper``: g in {0.5, 1, 1.5, 2}, 10 seeds. ``tiny``: seconds."""
    if preset == "quick":
        from configs.quick import QUICK_AUGMENT, QUICK_GENERATOR

        return MainConfig(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return MainConfig(n_seeds=10, g_values=(0.5, 1.0, 1.5, 2.0))
    if preset == "tiny":
        from configs.tiny import TINY

        return dataclasses.replace(MainConfig(n_spins=8, n_train=64, n_test=16, n_seeds=2), **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
