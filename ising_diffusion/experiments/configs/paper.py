"""Settings shared by the ``paper`` presets: the paper's procedure and network (for a GPU).

The paper's solver (erasure machine), its stopping rule and its DDPM (widths 128/256/512, Adam at 1e-4, no weight
averaging), from :meth:`ising_diffusion.AugmentConfig.paper` and :meth:`ising_diffusion.DDPMConfig.paper`, as field
dicts so ``--set augment.n_steps=...`` overrides them like any other preset.
"""

PAPER_AUGMENT = {"n_epochs": 400, "monitor_every": 20, "stopping": "paper", "solver": "erasure"}
PAPER_GENERATOR = {"widths": (128, 256, 512), "learning_rate": 1e-4, "ddim_steps": 50, "ema_decay": 0.0}
