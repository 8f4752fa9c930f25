"""The decisions of :func:`~ising_diffusion.augment.augment`, as functions of the monitored curve.

Everything here but :func:`mix_candidates` (the score rule's test at one monitor point, run inside the compiled
kernel) works on plain NumPy arrays with a leading seed axis ``S`` over ``P`` monitor points and ``R`` mix ratios, so
each rule can be checked on a planted curve in milliseconds:

* :func:`variance_stops`: the paper's and the robust energy-variance rules (where the generated energy variance meets
  the test variance);
* :func:`score_choice`: the held-out score rule (the best (point, ratio) whose gain over the training-only fit clears
  ``score_z`` standard errors);
* :func:`stop_indices`: the monitor point each stopping rule picks;
* :func:`recommend`: whether the augmented data are recommended, the chosen ratio and a plain-English reason;
* :func:`withdraw_memorised`: alignments: no recommendation of a generator that copies its training sequences.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.monitor import paper_stop_index, robust_stop_index

__all__ = ["VarianceStops", "ScoreChoice", "Recommendation", "mix_candidates", "curve_gain", "best_mix_gain",
           "lowest_point", "variance_stops", "score_choice", "stop_indices", "recommend", "withdraw_memorised"]


def mix_candidates(gains: jax.Array, sizes, score_train: jax.Array,
                   score_z: float) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The score rule at one monitor point: each mix's held-out score, its paired z and whether it is a candidate.

    Args:
      gains: ``(R, Mt)`` per-test-sample held-out gain of each mix's fit over the training-only fit (row 0 for the
        ratio 0 is all zeros).
      sizes: ``(R,)`` generated samples added at each ratio (static ints).
      score_train: the training-only fit's held-out score.
      score_z: the margin in standard errors.

    Returns:
      ``(scores (R,), z (R,), candidates (R,))``: ``candidates`` is the score where a mix with generated samples
      clears ``z > score_z``, ``-inf`` elsewhere.
    """
    mean = jnp.mean(gains, axis=1)
    scores = score_train + mean
    se = jnp.std(gains, axis=1, ddof=1) / math.sqrt(gains.shape[1])
    z = mean / jnp.maximum(se, jnp.finfo(jnp.float32).tiny)
    candidates = jnp.where((jnp.asarray(sizes) > 0) & (z > score_z), scores, -jnp.inf)
    return scores, z, candidates


def curve_gain(curve_score, score_train) -> np.ndarray:
    """The largest held-out gain over the training-only fit of any mix with generated samples, whether or not it
    clears the score rule's margin: ``curve_score`` ``(..., P, R)`` is a result's ``curve.score`` (monitor points x
    the sorted mix grid, whose first ratio is 0, the training data alone), ``score_train`` ``(...)``. NaN scores are
    ignored; ``-inf`` where there are none. What the progress bar shows and the experiments' ``score_gain``."""
    scores = np.asarray(curve_score, np.float64)[..., 1:]
    best = np.max(np.where(np.isnan(scores), -np.inf, scores), axis=(-2, -1))
    return best - np.asarray(score_train, np.float64)


def best_mix_gain(records, score_train) -> np.ndarray:
    """``(S,)`` :func:`curve_gain` of the monitor points in ``records`` (each with a ``score`` ``(S, R)``)."""
    return curve_gain(np.stack([np.asarray(r.score, np.float64) for r in records], axis=-2), score_train)


class VarianceStops(NamedTuple):
    """Per seed, the monitor point each energy-variance rule picks and whether its crossing was found.

    Attributes:
      paper, robust: ``(S,)`` int indices into the monitor points.
      crossed_paper, crossed_robust: ``(S,)`` bool (False: the curve never met the test variance; the index is the
        closest point).
    """

    paper: np.ndarray
    crossed_paper: np.ndarray
    robust: np.ndarray
    crossed_robust: np.ndarray

    @property
    def n_missed(self) -> int:
        """Decisions (both rules, all seeds) that found no crossing."""
        return int((~self.crossed_paper).sum() + (~self.crossed_robust).sum())


def lowest_point(mse, *, missing: int) -> np.ndarray:
    """``(S,)`` the monitor point of lowest MSE per seed (``mse`` ``(S, P)``), NaN ignored (a diverged fit is not
    the best); ``missing`` where a seed has no number."""
    mse = np.asarray(mse, np.float64)
    nan = np.isnan(mse)
    return np.where(nan.all(axis=1), missing, np.argmin(np.where(nan, np.inf, mse), axis=1))


def variance_stops(generated_variance, test_variance, *, window: int) -> VarianceStops:
    """The paper's rule and the robust rule (running median of width ``window``) for every seed.

    Args:
      generated_variance: ``(S, P)`` generated energy variance at each monitor point.
      test_variance: ``(S,)`` energy variance of the test data.
      window: the robust rule's running-median width (odd).

    Returns:
      :class:`VarianceStops`.
    """
    gen_var, var_test = np.asarray(generated_variance), np.asarray(test_variance)
    paper = [paper_stop_index(g, v, warn=False) for g, v in zip(gen_var, var_test)]
    robust = [robust_stop_index(g, v, window=window, warn=False) for g, v in zip(gen_var, var_test)]
    col = lambda pairs, k, dtype: np.asarray([p[k] for p in pairs], dtype)  # noqa: E731
    return VarianceStops(col(paper, 0, np.int64), col(paper, 1, bool), col(robust, 0, np.int64), col(robust, 1, bool))


class ScoreChoice(NamedTuple):
    """Per seed, the score rule's best candidate over all monitor points and ratios.

    Attributes:
      point: ``(S,)`` index of its monitor point (-1: no candidate cleared the margin).
      mix: ``(S,)`` index of its ratio in ``mix_grid`` (-1: none).
      score: ``(S,)`` its held-out score (``-inf``: none).
    """

    point: np.ndarray
    mix: np.ndarray
    score: np.ndarray

    @property
    def found(self) -> np.ndarray:
        return self.point >= 0


def score_choice(score, z, sizes, score_z: float) -> ScoreChoice:
    """The held-out score rule over a whole curve: among the (point, ratio > 0) whose paired gain over the
    training-only fit exceeds ``score_z`` standard errors, the one of highest score (the earliest point, then the
    smallest ratio, on ties), as the kernel keeps it point after point.

    Args:
      score: ``(S, P, R)`` held-out scores (``StoppingCurve.score``).
      z: ``(S, P, R)`` paired z of each gain.
      sizes: ``(R,)`` generated samples added at each ratio.
      score_z: the margin.

    Returns:
      :class:`ScoreChoice`.
    """
    score, z = np.asarray(score, np.float64), np.asarray(z, np.float64)
    ok = (np.asarray(sizes) > 0)[None, None, :] & (z > score_z)
    cand = np.where(ok, score, -np.inf).reshape(score.shape[0], -1)
    flat = np.argmax(cand, axis=1)
    best = cand[np.arange(cand.shape[0]), flat]
    found = best > -np.inf
    n_mix = score.shape[2]
    return ScoreChoice(np.where(found, flat // n_mix, -1), np.where(found, flat % n_mix, -1),
                       np.where(found, best, -np.inf))


def stop_indices(stopping: str, *, n_points: int, variance: VarianceStops, choice: ScoreChoice,
                 mse=None) -> np.ndarray:
    """``(S,)`` index of the monitor point each seed's final model comes from under rule ``stopping``.

    ``"score"``: the best candidate's point, or the last point where there is none; ``"paper"``/``"robust"``: the
    variance rule's point; ``"best"``: the point of lowest ``mse`` (``(S, P)``, needs the truth); ``"last"``: the last.
    """
    n_seeds = choice.point.shape[0]
    if stopping == "score":
        return np.where(choice.found, choice.point, n_points - 1)
    if stopping in ("paper", "robust"):
        return np.asarray(getattr(variance, stopping))
    if stopping == "best":
        if mse is None:
            raise ValueError("stopping='best' needs the MSE curve (true_params)")
        return lowest_point(mse, missing=n_points - 1)
    if stopping == "last":
        return np.full(n_seeds, n_points - 1)
    raise ValueError(f"unknown stopping rule {stopping!r}")


class Recommendation(NamedTuple):
    """Per seed, whether the augmented data are recommended and why.

    Attributes:
      recommended: ``(S,)`` bool.
      selected: ``(S,)`` ``"combined"`` or ``"train"``.
      stop_mix: ``(S,)`` the chosen ratio (0 when not recommended).
      score: ``(S,)`` the best held-out score with generated samples that the decision compared.
      reason: ``(S,)`` str, a plain sentence.
    """

    recommended: np.ndarray
    selected: np.ndarray
    stop_mix: np.ndarray
    score: np.ndarray
    reason: np.ndarray


def recommend(stopping: str, *, score, score_train, mix_grid, stop_index, choice: ScoreChoice, crossed=None,
              score_z: float, epochs, mix_sizes=None, m_train: int | None = None,
              n_augmented: int | None = None) -> Recommendation:
    """Recommend the augmented data only where they beat the training data alone on the held-out score.

    For ``stopping="score"`` the comparison is the score rule's best candidate (which cleared the ``score_z``
    margin); for the other rules it is the best ratio > 0 at the chosen point, and for the variance rules the
    variance must also have met the test variance (``crossed``).

    Args:
      stopping: the rule.
      score: ``(S, P, R)`` held-out scores.
      score_train: ``(S,)`` the training-only fit's score.
      mix_grid: ``(R,)`` ratios.
      stop_index: ``(S,)`` the chosen monitor point (:func:`stop_indices`).
      choice: the score rule's :class:`ScoreChoice`.
      crossed: ``(S,)`` bool for the variance rules (``None``: True).
      score_z: the score rule's margin (for the reason).
      epochs: ``(P,)`` epoch of each monitor point (for the reason).
      mix_sizes: ``(R,)`` generated samples of each scored mix (``score.mix_sizes``: a ratio's ``r M`` is capped at
        the monitor sample count); with ``m_train`` the reason names the real counts. ``None``: ratios only.
      m_train: training samples ``M``.
      n_augmented: generated samples of ``params_combined``, the fit the rules other than ``"score"`` select: their
        ``stop_mix`` is ``n_augmented / m_train`` (``None``: the largest ratio of the grid, as before).

    Returns:
      :class:`Recommendation`.
    """
    grid, score_train = np.asarray(mix_grid, np.float64), np.asarray(score_train)
    n_seeds = score_train.shape[0]
    if stopping == "score":
        best, best_mix = choice.score, np.maximum(choice.mix, 0)
        stop_mix = grid[best_mix]
    else:
        at = np.asarray(score)[np.arange(n_seeds), stop_index]  # (S, R): the chosen point's scores
        masked = np.where(grid[None] > 0, at, -np.inf)
        best, best_mix = np.max(masked, axis=1), np.argmax(masked, axis=1)
        combined = grid[-1] if n_augmented is None or m_train is None else n_augmented / m_train
        stop_mix = np.full(n_seeds, combined)
    crossed = np.ones(n_seeds, bool) if crossed is None else np.asarray(crossed, bool)
    recommended = (best > score_train) & crossed
    reasons = []
    for s in range(n_seeds):
        if not crossed[s]:
            reasons.append(f"the generated energy variance never met the test variance ({stopping} rule); the "
                           "augmented data are not recommended and params_selected is the training-only fit")
        elif not recommended[s]:
            margin = (f"by more than {score_z:g} standard errors" if stopping == "score"
                      else f"at the point the {stopping} rule chose")
            reasons.append(f"no monitored model and mix improved the held-out score over the training data alone "
                           f"{margin} (training only: {score_train[s]:.4g}); the augmented data are not recommended "
                           "and params_selected is the training-only fit")
        else:
            gain = (f"training + {_mix_words(best_mix[s], grid, mix_sizes, m_train)} raised the held-out score from "
                    f"{score_train[s]:.4g} to {best[s]:.4g} (at epoch {epochs[stop_index[s]]})")
            if stopping == "score":
                reasons.append(f"{gain}; params_selected is that fit")
            else:
                what = "" if n_augmented is None else f" + {n_augmented} generated samples"
                reasons.append(f"at the point the {stopping} rule chose, {gain}; params_selected is the fit to "
                               f"training{what} (params_combined)")
    return Recommendation(recommended, np.where(recommended, "combined", "train"),
                          np.where(recommended, stop_mix, 0.0), best, np.asarray(reasons))


def _mix_words(j: int, grid: np.ndarray, mix_sizes, m_train: int | None) -> str:
    """``"2x generated samples (800)"``, or what a capped ratio really added."""
    if mix_sizes is None or m_train is None:
        return f"{grid[j]:g}x generated samples"
    n = int(mix_sizes[j])
    if n < int(round(grid[j] * m_train)):
        return (f"{n} generated samples (ratio {grid[j]:g} of mix_grid, capped at the {n} monitor samples: "
                f"{n / m_train:.3g}x)")
    return f"{grid[j]:g}x generated samples ({n})"


def withdraw_memorised(rec: Recommendation, copies, max_identical: float) -> Recommendation:
    """``rec`` with every recommendation withdrawn whose generated sequences are more than ``max_identical`` copies
    or near-copies of training sequences (``copies``: ``(S,)`` fractions,
    :attr:`ising_diffusion.msa_quality.GeneratorQuality.copy_fraction`).

    Copies of training sequences carry no new information: the mix is the training data reweighted, and the held-out
    gain of a reweighting picked among many on a few held-out sequences is selection noise, not evidence. Near-copies
    (a training sequence with a few sites changed, closer to it than the held-out natural sequences come) add only
    the changes' noise to that reweighting.
    """
    copies = np.asarray(copies, np.float64)
    withdraw = rec.recommended & (copies > max_identical)
    if not withdraw.any():
        return rec
    reasons = rec.reason.astype(object)
    for s in np.flatnonzero(withdraw):
        reasons[s] = (f"{copies[s]:.0%} of the generated sequences are copies or near-copies of training sequences "
                      f"(more than max_identical={max_identical:g}; nearer a training sequence than 95% of the "
                      "held-out ones): the generator memorised its data and copies add no information (the mix only "
                      f"reweights the training data; its held-out score {rec.score[s]:.4g} is not evidence); the "
                      "augmented data are not recommended and params_selected is the training-only fit")
    keep = rec.recommended & ~withdraw
    return Recommendation(keep, np.where(keep, rec.selected, "train"), np.where(keep, rec.stop_mix, 0.0), rec.score,
                          reasons.astype(str))
