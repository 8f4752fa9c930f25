"""Settings shared by every ``paper`` preset: the paper's network and the training budget in optimiser steps.

The budget (docs/experiments.md, "Paper budgets"): **50,000 optimiser steps with a monitor point every 1,000** (50
points). Evidence: at N = 20, g = 1, 400 training samples, the paper's network (widths 128/256/512) at lr 1e-4 and
batch 128, the generated energy variance fell from 1.5-1.8x the test variance to the test variance at about 12,000
steps (seed 0) or to a plateau at 1.2x (seed 1) and the monitored MSE settled by 13,000 steps, with no rise by 24,000
steps (benchmarks/device_check.py, 2 seeds, 24 monitor points). 50,000 steps puts that region in the first third
of the run, leaves room for the paper's "rises back" to appear, and equals the public reproduction's 50,000 iterations;
for N = 40 and 100 (more data, larger models) it is that reproduction's number, not a measurement of ours.

``AugmentConfig`` takes a step budget once it has ``n_steps``/``monitor_steps``; until then :func:`paper_augment`
converts the steps into epochs at a reference training size (``ceil(M / batch)`` steps per epoch, rounded down), so
points with more training data then train more steps and points with less train fewer.
"""

from __future__ import annotations

import dataclasses
import math

from ising_diffusion.augment import AugmentConfig
from ising_diffusion.generative.ddpm import DDPMConfig

__all__ = ["PAPER_N_STEPS", "PAPER_MONITOR_STEPS", "PAPER_BATCH_SIZE", "paper_augment", "paper_ddpm"]

PAPER_N_STEPS = 50_000
PAPER_MONITOR_STEPS = 1_000
PAPER_BATCH_SIZE = 128


def steps_supported() -> bool:
    """Whether :class:`AugmentConfig` takes a budget in optimiser steps."""
    names = {f.name for f in dataclasses.fields(AugmentConfig)}
    return "n_steps" in names and "monitor_steps" in names


def paper_augment(n_train: int, batch_size: int = PAPER_BATCH_SIZE, **fields) -> dict:
    """``augment`` overrides of the paper budget: ``{"n_steps", "monitor_steps"}``, or the epochs equal to them at
    ``n_train`` training samples when ``AugmentConfig`` has no step budget; ``fields`` are added."""
    if steps_supported():
        return {"n_steps": PAPER_N_STEPS, "monitor_steps": PAPER_MONITOR_STEPS, **fields}
    spe = math.ceil(n_train / batch_size)
    every = max(1, PAPER_MONITOR_STEPS // spe)
    return {"n_epochs": every * (PAPER_N_STEPS // (every * spe)), "monitor_every": every, **fields}


def paper_ddpm(**fields) -> dict:
    """Generator overrides of the paper's DDPM (``DDPMConfig.paper()`` where it exists: every field, so later changes
    of the package defaults do not leak in), batch :data:`PAPER_BATCH_SIZE`; ``fields`` replace any."""
    if hasattr(DDPMConfig, "paper"):
        base = dataclasses.asdict(DDPMConfig.paper())
    else:
        base = {"widths": (128, 256, 512), "learning_rate": 1e-4, "ddim_steps": 50}
    return {**base, "batch_size": PAPER_BATCH_SIZE, **fields}
