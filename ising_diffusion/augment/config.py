"""Settings of :func:`~ising_diffusion.augment.augment`: a nested, frozen config of three groups.

* :class:`Budget`: how long the generator trains, how often it is monitored, how many samples are generated.
* :class:`Selection`: how a monitor point and a mix ratio are chosen (stopping rule, mix grid, held-out score).
* :class:`SolverSpec`: the inverse Ising solver of every fit (``infer`` method and options).

:class:`AugmentConfig` holds one of each. It also takes the flat keywords of earlier versions
(``AugmentConfig(n_epochs=200, solver="erasure")``, see :data:`FLAT_FIELDS`), reads them back as attributes
(``config.n_epochs``) and accepts them in ``dataclasses.replace``, so ``--set n_epochs=200`` style overrides keep
working.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from ising_diffusion.checks import check_scalar_fields, is_real
from ising_diffusion.generative.batching import steps_per_epoch
from ising_diffusion.inference import DEFAULT_EPS_GRID, METHODS, freeze_options, resolve_solver
from ising_diffusion.ising import MAX_ENUMERATION_SPINS
from ising_diffusion.monitor import STOPPING_RULES
from ising_diffusion.paper_preset import PAPER_AUGMENT  # the one source (no JAX there); re-exported

__all__ = ["AugmentConfig", "Budget", "Selection", "SolverSpec", "FLAT_FIELDS", "DEFAULT_SOLVER",
           "GUARD_LEVEL", "GUARD_MAX_RISE", "DEFAULT_SOLVER_OPTIONS", "DEFAULT_N_STEPS", "DEFAULT_MONITOR_STEPS",
           "PAPER_AUGMENT"]

#: The solver ``augment`` uses for ``w_train``, the monitor fits, the score and the final fits (any ``infer`` method).
DEFAULT_SOLVER = "pseudolikelihood"
#: Its options (``l2="cv"`` cross-validates the penalty once on the training data; see ``augment``).
DEFAULT_SOLVER_OPTIONS = {"l2": "cv"}
#: The guards ``Selection.guard`` accepts (:mod:`ising_diffusion.augment.guard`).
GUARDS = ("none", "bootstrap", "auto")
#: the guard's default decision rule (:func:`~ising_diffusion.augment.guard.guard_decision`): one-sided confidence of
#: the upper bound on the mean log MSE ratio, and the largest rise tolerated on any replicate (docs/map.md)
GUARD_LEVEL, GUARD_MAX_RISE = 0.75, 0.25
#: The default training budget in optimiser steps and the steps between monitor points (docs/augmentation.md).
DEFAULT_N_STEPS = 4000
DEFAULT_MONITOR_STEPS = 200


def _numbers(values) -> bool:
    """A sequence of plain numbers (a string, ``None`` or a scalar is not: ``"01"`` is no grid of 0 and 1)."""
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        return False
    return all(is_real(v) for v in np.asarray(values).tolist())


@dataclasses.dataclass(frozen=True)
class Budget:
    """The training budget and the sample counts.

    The budget is given either in optimiser steps (``n_steps``, ``monitor_steps``; the default: 4000 steps, a monitor
    point every 200) or in epochs (``n_epochs``, ``monitor_every``; one epoch is
    :func:`~ising_diffusion.generative.batching.steps_per_epoch` ``= ceil(M / batch_size)`` steps for every
    generator, so the budget depends on the training size). Giving any epoch field selects epochs; mixing raises.

    Attributes:
      n_steps: optimiser steps in all (default 4000 when no epoch field is given).
      monitor_steps: steps between monitor points and checkpoints (default 200); ``n_steps // monitor_steps`` points
        are trained (a remainder is not).
      n_epochs: epoch budget (default 400 when only ``monitor_every`` is given).
      monitor_every: epochs between monitor points (default ``min(20, n_epochs)``).
      n_monitor_samples: samples generated at each monitor point (``None``: ``n_augmented``).
      n_augmented: generated samples in the final augmented set (``None``: 10x the training size).
    """

    n_steps: int | None = None
    monitor_steps: int | None = None
    n_epochs: int | None = None
    monitor_every: int | None = None
    n_monitor_samples: int | None = 1000
    n_augmented: int | None = None

    def __post_init__(self):
        check_scalar_fields(self, "AugmentConfig")  # integers (n_augmented >= 1) or None
        if self.unit == "epochs":
            if self.n_steps is not None or self.monitor_steps is not None:
                raise ValueError("give the training budget in steps (n_steps, monitor_steps) or in epochs "
                                 f"(n_epochs, monitor_every), not both; got n_steps={self.n_steps}, monitor_steps="
                                 f"{self.monitor_steps}, n_epochs={self.n_epochs}, monitor_every={self.monitor_every}")
            total, every = self.epoch_budget
            if total < 1:
                raise ValueError(f"n_epochs must be >= 1, got {total}")
            if not (1 <= every <= total):
                raise ValueError(f"monitor_every must be in [1, n_epochs={total}], got {every}")
        else:
            total, every = self.step_budget
            if total < 1:
                raise ValueError(f"n_steps must be >= 1, got {total}")
            if not (1 <= every <= total):
                raise ValueError(f"monitor_steps must be in [1, n_steps={total}], got {every}")
        if self.n_monitor_samples is not None and self.n_monitor_samples < 2:
            raise ValueError(f"n_monitor_samples must be >= 2 (a variance needs two samples), got "
                             f"{self.n_monitor_samples}")

    @property
    def unit(self) -> str:
        """``"epochs"`` when an epoch field is given, else ``"steps"``."""
        return "epochs" if (self.n_epochs is not None or self.monitor_every is not None) else "steps"

    @property
    def epoch_budget(self) -> tuple[int, int]:
        """``(n_epochs, monitor_every)`` with their defaults."""
        total = 400 if self.n_epochs is None else int(self.n_epochs)
        return total, (min(20, total) if self.monitor_every is None else int(self.monitor_every))

    @property
    def step_budget(self) -> tuple[int, int]:
        """``(n_steps, monitor_steps)`` with their defaults."""
        total = DEFAULT_N_STEPS if self.n_steps is None else int(self.n_steps)
        return total, (min(DEFAULT_MONITOR_STEPS, total) if self.monitor_steps is None else int(self.monitor_steps))

    @property
    def n_points(self) -> int:
        """Number of monitor points (independent of the training size)."""
        total, every = self.epoch_budget if self.unit == "epochs" else self.step_budget
        return total // every

    def schedule(self, steps_per_epoch: int) -> tuple[int, int]:
        """``(steps_per_point, n_points)`` for a training set with ``steps_per_epoch`` minibatches per epoch."""
        if self.unit == "epochs":
            total, every = self.epoch_budget
            return every * steps_per_epoch, total // every
        total, every = self.step_budget
        return every, total // every

    def plan(self, m_train: int, batch_size: int) -> tuple[int, int, int]:
        """``(steps_per_epoch, steps_per_point, n_points)`` for ``M = m_train`` and the generator's batch size."""
        spe = steps_per_epoch(m_train, batch_size)
        return (spe, *self.schedule(spe))


@dataclasses.dataclass(frozen=True)
class Selection:
    """How the monitor point (and the mix of generated samples) of the result is chosen.

    Attributes:
      stopping: the rule that picks the monitor point of the final model: ``"score"`` (default; best held-out score
        over points and mix ratios), ``"robust"``, ``"paper"``, ``"best"`` (lowest monitored MSE; needs the truth) or
        ``"last"``. The held-out score judges the fitted distribution, not the parameters: on strongly coupled
        low-rank (Hopfield) truths its recommendations raised the parameter MSE on 20 of 27 seeds (docs/map.md);
        ``params_train`` is the tuned fit without augmentation.
      mix_grid: ratios ``r`` (times the training size ``M``) of generated samples added to the training data for the
        scored fits; must contain 0 (training data only); ``r M`` is capped at the monitor sample count.
      exact_score_max_spins: score by the exact log-likelihood (enumerating ``2^N`` states) up to this ``N``, by the
        log-pseudolikelihood above.
      score_z: a monitored fit is a candidate of the ``"score"`` rule only when its held-out score beats the
        training-only fit's by more than ``score_z`` standard errors of the paired per-test-sample difference (a
        one-sided z test). The rule takes the best of many (points x mixes) noisy scores; without this margin it
        recommends augmentation that raises the parameter MSE (docs/augmentation.md). 3 keeps the family-wise rate
        of a false recommendation near 10% over the default 20 points x 4 mixes even if they were independent.
      smooth_window: running-median width over monitor points for the robust rule (odd).
      n_bootstrap, band_level: bootstrap resamples and coverage of the reported band of the test variance.
      guard: ``"auto"`` (default), ``"bootstrap"`` or ``"none"``. ``"bootstrap"`` checks every recommendation on
        ``n_replicates`` synthetic data sets drawn from the training-only fit, where the parameter MSE is known, and
        keeps it only when the replicates resolve a gain (:mod:`ising_diffusion.augment.guard`; costs about
        ``n_replicates`` times the run for the seeds that recommended, nothing for the others). ``"auto"`` runs it
        for spin data under the ``"score"`` rule (on the map it removed every harmful recommendation of that rule;
        docs/map.md) and not for alignments or the variance rules (:meth:`active_guard`). ``"none"``: the score
        rule's recommendation as it stands (cheaper; enough when only the fitted distribution matters).
      n_replicates: replicates per recommended seed (>= 2).
      guard_level: confidence of the guard's one-sided upper bound on the mean log MSE ratio (0.75).
      guard_max_rise: the largest MSE rise tolerated on any replicate (0.25: 25%). With 4 replicates a helpful
        recommendation's replicates scatter by +-25% around its gain: on the map's first 19 recommendations
        (docs/map.md, "operating table") 0.95 / 0.05 kept 1 of the 8 helpful ones, 0.75 / 0.25 keeps 6, and every
        setting in that table declined all 10 harmful ones (their replicates' ratios were 1.3-170).
      guard_score_z: the score rule's margin on the replicates (default 0: each replicate's best-scoring mix with
        any held-out gain, the fit the rule returns once it recommends; the real data keep ``score_z``).
      max_identical: alignments only: a recommendation is withdrawn when more than this fraction of the generated
        sequences are copies or near-copies of training sequences (``GeneratorQuality.copy_fraction``: identical, or
        nearer a training sequence than 95% of the held-out sequences are; the generator memorised its data, exactly
        or with a few sites changed: on PF00014 the absorbing D3PM's sequences were at median distance 1 from a
        training sequence, the held-out ones at 28, and its forced mix halved top-L/2 precision). Copies carry no new
        information about the family: a mix of copies is the training data reweighted (under sequence weights a
        copied sequence and its neighbours change weight), and a held-out gain of such a reweighting, picked on a few
        held-out sequences, is selection noise. On PF00014 (docs/msa.md) a memorising categorical D3PM was
        recommended on gains of 1.6e-4 and 0.07 nats; the second lowered top-L/2 precision by 0.08. 1.0 never
        withdraws.
    """

    stopping: str = "score"
    mix_grid: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)
    exact_score_max_spins: int = 20
    score_z: float = 3.0
    smooth_window: int = 5
    n_bootstrap: int = 200
    band_level: float = 0.68
    # repr=False: the kernel's static settings (and so the checkpoint fingerprints) are unchanged by the guard
    guard: str = dataclasses.field(default="auto", repr=False)
    n_replicates: int = dataclasses.field(default=4, repr=False)
    guard_level: float = dataclasses.field(default=GUARD_LEVEL, repr=False)
    guard_max_rise: float = dataclasses.field(default=GUARD_MAX_RISE, repr=False)
    guard_score_z: float = dataclasses.field(default=0.0, repr=False)
    max_identical: float = dataclasses.field(default=0.9, repr=False)

    def active_guard(self, alignment: bool = False) -> str:
        """The guard that runs: ``"auto"`` is ``"bootstrap"`` for spin data under the ``"score"`` rule (the rule whose
        recommendations the map found harmful) and ``"none"`` otherwise (alignments; the variance rules, which
        return the fit of one stopping point rather than recommend a mix)."""
        if self.guard == "auto":
            return "bootstrap" if self.stopping == "score" and not alignment else "none"
        return self.guard

    def __post_init__(self):
        check_scalar_fields(self, "AugmentConfig")
        if self.guard is None:  # the command line's word none (--set guard=none) arrives as None
            object.__setattr__(self, "guard", "none")
        if self.guard not in GUARDS:
            raise ValueError(f"guard must be one of {GUARDS}, got {self.guard!r}")
        if self.n_replicates < 2:  # an integer: check_scalar_fields above
            raise ValueError(f"n_replicates must be an int >= 2, got {self.n_replicates!r}")
        if not (0.5 < self.guard_level < 1) or not (math.isfinite(self.guard_max_rise) and self.guard_max_rise >= 0):
            raise ValueError(f"guard_level must be in (0.5, 1) and guard_max_rise a finite number >= 0, got "
                             f"{self.guard_level}, {self.guard_max_rise}")
        if not (math.isfinite(self.guard_score_z) and self.guard_score_z >= 0):
            raise ValueError(f"guard_score_z must be a finite number >= 0, got {self.guard_score_z}")
        if not 0.0 <= self.max_identical <= 1.0:
            raise ValueError(f"max_identical must be in [0, 1], got {self.max_identical}")
        if self.stopping not in STOPPING_RULES:
            raise ValueError(f"stopping must be one of {STOPPING_RULES}, got {self.stopping!r}")
        grid = tuple(sorted({float(r) for r in self.mix_grid})) if _numbers(self.mix_grid) else ()
        if not grid or grid[0] != 0.0 or not all(np.isfinite(grid)):
            raise ValueError(f"mix_grid must be finite ratios >= 0 including 0 (training data only), got "
                             f"{self.mix_grid}")
        if len(grid) < 2:
            raise ValueError(f"mix_grid needs a ratio > 0 besides 0, got {self.mix_grid}")
        object.__setattr__(self, "mix_grid", grid)
        if not (math.isfinite(self.score_z) and self.score_z >= 0):
            raise ValueError(f"score_z must be a finite number >= 0, got {self.score_z}")
        if self.exact_score_max_spins > MAX_ENUMERATION_SPINS:
            raise ValueError(f"exact_score_max_spins must be <= {MAX_ENUMERATION_SPINS}, got "
                             f"{self.exact_score_max_spins}")
        if self.smooth_window < 1 or self.smooth_window % 2 == 0:
            raise ValueError(f"smooth_window must be an odd int >= 1, got {self.smooth_window}")
        if self.n_bootstrap < 10 or not (0 < self.band_level < 1):
            raise ValueError("n_bootstrap must be >= 10 and band_level in (0, 1)")


@dataclasses.dataclass(frozen=True)
class SolverSpec:
    """The inverse Ising solver of every fit of ``augment`` (``w_train``, the monitor and score fits, the final fits).

    Attributes:
      name: an ``infer`` method (``None``: :data:`DEFAULT_SOLVER`); flat keyword ``solver``.
      options: its options (``None``: :data:`DEFAULT_SOLVER_OPTIONS` for the default solver, the erasure settings
        below for ``"erasure"``, none otherwise), stored as a sorted tuple of ``(name, value)`` pairs; flat keyword
        ``solver_options``.
      eps_grid, erasure_alpha, erasure_n_iter: the erasure machine's settings when ``name="erasure"`` and no
        ``options`` are given.
    """

    name: str | None = None
    options: Any = None
    eps_grid: tuple[float, ...] = DEFAULT_EPS_GRID
    erasure_alpha: float = 0.1
    erasure_n_iter: int = 150

    def __post_init__(self):
        check_scalar_fields(self, "AugmentConfig")
        grid = tuple(float(e) for e in self.eps_grid) if _numbers(self.eps_grid) else ()
        if not grid or not all(0 < e < 1 for e in grid):
            raise ValueError(f"eps_grid must be non-empty with values in (0, 1), got {self.eps_grid!r}")
        object.__setattr__(self, "eps_grid", grid)
        if self.erasure_n_iter < 1 or not self.erasure_alpha > 0:
            raise ValueError("erasure_n_iter must be >= 1 and erasure_alpha > 0")
        if self.name is not None and self.name not in METHODS:
            raise ValueError(f"unknown solver {self.name!r}; choose one of {sorted(METHODS)}")
        if self.options is not None:
            object.__setattr__(self, "options", freeze_options(self.options))

    def resolve(self, *, n_spins: int, n_samples: int, solver: str | None = None,
                solver_options: Any = None) -> tuple[str, tuple]:
        """The solver and its checked, frozen options (:func:`ising_diffusion.inference.resolve_solver`).

        Args:
          n_spins, n_samples: ``N`` and ``M`` of the training data.
          solver, solver_options: ``augment``'s arguments of those names; each replaces the spec's when not ``None``.

        Returns:
          ``(method, options)``, options as sorted ``(name, value)`` pairs.
        """
        name = solver if solver is not None else (self.name or DEFAULT_SOLVER)
        if name not in METHODS:
            raise ValueError(f"unknown solver {name!r}; choose one of {sorted(METHODS)}")
        options = solver_options if solver_options is not None else self.options
        if options is None:
            if name == "erasure":
                options = {"eps_grid": self.eps_grid, "alpha": self.erasure_alpha, "n_iter": self.erasure_n_iter}
            else:
                options = DEFAULT_SOLVER_OPTIONS if name == DEFAULT_SOLVER else {}
        return resolve_solver(name, options, n_spins=n_spins, n_samples=n_samples)


#: flat keyword -> ``(group, field)``: the names earlier versions took, still accepted and readable.
FLAT_FIELDS: dict[str, tuple[str, str]] = {
    **{f.name: ("budget", f.name) for f in dataclasses.fields(Budget)},
    **{f.name: ("selection", f.name) for f in dataclasses.fields(Selection)},
    "solver": ("solver_spec", "name"),
    "solver_options": ("solver_spec", "options"),
    "eps_grid": ("solver_spec", "eps_grid"),
    "erasure_alpha": ("solver_spec", "erasure_alpha"),
    "erasure_n_iter": ("solver_spec", "erasure_n_iter"),
}
_GROUPS = {"budget": Budget, "selection": Selection, "solver_spec": SolverSpec}


@dataclasses.dataclass(frozen=True, init=False)
class AugmentConfig:
    """Settings of ``augment``: a :class:`Budget`, a :class:`Selection` and a :class:`SolverSpec`. The defaults run in
    about a minute per seed on a CPU for N = 20, M = 400.

    ``AugmentConfig(budget=Budget(n_steps=2000), selection=Selection(stopping="paper"))``, or with the flat keywords
    of :data:`FLAT_FIELDS` (``AugmentConfig(n_steps=2000, stopping="paper")``); flat keywords given with a group
    replace that group's fields. Groups may also be given as dicts of their fields. Every flat name reads back as an
    attribute (``config.stopping``), and ``dataclasses.replace(config, n_epochs=5)`` works.

    Raises:
      TypeError: an unknown keyword.
      ValueError: a value out of range (the message names the field).
    """

    budget: Budget
    selection: Selection
    solver_spec: SolverSpec
    #: the flat keywords (:data:`FLAT_FIELDS`), for tools that list a dataclass's settable names.
    FIELD_ALIASES: ClassVar[tuple[str, ...]] = tuple(FLAT_FIELDS)

    def __init__(self, budget: Budget | dict | None = None, selection: Selection | dict | None = None,
                 solver_spec: SolverSpec | dict | None = None, **flat):
        unknown = sorted(set(flat) - set(FLAT_FIELDS))
        if unknown:
            raise TypeError(f"AugmentConfig got unknown field(s) {', '.join(unknown)}; groups: {', '.join(_GROUPS)}; "
                            f"flat fields: {', '.join(FLAT_FIELDS)}")
        given = {"budget": budget, "selection": selection, "solver_spec": solver_spec}
        for group, cls in _GROUPS.items():
            value = given[group]
            changes = {field: flat[name] for name, (g, field) in FLAT_FIELDS.items() if g == group and name in flat}
            if value is None:
                value = cls(**changes)
            elif isinstance(value, dict):
                value = cls(**(value | changes))
            elif isinstance(value, cls):
                value = dataclasses.replace(value, **changes) if changes else value
            else:
                raise TypeError(f"AugmentConfig.{group} must be a {cls.__name__} or a dict, got {type(value).__name__}")
            object.__setattr__(self, group, value)

    def __getattr__(self, name: str):
        # only called for names that are not attributes: the flat fields
        if name not in FLAT_FIELDS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        group, field = FLAT_FIELDS[name]
        return getattr(object.__getattribute__(self, group), field)

    @classmethod
    def paper(cls, **overrides) -> "AugmentConfig":
        """The paper's procedure (:data:`PAPER_AUGMENT`): the erasure machine, the paper's variance rule and the
        training budget of the experiments' ``paper`` presets (50,000 optimiser steps, a monitor point every 1,000;
        the paper's own 400 epochs were 1,600 steps at 400 samples, far too few for its learning rate of 1e-4);
        ``overrides`` (flat fields) replace any field."""
        if any(k in overrides for k in ("n_epochs", "monitor_every")):  # an epoch budget replaces the step budget
            overrides = {"n_steps": None, "monitor_steps": None} | overrides
        return cls(**(PAPER_AUGMENT | overrides))

    def flat(self) -> dict[str, Any]:
        """Every flat field and its value (the inverse of the flat constructor)."""
        return {name: getattr(self, name) for name in FLAT_FIELDS}

    @property
    def budget_unit(self) -> str:
        """``"epochs"`` when an epoch field is given, else ``"steps"``."""
        return self.budget.unit

    @property
    def epoch_budget(self) -> tuple[int, int]:
        return self.budget.epoch_budget

    @property
    def step_budget(self) -> tuple[int, int]:
        return self.budget.step_budget

    def schedule(self, steps_per_epoch: int) -> tuple[int, int]:
        """``(steps_per_point, n_points)`` for a training set with ``steps_per_epoch`` minibatches per epoch."""
        return self.budget.schedule(steps_per_epoch)

    @property
    def n_points(self) -> int:
        """Number of monitor points (independent of the training size)."""
        return self.budget.n_points
