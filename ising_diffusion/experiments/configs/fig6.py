"""Fig. 6 presets: missing-value reconstruction on the salamander retina recording (METHODS.md section 6).

``quick``: the paper's data sizes (40 cells, 8000 train / 1000 test), k = 2..20, 2 seeds x 2 masks, 500 scored test
patterns per mask and a short diffusion training (150 epochs at learning rate 1e-3, 1x augmentation; CPU, tens of
minutes on 2 busy cores). ``paper``: 1000 scored
patterns, 5 seeds x 5 masks, the paper budget (configs/paper.py) at the paper's learning rate 1e-4 and 10x augmentation
(use a GPU). ``all_cells``: the quick preset on every cell of the project's 50-cell file (``n_cells=50``; issue 24).
``tiny``: seconds, for smoke tests (point ``data_path`` at a small file).
"""

from __future__ import annotations

import dataclasses

from ising_diffusion.augment import AugmentConfig
from ising_diffusion.checks import check_scalar_fields, check_widths
from ising_diffusion.experiments.configs.field_checks import check_config_field
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT, PAPER_GENERATOR
from ising_diffusion.generative.ddpm import DDPMConfig

PRESETS = ("quick", "paper", "tiny", "all_cells")
#: Fig. 6's solvers: the paper's erasure machine, pseudolikelihood at ``pl_l2``, and pseudolikelihood with a
#: cross-validated penalty (the strong label-free baseline, ``infer(..., l2="cv")``).
SOLVERS = ("erasure", "pseudolikelihood", "pseudolikelihood_cv")


@dataclasses.dataclass(frozen=True)
class Fig6Config:
    """Settings of ``ising_diffusion.experiments.fig6``.

    Attributes:
      data_path: the recording (file or folder); ``None`` looks in ``../shared/data/retina/`` and
        ``$ISING_DIFFUSION_RETINA`` (see :func:`ising_diffusion.datasets.find_retina_file`).
      n_cells: most active cells kept (paper: 40).
      n_train, n_test: bins in the training and test sets (paper: 8000 / 1000).
      n_eval: test patterns scored per mask (``None``: all ``n_test``).
      ks: numbers of hidden cells per pattern (each <= 20: exact enumeration).
      n_masks: random masks per ``k`` and seed (each test pattern hides its own random ``k`` cells).
      n_seeds: seeds; seed ``s`` reshuffles the bins (a new train/test split) and reinitialises the diffusion model;
        all seeds train as one batched computation.
      seed: base seed.
      seed_batch: at most this many seeds per augmentation call (memory bound); ``None``: all together.
      shard: shard seeds over devices (``None``: when more than one device is visible).
      solvers: inverse Ising methods compared, training-only vs augmented (:data:`SOLVERS`).
      pl_l2: pseudolikelihood L2 penalty.
      n_augmented: generated samples (``None``: ``augment.n_augmented`` or 10x ``n_train``).
      augment: diffusion training, stopping rule and erasure-machine settings.
      ddpm: the diffusion model.
    """

    data_path: str | None = None
    n_cells: int = 40
    n_train: int = 8000
    n_test: int = 1000
    n_eval: int | None = 500
    ks: tuple[int, ...] = (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
    n_masks: int = 2
    n_seeds: int = 2
    seed: int = 0
    seed_batch: int | None = None
    shard: bool | None = None
    solvers: tuple[str, ...] = ("erasure", "pseudolikelihood", "pseudolikelihood_cv")
    pl_l2: float = 1e-4
    n_augmented: int | None = 8000
    augment: AugmentConfig = AugmentConfig(n_epochs=150, monitor_every=10, n_monitor_samples=1000, solver="erasure",
                                           stopping="robust")
    ddpm: DDPMConfig = DDPMConfig(batch_size=256, ddim_steps=50, learning_rate=1e-3)

    def __post_init__(self):
        check_scalar_fields(self)  # n_masks, n_seeds >= 1 among them
        check_config_field(self, "augment", AugmentConfig)
        check_config_field(self, "ddpm", DDPMConfig)
        object.__setattr__(self, "ks", check_widths("Fig6Config", "ks", self.ks))
        object.__setattr__(self, "solvers", tuple(self.solvers))
        if not self.ks or any(not 1 <= k <= min(20, self.n_cells) for k in self.ks):
            raise ValueError(f"ks must be non-empty with 1 <= k <= min(20, n_cells={self.n_cells}), got {self.ks}")
        if self.n_eval is not None and not 1 <= self.n_eval <= self.n_test:
            raise ValueError(f"n_eval must be in [1, n_test={self.n_test}] or None, got {self.n_eval}")
        bad = [s for s in self.solvers if s not in SOLVERS]
        if bad or not self.solvers:
            raise ValueError(f"solvers must be a non-empty subset of {SOLVERS}: {self.solvers}")
        if self.pl_l2 < 0:
            raise ValueError(f"pl_l2 must be >= 0, got {self.pl_l2}")
        if self.n_augmented is not None and self.n_augmented < 2:
            raise ValueError(f"n_augmented must be >= 2 or None, got {self.n_augmented}")


def get_config(preset: str = "quick") -> Fig6Config:
    """The :class:`Fig6Config` of a preset (``quick``, ``paper``, ``tiny`` or ``all_cells``)."""
    if preset == "quick":
        return Fig6Config()
    if preset == "all_cells":
        return Fig6Config(n_cells=50)
    if preset == "paper":
        return Fig6Config(n_eval=None, n_masks=5, n_seeds=5, n_augmented=None,
                          augment=AugmentConfig(**PAPER_AUGMENT, n_monitor_samples=1000),
                          ddpm=DDPMConfig(**PAPER_GENERATOR))
    if preset == "tiny":
        return Fig6Config(n_cells=6, n_train=200, n_test=50, n_eval=None, ks=(2, 4), n_masks=2, n_seeds=1,
                          n_augmented=200,
                          augment=AugmentConfig(n_epochs=4, monitor_every=2, n_monitor_samples=100, n_bootstrap=20,
                                                solver="erasure", stopping="robust"),
                          ddpm=DDPMConfig(widths=(16, 32), time_embed_dim=8, n_timesteps=100, ddim_steps=5,
                                          batch_size=64))
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
