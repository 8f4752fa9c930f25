"""Cross-validated L2 penalty for pseudolikelihood and exact maximum likelihood, the whole path in one compiled call.

The ``M`` samples are split into ``cv_folds`` folds by position (sample ``m`` is in fold ``m % cv_folds``: deterministic,
and interleaved so data generated in blocks, e.g. several Markov chains one after another, spread over all folds).
Every fold sees its rows through per-sample weights (pseudolikelihood: its training rows gathered and padded to one
size with weight 0; exact MLE: the weighted moments of all rows), so all folds have one static shape and run inside one
compiled ``lax.map`` (``vmap`` over folds was tried and was 5-10x slower on CPU: the batched L-BFGS line searches run
every fold to the slowest one's count). The penalty grid is walked
from the largest ``l2`` down with ``lax.scan``, each fold warm-started from its fit at the previous (larger) ``l2``:
strongly penalised fits converge in a few L-BFGS steps and each next one starts close to its optimum. Every penalty
of the grid is fitted (``patience=None``, the default). The held-out score need not have one peak: on the retina's
50 cells (8000 bins; sparse spiking, some cells active in 0.2% of bins) it rose from ``l2 = 1`` to a local peak at
0.3, fell for four penalties and rose again to its global peak at 1e-4, on every fold (``docs/inference.md``). An
earlier early stop (skip the smaller penalties once the mean score was below the best at 2 consecutive ones) chose
0.3 there, a nearly independent model, and made the retina fits worse. ``patience=k`` restores that stop (the
weakest penalties are the slowest fits) for callers that accept the risk: the Potts path keeps ``k = 2`` for cost.

Score of a fit = held-out mean log-pseudolikelihood (``"pseudolikelihood"``) or held-out mean log-likelihood with an
enumerated ``log Z`` (``"mle_exact"``) of the fold's held-out rows; higher is better. The chosen ``l2`` has the best
mean score over folds (``cv_rule="best"``), or is the largest ``l2`` whose mean score is within one standard error of
the best (``cv_rule="1se"``, the sparser-is-safer rule of Hastie, Tibshirani & Friedman). A non-finite score (an
unpenalised fit on a fold where some spin never flips runs off to infinity) counts as ``-inf``: that ``l2`` is never
chosen. So does a *saturated* score, above ``-SATURATED`` (``1e-6`` nats per sample): the fit gives its held-out rows
probability 1 to float precision. That happens when the data show only a few distinct patterns (a strongly coupled
Hopfield truth at g = 2 and M = 200 gave 3-4) and the unpenalised fit is separable: its couplings run off toward
infinity (|J| ~ 50 against a true 0.6) until float32 gradients vanish, and a perfect held-out score would otherwise
pick it (parameter MSE ~1e3, against ~0.02 at l2 = 1e-5 on the same data: experiments/cv_degenerate.py). If no
penalty has a usable score, the largest one is chosen. The final estimate is refitted on all data at the chosen
``l2``, warm-started from the folds' mean fit there.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ising_diffusion.checks import is_int
from ising_diffusion.inference._optim import OptimInfo
from ising_diffusion.inference.mle import exact_mean_log_likelihood, fit_exact_flat, flat_moments, independent_start
from ising_diffusion.inference.pseudolikelihood import fit_asymmetric, neg_log_pseudolikelihood
from ising_diffusion.ising import IsingParams, flat_to_params, symmetrize

__all__ = ["CVInfo", "CV_RULES", "DEFAULT_L2_GRID", "check_cv_settings", "check_l2_grid", "fold_weights", "cross_validate_path", "pseudolikelihood_cv",
           "mle_exact_cv"]

#: Default penalty grid: 0 and a half-decade log grid from 1e-5 to 1.
DEFAULT_L2_GRID = (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
#: Selection rules: the best mean held-out score, or the largest l2 within one standard error of it.
CV_RULES = ("best", "1se")
#: ``patience`` of the Ising paths: ``None`` fits every penalty (the held-out score can have two peaks).
PATIENCE = None
#: A held-out score (nats per sample, <= 0) above ``-SATURATED`` is saturated: the fit ran off toward infinity.
SATURATED = 1e-6


class CVInfo(NamedTuple):
    """Diagnostics of a cross-validated penalty choice.

    Attributes:
      l2: the chosen penalty (scalar).
      l2_grid: ``(G,)`` the grid, sorted ascending (all other ``G`` axes follow this order).
      score_mean: ``(G,)`` mean over folds of the held-out score (mean log-pseudolikelihood or log-likelihood per
        sample; higher is better; ``-inf`` where a fold's fit was not finite or saturated, or the path stopped before
        this l2).
      score_se: ``(G,)`` standard error of that mean over folds (``std(ddof=1) / sqrt(folds)``).
      fold_scores: ``(folds, G)`` every fold's held-out score.
      fit_info: the refit's own diagnostics (:class:`OptimInfo`) on all data at the chosen ``l2``.
    """

    l2: Float[Array, ""]
    l2_grid: Float[Array, " G"]
    score_mean: Float[Array, " G"]
    score_se: Float[Array, " G"]
    fold_scores: Float[Array, "F G"]
    fit_info: OptimInfo


def fold_weights(n_samples: int, cv_folds: int, fold_of=None) -> tuple[Float[Array, "F M"], Float[Array, "F M"]]:
    """Training and held-out indicator weights of the deterministic interleaved split (sample ``m`` in fold ``m % F``),
    or of a given split ``fold_of`` (``(M,)`` fold indices in ``[0, F)``, e.g. :func:`grouped_folds`'s; may be traced).

    Returns:
      ``(train (F, M), test (F, M))`` with entries 0 or 1; ``train + test == 1``.
    """
    if fold_of is None:
        fold_of = jnp.arange(n_samples) % cv_folds
    test = (fold_of[None, :] == jnp.arange(cv_folds)[:, None]).astype(jnp.float32)
    return 1.0 - test, test


def _usable(scores):
    """Scores with non-finite and saturated (``> -SATURATED``) entries replaced by ``-inf``."""
    return jnp.where(jnp.isfinite(scores) & (scores <= -SATURATED), scores, -jnp.inf)


def _select(fold_scores, grid, cv_rule: str):
    """Mean, s.e. and the chosen index from ``(F, G)`` scores on an ascending grid (the largest ``l2`` when no score
    is usable)."""
    folds = fold_scores.shape[0]
    fold_scores = _usable(fold_scores)
    mean = jnp.mean(fold_scores, axis=0)
    se = jnp.std(fold_scores, axis=0, ddof=1) / jnp.sqrt(folds)
    se = jnp.where(jnp.isfinite(mean), se, jnp.inf)
    best = jnp.where(jnp.any(jnp.isfinite(mean)), jnp.argmax(mean), grid.shape[0] - 1)
    if cv_rule == "1se":
        ok = mean >= mean[best] - se[best]
        # the largest l2 (grid ascending) whose score is within one s.e. of the best
        best = jnp.max(jnp.where(ok, jnp.arange(grid.shape[0]), -1))
    return fold_scores, mean, se, best


def _path(fit_fold, score_fold, x0, grid_desc, train_args, test_args, patience: int | None = PATIENCE):
    """Scan over ``l2`` (descending), the folds one after another (``lax.map``), each warm-started from its previous
    fit.

    With an integer ``patience``, once the mean score has been below the best so far at ``patience`` consecutive
    penalties, the remaining (smaller) penalties are not fitted: their scores are ``-inf`` (weak penalties are the
    slow fits, but the score can rise again: see the module docstring). ``None`` fits them all.

    Returns:
      ``(scores (G, F), fits with leading (G, F) axes)`` in ``grid_desc`` order.
    """
    def step(carry, l2):
        x, best, n_worse = carry
        # a penalty past the patience is not fitted: its L-BFGS loop gets 0 iterations. (A lax.cond would do the same
        # unbatched, but under vmap - infer_batch, augment_seeds - it becomes a select that runs every fit anyway,
        # including the weakest penalties, which are the slowest.)
        active = jnp.asarray(True) if patience is None else n_worse < patience
        # folds one after another: a vmapped L-BFGS (nested while loops, batched line searches) measured 5-10x
        # slower on CPU than this sequential map of the same compiled fit
        fits, _ = jax.lax.map(lambda a: fit_fold(a[1], l2, a[0], active), (x, train_args))
        scores = jnp.where(active, _usable(jax.vmap(score_fold)(fits, test_args)), -jnp.inf)
        # a fit that ran off to infinity (l2 = 0 on a separable fold) must not poison the next warm start
        finite = jax.vmap(lambda f: jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(f)])))(fits)
        fits = jax.tree.map(lambda new, old: jnp.where(finite.reshape((-1,) + (1,) * (new.ndim - 1)), new, old),
                            fits, x)
        mean = jnp.mean(scores)
        n_worse = jnp.where(mean > best, 0, n_worse + 1)
        return (fits, jnp.maximum(best, mean), n_worse), (scores, fits)

    init = (x0, jnp.asarray(-jnp.inf, jnp.float32), jnp.asarray(0, jnp.int32))
    _, (scores, fits) = jax.lax.scan(step, init, grid_desc)
    return scores, fits


def _cross_validate(fit_fold, score_fold, x0, refit, l2_grid, train_args, test_args, cv_rule: str,
                    patience: int | None = PATIENCE):
    """The scanned path, the selection and the refit; ``x0`` and ``train_args``/``test_args`` have a leading fold axis."""
    grid_asc = jnp.asarray(sorted(float(x) for x in l2_grid), jnp.float32)
    scores, fits = _path(fit_fold, score_fold, x0, grid_asc[::-1], train_args, test_args, patience)
    fold_scores, mean, se, best = _select(scores[::-1].T, grid_asc, cv_rule)  # (F, G), ascending grid
    l2 = grid_asc[best]
    # warm start of the refit: the folds' mean fit at the chosen l2 (the path is in descending order)
    start = jax.tree.map(lambda a: jnp.mean(a[grid_asc.shape[0] - 1 - best], axis=0), fits)
    params, info = refit(l2, start)
    return params, CVInfo(l2, grid_asc, mean, se, fold_scores, info)


def cross_validate_path(fit_fold, score_fold, x0, refit, l2_grid, train_args, test_args, cv_rule: str = "best",
                        patience: int | None = PATIENCE):
    """The cross-validation machinery of this module for any model family (used by the Potts pseudolikelihood).

    Args:
      fit_fold: ``(train_arg, l2, x, active) -> (fit, info)``: one fold's fit warm-started at ``x``; ``active`` is a
        traced bool, False past the patience (the fit should then take 0 iterations).
      score_fold: ``(fit, test_arg) -> scalar`` held-out score, higher is better.
      x0: starting fits with a leading fold axis.
      refit: ``(l2, start) -> (params, OptimInfo)`` on all data.
      l2_grid: candidate penalties (static).
      train_args, test_args: per-fold data with a leading fold axis.
      cv_rule: ``"best"`` or ``"1se"``.
      patience: ``None`` fits every penalty; an integer stops the path after that many consecutive penalties below
        the best mean score (cheaper; can miss a second peak).

    Returns:
      ``(params, CVInfo)``.
    """
    return _cross_validate(fit_fold, score_fold, x0, refit, l2_grid, train_args, test_args, cv_rule, patience)


def check_cv_settings(m: int, cv_folds, cv_rule) -> int:
    """The static CV settings every cross-validated fit checks (``infer``, the direct calls, the Potts fits): a
    fold count that leaves a fold empty scores -inf at every penalty and would pick the largest silently.

    Returns:
      ``cv_folds`` as an int (an integral float such as ``5.0``, as JSON holds it, is accepted).
    """
    if not is_int(cv_folds, 2) or cv_folds > m:
        raise ValueError(f"cv_folds must be an integer in [2, M={m}], got {cv_folds!r}")
    if cv_rule not in CV_RULES:
        raise ValueError(f"cv_rule must be one of {CV_RULES}, got {cv_rule!r}")
    return int(cv_folds)


def check_l2_grid(l2_grid) -> tuple[float, ...]:
    """``l2_grid`` as a tuple of floats (one number is a grid of one), or a ValueError: empty, non-finite or
    negative penalties."""
    try:
        grid = np.asarray(l2_grid, np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"l2_grid must be numbers >= 0, got {l2_grid!r}") from None
    if grid.size == 0:
        raise ValueError("l2_grid is empty: give at least one penalty >= 0")
    if not np.all(np.isfinite(grid)):
        raise ValueError(f"l2_grid must be finite, got {grid.tolist()}")
    if np.any(grid < 0):
        raise ValueError(f"l2_grid values must be >= 0, got {grid.tolist()}")
    return tuple(float(v) for v in grid)


def pseudolikelihood_cv(spins: Float[Array, "M N"], *, l2_grid=DEFAULT_L2_GRID, cv_folds: int = 5,
                        cv_rule: str = "best", max_iter: int = 500,
                        tol: float = 1e-5) -> tuple[IsingParams, CVInfo]:
    """Pseudolikelihood with its L2 penalty chosen by ``cv_folds``-fold cross-validation (see the module docstring).

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.
      l2_grid: candidate penalties (>= 0; static).
      cv_folds: number of folds, ``2 <= cv_folds <= M`` (static).
      cv_rule: ``"best"`` or ``"1se"``.
      max_iter, tol: L-BFGS settings of every fit, as for :func:`~ising_diffusion.inference.pseudolikelihood`.

    Returns:
      ``(IsingParams, CVInfo)``: the refit on all data at the chosen ``l2`` and the score curve.
    """
    spins = jnp.asarray(spins, jnp.float32)
    n = spins.shape[-1]
    cv_folds = check_cv_settings(spins.shape[0], cv_folds, cv_rule)
    l2_grid = check_l2_grid(l2_grid)

    # each fold fits its own training rows (gathered inside the map, padded to one static size with zero weights)
    # rather than all M rows with zero weights on the held-out ones: the same objective for 1 - 1/folds of the flops
    def fit_fold(rows, l2, x, active):
        idx, w = rows
        return fit_asymmetric(spins[idx], w, l2, x, max_iter=jnp.where(active, max_iter, 0), tol=tol)

    def score_fold(p, rows):
        idx, w = rows
        return -neg_log_pseudolikelihood(IsingParams(p.h, symmetrize(p.J)), spins[idx], w)

    def refit(l2, start):
        p, info = fit_asymmetric(spins, None, l2, start, max_iter=max_iter, tol=tol)
        return IsingParams(p.h, symmetrize(p.J)), info

    train, test = _fold_rows(spins.shape[0], cv_folds)
    x0 = IsingParams(jnp.zeros((cv_folds, n), jnp.float32), jnp.zeros((cv_folds, n, n), jnp.float32))
    return _cross_validate(fit_fold, score_fold, x0, refit, l2_grid, train, test, cv_rule)


def _fold_rows(n_samples: int, cv_folds: int):
    """The split of :func:`fold_weights` as padded row indices: ``(train, test)``, each ``(idx (F, K) int, weights
    (F, K))`` with weight 0 on the padding (index 0)."""
    fold_of = np.arange(n_samples) % cv_folds

    def padded(select):
        rows = [np.flatnonzero(select(f)) for f in range(cv_folds)]
        size = max(len(r) for r in rows)
        idx = np.zeros((cv_folds, size), np.int32)
        w = np.zeros((cv_folds, size), np.float32)
        for f, r in enumerate(rows):
            idx[f, :len(r)], w[f, :len(r)] = r, 1.0
        return jnp.asarray(idx), jnp.asarray(w)

    return padded(lambda f: fold_of != f), padded(lambda f: fold_of == f)


def mle_exact_cv(spins: Float[Array, "M N"], *, l2_grid=DEFAULT_L2_GRID, cv_folds: int = 5, cv_rule: str = "best",
                 max_iter: int = 500, tol: float = 1e-6) -> tuple[IsingParams, CVInfo]:
    """Exact maximum likelihood (N <= 20) with its L2 penalty chosen by cross-validation on held-out log-likelihood.

    Every L-BFGS step of every (fold, l2) fit enumerates ``2^N`` states: at N = 20 the path costs tens of single fits.

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.
      l2_grid, cv_folds, cv_rule: as for :func:`pseudolikelihood_cv`.
      max_iter, tol: as for :func:`~ising_diffusion.inference.mle_exact`.

    Returns:
      ``(IsingParams, CVInfo)``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    m, n = spins.shape
    cv_folds = check_cv_settings(m, cv_folds, cv_rule)
    l2_grid = check_l2_grid(l2_grid)
    train_w, test_w = fold_weights(m, cv_folds)
    train_ops = jax.vmap(lambda w: flat_moments(spins, w / jnp.sum(w)))(train_w)  # (F, K)
    test_ops = jax.vmap(lambda w: flat_moments(spins, w / jnp.sum(w)))(test_w)

    # the objective sees the data only through its moments: each fold is its training and held-out moments
    def fit_fold(ops, l2, w0, active):
        return fit_exact_flat(ops, l2, w0, n, max_iter=jnp.where(active, max_iter, 0), tol=tol)

    def score_fold(w, ops):
        return exact_mean_log_likelihood(w, ops)

    all_ops = flat_moments(spins)

    def refit(l2, start):
        w, info = fit_exact_flat(all_ops, l2, start, n, max_iter=max_iter, tol=tol)
        return flat_to_params(w, n), info

    x0 = jax.vmap(lambda ops: independent_start(ops, n))(train_ops)
    return _cross_validate(fit_fold, score_fold, x0, refit, l2_grid, train_ops, test_ops, cv_rule)
