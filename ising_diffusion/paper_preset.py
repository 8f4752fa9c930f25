"""The paper's augmentation procedure as ``AugmentConfig`` keywords, in a module without JAX.

One source for :meth:`ising_diffusion.AugmentConfig.paper` and for the experiments' ``paper`` presets
(``ising_diffusion/experiments/configs/paper.py``, which also holds the evidence for the budget). It lives outside the
``augment`` package so that reading an experiment's preset (and reporting a bad ``--set`` value) does not start JAX.
"""

#: The paper's procedure as flat fields: the erasure machine, the paper's variance rule, and 50,000 optimiser steps
#: with a monitor point every 1,000.
PAPER_AUGMENT = {"n_steps": 50_000, "monitor_steps": 1_000, "stopping": "paper", "solver": "erasure"}

__all__ = ["PAPER_AUGMENT"]
