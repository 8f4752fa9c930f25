"""Does a larger fit help reconstruct a subset of cells? Extra observed cells as context (issue 24, item 2).

The question on the retina: fit a pairwise model on all recorded cells, or on the most active cells alone, when the
cells to reconstruct are among the most active ones? With the larger fit the other cells are extra observed context
(their spins enter the conditional fields of the hidden cells); with the smaller fit they are ignored.

:func:`context_comparison` fits both models once on the same training bins, draws ``n_sets`` random hidden sets of
``k`` cells among the inner cells (one set hidden in every test bin), reconstructs them with each model on the same
test bins, and compares per set (paired): the accuracy of the most probable completion and the conditional
log-likelihood per hidden entry of the true values (:func:`ising_diffusion.reconstruct.complete_missing`). The summary
is the mean difference (larger minus smaller fit) with a 95% Student-t interval over the sets and the number of sets
where the larger fit is better.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import numpy as np

from ising_diffusion.experiments.rows import mean_ci
from ising_diffusion.inference import infer
from ising_diffusion.reconstruct import complete_missing, reconstruction_scores
from ising_diffusion.types import PRNGKey

__all__ = ["ContextComparison", "cv_pseudolikelihood", "hidden_sets", "context_comparison"]


class ContextComparison(NamedTuple):
    """Result of :func:`context_comparison`.

    Attributes:
      rows: one dict per hidden set: ``set``, ``hidden`` (space-separated column indices in the full data),
        ``accuracy_small``, ``accuracy_large``, ``cll_small``, ``cll_large`` (nats per hidden entry) and the
        differences ``d_accuracy``, ``d_cll`` (large minus small).
      summary: one dict per score (``"accuracy"``, ``"cll"``): ``mean``, ``low``, ``high`` (95% Student-t interval of
        the paired difference over the sets), ``n_better`` (sets where the larger fit scores higher), ``n_sets``,
        and the mean scores ``small``, ``large``.
    """

    rows: list
    summary: list


def cv_pseudolikelihood(spins):
    """The library's strongest label-free fit: pseudolikelihood with a cross-validated L2 penalty."""
    return infer(spins, "pseudolikelihood", l2="cv")


def hidden_sets(key: PRNGKey, inner, k: int, n_sets: int) -> np.ndarray:
    """``(n_sets, k)`` column indices: set ``s`` is ``k`` cells of ``inner`` drawn without replacement with
    ``fold_in(key, s)``, sorted."""
    inner = np.asarray(inner)
    if not 1 <= k <= inner.size:
        raise ValueError(f"k must be between 1 and the number of inner cells ({inner.size}), got {k}")
    if n_sets < 2:
        raise ValueError(f"n_sets must be >= 2 for an interval over sets, got {n_sets}")
    return np.stack([np.sort(inner[np.asarray(jax.random.permutation(jax.random.fold_in(key, s), inner.size))[:k]])
                     for s in range(n_sets)])


def _scores(params, test, hidden) -> tuple[float, float]:
    comp = complete_missing(params, test, hidden)
    acc = reconstruction_scores(test, np.asarray(comp.spins), hidden).accuracy
    return acc, float(np.mean(comp.log_likelihood / comp.n_hidden))


def context_comparison(key: PRNGKey, train, test, inner, *, k: int, n_sets: int = 5,
                       fit: Callable = cv_pseudolikelihood, params=None) -> ContextComparison:
    """Reconstruct hidden inner cells with a fit on all columns against a fit on the inner columns alone.

    Args:
      key: PRNG key of the hidden sets (:func:`hidden_sets`).
      train: ``(M, N)`` training spins of all cells.
      test: ``(Mt, N)`` test spins of all cells (every row is scored for every set).
      inner: indices of the inner cells (the smaller fit's columns, in its column order), ``N_inner < N``.
      k: cells hidden per set, drawn among ``inner`` (``k <= 20``: exact enumeration).
      n_sets: hidden sets (>= 2).
      fit: ``fit(spins (M, n)) -> IsingParams``; default :func:`cv_pseudolikelihood`.
      params: optional ``(large, small)`` already fitted models (skips the fits).

    Returns:
      :class:`ContextComparison`.

    Raises:
      ValueError: shapes that disagree, inner indices out of range or repeated, or a bad ``k`` / ``n_sets``.
    """
    train = np.asarray(train, np.float32)
    test = np.asarray(test, np.float32)
    inner = np.asarray(inner, int)
    n = train.shape[1]
    if train.ndim != 2 or test.ndim != 2 or test.shape[1] != n:
        raise ValueError(f"train and test must be (M, N) with the same N; got {train.shape}, {test.shape}")
    if inner.ndim != 1 or len(set(inner.tolist())) != inner.size or inner.min() < 0 or inner.max() >= n:
        raise ValueError(f"inner must be distinct column indices in [0, {n}), got {inner.tolist()}")
    if inner.size >= n:
        raise ValueError(f"inner ({inner.size} cells) must leave some context cells out of N = {n}")
    if not 1 <= k <= min(20, inner.size):
        raise ValueError(f"k must be between 1 and min(20, {inner.size}), got {k}")
    large, small = params if params is not None else (fit(train), fit(train[:, inner]))
    position = {c: i for i, c in enumerate(inner.tolist())}
    rows = []
    for s, cells in enumerate(hidden_sets(key, inner, k, n_sets)):
        hid_large = np.zeros(test.shape, bool)
        hid_large[:, cells] = True
        hid_small = np.zeros((test.shape[0], inner.size), bool)
        hid_small[:, [position[c] for c in cells.tolist()]] = True
        acc_l, cll_l = _scores(large, test, hid_large)
        acc_s, cll_s = _scores(small, test[:, inner], hid_small)
        rows.append(dict(set=s, hidden=" ".join(str(c) for c in cells.tolist()), accuracy_small=acc_s,
                         accuracy_large=acc_l, cll_small=cll_s, cll_large=cll_l, d_accuracy=acc_l - acc_s,
                         d_cll=cll_l - cll_s))
    summary = []
    for name, col in (("accuracy", "accuracy"), ("cll", "cll")):
        d = [r[f"d_{col}"] for r in rows]
        m, lo, hi = mean_ci(d)
        summary.append(dict(score=name, mean=m, low=lo, high=hi, n_better=int(np.sum(np.asarray(d) > 0)),
                            n_sets=len(rows), small=float(np.mean([r[f"{col}_small"] for r in rows])),
                            large=float(np.mean([r[f"{col}_large"] for r in rows]))))
    return ContextComparison(rows, summary)
