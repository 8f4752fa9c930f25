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

``holdout_scores`` measures on complete rows how well a model recovers entries hidden on purpose, next to the
independent-spin baseline, so users can see whether the pairwise model is worth it on their data.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from ising_diffusion.ising import IsingParams
from ising_diffusion.reconstruct import (
    MAX_EXACT_HIDDEN,
    complete_missing,
    conditional_log_likelihood,
    reconstruct_missing,
    reconstruction_scores,
)
from ising_diffusion.types import PRNGKey

__all__ = ["RECOMMENDED_METHOD", "Imputation", "HoldoutScores", "impute", "completion_marginals", "holdout_scores"]

#: The inference method (and options) ``impute`` fits with unless told otherwise: pseudolikelihood with its L2
#: strength chosen by cross-validation (docs/inference.md says why: it is the accurate method that scales).
RECOMMENDED_METHOD = ("pseudolikelihood", {"l2": "cv"})
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
    if not 1 <= n_hide <= min(n, MAX_EXACT_HIDDEN):
        raise ValueError(f"the number of entries hidden per row must be between 1 and min(N, {MAX_EXACT_HIDDEN}) = "
                         f"{min(n, MAX_EXACT_HIDDEN)}, got {n_hide}")
    order = np.argsort(np.asarray(jax.random.uniform(key, (m, n))), axis=1)[:, :n_hide]
    hidden = np.zeros((m, n), bool)
    np.put_along_axis(hidden, order, True, axis=1)
    scores = []
    for p in (params, independent):
        acc = reconstruction_scores(test, reconstruct_missing(p, test, hidden), hidden).accuracy
        ll = float(np.mean(conditional_log_likelihood(p, test, hidden)))
        scores.append((acc, ll))
    return HoldoutScores(scores[0][0], scores[1][0], scores[0][1], scores[1][1], m, n_hide)
