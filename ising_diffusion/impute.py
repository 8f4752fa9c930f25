"""Filling the missing entries of a data file with a pairwise Ising model (the ``ising-diffusion impute`` command).

For a row with missing cells ``H`` (``k = |H|``) and observed cells ``V`` the fill is the most probable joint completion
``argmax_x p(x | s_V)`` of :func:`ising_diffusion.reconstruct.complete_missing`, and the per-entry probability is the
marginal ``P(s_i = +1 | s_V)``:

* ``k <= max_exact`` (default 20): both exact. The marginals come from the same exact enumeration: with ``g`` the
  completion "all hidden cells -1", ``log P(s_i=+1 | s_V) = 2 f_i(g) + log p(g | s_V) - log p(g_{H\\i} | s_V, s_i=+1)``,
  where ``f_i(g) = h_i + sum_j J_ij g_j`` is the local field of cell ``i`` in the row completed by ``g`` (flipping
  ``s_i`` from -1 to +1 raises ``-E`` by ``2 f_i``); the two conditional log-likelihoods are exact
  (:func:`~ising_diffusion.reconstruct.complete_missing` on the row, and on the row with ``s_i = +1`` observed).
* ``k > max_exact``: approximations. The fill is the library's iterated-conditional-modes search (a local optimum
  under single flips), and the marginals are the conditional naive mean-field magnetisations
  ``m_H = tanh(h_H + J_{H.} m)`` (visible cells fixed, damped iteration), ``P = (1 + m) / 2``.

When too few rows are complete to fit on, :func:`fit_with_missing` fits on all rows with the missing entries treated
as hidden variables, by stochastic EM: fill them with draws from the current model's conditional distribution (Gibbs
sweeps over the missing cells of each row, observed cells fixed), refit, repeat, and average the fits of the later
rounds. It is an approximation (a single imputation per round, a finite number of sweeps), started from the
independent-spin fill, which would bias the couplings towards zero.

``holdout_scores`` measures on complete rows how well a model recovers entries hidden on purpose, next to the
independent-spin baseline, so users can see whether the pairwise model is worth it on their data.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import numpy as np

from ising_diffusion.checks import check_int, is_int, is_real
from ising_diffusion.defaults import RECOMMENDED_METHOD  # re-exported: what impute fits unless told otherwise
from ising_diffusion.ising import IsingParams
from ising_diffusion.reconstruct import (
    MAX_EXACT_HIDDEN,
    complete_missing,
    conditional_log_likelihood,
    reconstruct_missing,
    reconstruction_scores,
)
from ising_diffusion.spins import split_rows
from ising_diffusion.types import PRNGKey

__all__ = [
    "RECOMMENDED_METHOD",
    "Imputation",
    "HoldoutScores",
    "impute",
    "completion_marginals",
    "fit_with_missing",
    "holdout_scores",
    "holdout_split",
    "default_fit_rows",
    "fit_for_imputation",
]

_MEAN_FIELD_ITERS = 500


class Imputation(NamedTuple):
    """Result of :func:`impute`.

    Attributes:
      spins: ``(M, N)`` float32 spins, observed entries as given and missing ones filled.
      prob_plus: ``(M, N)`` float64 ``P(s = +1 | observed entries of the row)``; 1 or 0 at observed entries.
      n_missing: ``(M,)`` missing entries per row.
      exact: ``(M,)`` bool, whether the row's fill and probabilities are exact (``n_missing <= max_exact``).
    """

    spins: np.ndarray
    prob_plus: np.ndarray
    n_missing: np.ndarray
    exact: np.ndarray


class HoldoutScores(NamedTuple):
    """Entries hidden on purpose in complete test rows, recovered by the model and by the independent baseline.

    Attributes:
      accuracy: fraction of hidden entries the model's most probable completion recovers.
      accuracy_independent: the same for the independent-spin model (each cell its more probable value).
      log_likelihood: mean conditional log-likelihood per hidden entry (nats) of the true values under the model.
      log_likelihood_independent: the same under the independent model.
      n_rows: test rows.
      n_hidden: hidden entries per row.
    """

    accuracy: float
    accuracy_independent: float
    log_likelihood: float
    log_likelihood_independent: float
    n_rows: int
    n_hidden: int


def _mean_field_marginals(params: IsingParams, s0: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    h = np.asarray(params.h, np.float64)
    J = np.asarray(params.J, np.float64)
    m = np.where(hidden, 0.0, s0)
    for _ in range(_MEAN_FIELD_ITERS):  # damped: the undamped iteration can oscillate for strong couplings
        m = np.where(hidden, 0.5 * m + 0.5 * np.tanh(h[None, :] + m @ J), m)
    return (1.0 + m) / 2.0


def completion_marginals(params: IsingParams, spins, hidden, *, max_exact: int = MAX_EXACT_HIDDEN) -> np.ndarray:
    """``P(s_i = +1 | observed entries)`` for every entry (exact for rows hiding ``<= max_exact`` cells).

    Args:
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)``.
      spins: ``(M, N)`` patterns; observed entries -1/+1, hidden ones ignored (NaN allowed).
      hidden: ``(M, N)`` boolean mask, True = hidden.
      max_exact: rows hiding more cells get the mean-field approximation (module docstring).

    Returns:
      ``(M, N)`` float64 probabilities; 1 / 0 at observed +1 / -1 entries.
    """
    hidden = np.asarray(hidden)
    s0 = np.where(hidden, -1.0, np.asarray(spins, np.float64))
    k_rows = hidden.sum(axis=1)
    prob = (s0 + 1.0) / 2.0
    exact_rows = (k_rows > 0) & (k_rows <= max_exact)
    if exact_rows.any():
        rows = np.flatnonzero(exact_rows)
        ll0 = complete_missing(params, s0[rows], hidden[rows], max_exact=max_exact).log_likelihood
        pos_r, pos_c = np.nonzero(hidden[rows])  # one clamped row per hidden entry: s_i = +1 observed
        s1 = s0[rows][pos_r]
        s1[np.arange(len(pos_r)), pos_c] = 1.0
        h1 = hidden[rows][pos_r]
        h1[np.arange(len(pos_r)), pos_c] = False
        ll1 = complete_missing(params, s1, h1, max_exact=max_exact).log_likelihood
        h = np.asarray(params.h, np.float64)
        J = np.asarray(params.J, np.float64)
        field = h[pos_c] + np.einsum("rj,rj->r", J[pos_c], s0[rows][pos_r])
        log_p = 2.0 * field + ll0[pos_r] - ll1
        prob[rows[pos_r], pos_c] = np.exp(np.minimum(log_p, 0.0))  # rounding can push log p a hair above 0
    approx = k_rows > max_exact
    if approx.any():
        prob[approx] = _mean_field_marginals(params, s0[approx], hidden[approx])
    return prob


def impute(params: IsingParams, spins, hidden, *, max_exact: int = MAX_EXACT_HIDDEN,
           progress: bool = False) -> Imputation:
    """Fill the missing entries of each row by the most probable joint completion, with per-entry probabilities.

    Args:
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)``.
      spins: ``(M, N)`` patterns; observed entries -1/+1, missing ones ignored (NaN allowed).
      hidden: ``(M, N)`` boolean mask, True = missing.
      max_exact: rows missing up to this many entries are solved exactly; above, the approximations of the module
        docstring.
      progress: show a progress bar over row blocks of the completion.

    Returns:
      :class:`Imputation`.

    Raises:
      ValueError: as :func:`ising_diffusion.reconstruct.complete_missing`.
    """
    res = complete_missing(params, spins, hidden, max_exact=max_exact, progress=progress)
    prob = completion_marginals(params, spins, hidden, max_exact=max_exact)
    return Imputation(np.asarray(res.spins), prob, np.asarray(res.n_hidden), np.asarray(res.exact))


def holdout_scores(key: PRNGKey, params: IsingParams, independent: IsingParams, test, n_hide: int) -> HoldoutScores:
    """Hide ``n_hide`` random entries of each complete test row and score their recovery, model against baseline.

    Args:
      key: PRNG key choosing the hidden entries.
      params: the pairwise model.
      independent: the independent-spin model (``J = 0``, e.g. ``infer(train, method="independent_exact")``).
      test: ``(M, N)`` complete spins not used for fitting.
      n_hide: entries hidden per row, ``1 <= n_hide <= min(N, 20)``.

    Returns:
      :class:`HoldoutScores`.
    """
    test = np.asarray(test, np.float32)
    m, n = test.shape
    if not (is_int(n_hide) and n_hide <= min(n, MAX_EXACT_HIDDEN)):
        raise ValueError(f"the number of entries hidden per row must be an integer between 1 and min(N, "
                         f"{MAX_EXACT_HIDDEN}) = {min(n, MAX_EXACT_HIDDEN)}, got {n_hide!r}")
    order = np.argsort(np.asarray(jax.random.uniform(key, (m, n))), axis=1)[:, :n_hide]
    hidden = np.zeros((m, n), bool)
    np.put_along_axis(hidden, order, True, axis=1)
    scores = []
    for p in (params, independent):
        acc = reconstruction_scores(test, reconstruct_missing(p, test, hidden), hidden).accuracy
        ll = float(np.mean(conditional_log_likelihood(p, test, hidden)))
        scores.append((acc, ll))
    return HoldoutScores(scores[0][0], scores[1][0], scores[0][1], scores[1][1], m, n_hide)


def holdout_split(key: PRNGKey, spins, mask, test_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Split the complete rows of a data set (no missing entry) into training and test rows for :func:`holdout_scores`.

    Args:
      key: PRNG key of the shuffle (:func:`ising_diffusion.spins.split_rows`).
      spins: ``(M, N)`` spins (any value at missing entries).
      mask: ``(M, N)`` bool, True = missing.
      test_fraction: fraction of the complete rows held out, in (0, 1).

    Returns:
      ``(train, test)``: ``(M_train, N)`` and ``(M_test, N)`` complete rows, at least 2 and 1 of them.

    Raises:
      ValueError: a fraction outside (0, 1), or too few complete rows.
    """
    if not (is_real(test_fraction) and 0 < test_fraction < 1):
        raise ValueError(f"the test fraction must be in (0, 1), got {test_fraction!r}")
    complete = np.flatnonzero(~np.asarray(mask).any(axis=1))
    try:
        train, test = split_rows(key, complete, test_fraction, min_train=2)
    except ValueError as e:
        raise ValueError(f"a holdout needs complete rows to split: {len(complete)} complete rows: {e}") from e
    spins = np.asarray(spins)
    return spins[train], spins[test]


def default_fit_rows(mask) -> str:
    """Which rows to fit a model to before imputing: ``"complete"`` when the complete rows are at least 80% of the rows
    and at least ``max(50, 2N)``, else ``"all"`` (:func:`fit_with_missing`, the missing entries treated as hidden).

    Args:
      mask: ``(M, N)`` bool, True = missing.
    """
    mask = np.asarray(mask)
    m, n = mask.shape
    n_complete = int((~mask.any(axis=1)).sum())
    return "complete" if n_complete >= max(50, 2 * n) and n_complete >= 0.8 * m else "all"


def fit_for_imputation(fit: Callable, key: PRNGKey, spins, mask, fit_rows: str = "auto") -> IsingParams:
    """Fit the model that fills the missing entries: to the complete rows, or to all rows with the missing entries
    treated as hidden (:func:`fit_with_missing`).

    Args:
      fit: ``fit(spins (M', N)) -> IsingParams``, e.g. ``lambda x: infer(x, method="pseudolikelihood", l2="cv")``.
      key: PRNG key of :func:`fit_with_missing` (unused for the complete rows).
      spins: ``(M, N)`` spins, NaN (or anything) at missing entries.
      mask: ``(M, N)`` bool, True = missing.
      fit_rows: ``"complete"``, ``"all"``, or ``"auto"`` (:func:`default_fit_rows`).

    Returns:
      the fitted ``IsingParams``.

    Raises:
      ValueError: an unknown ``fit_rows``, or fewer than 2 complete rows for ``"complete"``.
    """
    mask = np.asarray(mask)
    rows = default_fit_rows(mask) if fit_rows == "auto" else fit_rows
    if rows not in ("complete", "all"):
        raise ValueError(f"fit_rows must be 'auto', 'complete' or 'all', got {fit_rows!r}")
    complete = ~mask.any(axis=1)
    if rows == "all":
        return fit_with_missing(fit, key, spins, mask)
    if complete.sum() < 2:
        raise ValueError(f"only {int(complete.sum())} of {len(mask)} rows are complete: fit on all rows "
                         "(--fit-rows all) or give the model (--params)")
    return fit(np.asarray(spins)[complete])


def _gibbs_fill(key: PRNGKey, params: IsingParams, x: np.ndarray, hidden: np.ndarray, n_sweeps: int) -> np.ndarray:
    """``n_sweeps`` Gibbs sweeps over the hidden cells of every row (observed cells fixed); returns the new ``x``."""
    h = np.asarray(params.h, np.float64)
    J = np.asarray(params.J, np.float64)
    x = x.copy()
    u = np.asarray(jax.random.uniform(key, (n_sweeps,) + x.shape), np.float64)
    cols = np.flatnonzero(hidden.any(axis=0))
    for t in range(n_sweeps):
        for i in cols:
            rows = hidden[:, i]
            field = h[i] + x[rows] @ J[:, i]  # J_ii = 0: the cell's own value does not enter
            with np.errstate(over="ignore"):  # exp overflows to inf for a strongly negative field: -1, as it should
                x[rows, i] = np.where(u[t, rows, i] * (1.0 + np.exp(-2.0 * field)) < 1.0, 1.0, -1.0)
    return x


def fit_with_missing(fit: Callable, key: PRNGKey, spins, hidden, *, n_rounds: int = 8, n_sweeps: int = 10,
                     init: IsingParams | None = None) -> IsingParams:
    """Fit a model on rows with missing entries, treating them as hidden (stochastic EM; module docstring).

    Args:
      fit: ``fit(spins (M, N)) -> IsingParams`` on complete spins, e.g. ``partial(infer, method=...)``.
      key: PRNG key of the fills.
      spins: ``(M, N)`` patterns; observed entries -1/+1, missing ones ignored (NaN allowed).
      hidden: ``(M, N)`` boolean mask, True = missing.
      n_rounds: fill-and-refit rounds; the fits of the last ``max(1, n_rounds // 2)`` are averaged.
      n_sweeps: Gibbs sweeps per fill.
      init: model of the first fill; default: each missing entry drawn from its column's observed frequency.

    Returns:
      ``IsingParams``; with ``n_rounds=0``, the fit to the initial fill.

    Raises:
      ValueError: a column with no observed entry (its field and couplings would be whatever the fill made them).
    """
    check_int("", "n_rounds", n_rounds, minimum=0)
    check_int("", "n_sweeps", n_sweeps)
    hidden = np.asarray(hidden, bool)
    s = np.asarray(spins, np.float64)
    observed = ~hidden
    counts = observed.sum(axis=0)
    if hidden.shape == s.shape and np.any(counts == 0):
        never = np.flatnonzero(counts == 0)
        raise ValueError(f"column(s) {', '.join(str(c + 1) for c in never[:10])} (1-based) have no observed entry: a "
                         "model cannot learn them from these data; drop them or give the model (--params)")
    p_plus = np.where(counts > 0, np.sum(np.where(observed, s > 0, 0), axis=0) / np.maximum(counts, 1), 0.5)
    key, k0 = jax.random.split(key)
    if init is None:
        draw = np.asarray(jax.random.uniform(k0, s.shape)) < p_plus[None, :]
        x = np.where(hidden, np.where(draw, 1.0, -1.0), s)
    else:
        x = _gibbs_fill(k0, init, np.where(hidden, -1.0, s), hidden, n_sweeps)
    params = fit(x.astype(np.float32))
    kept = []
    for r in range(n_rounds):
        x = _gibbs_fill(jax.random.fold_in(key, r), params, x, hidden, n_sweeps)
        params = fit(x.astype(np.float32))
        if r >= n_rounds - max(1, n_rounds // 2):
            kept.append(params)
    if not kept:
        return params
    return IsingParams(*(np.mean([np.asarray(getattr(p, f)) for p in kept], axis=0).astype(np.float32)
                         for f in ("h", "J")))
