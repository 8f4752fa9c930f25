"""The map's planted Potts rows (issue 23, item 5): does augmentation with a q-state generator beat cross-validated
pseudolikelihood on the training sequences alone, in parameter MSE and in precision of the true contact graph?

Run as presets of the map: ``ising-diffusion run map --preset potts_quick`` (``potts_paper``, ``potts_tiny``). Every
fit is weighted Potts pseudolikelihood with ``lambda_J`` cross-validated (:data:`POTTS_MAP_SOLVER_OPTIONS`); the
selection is ``augment``'s default for alignments (the held-out score rule; its bootstrap guard is for spins only).
"""

from __future__ import annotations

import dataclasses

from ising_diffusion.checks import check_scalar_fields, check_sweep, is_int, is_real
from ising_diffusion.experiments.configs.field_checks import check_dict, check_fraction, check_names

__all__ = ["POTTS_PRESETS", "POTTS_TRUTHS", "POTTS_MAP_SOLVER_OPTIONS", "PottsMapConfig", "get_potts_config"]

#: the map's presets for planted Potts truths (``ising-diffusion run map --preset potts_quick``)
POTTS_PRESETS = ("potts_quick", "potts_paper", "potts_tiny")
#: the planted Potts truth kinds (:func:`ising_diffusion.potts.potts_sparse_params`)
POTTS_TRUTHS = ("potts_sparse",)
#: the options of every Potts fit: the penalty cross-validated, the strong label-free baseline
POTTS_MAP_SOLVER_OPTIONS = {"l2": "cv"}


@dataclasses.dataclass(frozen=True)
class PottsMapConfig:
    """The map on planted Potts truths: one sweep point per (truth, L, q, g, M, generator).

    Attributes:
      seed: base seed; seed ``s`` uses ``k = fold_in(key(seed), s)``: truth ``fold_in(k, 1)``, data ``fold_in(k, 2)``,
        generator ``fold_in(k, 3)``, the oracle's fresh samples ``fold_in(k, 4)`` (every point and generator paired).
      n_seeds: seeds per sweep point (one planted truth each).
      seed_batch: at most this many seeds per ``augment_seeds`` call (``None``: all).
      shard: shard seeds over devices (``None``: when more than one device is visible).
      lengths, q_values, g_values, n_train_values: the grid of ``L``, ``q``, ``g`` and training sizes ``M``.
      extra_points: ``(truth, L, q, g, M)`` points beyond the grid.
      degree: mean degree of the planted Erdos-Renyi contact graph.
      field_scale: standard deviation of the planted fields.
      burn_in: Gibbs sweeps from a uniform random start before each sample; every sample comes from its own chain,
        so the samples are independent.
      test_fraction: ``augment``'s held-out sequences = this x ``M``, drawn apart from the ``M`` training sequences
        (the training-only fit never sees them, as in the Ising map).
      oracle_factor: the oracle fits this x ``M`` fresh samples of the truth.
      n_augmented_factor: generated sequences of the combined fit = this x ``M``.
      theta: identity threshold of the sequence weights of every fit. 1.0: only identical sequences share a weight.
        Planted samples are independent draws, so plmc's 0.8 (a correction for phylogenetic redundancy) would only
        flatten the data; at 1.0 a generated verbatim copy of a training sequence shares that sequence's weight
        instead of counting twice.
      generators: q-state generator names (those not registered are skipped with a warning).
      generator_configs: name -> overrides of that generator's config (``n_states`` is set to the point's ``q``).
      augment: ``AugmentConfig`` keywords (budget, mix grid); ``{}``: ``augment``'s defaults.
      solver_options: Potts pseudolikelihood options of every fit (default :data:`POTTS_MAP_SOLVER_OPTIONS`).
    """

    seed: int = 0
    n_seeds: int = 3
    seed_batch: int | None = None
    shard: bool | None = None
    lengths: tuple = (20,)
    q_values: tuple = (4,)
    g_values: tuple = (1.0,)
    n_train_values: tuple = (100, 400)
    extra_points: tuple = ()
    degree: float = 2.0
    field_scale: float = 0.5
    burn_in: int = 500
    test_fraction: float = 0.25
    oracle_factor: float = 10.0
    n_augmented_factor: float = 4.0
    theta: float = 1.0
    generators: tuple = ("d3pm_categorical", "ddpm_onehot")
    generator_configs: dict = dataclasses.field(default_factory=dict)
    augment: dict = dataclasses.field(default_factory=dict)
    solver_options: dict = dataclasses.field(default_factory=lambda: dict(POTTS_MAP_SOLVER_OPTIONS))

    def __post_init__(self):
        check_scalar_fields(self)  # n_seeds >= 1 among them
        object.__setattr__(self, "g_values", check_sweep("PottsMapConfig", "g_values", self.g_values,
                                                         allow_empty=True))  # extra_points may hold every point
        raw = [*((n, q, m) for n in self.lengths for q in self.q_values for m in self.n_train_values),
               *((p[1], p[2], p[4]) for p in self.extra_points if len(p) == 5)]
        if any(len(p) != 5 for p in self.extra_points):
            raise ValueError(f"extra_points must be (truth, L, q, g, M) tuples, got {self.extra_points!r}")
        if any(not (is_real(p[3]) and p[3] > 0) for p in self.extra_points):
            raise ValueError(f"extra_points need a finite g > 0, got {self.extra_points!r}")
        bad = sorted({v for trio in raw for v in trio if not is_int(v, 0)}, key=str)
        if bad:
            raise ValueError(f"L, q and M must be integers, got {bad} (a value like 4.5 would be cut to 4)")
        points = self.points()
        if len(set(points)) != len(points):
            raise ValueError(f"every (truth, L, q, g, M) point must be distinct; the grid and extra_points repeat "
                             f"{sorted({p for p in points if points.count(p) > 1})}")
        for p in points:
            truth, length, q, g, m = p
            if truth not in POTTS_TRUTHS:
                raise ValueError(f"truth must be one of {POTTS_TRUTHS}, got {truth!r} in point {p}")
            if length < 3 or q < 2 or not (is_real(g) and g > 0) or m < 4:
                raise ValueError(f"points need L >= 3 (the APC), q >= 2, g > 0 and M >= 4, got {p}")
            if not 0 < self.degree <= length - 1:
                raise ValueError(f"degree must be in (0, L - 1] for every L, got {self.degree} with L={length}")
        if not self.points():
            raise ValueError("need at least one sweep point")
        object.__setattr__(self, "generators", check_names("PottsMapConfig", "generators", self.generators))
        if self.burn_in < 1 or not (self.oracle_factor > 0 and self.n_augmented_factor > 0):
            raise ValueError(f"burn_in, oracle_factor and n_augmented_factor must be > 0, got "
                             f"{self.burn_in}, {self.oracle_factor}, {self.n_augmented_factor}")
        check_fraction("PottsMapConfig", "test_fraction", self.test_fraction)
        if not 0.0 < self.theta <= 1.0:
            raise ValueError(f"theta must be in (0, 1], got {self.theta}")
        check_dict("PottsMapConfig", "generator_configs", self.generator_configs, of_dicts=True)
        check_dict("PottsMapConfig", "augment", self.augment)
        check_dict("PottsMapConfig", "solver_options", self.solver_options)
        if self.solver_options.get("l2", "cv") != "cv":
            raise ValueError(f"solver_options l2 must be 'cv' or left out, got {self.solver_options['l2']!r}")

    def points(self) -> list[tuple[str, int, int, float, int]]:
        """Every ``(truth, L, q, g, M)`` of the sweep: the grid, then :attr:`extra_points`."""
        grid = [("potts_sparse", int(n), int(q), float(g), int(m)) for n in self.lengths for q in self.q_values
                for g in self.g_values for m in self.n_train_values]
        return grid + [(t, int(n), int(q), float(g), int(m)) for t, n, q, g, m in self.extra_points]

    def n_test(self, n_train: int) -> int:
        """Held-out sequences of a point: ``test_fraction`` x ``M``, at least 4 (the score rule's paired test)."""
        return max(4, int(round(self.test_fraction * n_train)))


#: potts_quick's budget: timed on this machine at L = 20, q = 4, M = 100, 3 seeds (one augment call about 3 min on a
#: loaded CPU core, most of it the final CV fits), so the preset runs in about half an hour on one core.
QUICK_POTTS_AUGMENT = {"n_steps": 1000, "monitor_steps": 250, "mix_grid": (0.0, 0.5, 1.0, 2.0)}


def get_potts_config(preset: str = "potts_quick") -> PottsMapConfig:
    """``potts_quick``: L = 20, q = 4, g = 1, M {100, 400}, 3 seeds, both q-state generators with 1,000 optimiser
    steps: a CPU run of about half an hour. ``potts_paper``: the issue's range, L {20, 50} x q {4, 21} x M {100, 400,
    2000}, 5 seeds, ``augment``'s default budget (4,000 steps) with mixes up to 2 M (an accelerator's job). ``potts_tiny``: L = 6, q = 3, M = 24, 2
    seeds, a few optimiser steps: a smoke test."""
    if preset == "potts_quick":
        return PottsMapConfig(augment={**QUICK_POTTS_AUGMENT, "n_monitor_samples": 800})
    if preset == "potts_paper":
        return PottsMapConfig(n_seeds=5, lengths=(20, 50), q_values=(4, 21), n_train_values=(100, 400, 2000),
                              n_augmented_factor=10.0,
                              augment={"mix_grid": (0.0, 0.5, 1.0, 2.0), "n_monitor_samples": 4000})
    if preset == "potts_tiny":
        small = {"widths": (16, 16), "time_embed_dim": 8, "n_timesteps": 10, "batch_size": 16}
        return PottsMapConfig(n_seeds=2, lengths=(6,), q_values=(3,), n_train_values=(24,), burn_in=20,
                              oracle_factor=4.0, n_augmented_factor=1.0,
                              solver_options={"l2": "cv", "cv_folds": 2, "lambda_grid": (0.01, 0.1), "max_iter": 50},
                              augment={"n_steps": 4, "monitor_steps": 2, "n_monitor_samples": 24, "n_bootstrap": 20,
                                       "mix_grid": (0.0, 1.0)},
                              generator_configs={"d3pm_categorical": small,
                                                 "ddpm_onehot": {**small, "ddim_steps": 5}})
    raise ValueError(f"unknown Potts preset {preset!r}; choose from {POTTS_PRESETS}")
