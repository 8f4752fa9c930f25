"""Settings shared by the ``paper`` presets: the paper's procedure and network, and the training budget in optimiser
steps (for a GPU).

The paper's solver (erasure machine), its stopping rule and its DDPM (widths 128/256/512, Adam at 1e-4, no weight
averaging), from :meth:`ising_diffusion.AugmentConfig.paper` and :meth:`ising_diffusion.DDPMConfig.paper`, as field
dicts so ``--set augment.n_steps=...`` overrides them like any other preset.

The budget (docs/experiments.md, "Paper budgets"): **50,000 optimiser steps at batch 128 with a monitor point every
1,000** (50 points), the same for every training size. Evidence: at N = 20, g = 1, 400 training samples, this network
at lr 1e-4 and batch 128, the generated energy variance fell from 1.5-1.8x the test variance to the test variance at
about 12,000-13,000 steps (seed 0) or to a plateau at 1.2x (seed 1), and the monitored MSE settled by 13,000 steps with
no rise by 24,000 steps (benchmarks/device_check.py, 2 seeds, 24 monitor points). 50,000 steps puts that transition at
a quarter of the run, leaves room for the paper's "rises back" to appear, and equals the public reproduction's 50,000
iterations; for N = 40 and 100 it is that reproduction's number, not a measurement of ours. (The paper's own 400
epochs were 1,600 steps at 400 samples: far too few at lr 1e-4.)
"""

from ising_diffusion.paper_preset import PAPER_AUGMENT as _LIBRARY_PAPER_AUGMENT

#: the library's paper procedure (:data:`ising_diffusion.augment.PAPER_AUGMENT`, also ``AugmentConfig.paper()``):
#: one source, so the presets and the library cannot disagree.
PAPER_AUGMENT = dict(_LIBRARY_PAPER_AUGMENT)
PAPER_N_STEPS = PAPER_AUGMENT["n_steps"]
PAPER_MONITOR_STEPS = PAPER_AUGMENT["monitor_steps"]
PAPER_BATCH_SIZE = 128

PAPER_GENERATOR = {"widths": (128, 256, 512), "learning_rate": 1e-4, "ddim_steps": 50, "ema_decay": 0.0,
                   "batch_size": PAPER_BATCH_SIZE}
