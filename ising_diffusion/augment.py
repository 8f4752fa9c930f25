"""Data augmentation for inverse Ising inference with a generative model (the paper's method, METHODS.md section 4,
plus selection by a held-out score).

:func:`augment` trains a generator (DDPM by default) on the training spins. At every monitor point it generates
samples, records their energy variance under ``w_train`` (the solver's fit to the training data; the paper's monitor)
and, for each ratio ``r`` of ``AugmentConfig.mix_grid``, fits the solver to the training data plus ``r M`` generated
samples and scores the held-out test set (exact mean log-likelihood for small N, else mean log-pseudolikelihood).
The stopping rule picks the point (and, for the default ``"score"`` rule, the ratio); the result says whether the
augmented data are recommended over the training data alone and gives the fit to use (``params_selected``).
:func:`augment_seeds` runs ``S`` independent seeds as one vmapped computation.

The work is split into a pure kernel (:func:`build_kernel`: ``init`` / ``step`` / ``finalize`` over an
:class:`AugmentState`, jit-able and vmapped over seeds) and a short driver (validation, the loop over monitor
points, progress, checkpoints, the result).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
import warnings
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from ising_diffusion.checkpoint import Checkpointer, fingerprint, open_run, read_run_meta, resume_points
from ising_diffusion.spins import as_spins
from ising_diffusion.generative import GENERATOR_CONFIGS, make_generator
from ising_diffusion.inference import METHODS
from ising_diffusion.inference.pseudolikelihood import log_pseudolikelihood_per_sample
from ising_diffusion.inference.api import _CV_OPTIONS, CV_METHODS
from ising_diffusion.inference.api import _check as _check_solver_options
from ising_diffusion.inference.api import _check_cv
from ising_diffusion.inference.erasure import DEFAULT_EPS_GRID
from ising_diffusion.ising import MAX_ENUMERATION_SPINS, IsingParams, energy, log_partition, parameter_mse
from ising_diffusion.monitor import (
    STOPPING_RULES,
    moment_rms,
    NoCrossingWarning,
    StoppingCurve,
    bootstrap_variance_band,
    paper_stop_index,
    robust_stop_index,
    smooth_curve,
)

__all__ = [
    "AugmentConfig",
    "AugmentResult",
    "AugmentState",
    "AugmentationNotRecommendedWarning",
    "DEFAULT_SOLVER",
    "DEFAULT_SOLVER_OPTIONS",
    "augment",
    "augment_seeds",
    "build_kernel",
    "held_out_score",
    "load_checkpointed_state",
]

#: The solver ``augment`` uses for ``w_train``, the monitor fits, the score and the final fits (any ``infer`` method).
DEFAULT_SOLVER = "pseudolikelihood"
#: Its options (``l2="cv"`` cross-validates the penalty once on the training data; see :func:`augment`).
DEFAULT_SOLVER_OPTIONS = {"l2": "cv"}
#: The default training budget in optimiser steps and the steps between monitor points (docs/augmentation.md).
DEFAULT_N_STEPS = 4000
DEFAULT_MONITOR_STEPS = 200


class AugmentationNotRecommendedWarning(UserWarning):
    """The augmented data did not beat the training data alone on the held-out score (or the variance rule never
    met the test variance); ``params_selected`` is the training-only fit."""


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Settings of :func:`augment`. The defaults run in about a minute per seed on a CPU for N = 20, M = 400.

    The training budget is given either in optimiser steps (``n_steps``, ``monitor_steps``; the default: 4000 steps,
    a monitor point every 200) or in epochs (``n_epochs``, ``monitor_every``; one epoch = ``ceil(M / batch_size)``
    steps, so the budget depends on the training size). Giving any epoch field selects epochs; mixing the two raises.

    Attributes:
      n_steps: optimiser steps in all (default 4000 when no epoch field is given).
      monitor_steps: steps between monitor points and checkpoints (default 200); ``n_steps // monitor_steps`` points
        are trained (a remainder is not).
      n_epochs: epoch budget (default 400 when only ``monitor_every`` is given).
      monitor_every: epochs between monitor points (default ``min(20, n_epochs)``).
      n_monitor_samples: samples generated at each monitor point (``None``: ``n_augmented``).
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
      n_augmented: generated samples in the final augmented set (``None``: 10x the training size).
      eps_grid, erasure_alpha, erasure_n_iter: the erasure machine's settings when ``solver="erasure"`` and no
        ``solver_options`` are given.
      smooth_window: running-median width over monitor points for the robust rule (odd).
      n_bootstrap, band_level: bootstrap resamples and coverage of the reported band of the test variance.
      solver, solver_options: defaults for :func:`augment`'s arguments of those names (``None``:
        :data:`DEFAULT_SOLVER` / :data:`DEFAULT_SOLVER_OPTIONS`, or the erasure settings above for ``"erasure"``);
        options are stored as a sorted tuple of ``(name, value)`` pairs.
    """

    n_steps: int | None = None
    monitor_steps: int | None = None
    n_epochs: int | None = None
    monitor_every: int | None = None
    n_monitor_samples: int | None = 1000
    stopping: str = "score"
    mix_grid: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)
    exact_score_max_spins: int = 20
    score_z: float = 3.0
    n_augmented: int | None = None
    eps_grid: tuple[float, ...] = DEFAULT_EPS_GRID
    erasure_alpha: float = 0.1
    erasure_n_iter: int = 150
    smooth_window: int = 5
    n_bootstrap: int = 200
    band_level: float = 0.68
    solver: str | None = None
    solver_options: Any = None

    def __post_init__(self):
        if self.budget_unit == "epochs":
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
        if self.stopping not in STOPPING_RULES:
            raise ValueError(f"stopping must be one of {STOPPING_RULES}, got {self.stopping!r}")
        grid = tuple(sorted({float(r) for r in self.mix_grid}))
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
        if self.n_augmented is not None and self.n_augmented < 1:
            raise ValueError(f"n_augmented must be >= 1, got {self.n_augmented}")
        object.__setattr__(self, "eps_grid", tuple(float(e) for e in self.eps_grid))
        if not self.eps_grid or not all(0 < e < 1 for e in self.eps_grid):
            raise ValueError(f"eps_grid must be non-empty with values in (0, 1), got {self.eps_grid}")
        if self.erasure_n_iter < 1 or not self.erasure_alpha > 0:
            raise ValueError("erasure_n_iter must be >= 1 and erasure_alpha > 0")
        if self.smooth_window < 1 or self.smooth_window % 2 == 0:
            raise ValueError(f"smooth_window must be an odd int >= 1, got {self.smooth_window}")
        if self.n_bootstrap < 10 or not (0 < self.band_level < 1):
            raise ValueError("n_bootstrap must be >= 10 and band_level in (0, 1)")
        if self.solver is not None and self.solver not in METHODS:
            raise ValueError(f"unknown solver {self.solver!r}; choose one of {sorted(METHODS)}")
        if self.solver_options is not None:
            object.__setattr__(self, "solver_options", _freeze(self.solver_options))

    @classmethod
    def paper(cls, **overrides) -> "AugmentConfig":
        """The paper's procedure: an epoch budget (400 epochs, a monitor point every 20), the paper's stopping rule
        and the erasure machine as the solver; ``overrides`` replace any field."""
        return cls(**({"n_epochs": 400, "monitor_every": 20, "stopping": "paper", "solver": "erasure"} | overrides))

    @property
    def budget_unit(self) -> str:
        """``"epochs"`` when an epoch field is given, else ``"steps"``."""
        return "epochs" if (self.n_epochs is not None or self.monitor_every is not None) else "steps"

    @property
    def epoch_budget(self) -> tuple[int, int]:
        total = 400 if self.n_epochs is None else int(self.n_epochs)
        return total, (min(20, total) if self.monitor_every is None else int(self.monitor_every))

    @property
    def step_budget(self) -> tuple[int, int]:
        total = DEFAULT_N_STEPS if self.n_steps is None else int(self.n_steps)
        return total, (min(DEFAULT_MONITOR_STEPS, total) if self.monitor_steps is None else int(self.monitor_steps))

    def schedule(self, steps_per_epoch: int) -> tuple[int, int]:
        """``(steps_per_point, n_points)`` for a training set with ``steps_per_epoch`` minibatches per epoch."""
        if self.budget_unit == "epochs":
            total, every = self.epoch_budget
            return every * steps_per_epoch, total // every
        total, every = self.step_budget
        return every, total // every

    @property
    def n_points(self) -> int:
        """Number of monitor points (independent of the training size)."""
        total, every = self.epoch_budget if self.budget_unit == "epochs" else self.step_budget
        return total // every


def _freeze(options) -> tuple:
    items = options.items() if isinstance(options, dict) else options
    out = []
    for k, v in items:
        if isinstance(v, (list, np.ndarray, jax.Array)):
            v = tuple(float(x) for x in np.asarray(v).reshape(-1))
        out.append((str(k), v))
    return tuple(sorted(out))


class AugmentResult(NamedTuple):
    """The outcome of :func:`augment` (:func:`augment_seeds` adds a leading seed axis ``S`` to every array).

    Attributes:
      samples: ``(n_augmented, N)`` float32 spins generated by the model at ``stop_epoch``.
      curve: :class:`~ising_diffusion.monitor.StoppingCurve` (the whole monitored curve, incl. steps and scores).
      stop_epoch: epoch chosen by the configured rule (``config.stopping``; an int for an epoch budget, a float
        ``step / steps_per_epoch`` for a step budget).
      stop_epoch_paper, stop_epoch_robust: epochs each variance rule picks.
      crossed_paper, crossed_robust: whether each rule's condition was met (False: fallback used).
      best_epoch: monitored epoch of lowest ``curve.mse`` (-1 without the truth).
      params_train, params_augmented, params_combined: ``IsingParams`` from the solver on the training data only, the
        augmented set only, and augmented + training data.
      mse: ``{"train", "augmented", "combined", "selected"}`` parameter MSEs (``None`` without the truth).
      eps: ``{"train", "augmented", "combined"}`` eps chosen by the erasure machine (NaN for other solvers).
      timing: seconds spent: ``{"solver", "erasure" (the same: fitting the training data), "train" (training and
        monitor points: one compiled call per point), "monitor" (0, kept for old readers), "final", "total"}``.
      generator: name of the generator used.
      params_selected: the fit the selection recommends: for ``stopping="score"`` the fit to training + ``mix M``
        generated samples at the best-scoring point, for the other rules ``params_combined``; ``params_train``
        whenever ``recommended`` is False.
      selected: ``"combined"`` or ``"train"`` (which of the two ``params_selected`` is); for :func:`augment_seeds` a
        ``(S,)`` numpy array of those strings.
      recommended: whether the augmented data are recommended (bool; ``(S,)`` bool array for seeds).
      reason: a plain sentence saying why (str; ``(S,)`` array of str for seeds).
      solver: the solver's ``infer`` method name.
      stop_step: optimiser step of the chosen point.
      stop_mix: the chosen ratio of ``mix_grid`` (``stopping="score"``; the largest ratio otherwise), 0 when not
        recommended.
      score: ``{"train", "selected"}`` held-out scores (mean log-likelihood or log-pseudolikelihood per test sample)
        of the training-only fit and of the best monitored (point, ratio > 0).
      solver_l2: the L2 penalty the monitor fits used (resolved by cross-validation for ``l2="cv"``; NaN if the
        solver has none).
      moment_rms: :class:`~ising_diffusion.monitor.MomentRMS` ``(first, second)`` of the returned ``samples``
        against the test set, a generator-quality measure that needs no truth (issue 14).
      moment_rms_train: the same for the training set against the test set: the sampling-noise floor to read
        ``moment_rms`` against (a generator that copies the data's moments well comes close to it).
    """

    samples: Any
    curve: StoppingCurve
    stop_epoch: Any
    stop_epoch_paper: Any
    stop_epoch_robust: Any
    crossed_paper: Any
    crossed_robust: Any
    best_epoch: Any
    params_train: IsingParams
    params_augmented: IsingParams
    params_combined: IsingParams
    mse: dict | None
    eps: dict
    timing: dict
    generator: str
    params_selected: IsingParams | None = None
    selected: Any = None
    recommended: Any = None
    reason: Any = None
    solver: str | None = None
    stop_step: Any = None
    stop_mix: Any = None
    score: dict | None = None
    solver_l2: Any = None
    moment_rms: Any = None
    moment_rms_train: Any = None


# ----------------------------------------------------------------------------------------------------------------
# The kernel (per seed; the driver vmaps and jits it)


def held_out_terms(params: IsingParams, test, *, exact: bool) -> jax.Array:
    """Per-test-sample held-out log-likelihood (``exact``) or log-pseudolikelihood, ``(Mt,)``; their mean is
    :func:`held_out_score`."""
    if exact:
        return -energy(params, test) - log_partition(params)
    return log_pseudolikelihood_per_sample(params, test)


def held_out_score(params: IsingParams, test, *, exact: bool) -> jax.Array:
    """Mean held-out log-likelihood per test sample (``exact``: by enumerating ``2^N`` states, N <= 24) or mean
    log-pseudolikelihood (any N). Higher is better; both are proper scoring rules of the fitted model.

    Args:
      params: the fitted ``IsingParams``.
      test: ``(Mt, N)`` held-out spins.
      exact: use the exact log-likelihood.

    Returns:
      scalar.
    """
    return jnp.mean(held_out_terms(params, test, exact=exact))


class AugmentState(NamedTuple):
    """The kernel's state for one seed (a pytree: checkpointed whole, vmapped over seeds).

    Attributes:
      gen: the generator's training state.
      best_gen: the generator state at the best-scoring monitor point so far (the ``"score"`` rule's candidate).
      best_params: the solver fit to training + ``mix_sizes[best_mix]`` generated samples there.
      best_score: its held-out score (``-inf`` before the first point).
      best_point: 1-based index of that monitor point (0: none yet).
      best_mix: index into ``mix_grid`` of that fit (-1: none yet).
      point: monitor points done.
    """

    gen: Any
    best_gen: Any
    best_params: IsingParams
    best_score: jax.Array
    best_point: jax.Array
    best_mix: jax.Array
    point: jax.Array


class AugmentFixed(NamedTuple):
    """Per-seed constants computed once by ``init``: data, keys, ``w_train`` and the fixed variances and score."""

    train: jax.Array
    test: jax.Array
    truth: IsingParams | None
    w_train: IsingParams
    l2: jax.Array
    var_train: jax.Array
    var_test: jax.Array
    band_low: jax.Array
    band_high: jax.Array
    score_train: jax.Array
    terms_train: jax.Array
    eps_train: jax.Array
    key_train: jax.Array
    key_monitor: jax.Array
    key_final: jax.Array


class Kernel(NamedTuple):
    """``init(key, train, test, truth) -> (AugmentState, AugmentFixed)``;
    ``step(state, fixed) -> (state, record)`` (one monitor interval of training, then the monitor);
    ``finalize(gen_state, fixed) -> (samples, params_augmented, params_combined, eps_augmented, eps_combined)``."""

    init: Callable
    step: Callable
    finalize: Callable


def _solver_fns(solver: str, options: tuple):
    """``fit_full(key, x) -> (params, l2, eps)`` with the options as given (``l2="cv"`` cross-validates) and
    ``fit_fixed(key, x, l2) -> params`` with ``l2`` a (traced) number, for the many cheap monitor fits."""
    opts = dict(options)
    cross_validate = opts.get("l2") == "cv"
    # the plain core's options: without the cross-validation settings, whose grid only the CV core reads
    plain = {k: v for k, v in opts.items() if k not in _CV_OPTIONS and not (cross_validate and k == "l2")}
    has_l2 = "l2" in opts

    def fit_full(key, x):
        if cross_validate:
            cv_opts = {k: v for k, v in opts.items() if k != "l2"}
            params, info = CV_METHODS[solver](key, x, **cv_opts)
            l2 = info.l2
        else:
            params, info = METHODS[solver](key, x, **opts)
            l2 = opts.get("l2", jnp.nan)
        eps = getattr(info, "eps", jnp.nan) if solver == "erasure" else jnp.nan
        return params, jnp.asarray(l2, jnp.float32), jnp.asarray(eps, jnp.float32)

    def fit_fixed(key, x, l2):
        o = dict(plain)
        if has_l2:
            o["l2"] = l2
        return METHODS[solver](key, x, **o)[0]

    return fit_full, fit_fixed


def build_kernel(gen, *, solver: str, solver_options: tuple, config: AugmentConfig, steps_per_point: int,
                 n_monitor: int, n_augmented: int, m_train: int, n_spins: int) -> Kernel:
    """The per-seed pure kernel of :func:`augment` (closing over static settings; jit/vmap it at the edge).

    Args:
      gen: the :class:`~ising_diffusion.generative.base.Generator`.
      solver, solver_options: an ``infer`` method name and its options as ``(name, value)`` pairs.
      config: :class:`AugmentConfig` (``mix_grid``, ``exact_score_max_spins``, bootstrap settings are read).
      steps_per_point: optimiser steps per monitor interval.
      n_monitor, n_augmented: samples generated at each monitor point and for the final set.
      m_train, n_spins: ``M`` and ``N``.

    Returns:
      :class:`Kernel`.
    """
    fit_full, fit_fixed = _solver_fns(solver, solver_options)
    exact = n_spins <= config.exact_score_max_spins
    sizes = mix_sizes(config.mix_grid, m_train, n_monitor)
    terms = functools.partial(held_out_terms, exact=exact)

    def init(key, train, test, truth):
        k_init, k_train, k_mon, k_final, k_boot, k_fit = (jax.random.fold_in(key, i) for i in range(6))
        w_train, l2, eps = fit_full(k_fit, train)
        e_test = energy(w_train, test)
        lo, hi = bootstrap_variance_band(k_boot, e_test, config.n_bootstrap, config.band_level)
        g = gen.init(k_init, train)
        state = AugmentState(g, g, w_train, jnp.asarray(-jnp.inf, jnp.float32), jnp.zeros((), jnp.int32),
                             jnp.asarray(-1, jnp.int32), jnp.zeros((), jnp.int32))
        t_train = terms(w_train, test)
        fixed = AugmentFixed(train, test, truth, w_train, l2, jnp.var(energy(w_train, train)), jnp.var(e_test), lo,
                             hi, jnp.mean(t_train), t_train, eps, k_train, k_mon, k_final)
        return state, fixed

    def step(state, fixed):
        g, losses = gen.train(fixed.key_train, state.gen, fixed.train, steps_per_point)
        point = state.point + 1
        k = jax.random.fold_in(fixed.key_monitor, point)
        samples = gen.sample(k, g, n_monitor)
        # one fit per distinct size (static slices: the shapes differ), all inside this one compiled call
        fits = {s: fit_fixed(jax.random.fold_in(k, s), jnp.concatenate([fixed.train, samples[:s]], axis=0), fixed.l2)
                for s in sorted(set(sizes) - {0})}
        fits[0] = fixed.w_train
        gains = jnp.stack([terms(fits[s], fixed.test) - fixed.terms_train for s in sizes])  # (R, Mt), 0 for s = 0
        scores = fixed.score_train + jnp.mean(gains, axis=1)
        # a paired z of each mix's gain over training only: a candidate must clear score_z standard errors
        se = jnp.std(gains, axis=1, ddof=1) / math.sqrt(gains.shape[1])
        z = jnp.mean(gains, axis=1) / jnp.maximum(se, jnp.finfo(jnp.float32).tiny)
        candidates = jnp.where((jnp.asarray(sizes) > 0) & (z > config.score_z), scores, -jnp.inf)
        j = jnp.argmax(candidates)
        better = candidates[j] > state.best_score
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *[fits[s] for s in sizes])
        pick = lambda new, old: jax.tree.map(lambda a, b: jnp.where(better, a, b), new, old)  # noqa: E731
        state = AugmentState(g, pick(g, state.best_gen), pick(jax.tree.map(lambda a: a[j], stacked),
                                                                state.best_params),
                             jnp.where(better, candidates[j], state.best_score),
                             jnp.where(better, point, state.best_point), jnp.where(better, j, state.best_mix), point)
        mse_a = mse_c = jnp.asarray(jnp.nan, jnp.float32)
        if fixed.truth is not None:
            comb = fits.get(n_monitor)
            if comb is None:
                both = jnp.concatenate([fixed.train, samples], axis=0)
                comb = fit_fixed(jax.random.fold_in(k, 1_000_001), both, fixed.l2)
            mse_a = parameter_mse(fixed.truth, fit_fixed(jax.random.fold_in(k, 1_000_002), samples, fixed.l2))
            mse_c = parameter_mse(fixed.truth, comb)
        record = {"gen_var": jnp.var(energy(fixed.w_train, samples)), "loss": jnp.mean(losses), "mse": mse_a,
                  "mse_combined": mse_c, "score": scores, "score_z": z}
        return state, record

    def finalize(g, fixed):
        samples = gen.sample(fixed.key_final, g, n_augmented)
        k_a, k_c = jax.random.split(fixed.key_final)
        p_aug, _, eps_aug = fit_full(k_a, samples)
        p_comb, _, eps_comb = fit_full(k_c, jnp.concatenate([samples, fixed.train], axis=0))
        return samples, p_aug, p_comb, eps_aug, eps_comb

    return Kernel(init, step, finalize)


def mix_sizes(mix_grid, m_train: int, n_monitor: int) -> tuple[int, ...]:
    """Generated samples added at each ratio: ``min(round(r M), n_monitor)``."""
    return tuple(min(int(round(r * m_train)), int(n_monitor)) for r in mix_grid)


# ----------------------------------------------------------------------------------------------------------------
# Public entry points


def augment(key, train, test, *, generator: str = "ddpm", n_augmented: int | None = None,
            config: AugmentConfig | None = None, generator_config=None, true_params: IsingParams | None = None,
            checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
            callback: Callable[[int, dict], None] | None = None, solver: str | None = None,
            solver_options: dict | None = None) -> AugmentResult:
    """Augment the training spins with a generative model, select the model and the mix by a held-out score, and
    compare fits.

    Args:
      key: PRNG key.
      train: ``(M, N)`` training spins in {-1, +1} (the generator and ``w_train`` see only these).
      test: ``(Mt, N)`` held-out spins: the test energy variance of the variance rules and the held-out score.
      generator: registry name (``"ddpm"``; ``"rbm"``, ``"vae"``, ``"gan"``).
      n_augmented: size of the augmented set (default ``config.n_augmented`` or 10x the training size).
      config: :class:`AugmentConfig`.
      generator_config: the generator's config (``GENERATOR_CONFIGS[generator]``; defaults if ``None``).
      true_params: the true ``IsingParams`` on synthetic data: enables the MSE curve, ``best_epoch`` and ``mse``.
      checkpoint_dir: if given, the run's state is checkpointed there at every monitor point and a rerun with the
        same data and settings resumes from the last one, ending exactly as an uninterrupted run.
      progress: show a progress bar.
      callback: called as ``callback(epoch, record)`` after every monitor point (``record``: host floats/lists).
      solver: the ``infer`` method used for ``w_train``, the monitor and score fits and the final fits (default
        ``config.solver`` or :data:`DEFAULT_SOLVER`).
      solver_options: its options (default ``config.solver_options``, :data:`DEFAULT_SOLVER_OPTIONS`, or for
        ``"erasure"`` the config's erasure settings). ``l2="cv"``: the penalty is cross-validated once on the
        training data and that value is used for every monitor and score fit; the final fits cross-validate again.

    Returns:
      :class:`AugmentResult`.
    """
    train = as_spins(train, name="train")
    test = as_spins(test, name="test", n_spins=train.shape[1])
    truth = None
    if true_params is not None:
        truth = _check_truth(true_params, train.shape[1], batched=False)
        truth = jax.tree.map(lambda a: a[None], truth)
    res = _run(jnp.asarray(key)[None], train[None], test[None], generator=generator, n_augmented=n_augmented,
               config=config, generator_config=generator_config, truth=truth, checkpoint_dir=checkpoint_dir,
               progress=progress, callback=callback, solver=solver, solver_options=solver_options)
    return _unbatch(res)


def augment_seeds(keys, train, test, *, generator: str = "ddpm", n_augmented: int | None = None,
                  config: AugmentConfig | None = None, generator_config=None, true_params: IsingParams | None = None,
                  checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
                  callback: Callable[[int, dict], None] | None = None, solver: str | None = None,
                  solver_options: dict | None = None, validate: bool = True) -> AugmentResult:
    """:func:`augment` for ``S`` independent seeds as one vmapped computation.

    Args:
      keys: ``(S,)`` PRNG keys.
      train: ``(S, M, N)`` training spins (one set per seed).
      test: ``(S, Mt, N)`` test spins.
      true_params: ``IsingParams`` with a leading ``(S,)`` axis, or ``None``.
      validate: check ``train``/``test`` with ``as_spins`` (a host round trip). ``False`` is for arrays already
        validated (e.g. the experiments' device-resident, possibly sharded data): they are used where they are.
      (other arguments as in :func:`augment`)

    Returns:
      :class:`AugmentResult` with a leading ``S`` axis on every array (``mse``, ``eps`` and ``score`` values are
      ``(S,)``; ``selected`` and ``reason`` are ``(S,)`` numpy arrays of str, ``recommended`` a ``(S,)`` bool array).
    """
    keys = jnp.asarray(keys)
    if not validate:  # trusted arrays: no host round trip, sharding kept
        tr, te = jnp.asarray(train, jnp.float32), jnp.asarray(test, jnp.float32)
        truth = None if true_params is None else jax.tree.map(jnp.asarray, true_params)
        return _run(keys, tr, te, generator=generator, n_augmented=n_augmented, config=config,
                    generator_config=generator_config, truth=truth, checkpoint_dir=checkpoint_dir, progress=progress,
                    callback=callback, solver=solver, solver_options=solver_options)
    train_np, test_np = np.asarray(train), np.asarray(test)
    if train_np.ndim != 3 or test_np.ndim != 3:
        raise ValueError(f"augment_seeds needs train (S, M, N) and test (S, Mt, N), got shapes {train_np.shape}, "
                         f"{test_np.shape}")
    s = train_np.shape[0]
    if test_np.shape[0] != s or keys.shape != (s,):
        raise ValueError(f"keys {keys.shape}, train {train_np.shape} and test {test_np.shape} must share the seed "
                         f"axis S={s}")
    tr = as_spins(train_np.reshape(-1, train_np.shape[-1]), name="train").reshape(train_np.shape)
    te = as_spins(test_np.reshape(-1, test_np.shape[-1]), name="test", n_spins=tr.shape[-1]).reshape(test_np.shape)
    truth = None
    if true_params is not None:
        truth = _check_truth(true_params, tr.shape[-1], batched=True, n_seeds=s)
    sharding = _seed_sharding(train)
    if sharding is not None:  # validation went through host memory: put the seeds back on their devices
        keys, tr, te, truth = jax.device_put((keys, tr, te, truth), sharding)
    return _run(keys, tr, te, generator=generator, n_augmented=n_augmented, config=config,
                generator_config=generator_config, truth=truth, checkpoint_dir=checkpoint_dir, progress=progress,
                callback=callback, solver=solver, solver_options=solver_options)


def load_checkpointed_state(checkpoint_dir, epoch: float | None = None, *, n_spins: int, generator: str = "ddpm",
                            generator_config=None, n_seeds: int | None = None, step: int | None = None):
    """The generator state that :func:`augment` / :func:`augment_seeds` saved at a monitor point.

    Args:
      checkpoint_dir: the ``checkpoint_dir`` of that run.
      epoch: a monitored epoch (``result.stop_epoch``, ``result.curve.epochs[i]``), or
      step: a monitored optimiser step (``result.stop_step``, ``result.curve.steps[i]``); checkpoints are keyed by
        step, and ``epoch`` is converted with the run's recorded steps per epoch.
      n_spins: ``N``.
      generator, generator_config: as passed to that run.
      n_seeds: ``S`` for a run of :func:`augment_seeds` (state with a leading seed axis); ``None`` for :func:`augment`.

    Returns:
      The generator state pytree; draw samples with ``make_generator(generator, generator_config, n_spins).sample``.
    """
    if (epoch is None) == (step is None):
        raise ValueError("give exactly one of epoch and step")
    if step is None:
        spe = read_run_meta(checkpoint_dir).get("steps_per_epoch")
        if spe is None:
            raise ValueError(f"{checkpoint_dir} holds no augment run")
        step = int(round(float(epoch) * spe))
    if generator_config is None:
        generator_config = GENERATOR_CONFIGS[generator]()
    gen = make_generator(generator, generator_config, n_spins)
    meta = read_run_meta(checkpoint_dir)
    s = 1 if n_seeds is None else int(n_seeds)
    if meta.get("n_seeds", s) != s:
        raise ValueError(f"{checkpoint_dir} holds a run of {meta['n_seeds']} seed(s), not {s} (n_seeds)")
    gen_t = jax.eval_shape(lambda k: jax.vmap(gen.init)(k, jnp.ones((s, 2, n_spins), jnp.float32)),
                           jax.random.split(jax.random.key(0), s))
    f32, i32 = (lambda *shape: jax.ShapeDtypeStruct((s,) + shape, jnp.float32),  # noqa: E731
                lambda *shape: jax.ShapeDtypeStruct((s,) + shape, jnp.int32))
    target = {"state": AugmentState(gen_t, gen_t, IsingParams(f32(n_spins), f32(n_spins, n_spins)), f32(), i32(),
                                    i32(), i32()),
              "record": {"gen_var": f32(), "loss": f32(), "mse": f32(), "mse_combined": f32(),
                         "score": f32(int(meta.get("n_mix", 0))), "score_z": f32(int(meta.get("n_mix", 0)))}}
    with Checkpointer(checkpoint_dir) as ckpt:
        if int(step) not in ckpt.steps():
            raise ValueError(f"no checkpoint for step {step} in {checkpoint_dir}; saved steps: {ckpt.steps()}")
        state = ckpt.restore(int(step), target)["state"].gen
    return jax.tree.map(lambda a: a[0], state) if n_seeds is None else state


# ----------------------------------------------------------------------------------------------------------------
# The driver


def _seed_sharding(x) -> NamedSharding | None:
    """The sharding of ``x``'s leading (seed) axis when it is split over several devices, else ``None``."""
    s = getattr(x, "sharding", None)
    if isinstance(s, NamedSharding) and len(s.device_set) > 1 and len(s.spec) > 0 and s.spec[0] is not None:
        return NamedSharding(s.mesh, PartitionSpec(s.spec[0]))
    return None


def _check_truth(p, n, *, batched, n_seeds=None):
    if not isinstance(p, IsingParams):
        raise TypeError(f"true_params must be IsingParams, got {type(p).__name__}")
    h, J = jnp.asarray(p.h, jnp.float32), jnp.asarray(p.J, jnp.float32)
    want_h = (n_seeds, n) if batched else (n,)
    if h.shape != want_h or J.shape != want_h + (n,):
        raise ValueError(f"true_params shapes h {h.shape}, J {J.shape} do not match "
                         f"h {want_h}, J {want_h + (n,)}")
    return IsingParams(h, J)


def _num(x):
    x = float(x)
    return int(x) if x.is_integer() else x


def _unbatch(res: AugmentResult) -> AugmentResult:
    first = lambda x: x[0]  # noqa: E731
    return res._replace(
        samples=res.samples[0],
        curve=StoppingCurve(*[c[0] for c in res.curve]),
        stop_epoch=_num(res.stop_epoch[0]), stop_epoch_paper=_num(res.stop_epoch_paper[0]),
        stop_epoch_robust=_num(res.stop_epoch_robust[0]), crossed_paper=bool(res.crossed_paper[0]),
        crossed_robust=bool(res.crossed_robust[0]), best_epoch=_num(res.best_epoch[0]),
        params_train=jax.tree.map(first, res.params_train),
        params_augmented=jax.tree.map(first, res.params_augmented),
        params_combined=jax.tree.map(first, res.params_combined),
        params_selected=jax.tree.map(first, res.params_selected),
        mse=None if res.mse is None else {k: float(v[0]) for k, v in res.mse.items()},
        eps={k: float(v[0]) for k, v in res.eps.items()},
        selected=str(res.selected[0]), recommended=bool(res.recommended[0]), reason=str(res.reason[0]),
        stop_step=int(res.stop_step[0]), stop_mix=float(res.stop_mix[0]),
        score={k: float(v[0]) for k, v in res.score.items()}, solver_l2=float(res.solver_l2[0]),
        moment_rms=jax.tree.map(first, res.moment_rms), moment_rms_train=jax.tree.map(first, res.moment_rms_train))


def _resolve_solver(solver, solver_options, config: AugmentConfig, n_spins: int, m_train: int) -> tuple[str, tuple]:
    solver = solver if solver is not None else (config.solver or DEFAULT_SOLVER)
    if solver not in METHODS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {sorted(METHODS)}")
    if solver_options is None:
        solver_options = config.solver_options
    if solver_options is None:
        if solver == "erasure":
            solver_options = {"eps_grid": config.eps_grid, "alpha": config.erasure_alpha,
                              "n_iter": config.erasure_n_iter}
        else:
            solver_options = DEFAULT_SOLVER_OPTIONS if solver == DEFAULT_SOLVER else {}
    options = _freeze(solver_options)
    _check_solver_options(solver, jax.random.key(0), n_spins, dict(options))
    _check_cv(solver, m_train, dict(options))
    return solver, options


@functools.lru_cache(maxsize=16)
def _compiled(generator, generator_config, solver, solver_options, config, n_spins, m_train, steps_per_point, n_mon,
              n_augmented):
    """The seed-vmapped, jitted kernel, cached on the static settings so repeated calls do not recompile."""
    gen = make_generator(generator, generator_config, n_spins)
    k = build_kernel(gen, solver=solver, solver_options=solver_options, config=config,
                     steps_per_point=steps_per_point, n_monitor=n_mon, n_augmented=n_augmented, m_train=m_train,
                     n_spins=n_spins)
    return seed_batched(k, solver_options)


def seed_batched(kernel: Kernel, solver_options: tuple) -> Kernel:
    """The kernel over a leading seed axis, jitted: ``step`` vmapped; ``init`` and ``finalize`` too, except with a
    cross-validated solver (``l2="cv"``), where they map over the seeds one after another.

    ``init`` and ``finalize`` hold the full solver fits; with ``l2="cv"`` each is a cross-validation path of
    data-dependent length (early-stopped penalty path, L-BFGS to a tolerance), which ``vmap`` would run in lock-step
    to the slowest seed (measured 20x slower, benchmarks/cv_batch.py). The many fixed-penalty monitor fits stay
    vmapped.
    """
    per_seed = _seed_map if dict(solver_options).get("l2") == "cv" else jax.vmap
    return Kernel(jax.jit(per_seed(kernel.init)), jax.jit(jax.vmap(kernel.step)), jax.jit(per_seed(kernel.finalize)))


def _seed_map(fn):
    """``fn`` over the leading (seed) axis of every argument, one seed after another (``lax.map``)."""
    return lambda *args: jax.lax.map(lambda a: fn(*a), args)


def _where_seed(mask, new, old):
    mask = jnp.asarray(mask)
    return jax.tree.map(lambda a, b: jnp.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), a, b), new, old)


class _Plan(NamedTuple):
    """Everything the driver resolved from the arguments, once."""

    generator: str
    generator_config: Any
    config: AugmentConfig
    static: AugmentConfig  # the part of the config the kernel reads (budget and rule removed: no recompile)
    solver: str
    options: tuple
    n_augmented: int
    n_mon: int
    steps_per_epoch: int
    steps_per_point: int
    n_points: int

    def epochs(self) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(1, self.n_points + 1) * self.steps_per_point
        epochs = steps / self.steps_per_epoch
        return steps, (np.rint(epochs).astype(np.int64) if self.config.budget_unit == "epochs" else epochs)


def _plan(train, test, truth, *, generator, n_augmented, config, generator_config, solver, solver_options) -> _Plan:
    config = AugmentConfig() if config is None else config
    if not isinstance(config, AugmentConfig):
        raise TypeError(f"config must be an AugmentConfig, got {type(config).__name__}")
    if generator not in GENERATOR_CONFIGS:
        raise ValueError(f"unknown generator {generator!r}; registered: {sorted(GENERATOR_CONFIGS)}")
    if generator_config is None:
        generator_config = GENERATOR_CONFIGS[generator]()
    _, m_train, n_spins = train.shape
    if m_train < 2 or test.shape[1] < 2:
        raise ValueError(f"need at least 2 training and 2 test samples, got {m_train} and {test.shape[1]}")
    if n_augmented is None:
        n_augmented = config.n_augmented if config.n_augmented is not None else 10 * m_train
    n_augmented = int(n_augmented)
    if n_augmented < 1:
        raise ValueError(f"n_augmented must be >= 1, got {n_augmented}")
    if config.stopping == "best" and truth is None:
        raise ValueError("stopping='best' needs true_params (the MSE curve)")
    solver, options = _resolve_solver(solver, solver_options, config, n_spins, m_train)
    steps_per_epoch = math.ceil(m_train / int(getattr(generator_config, "batch_size", 128)))
    static = dataclasses.replace(config, n_steps=None, monitor_steps=None, n_epochs=None, monitor_every=None,
                                 stopping="last", n_augmented=None, solver=None, solver_options=None)
    return _Plan(generator, generator_config, config, static, solver, options, n_augmented,
                 n_augmented if config.n_monitor_samples is None else int(config.n_monitor_samples), steps_per_epoch,
                 *config.schedule(steps_per_epoch))


def _run(keys, train, test, *, generator, n_augmented, config, generator_config, truth, checkpoint_dir, progress,
         callback, solver, solver_options) -> AugmentResult:
    t_start = time.perf_counter()
    plan = _plan(train, test, truth, generator=generator, n_augmented=n_augmented, config=config,
                 generator_config=generator_config, solver=solver, solver_options=solver_options)
    n_seeds, m_train, n_spins = train.shape
    fns = _compiled(generator, plan.generator_config, plan.solver, plan.options, plan.static, n_spins, m_train,
                    plan.steps_per_point, plan.n_mon, plan.n_augmented)
    timing = {"solver": 0.0, "train": 0.0, "monitor": 0.0, "final": 0.0}
    t0 = time.perf_counter()
    state, fixed = jax.block_until_ready(fns.init(keys, train, test, truth))
    timing["solver"] = timing["erasure"] = time.perf_counter() - t0

    ckpt = None
    if checkpoint_dir is not None:  # without a directory nothing is written: the candidates stay in memory
        fp = fingerprint(keys=keys, train=train, test=test, truth=truth, generator=generator,
                         generator_config=plan.generator_config, solver=plan.solver, solver_options=plan.options,
                         static=plan.static, n_mon=plan.n_mon, steps_per_point=plan.steps_per_point)
        ckpt = open_run(checkpoint_dir, fp, {"steps_per_epoch": plan.steps_per_epoch, "n_seeds": int(n_seeds),
                                             "n_mix": len(plan.config.mix_grid)})
    try:
        t0 = time.perf_counter()
        state, records, stash = _loop(fns, state, fixed, plan, ckpt, progress, callback)
        timing["train"] = time.perf_counter() - t0  # training and monitor points run in one compiled call each
        steps, epochs = plan.epochs()
        curve, rules = _curve_and_rules(records, fixed, plan.config, steps, epochs, n_seeds, plan.n_mon, m_train,
                                        truth is not None)
        t0 = time.perf_counter()
        chosen_idx, chosen_gen = _chosen(fns, state, fixed, plan, rules, ckpt, stash, steps)
    finally:
        if ckpt is not None:
            ckpt.close()
    samples, p_aug, p_comb, eps_aug, eps_comb = jax.block_until_ready(fns.finalize(chosen_gen, fixed))
    timing["final"] = time.perf_counter() - t0
    rec = _recommend(plan, state, fixed, curve, rules, chosen_idx, epochs, p_comb)

    mse = None
    if truth is not None:
        pm = jax.vmap(parameter_mse)
        mse = {"train": np.asarray(pm(truth, fixed.w_train)), "augmented": np.asarray(pm(truth, p_aug)),
               "combined": np.asarray(pm(truth, p_comb)), "selected": np.asarray(pm(truth, rec["params_selected"]))}
    timing["total"] = time.perf_counter() - t_start
    return AugmentResult(
        samples=samples, curve=curve, stop_epoch=epochs[chosen_idx], stop_epoch_paper=epochs[rules["paper"]],
        stop_epoch_robust=epochs[rules["robust"]], crossed_paper=np.asarray(rules["crossed_paper"]),
        crossed_robust=np.asarray(rules["crossed_robust"]),
        best_epoch=np.where(rules["best"] >= 0, epochs[np.maximum(rules["best"], 0)], -1),
        params_train=fixed.w_train, params_augmented=p_aug, params_combined=p_comb, mse=mse,
        eps={"train": np.asarray(fixed.eps_train), "augmented": np.asarray(eps_aug),
             "combined": np.asarray(eps_comb)},
        timing=timing, generator=generator, solver=plan.solver, stop_step=steps[chosen_idx],
        solver_l2=np.asarray(fixed.l2), moment_rms=jax.tree.map(np.asarray, jax.vmap(moment_rms)(samples, test)),
        moment_rms_train=jax.tree.map(np.asarray, jax.vmap(moment_rms)(train, test)), **rec)


def _loop(fns, state, fixed, plan, ckpt, progress, callback):
    """Train and monitor point after point (resuming after the last checkpoint); returns the final state, the
    host records of every point and, for the whole-curve rules without checkpoints, each point's generator state."""
    records, done = [], 0
    if ckpt is not None:
        rec_t = jax.eval_shape(fns.step, state, fixed)[1]
        restored, records, done = resume_points(ckpt, {"state": state, "record": rec_t}, every=plan.steps_per_point,
                                                last=plan.steps_per_point * plan.n_points)
        state = state if restored is None else restored
    keep = ckpt is None and plan.config.stopping in ("paper", "robust", "best")
    stash: dict[int, Any] = {}
    n_seeds = np.shape(fixed.var_test)[0]
    with tqdm(total=plan.n_points, initial=done // plan.steps_per_point, disable=not progress,
              desc=f"{plan.generator} training", unit="pt") as bar:
        for p in range(done // plan.steps_per_point, plan.n_points):
            step_no = (p + 1) * plan.steps_per_point
            state, rec = jax.block_until_ready(fns.step(state, fixed))
            if ckpt is not None:
                ckpt.save(step_no, {"state": state, "record": rec})
            elif keep:
                stash[p] = state.gen
            records.append(jax.tree.map(np.asarray, rec))
            bar.update(1)
            # the variance rules look for var/test reaching 1; the score rule for a positive gain (range over seeds)
            ratio = records[-1]["gen_var"] / np.asarray(fixed.var_test)
            gain = np.asarray(state.best_score) - np.asarray(fixed.score_train)
            bar.set_postfix({"var/test": f"{ratio.min():.2f}" if n_seeds == 1 else
                             f"{ratio.min():.2f}..{ratio.max():.2f}", "score gain": f"{gain.max():+.3g}"})
            if callback is not None:
                callback(_num(step_no / plan.steps_per_epoch), {k: v.tolist() for k, v in records[-1].items()})
    return state, records, stash


def _chosen(fns, state, fixed, plan, rules, ckpt, stash, steps):
    """Each seed's chosen point and generator state: the score rule's is in the state; the others come from memory
    or the checkpoints."""
    if plan.config.stopping == "score":
        # a seed where no monitored mix cleared the margin has no candidate (best_point stays -1, best_gen the
        # untrained init): its final samples come from the last monitored model, as for the other rules' fallbacks
        found = np.asarray(state.best_point) >= 1
        return (np.where(found, np.asarray(state.best_point) - 1, plan.n_points - 1),
                _where_seed(found, state.best_gen, state.gen))
    idx = rules[plan.config.stopping]
    gen = state.gen
    for i in np.unique(idx):
        if i == plan.n_points - 1:
            continue
        if ckpt is not None:
            target = {"state": state, "record": jax.eval_shape(fns.step, state, fixed)[1]}
            g = ckpt.restore(int(steps[i]), target)["state"].gen
        else:
            g = stash[int(i)]
        gen = _where_seed(idx == i, g, gen)
    return idx, gen


def _recommend(plan, state, fixed, curve, rules, chosen_idx, epochs, p_comb) -> dict:
    """The recommendation, per seed: augmented data only when they beat the training data on the held-out score
    (and, for the variance rules, the variance met the test variance); a warning otherwise."""
    stopping, grid = plan.config.stopping, np.asarray(plan.config.mix_grid)
    score_train = np.asarray(fixed.score_train)
    n_seeds = score_train.shape[0]
    if stopping == "score":
        best = np.asarray(state.best_score)
        stop_mix = grid[np.maximum(np.asarray(state.best_mix), 0)]
    else:
        at = curve.score[np.arange(n_seeds), chosen_idx]  # (S, R)
        best = np.max(np.where(grid[None] > 0, at, -np.inf), axis=1)
        stop_mix = np.full(n_seeds, grid[-1])
    crossed = rules.get(f"crossed_{stopping}", np.ones(n_seeds, bool))
    recommended = (best > score_train) & crossed
    reasons = []
    for s in range(n_seeds):
        if not crossed[s]:
            reasons.append(f"the generated energy variance never met the test variance ({stopping} rule); the "
                           "augmented data are not recommended and params_selected is the training-only fit")
        elif not recommended[s]:
            reasons.append("no monitored model and mix improved the held-out score over the training data alone "
                           f"by more than {plan.config.score_z:g} standard errors (training only: "
                           f"{score_train[s]:.4g}); the augmented data are not recommended and params_selected is "
                           "the training-only fit")
        else:
            reasons.append(f"training + {stop_mix[s]:g}x generated samples raised the held-out score from "
                           f"{score_train[s]:.4g} to {best[s]:.4g} (at epoch {epochs[chosen_idx[s]]}); "
                           "params_selected is that fit")
    if not recommended.all():
        first = reasons[int(np.argmin(recommended))]
        warnings.warn(f"augmentation not recommended for {int((~recommended).sum())} of {n_seeds} seed(s): {first} "
                      "(see result.recommended / result.reason)", AugmentationNotRecommendedWarning, stacklevel=4)
    chosen_fit = state.best_params if stopping == "score" else p_comb
    return {"params_selected": _where_seed(recommended, chosen_fit, fixed.w_train),
            "selected": np.where(recommended, "combined", "train"), "recommended": recommended,
            "reason": np.asarray(reasons), "stop_mix": np.where(recommended, stop_mix, 0.0),
            "score": {"train": score_train, "selected": best}}


def _curve_and_rules(records, fixed, config, steps, epochs, n_seeds, n_mon, m_train, have_truth):
    """The :class:`StoppingCurve` and every rule's choice (indices into the monitor points, per seed)."""
    stack = lambda name: np.stack([r[name] for r in records], axis=1)  # noqa: E731  (S, P, ...)
    gen_var, loss, mse_curve, mse_comb = (stack(k) for k in ("gen_var", "loss", "mse", "mse_combined"))
    var_test = np.asarray(fixed.var_test)
    smoothed = np.stack([smooth_curve(g, config.smooth_window) for g in gen_var])
    out = {"paper": [], "crossed_paper": [], "robust": [], "crossed_robust": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoCrossingWarning)
        for s in range(n_seeds):
            for name, fn in (("paper", paper_stop_index),
                             ("robust", functools.partial(robust_stop_index, window=config.smooth_window))):
                i, c = fn(gen_var[s], var_test[s])
                out[name].append(i)
                out["crossed_" + name].append(c)
    if caught and config.stopping in ("paper", "robust"):
        warnings.warn(f"{len(caught)} stopping decision(s) over {n_seeds} seed(s) found no crossing of the test energy "
                      "variance and fell back to the closest monitored epoch (see crossed_paper / crossed_robust); "
                      "consider a longer training budget", NoCrossingWarning, stacklevel=4)
    rules = {k: np.asarray(v) for k, v in out.items()}
    rules["best"] = np.argmin(mse_curve, axis=1) if have_truth else np.full(n_seeds, -1)
    rules["last"] = np.full(n_seeds, len(records) - 1)
    curve = StoppingCurve(
        epochs=np.tile(epochs, (n_seeds, 1)), generated_variance=gen_var, train_variance=np.asarray(fixed.var_train),
        test_variance=var_test, loss=loss, mse=mse_curve, mse_combined=mse_comb, smoothed_variance=smoothed,
        test_variance_low=np.asarray(fixed.band_low), test_variance_high=np.asarray(fixed.band_high),
        steps=np.tile(steps, (n_seeds, 1)), score=stack("score"),
        mix_sizes=np.tile(np.asarray(mix_sizes(config.mix_grid, m_train, n_mon)), (n_seeds, 1)))
    return curve, rules
