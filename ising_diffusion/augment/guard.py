"""The parametric bootstrap guard of :func:`~ising_diffusion.augment.augment` (``Selection(guard="bootstrap")``).

The held-out score judges how well a fit predicts data, not how close its parameters are to the truth; on strongly
coupled low-rank truths the score rule's recommendations raised the parameter MSE on most seeds (docs/map.md). The
guard checks the whole pipeline where the truth is known: it takes the training-only fit ``theta_hat =
params_train`` as a stand-in truth, draws ``R`` synthetic (train, test) sets of the real sizes from it, runs the same
pipeline on them (same generator, budget, selection, solver; one seed-batched call; the score rule's margin there
is ``guard_score_z``) and compares, per replicate, the
parameter MSE of what the selection returns there with that replicate's training-only fit. The real data's
recommendation is kept only when the replicates resolve a gain (:func:`guard_decision`); otherwise the result is the
training-only fit and ``reason`` says why, with the numbers.

* :func:`guard_decision`: the decision on plain arrays of per-replicate MSEs (tested on planted ratios);
* :func:`draw_replicates`: the synthetic sets of one seed;
* :func:`apply_guard`: the guard on a seed-batched :class:`AugmentResult`, the pipeline given as a callable.
"""

from __future__ import annotations

import time
import warnings
from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from ising_diffusion.augment.config import GUARD_LEVEL, GUARD_MAX_RISE
from ising_diffusion.augment.result import AugmentationNotRecommendedWarning, AugmentResult
from ising_diffusion.augment.seeds import where_seed
from ising_diffusion.ising import IsingParams
from ising_diffusion.synthetic import SamplerConfig, observed_samples

__all__ = ["GuardDecision", "guard_decision", "draw_replicates", "apply_guard"]

#: fold-in tag of the replicates' keys (the kernel's own tags are small integers).
GUARD_TAG = 7919


class GuardDecision(NamedTuple):
    """Per real seed, the guard's verdict from its ``R`` replicates.

    Attributes:
      keep: ``(S,)`` bool: the replicates resolve a gain, the recommendation stands.
      ratio: ``(S, R)`` MSE of the selection / MSE of the training-only fit, per replicate.
      mean_log_ratio: ``(S,)`` mean over replicates of ``log ratio``.
      upper: ``(S,)`` one-sided upper confidence bound (Student t, ``level``) of the mean log ratio.
      worst: ``(S,)`` largest ratio over the replicates.
      reason: ``(S,)`` str, a plain sentence with the numbers.
    """

    keep: np.ndarray
    ratio: np.ndarray
    mean_log_ratio: np.ndarray
    upper: np.ndarray
    worst: np.ndarray
    reason: np.ndarray


def guard_decision(mse_selected, mse_train, *, level: float = GUARD_LEVEL,
                   max_rise: float = GUARD_MAX_RISE) -> GuardDecision:
    """Keep a recommendation only where the replicates show a gain they resolve.

    Both must hold: the one-sided ``level`` Student-t upper bound of the mean log MSE ratio (paired per replicate) is
    below 0, and no replicate's MSE rose by more than ``max_rise`` (a single harmful replicate vetoes: the goal is
    no recommendation that raises the MSE, not a gain on average). A replicate whose selection declined counts as
    ratio 1 (no gain), so a generator whose mixes rarely even raise the held-out score on the replicates is not
    trusted on the real data either (the driver runs the replicates with the margin ``guard_score_z``, 0 by default:
    the fit compared is each replicate's best-scoring mix, the fit the rule returns when it recommends).
    Non-finite MSEs count as harm.

    Args:
      mse_selected: ``(S, R)`` parameter MSE of the fit the selection returns on each replicate.
      mse_train: ``(S, R)`` parameter MSE of each replicate's training-only fit.
      level: confidence of the upper bound, in (0.5, 1).
      max_rise: the largest tolerated per-replicate rise (0.25: 25%; the defaults are Selection's).

    Returns:
      :class:`GuardDecision`.
    """
    sel, tr = np.atleast_2d(np.asarray(mse_selected, np.float64)), np.atleast_2d(np.asarray(mse_train, np.float64))
    if sel.shape != tr.shape:
        raise ValueError(f"mse_selected {sel.shape} and mse_train {tr.shape} must have the same (S, R) shape")
    n_rep = sel.shape[1]
    if n_rep < 2:
        raise ValueError(f"the guard needs at least 2 replicates per seed, got {n_rep}")
    if not (0.5 < level < 1) or not max_rise >= 0:
        raise ValueError(f"level must be in (0.5, 1) and max_rise >= 0, got {level}, {max_rise}")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = sel / tr
    ratio = np.where(np.isfinite(ratio) & (tr > 0), ratio, np.inf)
    log_ratio = np.log(ratio)
    finite = np.isfinite(log_ratio).all(axis=1)
    safe = np.where(np.isfinite(log_ratio), log_ratio, 0.0)
    mean = np.where(finite, safe.mean(axis=1), np.inf)
    se = safe.std(axis=1, ddof=1) / np.sqrt(n_rep)
    upper = np.where(finite, mean + stats.t.ppf(level, n_rep - 1) * se, np.inf)
    worst = ratio.max(axis=1)
    keep = (upper < 0) & (worst <= 1 + max_rise)
    reasons = []
    for s in range(sel.shape[0]):
        nums = (f"on {n_rep} bootstrap replicates drawn from the training-only fit, the selection's MSE / "
                f"training-only MSE was {', '.join(f'{r:.3g}' for r in ratio[s])} (geometric mean "
                f"{np.exp(mean[s]):.3g}, {level:.0%} upper bound {np.exp(upper[s]):.3g}, worst {worst[s]:.3g})")
        if keep[s]:
            reasons.append(f"the bootstrap guard kept the recommendation: {nums}")
        else:
            why = ("a replicate's MSE rose by more than " f"{max_rise:.0%}" if worst[s] > 1 + max_rise
                   else "the gain is not resolved (upper bound not below 1)")
            reasons.append(f"the bootstrap guard declined the recommendation ({why}): {nums}; params_selected is "
                           "the training-only fit")
    return GuardDecision(keep, ratio, mean, upper, worst, np.asarray(reasons))


@partial(jax.jit, static_argnames=("n_replicates", "m_train", "m_test", "sampler"))
def draw_replicates(key, params: IsingParams, *, n_replicates: int, m_train: int, m_test: int,
                    sampler: SamplerConfig = SamplerConfig()):
    """``R`` synthetic (train, test) sets of one seed drawn from ``params`` (exact for small ``N``, Metropolis
    otherwise: :func:`ising_diffusion.synthetic.observed_samples`), and their run keys.

    Args:
      key: the real seed's run key (replicate ``r`` uses ``fold_in(fold_in(key, GUARD_TAG), r)``).
      params: ``IsingParams`` ``h (N,)``, ``J (N, N)``: the stand-in truth.
      n_replicates, m_train, m_test: ``R`` and the real training and test sizes.
      sampler: :class:`~ising_diffusion.synthetic.SamplerConfig`.

    Returns:
      ``(keys (R,), train (R, m_train, N), test (R, m_test, N))``.
    """
    base = jax.random.fold_in(key, GUARD_TAG)

    def one(r):
        k_data, k_run = jax.random.split(jax.random.fold_in(base, r))
        x = observed_samples(k_data, params, m_train + m_test, sampler)
        return k_run, x[:m_train], x[m_train:]

    return jax.vmap(one)(jnp.arange(n_replicates))


def apply_guard(res: AugmentResult, keys, train, test, *, n_replicates: int, level: float, max_rise: float,
                run_replicates: Callable[..., AugmentResult], sampler: SamplerConfig = SamplerConfig()
                ) -> AugmentResult:
    """The bootstrap guard on a seed-batched result: every recommended seed's recommendation is checked on
    ``n_replicates`` replicates and withdrawn unless :func:`guard_decision` keeps it.

    Args:
      res: the :class:`AugmentResult` of the real data (leading seed axis ``S``).
      keys: ``(S,)`` the real run keys.
      train, test: ``(S, M, N)`` and ``(S, Mt, N)`` the real data (only their sizes are used).
      n_replicates, level, max_rise: the guard's settings (``Selection``).
      run_replicates: ``run_replicates(keys, train, test, truth) -> AugmentResult``: the same pipeline, unguarded,
        on a batch of replicate seeds with their stand-in truths (the driver passes its own run).
      sampler: how replicates are drawn.

    Returns:
      the result with the guard's verdict applied (``recommended``, ``selected``, ``stop_mix``, ``params_selected``,
      ``mse["selected"]`` and ``reason`` of declined seeds), ``timing["guard"]`` and ``guard``: per-seed
      ``recommended_before``, ``kept``, ``ratios (S, R)`` (NaN where not run), ``upper`` and ``worst``
      (as ratios), ``mse_selected_before`` (``None`` without a truth), and ``time`` and ``n_replicates``.
    """
    t0 = time.perf_counter()
    before = np.asarray(res.recommended, bool)
    n_seeds = before.shape[0]
    ratios = np.full((n_seeds, n_replicates), np.nan)
    upper, worst = np.full(n_seeds, np.nan), np.full(n_seeds, np.nan)
    keep = before.copy()
    reason = np.asarray(res.reason).astype(object)
    idx = np.flatnonzero(before)
    if idx.size:
        m_train, m_test = int(np.shape(train)[1]), int(np.shape(test)[1])
        draws = [draw_replicates(keys[s], jax.tree.map(lambda a: a[s], res.params_train), n_replicates=n_replicates,
                                 m_train=m_train, m_test=m_test, sampler=sampler) for s in idx]
        rkeys, rtrain, rtest = (jnp.concatenate(parts) for parts in zip(*draws))
        rtruth = jax.tree.map(lambda a: jnp.repeat(jnp.asarray(a)[idx], n_replicates, axis=0), res.params_train)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AugmentationNotRecommendedWarning)
            rep = run_replicates(rkeys, rtrain, rtest, rtruth)
        shape = (idx.size, n_replicates)
        dec = guard_decision(np.asarray(rep.mse["selected"]).reshape(shape),
                             np.asarray(rep.mse["train"]).reshape(shape), level=level, max_rise=max_rise)
        ratios[idx], upper[idx], worst[idx], keep[idx] = dec.ratio, np.exp(dec.upper), dec.worst, dec.keep
        for j, s in enumerate(idx):
            reason[s] = f"{reason[s]}; {dec.reason[j]}" if dec.keep[j] else f"{dec.reason[j]} (before: {reason[s]})"
        if not dec.keep.all():
            warnings.warn(f"the bootstrap guard declined the recommendation for {int((~dec.keep).sum())} of "
                          f"{idx.size} recommended seed(s): {dec.reason[int(np.argmin(dec.keep))]}",
                          AugmentationNotRecommendedWarning, stacklevel=4)
    mse = res.mse
    if mse is not None:
        mse = dict(mse) | {"selected": np.where(keep, mse["selected"], mse["train"])}
    seconds = time.perf_counter() - t0
    info = {"recommended_before": before, "kept": keep, "ratios": ratios, "upper": upper,
            "worst": worst, "mse_selected_before": None if res.mse is None else np.asarray(res.mse["selected"]),
            "time": seconds, "n_replicates": n_replicates}
    timing = dict(res.timing) | {"guard": seconds, "total": res.timing.get("total", 0.0) + seconds}
    return res._replace(
        recommended=keep, selected=np.where(keep, res.selected, "train"),
        stop_mix=np.where(keep, res.stop_mix, 0.0), reason=reason.astype(str), mse=mse, timing=timing,
        params_selected=where_seed(jnp.asarray(keep), res.params_selected, res.params_train), guard=info)
