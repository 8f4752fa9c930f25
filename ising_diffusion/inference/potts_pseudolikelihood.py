"""Weighted pseudolikelihood for Potts models (plmDCA), all sites as one batched problem, and its CV path.

Each site's conditional ``p(s_i = a | s_rest) = softmax_a(h_i(a) + sum_{j != i} J_ij(a, s_j))`` is a softmax regression
on the one-hot encoding of the other sites. The objective, its parameter layout and why no evaluation transposes the
couplings are in :mod:`~ising_diffusion.inference.potts_objective`. Identical sequences are merged into one row with the
sum of their weights before a fit (the objective is unchanged).

Objective (``-log PL`` over sequences with weights ``w_m``, ``W_sum = sum_m w_m``)::

    F = -(1/W_sum) sum_m w_m sum_i log p(s_i^m | s_rest^m) + c_h sum_{i,a} h_i(a)^2 + c_J sum_{i != j} |J_ij|_F^2

* ``symmetric=False`` (default, asymmetric plmDCA): row block ``i`` of ``J`` belongs to site ``i``'s regression only;
  after the fit ``J <- (J_ij + J_ji^T) / 2``. ``symmetric=True`` shares ``J_ij = J_ji^T`` between both conditionals
  (plmc's "joint" pseudolikelihood). Near the optimum both have the same stationarity condition at equal ``c_J``.
* ``penalty="plmdca"``: ``c_h = lambda_h``, ``c_J = lambda_J`` (PlmDCA.jl's asymmetric objective with normalised
  weights; defaults ``lambda_h = lambda_J = 0.01``).
* ``penalty="plmc"``: plmc's objective (``src/inference.c``, ``PLMNegLogPosterior``) is
  ``-sum_m w_m sum_i log p + lambda_h |h|^2 + lambda_e sum_{i<j} |e_ij|_F^2`` with raw (un-normalised) weights and no
  size scaling; divided by ``W_sum`` it is ``F`` with ``c_h = lambda_h / W_sum`` and ``c_J = lambda_e / (2 W_sum)``.
  With ``symmetric=True`` the two objectives are the same function up to the factor ``W_sum`` (same minimiser), so
  equal lambdas mean the same fit as ``plmc -lh lambda_h -le lambda_e``. (plmc's README example uses ``-le 16``;
  EVcouplings sets ``lambda_e = 0.01 (L-1)(q-1)``.)

The returned parameters are symmetrised and put in the zero-sum gauge. ``l2="cv"`` chooses ``lambda_J`` (in the
units of ``penalty``) by cross-validation on the held-out weighted log-pseudolikelihood, with ``cv.py``'s machinery:
folds by position, the grid walked from the largest penalty down with warm starts and patience, one compiled call.
"""

from __future__ import annotations

from functools import partial
import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.tree_utils as otu
from jaxtyping import Array, Float, Int

from ising_diffusion.checks import is_int, is_real
from ising_diffusion.inference._optim import OptimInfo, lbfgs_loop, lbfgs_minimize
from ising_diffusion.inference.cv import CVInfo, check_cv_settings, cross_validate_path, fold_weights
from ising_diffusion.inference.grouped_folds import grouped_folds
from ising_diffusion.inference.potts_fields import flat_indices
from ising_diffusion.inference.potts_objective import (FlatParams, coupling_mask, field_gauge, log_pl_per_sequence,
                                                       objective, penalty_coefficients, start_point, symmetrized,
                                                       to_params)
from ising_diffusion.potts import PottsParams, check_sequences

__all__ = ["PENALTIES", "DEFAULT_LAMBDA_GRIDS", "merge_identical", "pad_rows", "potts_pseudolikelihood",
           "potts_log_pseudolikelihood", "potts_pseudolikelihood_cv", "check_pseudolikelihood_options",
           "check_pseudolikelihood_cv_options",
           "traced_potts_pseudolikelihood", "traced_potts_pseudolikelihood_cv"]

#: Penalty conventions (see the module docstring).
PENALTIES = ("plmdca", "plmc")
#: Default ``lambda_J`` grids for ``l2="cv"``, in each convention's units.
DEFAULT_LAMBDA_GRIDS = {"plmdca": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3),
                        "plmc": (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)}
_PROGRESS_CHUNK = 10  # L-BFGS iterations per compiled call when a progress bar is shown


def _encode(seqs: np.ndarray, q: int) -> Array:
    return flat_indices(np.asarray(seqs), q)


def merge_identical(seqs: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray]:
    """Identical sequences merged into one row with the sum of their weights; rows of weight 0 dropped.

    Args:
      seqs: ``(M, L)`` integer states.
      weights: ``(M,)`` nonnegative weights.

    Returns:
      ``(seqs (M', L), weights (M',))`` with distinct rows (in ``np.unique`` order); any weighted sum over sequences
      (the pseudolikelihood, the counts) is unchanged.
    """
    seqs, w = np.asarray(seqs), np.asarray(weights, np.float64)
    keep = w > 0
    if keep.any():
        seqs, w = seqs[keep], w[keep]
    unique, inverse = np.unique(seqs, axis=0, return_inverse=True)
    return unique, np.bincount(inverse.reshape(-1), weights=w, minlength=unique.shape[0])


def pad_rows(seqs: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows padded (copies of row 0 at weight 0) to a bucket size, so that alignments of similar depth share one
    compiled fit: a multiple of ``max(32, 2**(ceil(log2 M) - 3))`` (at most 1/8 + 32 rows more). Weighted sums are
    unchanged (the padding adds exact zeros)."""
    m = seqs.shape[0]
    step = max(32, 2 ** max(int(np.ceil(np.log2(max(m, 1)))) - 3, 0))
    size = -(-m // step) * step
    if size == m:
        return seqs, weights
    pad = size - m
    return (np.concatenate([seqs, np.repeat(seqs[:1], pad, axis=0)]),
            np.concatenate([weights, np.zeros(pad, weights.dtype)]))


# ----------------------------------------------------------------------------------------------------------------------
# One fit, in chunks of L-BFGS iterations so a progress bar can follow it


def _make_opt(memory_size: int):
    return optax.lbfgs(memory_size=memory_size, linesearch=optax.scale_by_zoom_linesearch(max_linesearch_steps=20))


@partial(jax.jit, static_argnames=("symmetric", "memory_size"))
def _init_state(x, *, symmetric, memory_size):
    del symmetric
    return _make_opt(memory_size).init(x)


@partial(jax.jit, static_argnames=("symmetric", "memory_size"))
def _advance(x, state, idx, w_norm, c_h, c_J, stop_at, tol, *, symmetric: bool, memory_size: int):
    """L-BFGS iterations until ``count == stop_at`` or the gradient norm is below ``tol``."""
    length = x.h.shape[0]
    mask = coupling_mask(length, x.h.shape[1])
    fun = partial(objective, idx=idx, w_norm=w_norm, c_h=c_h, c_J=c_J, mask=mask, symmetric=symmetric)

    def keep_going(state):
        count = otu.tree_get(state, "count")
        err = otu.tree_norm(otu.tree_get(state, "grad"))
        return (count < stop_at) & ((count == 0) | (err >= tol))

    x, state = lbfgs_loop(fun, _make_opt(memory_size), x, state, keep_going)
    info = OptimInfo(otu.tree_get(state, "count"), otu.tree_get(state, "value"),
                     otu.tree_norm(otu.tree_get(state, "grad")))
    return x, state, info


def potts_pseudolikelihood(seqs: Int[Array, "M L"], weights: Float[Array, " M"] | None = None, *,
                           q: int | None = None, lambda_h: float = 0.01, lambda_J: float = 0.01,
                           penalty: str = "plmdca", symmetric: bool = False, max_iter: int = 500,
                           tol: float = 1e-4, memory_size: int = 10,
                           progress: bool = False) -> tuple[PottsParams, OptimInfo]:
    """Maximum weighted pseudolikelihood Potts fit with L2 penalties (plmDCA; see the module docstring).

    Args:
      seqs: ``(M, L)`` integer states in ``[0, q)``.
      weights: ``(M,)`` nonnegative sequence weights (e.g. ``msa.sequence_weights``); ``None``: all ones.
      q: number of states; ``None``: ``max(seqs) + 1``.
      lambda_h, lambda_J: L2 penalties on fields and couplings, in the units of ``penalty`` (for ``"plmc"``,
        ``lambda_J`` is plmc's ``lambda_e``).
      penalty: ``"plmdca"`` or ``"plmc"``.
      symmetric: share ``J_ij = J_ji^T`` between the two conditionals (plmc) instead of fitting rows apart (plmDCA).
      max_iter: L-BFGS iteration cap.
      tol: stop when the gradient norm of the (weight-normalised) objective falls below ``tol``.
      memory_size: L-BFGS memory.
      progress: show a tqdm bar (updated every 10 iterations).

    Returns:
      ``(PottsParams symmetrised, in the zero-sum gauge; OptimInfo)``.
    """
    seqs, w, q = check_sequences(seqs, weights, q)
    _check_options(penalty, lambda_h, lambda_J, max_iter, tol, memory_size, symmetric)
    length = seqs.shape[1]
    seqs, w64 = pad_rows(*merge_identical(seqs, w))
    idx = _encode(seqs, q)
    w = jnp.asarray(w64, jnp.float32)
    c_h, c_J = penalty_coefficients(penalty, lambda_h, lambda_J, float(np.sum(w64)))
    w_norm = jnp.asarray(w64 / np.sum(w64), jnp.float32)
    x = start_point(idx, w, length, q)
    state = _init_state(x, symmetric=symmetric, memory_size=memory_size)
    args = (idx, w_norm, jnp.float32(c_h), jnp.float32(c_J))
    kw = dict(symmetric=symmetric, memory_size=memory_size)
    if not progress:
        x, state, info = _advance(x, state, *args, jnp.int32(max_iter), jnp.float32(tol), **kw)
        return to_params(x), info
    from tqdm.auto import tqdm

    with tqdm(total=max_iter, desc="pseudolikelihood (L-BFGS)", unit="it") as bar:
        done = 0
        while True:
            stop = min(done + _PROGRESS_CHUNK, max_iter)
            x, state, info = _advance(x, state, *args, jnp.int32(stop), jnp.float32(tol), **kw)
            n = int(info.n_iter)
            bar.update(n - done)
            bar.set_postfix(loss=f"{float(info.loss):.4f}", grad=f"{float(info.grad_norm):.2e}")
            if n < stop or n >= max_iter:  # converged (stopped early) or out of iterations
                break
            done = n
    return to_params(x), info


def potts_log_pseudolikelihood(params: PottsParams, seqs: Int[Array, "M L"]) -> Float[Array, " M"]:
    """``sum_i log p(s_i | s_rest)`` of each sequence under ``params`` (``J`` used as given), ``(M,)``. Concrete
    ``seqs`` are checked (integer states in ``[0, q)``, ``L`` columns); traced ones (inside a caller's jit) are not.
    """
    length, q = params.h.shape
    if not isinstance(seqs, jax.core.Tracer):  # a state outside [0, q) would read another site's block, or NaN
        seqs = jnp.asarray(check_sequences(seqs, None, q)[0])
        if seqs.shape[1] != length:
            raise ValueError(f"seqs have {seqs.shape[1]} columns, the parameters {length}")
    W = jnp.transpose(params.J, (1, 3, 0, 2)).reshape(length * q, length * q)  # W[(j, b), (i, a)] = J[i, j, a, b]
    return log_pl_per_sequence(FlatParams(params.h, W), flat_indices(seqs, q), coupling_mask(length, q), False)


def check_pseudolikelihood_options(penalty: str = "plmdca", lambda_h=0.01, lambda_J=0.01, max_iter=500,
                                   tol=1e-4, memory_size=10, symmetric=False) -> None:
    """Raise a ValueError naming the first bad option of :func:`potts_pseudolikelihood` (the traced fits check
    nothing, so their callers check here first)."""
    _check_options(penalty, lambda_h, lambda_J, max_iter, tol, memory_size, symmetric)


def _check_options(penalty, lambda_h, lambda_J, max_iter, tol, memory_size=10, symmetric=False):
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    def number(v):  # a value typed on a command line may be any string
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    for name, value in (("lambda_h", lambda_h), ("lambda_J", lambda_J)):
        if not (number(value) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    if not number(max_iter) or int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if not number(tol) or not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if not number(memory_size) or int(memory_size) != memory_size or memory_size < 1:
        raise ValueError(f"memory_size (L-BFGS memory) must be an integer >= 1, got {memory_size!r}")
    if not isinstance(symmetric, (bool, np.bool_)):
        raise ValueError(f"symmetric must be True or False, got {symmetric!r}")


# ----------------------------------------------------------------------------------------------------------------------
# Cross-validated lambda_J


#: ``patience`` of the Potts CV paths: stop 2 penalties past the best held-out score (the fits are the costly ones:
#: minutes per path at M = 50-100 on 2 cores). ``patience=None`` fits every penalty (the Ising default: cv.py); whether
#: the Potts held-out score has two peaks is measured by experiments/potts_cv_peaks.py (docs/potts.md).
POTTS_PATIENCE = 2


@partial(jax.jit, static_argnames=("length", "q", "grid", "penalty", "symmetric", "cv_folds", "cv_rule",
                                   "max_iter", "memory_size", "patience"))
def _cv(idx, w, lambda_h, tol, fold_of, *, length, q, grid, penalty, symmetric, cv_folds, cv_rule, max_iter,
        memory_size, patience=POTTS_PATIENCE):
    mask = coupling_mask(length, q)
    train_ind, test_ind = fold_weights(idx.shape[0], cv_folds, fold_of)
    train_w, test_w = train_ind * w[None, :], test_ind * w[None, :]

    def fit(wf, lam, x, n_iter):
        total = jnp.sum(wf)
        c_h, c_J = penalty_coefficients(penalty, lambda_h, lam, total)
        fun = partial(objective, idx=idx, w_norm=wf / total, c_h=c_h, c_J=c_J, mask=mask, symmetric=symmetric)
        return lbfgs_minimize(fun, x, max_iter=n_iter, tol=tol, memory_size=memory_size)

    def fit_fold(wf, lam, x, active):
        return fit(wf, lam, x, jnp.where(active, max_iter, 0))

    def score_fold(x, wt):
        # held-out weighted mean log-pseudolikelihood of the symmetrised fit (its fields whole: field_gauge)
        g = field_gauge(x)
        xs = FlatParams(g.h, symmetrized(g.W))
        return jnp.dot(wt / jnp.sum(wt), log_pl_per_sequence(xs, idx, mask, False))

    def refit(lam, start):
        x, info = fit(w, lam, start, max_iter)
        return to_params(x), info

    x0 = jax.vmap(lambda wf: start_point(idx, wf, length, q))(train_w)
    return cross_validate_path(fit_fold, score_fold, x0, refit, grid, train_w, test_w, cv_rule, patience=patience)


def potts_pseudolikelihood_cv(seqs: Int[Array, "M L"], weights: Float[Array, " M"] | None = None, *,
                              q: int | None = None, lambda_h: float = 0.01, penalty: str = "plmdca",
                              lambda_grid=None, cv_folds: int = 5, cv_rule: str = "best",
                              symmetric: bool = False, max_iter: int = 500, tol: float = 1e-4,
                              memory_size: int = 10, patience: int | None = POTTS_PATIENCE, cv_groups=None
                              ) -> tuple[PottsParams, CVInfo]:
    """Pseudolikelihood with ``lambda_J`` chosen by ``cv_folds``-fold cross-validation (``l2="cv"``).

    Sequence ``m`` is held out in fold ``m % cv_folds``, or with ``cv_groups`` every group whole in one fold
    (:func:`~ising_diffusion.inference.grouped_folds.grouped_folds`: a sequence and its near-twins held out
    together); a fold's training objective and held-out score use the
    sequence weights of its rows. The score is the held-out weighted mean log-pseudolikelihood (higher is better) and
    the path, selection and refit are ``inference.cv``'s, all in one compiled call.

    Args:
      seqs, weights, q, lambda_h, penalty, symmetric, max_iter, tol, memory_size: as for
        :func:`potts_pseudolikelihood`.
      lambda_grid: candidate ``lambda_J`` in ``penalty``'s units (default ``DEFAULT_LAMBDA_GRIDS[penalty]``).
      cv_folds: ``2 <= cv_folds <= M``.
      cv_rule: ``"best"`` or ``"1se"``.
      patience: stop the path this many penalties past the best held-out score (:data:`POTTS_PATIENCE`); ``None``
        fits every penalty of the grid.
      cv_groups: ``None`` (position folds) or ``(M,)`` integer group labels, e.g.
        :func:`ising_diffusion.msa.identity_groups` ``(seqs)``; at least ``cv_folds`` groups.

    Returns:
      ``(PottsParams, CVInfo)``; ``CVInfo.l2`` is the chosen ``lambda_J`` and ``CVInfo.l2_grid`` the grid.
    """
    seqs, w, q = check_sequences(seqs, weights, q)
    grid, cv_folds = check_pseudolikelihood_cv_options(
        seqs.shape[0], lambda_h=lambda_h, penalty=penalty, lambda_grid=lambda_grid, cv_folds=cv_folds, cv_rule=cv_rule,
        symmetric=symmetric, max_iter=max_iter, tol=tol, memory_size=memory_size, patience=patience)
    if cv_groups is None:
        fold_of = np.arange(seqs.shape[0]) % int(cv_folds)
    else:
        if np.shape(cv_groups) != (seqs.shape[0],):
            raise ValueError(f"cv_groups must hold one label per sequence, shape ({seqs.shape[0]},), got shape "
                             f"{np.shape(cv_groups)}")
        fold_of = grouped_folds(cv_groups, int(cv_folds))
    w_np = np.asarray(w, np.float64)
    for f in range(int(cv_folds)):  # an empty side would score -inf at every penalty and pick the largest silently
        held, rest = w_np[fold_of == f].sum(), w_np[fold_of != f].sum()
        if not (held > 0 and rest > 0):
            raise ValueError(f"CV fold {f} has {'no held-out' if not held > 0 else 'no training'} weight (the "
                             f"sequences with positive weight all fall on one side); use fewer cv_folds or other "
                             f"weights")
    return _cv(_encode(seqs, q), jnp.asarray(w), jnp.float32(lambda_h), jnp.float32(tol),
               jnp.asarray(fold_of, jnp.int32), length=seqs.shape[1], q=q,
               grid=grid, penalty=penalty, symmetric=bool(symmetric), cv_folds=int(cv_folds), cv_rule=cv_rule,
               max_iter=int(max_iter), memory_size=int(memory_size),
               patience=None if patience is None else int(patience))


def check_pseudolikelihood_cv_options(n_seqs: int, *, lambda_h=0.01, penalty="plmdca", lambda_grid=None, cv_folds=5,
                                      cv_rule="best", symmetric=False, max_iter=500, tol=1e-4, memory_size=10,
                                      patience=POTTS_PATIENCE) -> tuple[tuple[float, ...], int]:
    """Raise a ValueError naming the first bad option of :func:`potts_pseudolikelihood_cv` on ``n_seqs`` sequences;
    return its ``lambda_J`` grid (``penalty``'s default for ``None``) and ``cv_folds`` as an int."""
    _check_options(penalty, lambda_h, 0.0, max_iter, tol, memory_size, symmetric)
    grid = DEFAULT_LAMBDA_GRIDS[penalty] if lambda_grid is None else lambda_grid
    items = tuple(grid) if isinstance(grid, (tuple, list)) else tuple(np.asarray(grid).reshape(-1).tolist()) if (
        np.ndim(grid)) else (grid,)
    if not items or not all(is_real(g) and g >= 0 for g in items):
        raise ValueError(f"lambda_grid must be a non-empty sequence of finite penalties >= 0, got {lambda_grid!r}")
    cv_folds = check_cv_settings(n_seqs, cv_folds, cv_rule)
    if patience is not None and not is_int(patience):
        raise ValueError(f"patience must be None or an integer >= 1, got {patience!r}")
    return tuple(float(g) for g in items), cv_folds


# ----------------------------------------------------------------------------------------------------------------------
# The same fits as pure functions of device arrays (inside a caller's jit / vmap: augment's kernel)


def traced_potts_pseudolikelihood(seqs: Int[Array, "M L"], weights: Float[Array, " M"], *, q: int,
                                  lambda_h: float = 0.01, lambda_J=0.01, penalty: str = "plmdca",
                                  symmetric: bool = False, max_iter: int = 500, tol: float = 1e-4,
                                  memory_size: int = 10) -> tuple[PottsParams, OptimInfo]:
    """:func:`potts_pseudolikelihood` (no progress bar) as a pure, traceable function.

    Nothing is checked or merged on the host: ``seqs`` must be valid states in ``[0, q)`` and the options valid
    (:func:`check_pseudolikelihood_options`); identical rows are not merged (the same objective, more rows);
    ``lambda_J`` may be a traced scalar. The normalised weights are summed in float32 on the device.

    Returns:
      ``(PottsParams symmetrised, in the zero-sum gauge; OptimInfo)``.
    """
    length = seqs.shape[1]
    idx = flat_indices(seqs, q)
    w = jnp.asarray(weights, jnp.float32)
    total = jnp.sum(w)
    c_h, c_J = penalty_coefficients(penalty, jnp.float32(lambda_h), jnp.asarray(lambda_J, jnp.float32), total)
    x = start_point(idx, w, length, q)
    state = _init_state(x, symmetric=bool(symmetric), memory_size=int(memory_size))
    x, _, info = _advance(x, state, idx, w / total, c_h, c_J, jnp.int32(max_iter), jnp.float32(tol),
                          symmetric=bool(symmetric), memory_size=int(memory_size))
    return to_params(x), info


def traced_potts_pseudolikelihood_cv(seqs: Int[Array, "M L"], weights: Float[Array, " M"], *, q: int,
                                     lambda_h: float = 0.01, penalty: str = "plmdca", lambda_grid=None,
                                     cv_folds: int = 5, cv_rule: str = "best", symmetric: bool = False,
                                     max_iter: int = 500, tol: float = 1e-4,
                                     memory_size: int = 10, fold_of=None) -> tuple[PottsParams, CVInfo]:
    """:func:`potts_pseudolikelihood_cv` as a pure, traceable function (nothing checked on the host: valid states,
    options and ``2 <= cv_folds <= M`` are the caller's to ensure). ``fold_of``: ``(M,)`` fold indices in
    ``[0, cv_folds)`` (may be traced; :func:`~ising_diffusion.inference.grouped_folds.grouped_folds`), ``None`` the
    position split.

    Returns:
      ``(PottsParams, CVInfo)``.
    """
    grid = DEFAULT_LAMBDA_GRIDS[penalty] if lambda_grid is None else lambda_grid
    if fold_of is None:
        fold_of = jnp.arange(seqs.shape[0]) % int(cv_folds)
    return _cv(flat_indices(seqs, q), jnp.asarray(weights, jnp.float32), jnp.float32(lambda_h), jnp.float32(tol),
               jnp.asarray(fold_of, jnp.int32), length=seqs.shape[1], q=int(q), grid=tuple(float(g) for g in grid),
               penalty=penalty, symmetric=bool(symmetric), cv_folds=int(cv_folds), cv_rule=cv_rule,
               max_iter=int(max_iter), memory_size=int(memory_size))
