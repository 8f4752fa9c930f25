"""The map presets (issue 14): where, if anywhere, augmentation beats cross-validated pseudolikelihood, over truth
kind {SK, sparse, Hopfield} x g x training size M, per generator.

Every fit (training only, the augmented mixes the score rule compares, and the oracle on fresh real samples) is
pseudolikelihood with :data:`MAP_SOLVER_OPTIONS`; the selection is the library's held-out score rule
(``stopping="score"``) without the bootstrap guard (``guard="none"``), so ``params_selected`` is what the score rule
recommends: the map measures that rule, and ``experiments/map_guard.py`` reruns its points with the guard (the
library's default, ``guard="auto"``) to measure what the guard changes (docs/map.md).
"""

from __future__ import annotations

import dataclasses

from ising_diffusion.checks import check_sweep, is_int, is_real
from ising_diffusion.experiments.configs.base import ExperimentConfig, check_spin_count
from ising_diffusion.experiments.configs.field_checks import check_dict, check_fraction, check_names, held_out_size
from ising_diffusion.experiments.configs.potts_map import POTTS_PRESETS, PottsMapConfig, get_potts_config
from ising_diffusion.experiments.configs.tiny import TINY, TINY_DDPM
from ising_diffusion.synthetic_settings import TRUTH_KINDS

__all__ = ["MAP_SOLVER_OPTIONS", "PRESETS", "CONFIG_TYPES", "MapConfig", "PottsMapConfig", "get_config"]

#: the Ising presets, then the planted Potts rows (:mod:`~ising_diffusion.experiments.configs.potts_map`)
PRESETS = ("quick", "paper", "tiny") + POTTS_PRESETS

#: The pseudolikelihood options of every fit in the map: the penalty is cross-validated (``l2="cv"``), the strong
#: label-free baseline.
MAP_SOLVER_OPTIONS = {"l2": "cv"}

#: quick-preset generator training: timed for 1 and 3 seeds at N = 20, M = 200 and 800 (docs/map.md, "Budget") and
#: sized so the whole quick sweep (6 seeds, 26 augment calls) is estimated at under two hours on 2 CPU cores. The
#: mix grid stops at 2 M so the largest mix (1600 samples at M = 800) fits the monitor samples.
QUICK_MAP_AUGMENT = {"n_steps": 2000, "monitor_steps": 250, "n_monitor_samples": 1600,
                     "mix_grid": (0.0, 0.5, 1.0, 2.0), "stopping": "score",
                     "guard": "none"}
QUICK_MAP_GENERATORS = {"ddpm": {"widths": (64, 128, 256), "learning_rate": 1e-3, "ddim_steps": 20},
                        "d3pm": {"widths": (64, 128, 256), "learning_rate": 1e-3, "sample_steps": 25}}


@dataclasses.dataclass(frozen=True)
class MapConfig(ExperimentConfig):
    """The map: one sweep point per (truth kind, N, g, M, generator).

    Attributes:
      n_spins: ``N`` of the grid points.
      truths: planted-model kinds (:data:`ising_diffusion.synthetic.TRUTH_KINDS`).
      g_values: coupling strengths.
      n_train_values: training sizes ``M``.
      extra_points: ``(truth, N, g, M)`` points beyond the grid (the quick preset's one N = 40 point).
      test_fraction: held-out test size = this x ``M`` (the score rule's selection set and the moment reference).
      oracle_factor: the oracle fits this x ``M`` fresh samples of the truth.
      degree: mean degree of the sparse truth.
      n_patterns: patterns of the Hopfield truth.
      generators: generator names (those not registered in this build are skipped with a warning).
      generator_configs: name -> overrides of that generator's config.
      solver_options: pseudolikelihood options of every fit (default :data:`MAP_SOLVER_OPTIONS`).
    """

    n_spins: int = 20
    truths: tuple = TRUTH_KINDS
    g_values: tuple = (1.0, 2.0)
    n_train_values: tuple = (200, 800)
    extra_points: tuple = (("sk", 40, 1.0, 1000),)
    test_fraction: float = 0.25
    oracle_factor: float = 10.0
    degree: float = 3.0
    n_patterns: int = 2
    generators: tuple = ("ddpm", "d3pm")
    generator_configs: dict = dataclasses.field(default_factory=dict)
    solver_options: dict = dataclasses.field(default_factory=lambda: dict(MAP_SOLVER_OPTIONS))

    def __post_init__(self):
        super().__post_init__()
        check_spin_count(self)
        truths = tuple(self.truths) if isinstance(self.truths, (tuple, list)) else check_names(
            "MapConfig", "truths", self.truths)  # "sk,sparse" from --set
        if any(t not in TRUTH_KINDS for t in truths) or len(set(truths)) != len(truths):
            raise ValueError(f"MapConfig.truths must be distinct truth kinds of {TRUTH_KINDS}, got {self.truths!r}")
        object.__setattr__(self, "truths", truths)
        if not isinstance(self.extra_points, (tuple, list)) or any(
                not isinstance(p, (tuple, list)) or len(p) != 4 or p[0] not in TRUTH_KINDS or not is_int(p[1], 2)
                or not (is_real(p[2]) and p[2] > 0) or not is_int(p[3], 2) for p in self.extra_points):
            raise ValueError(f"MapConfig.extra_points must be (truth, N >= 2, g > 0, M >= 2) tuples with a truth of "
                             f"{TRUTH_KINDS}, got {self.extra_points!r}")
        object.__setattr__(self, "extra_points", tuple(tuple(p) for p in self.extra_points))
        grid = bool(truths)  # without truths the grid is empty: its g and M may be too
        object.__setattr__(self, "g_values", check_sweep("MapConfig", "g_values", self.g_values,
                                                         allow_empty=not grid))
        object.__setattr__(self, "n_train_values", check_sweep("MapConfig", "n_train_values", self.n_train_values,
                                                               integer=True, minimum=2, allow_empty=not grid))
        points = self.points()
        if not points:
            raise ValueError("MapConfig: no sweep point (truths and extra_points are both empty)")
        if len(set(points)) != len(points):
            raise ValueError(f"MapConfig: every (truth, N, g, M) point must be distinct; the grid and extra_points "
                             f"repeat {sorted({p for p in points if points.count(p) > 1})}")
        check_fraction("MapConfig", "test_fraction", self.test_fraction)
        short = sorted({p[3] for p in points if held_out_size(self.test_fraction, p[3]) < 2})
        if short:
            raise ValueError(f"MapConfig.test_fraction {self.test_fraction} leaves fewer than 2 test samples (augment "
                             f"needs 2) at M = {short}")
        if not self.oracle_factor > 0:
            raise ValueError(f"MapConfig.oracle_factor must be > 0, got {self.oracle_factor}")
        object.__setattr__(self, "generators", check_names("MapConfig", "generators", self.generators))
        check_dict("MapConfig", "generator_configs", self.generator_configs, of_dicts=True)
        check_dict("MapConfig", "solver_options", self.solver_options)

    def points(self) -> list[tuple[str, int, float, int]]:
        """Every ``(truth, N, g, M)`` of the map: the grid, then :attr:`extra_points`."""
        grid = [(t, self.n_spins, float(g), int(m)) for t in self.truths for g in self.g_values
                for m in self.n_train_values]
        return grid + [(t, int(n), float(g), int(m)) for t, n, g, m in self.extra_points]

    def truth_options(self, truth: str) -> dict:
        """The structure options of ``truth`` (:func:`ising_diffusion.synthetic.truth_params`)."""
        return {"sparse": {"degree": self.degree}, "hopfield": {"n_patterns": self.n_patterns}}.get(truth, {})


#: the config classes the map runs: the Ising map's and the planted Potts rows' (a ``--config`` file may give either)
CONFIG_TYPES = (MapConfig, PottsMapConfig)


def get_config(preset: str = "quick") -> MapConfig | PottsMapConfig:
    """``quick``: {SK, sparse, Hopfield} x g {1, 2} x M {200, 800} at N = 20 plus (SK, N = 40, g = 1, M = 1000), DDPM
    and D3PM, 6 seeds, two hours on 2 CPU cores. ``paper``: 10 seeds, DDPM, D3PM and RBM with the library's default
    budget (for a GPU). ``tiny``: seconds. ``potts_quick``, ``potts_paper``, ``potts_tiny``: the planted Potts rows
    (:func:`~ising_diffusion.experiments.configs.potts_map.get_potts_config`)."""
    if preset in POTTS_PRESETS:
        return get_potts_config(preset)
    if preset == "quick":
        return MapConfig(n_seeds=6, augment=QUICK_MAP_AUGMENT, generator_configs=QUICK_MAP_GENERATORS)
    if preset == "paper":
        return MapConfig(n_seeds=10, generators=("ddpm", "d3pm", "rbm"),
                         augment={"stopping": "score", "guard": "none"})
    if preset == "tiny":
        tiny_d3pm = {"widths": (16, 32), "time_embed_dim": 8, "n_timesteps": 10, "batch_size": 32}
        return MapConfig(n_spins=6, truths=("sk", "sparse"), g_values=(1.0,), n_train_values=(32,),
                         extra_points=(("hopfield", 6, 1.0, 32),), degree=2.0, n_seeds=2,
                         augment={**TINY["augment"], "stopping": "score", "guard": "none"},
                         generator_configs={"ddpm": TINY_DDPM, "d3pm": tiny_d3pm})
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
