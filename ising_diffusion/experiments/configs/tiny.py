"""Settings shared by every ``tiny`` preset: a few seconds of generator training, for smoke tests only."""

TINY_DDPM = {"widths": (16, 32), "time_embed_dim": 8, "n_timesteps": 50, "ddim_steps": 5, "batch_size": 32}

TINY = dict(augment={"n_epochs": 4, "monitor_every": 2, "n_monitor_samples": 50, "n_bootstrap": 20, "solver": "erasure",
                     "stopping": "robust"},
            generator_config=TINY_DDPM)
