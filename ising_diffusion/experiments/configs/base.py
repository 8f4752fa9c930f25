"""Settings every synthetic experiment shares (figs 2-5 and the main job)."""

from __future__ import annotations

import dataclasses

from ising_diffusion.checks import check_scalar_fields
from ising_diffusion.synthetic_settings import SamplerConfig

__all__ = ["ExperimentConfig"]


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Settings every synthetic experiment shares.

    Attributes:
      seed: base seed; seed index ``s`` uses key ``fold_in(key(seed), s)`` for truth, data and generator.
      n_seeds: seeds per sweep point (run as one vmapped computation).
      seed_batch: at most this many seeds per call (memory bound); ``None``: all together.
      shard: shard seeds over devices (``None``: when more than one device is visible).
      sampler: how observed samples are drawn (exact for small N, Metropolis otherwise).
      generator: ``"ddpm"`` (the paper's), or a baseline (``"rbm"``, ``"vae"``, ``"gan"``).
      n_augmented_factor: augmented samples = this x training size (METHODS.md default 10).
      augment: overrides of :class:`ising_diffusion.AugmentConfig` fields (e.g. ``{"n_epochs": 200}``).
      generator_config: overrides of the generator's config fields (e.g. DDPM's).
    """

    seed: int = 0
    n_seeds: int = 3
    seed_batch: int | None = None
    shard: bool | None = None
    sampler: SamplerConfig = SamplerConfig()
    generator: str = "ddpm"
    n_augmented_factor: float = 10.0
    augment: dict = dataclasses.field(default_factory=dict)
    generator_config: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        check_scalar_fields(self)  # n_seeds >= 1 among them
        if self.n_augmented_factor <= 0:
            raise ValueError(f"n_augmented_factor must be > 0, got {self.n_augmented_factor}")
