"""Settings every synthetic experiment shares (figs 2-5, the main job and the map), and the checks of the fields
several of them hold (``n_spins``, ``g``, ``g_values``, ``n_train`` / ``n_test``)."""

from __future__ import annotations

import dataclasses

from ising_diffusion.checks import check_int, check_scalar_fields, check_sweep, is_real
from ising_diffusion.experiments.configs.field_checks import check_config_field, check_dict
from ising_diffusion.synthetic_settings import SamplerConfig

__all__ = ["ExperimentConfig", "check_coupling", "check_spin_count", "check_g_values", "check_sample_counts"]


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Settings every synthetic experiment shares.

    Attributes:
      seed: base seed; seed index ``s`` uses key ``fold_in(key(seed), s)`` for truth, data and generator.
      n_seeds: seeds per sweep point (run as one vmapped computation).
      seed_batch: at most this many seeds per call (memory bound); ``None``: all together.
      shard: shard seeds over devices (``None``: when more than one device is visible).
      sampler: how observed samples are drawn (exact for small N, Metropolis otherwise); a dict of its fields is
        built into a :class:`SamplerConfig`.
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
        name = type(self).__name__
        if self.n_augmented_factor <= 0:
            raise ValueError(f"{name}.n_augmented_factor must be > 0, got {self.n_augmented_factor}")
        check_config_field(self, "sampler", SamplerConfig)
        if not (isinstance(self.generator, str) and self.generator):
            raise ValueError(f"{name}.generator must be a generator's name, got {self.generator!r}")
        check_dict(name, "augment", self.augment)
        check_dict(name, "generator_config", self.generator_config)


def check_spin_count(cfg, field: str = "n_spins") -> None:
    """A model of ``N`` spins needs pairs (couplings, the SK scale ``g / sqrt(N)``): ``N >= 2``, else a ValueError
    naming ``<Config>.<field>``."""
    check_int(type(cfg).__name__, field, getattr(cfg, field), 2)


def check_coupling(cfg, field: str = "g") -> None:
    """A coupling scale ``g``: a finite number > 0, else a ValueError naming ``<Config>.<field>``."""
    value = getattr(cfg, field)
    if not (is_real(value) and value > 0):
        raise ValueError(f"{type(cfg).__name__}.{field} must be a finite number > 0, got {value!r}")


def check_g_values(cfg) -> None:
    """``cfg.g_values`` as a non-empty tuple of distinct finite floats > 0, in place: ``1`` (from a config file) and
    ``1.0`` are one value, so the sweep point ids (``g=1.0``) and every lookup by them agree."""
    object.__setattr__(cfg, "g_values", check_sweep(type(cfg).__name__, "g_values", cfg.g_values))


def check_sample_counts(cfg) -> None:
    """``cfg.n_train`` and ``cfg.n_test`` at least 2 each (``augment`` needs two of each), else a ValueError naming
    the field."""
    for field in ("n_train", "n_test"):
        check_int(type(cfg).__name__, field, getattr(cfg, field), 2)
