"""Missing-value reconstruction with a pairwise Ising model (METHODS.md section 6, the paper's Fig. 6).

For one pattern ``s`` with hidden cells ``H`` (``k = |H|``) and visible cells ``V``, the conditional distribution of the
hidden values is itself an Ising model on ``H``:

    p(x | s_V) ~ exp(-E_c(x)),   E_c(x) = - sum_{i in H} b_i x_i - sum_{i<j in H} J_ij x_i x_j,
    b_i = h_i + sum_{j in V} J_ij s_j   (the conditional field).

* The reconstruction is the most probable completion ``argmax_x p(x | s_V)`` = ``argmin_x E_c(x)``.
* The conditional log-likelihood of the true hidden values is ``log p(s_H | s_V) = -E_c(s_H) - log Z_c``,
  ``Z_c = sum_x exp(-E_c(x))``.

**Exact** (``k <= max_exact``, default 20): all ``2^k`` completions are enumerated. Rows are grouped by ``k`` on the
host (rows hiding fewer than 8 cells are padded with inert cells, so one compilation serves them) and processed in
row blocks; the ``2^k`` states are split into ``a`` low bits (enumerated at once) and ``k - a`` high
bits (scanned in chunks), so ``E_c = E_lo + E_hi + x_lo^T J_lh x_hi`` costs about ``k - a`` multiply-adds per state and
row, and memory stays bounded (about ``2^22`` energies per block) for any ``k`` and any number of rows. The minimum
energy and ``log Z_c`` are accumulated as running reductions (a streaming log-sum-exp). Ties (exactly equal energies)
go to the first chunk of high bits and, within it, to the lowest low-bit index, which is the first state in
enumeration order only when all ``k`` bits are low ones (``k <= a``); bit ``j`` of the state index set means the
``j``-th hidden cell, in column order, is +1.

**Approximate** (``k > max_exact``; reconstruction only): iterated conditional modes from two starts, the sign of the
damped conditional mean-field magnetisation ``m = tanh(b + J_HH m)`` and the sign of ``b``; each sweep sets every hidden
spin in turn to the sign of its local field, which never raises ``E_c``, until no spin changes. The lower-energy result
is returned. It is a local minimum under single flips, not guaranteed to be the global one; no log-likelihood is given.

Everything here takes concrete arrays (validation and grouping run on the host); the inner kernels are jitted.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float
from tqdm.auto import tqdm

from ising_diffusion.checks import is_int, is_real_dtype
from ising_diffusion.spins import as_spins
from ising_diffusion.ising import MAX_ENUMERATION_SPINS, IsingParams, all_states

__all__ = [
    "MAX_EXACT_HIDDEN",
    "Completion",
    "ReconstructionScores",
    "complete_missing",
    "reconstruct_missing",
    "conditional_log_likelihood",
    "reconstruction_scores",
    "majority_completion",
]

#: Default largest number of hidden cells per row handled by exact enumeration.
MAX_EXACT_HIDDEN = 20
_LO_BITS = 10  # low hidden bits enumerated all at once
_HI_CHUNK_BITS = 6  # high hidden bits scanned 2^6 states at a time
_BLOCK_ELEMENTS = 2**22  # rows x states held at once in the exact kernel (bounds memory)
_MIN_ENUM_BITS = 8  # rows hiding fewer cells are padded to 8 (inert) cells: one compilation serves k = 1..8
_MIN_BLOCK_ROWS = 64  # row blocks are powers of two >= 64 (when memory allows): few compilations


class Completion(NamedTuple):
    """Result of :func:`complete_missing`.

    Attributes:
      spins: ``(M, N)`` float32 spins: visible entries as given, hidden ones filled with the most probable completion.
      log_likelihood: ``(M,)`` total ``log p(s_H | s_V)`` of the *given* hidden values, in nats (0 for rows hiding
        nothing; NaN for rows solved approximately, ``k > max_exact``, and for rows whose hidden entries are not
        -1/+1, e.g. NaN placeholders).
      n_hidden: ``(M,)`` number of hidden cells ``k`` of each row.
      exact: ``(M,)`` bool, whether the row's completion is exact.
    """

    spins: Array
    log_likelihood: np.ndarray
    n_hidden: np.ndarray
    exact: np.ndarray


class ReconstructionScores(NamedTuple):
    """Accuracy of a completion on the hidden entries, pooled over all rows.

    Attributes:
      accuracy: fraction of hidden entries recovered.
      accuracy_active: the same over hidden entries whose true value is +1 (the cell fired); NaN if there are none.
      accuracy_silent: the same over hidden entries whose true value is -1; NaN if there are none.
      n_hidden: number of hidden entries.
      n_active: hidden entries with true value +1.
      n_silent: hidden entries with true value -1.
    """

    accuracy: float
    accuracy_active: float
    accuracy_silent: float
    n_hidden: int
    n_active: int
    n_silent: int


def _validate(params: IsingParams, spins, hidden, name: str = "spins"):
    """Host-side checks; returns ``(h, J, spins, hidden, k)`` as numpy arrays, hidden entries of spins set to -1."""
    h = np.asarray(params.h, np.float32)
    J = np.asarray(params.J, np.float32)
    if h.ndim != 1 or J.shape != (h.shape[0], h.shape[0]):
        raise ValueError(f"params must have h of shape (N,) and J of shape (N, N); got {h.shape} and {J.shape}")
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(J))):
        raise ValueError("params contain NaN or infinite values")
    hidden_arr = np.asarray(hidden)
    if hidden_arr.dtype != bool:
        raise ValueError(f"hidden must be a boolean mask (True = hidden), got dtype {hidden_arr.dtype}; "
                         "convert a 0/1 mask with hidden.astype(bool)")
    raw = np.asarray(spins)
    if raw.ndim != 2:
        raise ValueError(f"{name} must be 2-D (patterns, cells), got shape {raw.shape}")
    if hidden_arr.shape != raw.shape:
        raise ValueError(f"hidden has shape {hidden_arr.shape} but {name} has shape {raw.shape}; they must match")
    if raw.shape[1] != h.shape[0]:
        raise ValueError(f"{name} has {raw.shape[1]} cells per pattern but the model has N={h.shape[0]}")
    if not is_real_dtype(raw.dtype):
        raise ValueError(f"{name} must be real numeric values, got dtype {raw.dtype}")
    # Hidden values are ignored (they may be NaN or anything); only the visible ones must be spins.
    filled = np.where(hidden_arr, -1.0, raw.astype(np.float64))
    s = np.asarray(as_spins(filled, name=f"{name} (visible entries)"))
    return h, J, s, hidden_arr, hidden_arr.sum(axis=1)


def _check_max_exact(max_exact: int) -> int:
    if not (is_int(max_exact, 0) and max_exact <= MAX_ENUMERATION_SPINS):
        raise ValueError(f"max_exact must be an integer in [0, {MAX_ENUMERATION_SPINS}], got {max_exact!r}")
    return int(max_exact)


@partial(jax.jit, static_argnames=("k",))
def _exact_block(b, Jsub, x_true, *, k: int):
    """Exact minimum-energy completion and log Z over ``2^k`` states for a block of rows.

    Args: ``b (B, k)`` conditional fields, ``Jsub (B, k, k)`` hidden-hidden couplings, ``x_true (B, k)`` given values.
    Returns: ``(best (B, k), log_z (B,), neg_e_true (B,))``.
    """
    a = min(k, _LO_BITS)
    c = k - a
    ch_bits = min(c, _HI_CHUNK_BITS)
    ch = 2**ch_bits
    n_chunks = 2 ** (c - ch_bits)
    n_rows = b.shape[0]
    x_lo = all_states(a)  # (2^a, a)
    b_lo, b_hi = b[:, :a], b[:, a:]
    j_ll, j_lh, j_hh = Jsub[:, :a, :a], Jsub[:, :a, a:], Jsub[:, a:, a:]
    neg_e_lo = b_lo @ x_lo.T + 0.5 * jnp.sum(jnp.einsum("sa,bac->bsc", x_lo, j_ll) * x_lo[None], axis=-1)  # (B, 2^a)
    cross = jnp.einsum("sa,bac->bsc", x_lo, j_lh)  # (B, 2^a, c)

    def chunk(carry, ci):
        run_max, run_sum, best_lo, best_hi = carry
        x_hi = all_states(c, ci * ch, ch)  # (ch, c); (1, 0) when c == 0
        neg_e_hi = b_hi @ x_hi.T + 0.5 * jnp.sum(jnp.einsum("tc,bcd->btd", x_hi, j_hh) * x_hi[None], axis=-1)
        neg_e = neg_e_lo[:, :, None] + neg_e_hi[:, None, :] + jnp.einsum("bsc,tc->bst", cross, x_hi)
        flat = neg_e.reshape(n_rows, -1)  # position p = s * ch + t
        blk_max = jnp.max(flat, axis=1)
        blk_arg = jnp.argmax(flat, axis=1).astype(jnp.int32)
        new_max = jnp.maximum(run_max, blk_max)
        run_sum = run_sum * jnp.exp(run_max - new_max) + jnp.sum(jnp.exp(flat - new_max[:, None]), axis=1)
        better = blk_max > run_max  # strict: ties keep the earlier state
        best_lo = jnp.where(better, blk_arg // ch, best_lo)
        best_hi = jnp.where(better, ci * ch + blk_arg % ch, best_hi)
        return (new_max, run_sum, best_lo, best_hi), None

    init = (jnp.full(n_rows, -jnp.inf, jnp.float32), jnp.zeros(n_rows, jnp.float32),
            jnp.zeros(n_rows, jnp.int32), jnp.zeros(n_rows, jnp.int32))
    (run_max, run_sum, best_lo, best_hi), _ = jax.lax.scan(chunk, init, jnp.arange(n_chunks, dtype=jnp.int32))
    bits_lo = (best_lo[:, None] >> jnp.arange(a, dtype=jnp.int32)[None, :]) & 1
    bits_hi = (best_hi[:, None] >> jnp.arange(c, dtype=jnp.int32)[None, :]) & 1
    best = (2 * jnp.concatenate([bits_lo, bits_hi], axis=1) - 1).astype(jnp.float32)
    log_z = run_max + jnp.log(run_sum)
    neg_e_true = jnp.sum(b * x_true, axis=1) + 0.5 * jnp.einsum("bi,bij,bj->b", x_true, Jsub, x_true)
    return best, log_z, neg_e_true


@partial(jax.jit, static_argnames=("n_mean_field", "max_sweeps"))
def _icm_block(b, Jsub, *, n_mean_field: int = 200, max_sweeps: int = 200):
    """Approximate minimum-energy completion: ICM from the mean-field and field-sign starts. Returns ``(B, k)``."""
    n_rows, k = b.shape

    def mf_step(m, _):
        return 0.5 * m + 0.5 * jnp.tanh(b + jnp.einsum("bij,bj->bi", Jsub, m)), None  # damped for stability

    m, _ = jax.lax.scan(mf_step, jnp.zeros_like(b), None, length=n_mean_field)

    def icm(x):
        def site(i, carry):
            x, changed = carry
            f = b[:, i] + jnp.sum(Jsub[:, i, :] * x, axis=1)
            new = jnp.where(f > 0, 1.0, jnp.where(f < 0, -1.0, x[:, i]))  # each flip lowers E_c by 2|f|
            return x.at[:, i].set(new), changed | (new != x[:, i])

        def sweep(state):
            x, _, it = state
            x, changed = jax.lax.fori_loop(0, k, site, (x, jnp.zeros(n_rows, bool)))
            return x, jnp.any(changed), it + 1

        x, _, _ = jax.lax.while_loop(lambda s: s[1] & (s[2] < max_sweeps), sweep, (x, jnp.array(True), 0))
        return x

    starts = jnp.stack([jnp.where(m > 0, 1.0, -1.0), jnp.where(b > 0, 1.0, -1.0)])
    ends = jax.vmap(icm)(starts)  # (2, B, k)
    neg_e = jnp.sum(b[None] * ends, axis=-1) + 0.5 * jnp.einsum("zbi,bij,zbj->zb", ends, Jsub, ends)
    pick = jnp.argmax(neg_e, axis=0)
    return jnp.where((pick == 0)[:, None], ends[0], ends[1])


def complete_missing(params: IsingParams, spins, hidden, *, max_exact: int = MAX_EXACT_HIDDEN,
                     progress: bool = False) -> Completion:
    """Most probable completion of the hidden cells and the log-likelihood of the given hidden values, in one pass.

    See the module docstring for the method (exact enumeration for ``k <= max_exact``, ICM above).

    Args:
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)``.
      spins: ``(M, N)`` patterns; visible entries must be -1/+1, hidden entries are ignored (any value, NaN included).
      hidden: ``(M, N)`` boolean mask, True = hidden. Rows may hide different cells and different numbers of cells,
        including none (returned unchanged, log-likelihood 0) or all (the model's most probable state).
      max_exact: largest ``k`` solved exactly, ``0 <= max_exact <= 24``.
      progress: show a progress bar over row blocks.

    Returns:
      :class:`Completion`.

    Raises:
      ValueError: shapes that do not match, a mask that is not boolean, visible entries that are not spins, or
        non-finite parameters.
    """
    max_exact = _check_max_exact(max_exact)
    h, J, s, hidden, k_rows = _validate(params, spins, hidden)
    out = s.copy()
    loglik = np.zeros(s.shape[0], np.float64)
    exact = k_rows <= max_exact
    loglik[~exact] = np.nan
    raw = np.asarray(spins, np.float64)
    given_ok = np.all(~hidden | (raw == 1.0) | (raw == -1.0), axis=1)  # rows whose hidden values can be scored
    given = np.where(hidden & (np.abs(raw) == 1.0), raw, -1.0)
    fields = h[None, :] + np.where(hidden, 0.0, s) @ J  # b_i for every cell: visible neighbours only
    blocks = []
    for k in (int(k) for k in np.unique(k_rows) if k > 0):
        rows = np.flatnonzero(k_rows == k)
        if k <= max_exact:
            kp = max(k, min(_MIN_ENUM_BITS, max_exact))  # enumerated bits, inert padding included
            per_block = max(1, _BLOCK_ELEMENTS >> (min(kp, _LO_BITS) + min(max(kp - _LO_BITS, 0), _HI_CHUNK_BITS)))
        else:
            kp, per_block = k, max(1, _BLOCK_ELEMENTS // (k * k))
        size = min(per_block, max(_MIN_BLOCK_ROWS, 1 << int(np.ceil(np.log2(len(rows))))))
        blocks += [(k, kp, rows[i:i + size], size) for i in range(0, len(rows), size)]
    for k, kp, rows, size in tqdm(blocks, desc="completions", disable=not progress or not blocks):
        idx = np.argsort(~hidden[rows], axis=1, kind="stable")[:, :k]  # hidden cells of each row, in column order
        pad = size - len(rows)
        idx_p = np.concatenate([idx, np.repeat(idx[:1], pad, axis=0)]) if pad else idx
        rows_p = np.concatenate([rows, np.repeat(rows[:1], pad)]) if pad else rows
        b = np.take_along_axis(fields[rows_p], idx_p, axis=1)
        jsub = J[idx_p[:, :, None], idx_p[:, None, :]]
        if k <= max_exact:
            x_true = np.take_along_axis(given[rows_p], idx_p, axis=1)
            if kp > k:
                # Inert cells (zero field and couplings) in the high bits: every completion appears 2^(kp-k) times,
                # the first copy (inert spins -1) wins ties, and log Z gains (kp-k) log 2.
                b = np.pad(b, ((0, 0), (0, kp - k)))
                jsub = np.pad(jsub, ((0, 0), (0, kp - k), (0, kp - k)))
                x_true = np.pad(x_true, ((0, 0), (0, kp - k)), constant_values=-1.0)
            best, log_z, neg_e_true = _exact_block(jnp.asarray(b, jnp.float32), jnp.asarray(jsub, jnp.float32),
                                                   jnp.asarray(x_true, jnp.float32), k=kp)
            log_z = np.asarray(log_z, np.float64) - (kp - k) * np.log(2.0)
            loglik[rows] = (np.asarray(neg_e_true, np.float64) - log_z)[: len(rows)]
            best = np.asarray(best)[:, :k]
        else:
            best = np.asarray(_icm_block(jnp.asarray(b, jnp.float32), jnp.asarray(jsub, jnp.float32)))
        sub = out[rows]
        np.put_along_axis(sub, idx, best[: len(rows)], axis=1)
        out[rows] = sub
    loglik[~given_ok] = np.nan  # hidden values that are not spins cannot be scored
    return Completion(jnp.asarray(out, jnp.float32), loglik, k_rows, exact)


def reconstruct_missing(params: IsingParams, spins, hidden, *, max_exact: int = MAX_EXACT_HIDDEN,
                        progress: bool = False) -> Float[Array, "M N"]:
    """Fill the hidden cells of each pattern with their most probable completion (lowest conditional energy).

    Exact for rows hiding ``k <= max_exact`` cells (enumeration of the ``2^k`` completions in bounded memory); above,
    an approximate iterated-conditional-modes search (see the module docstring).

    Args:
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)``.
      spins: ``(M, N)`` patterns; visible entries -1/+1, hidden entries ignored.
      hidden: ``(M, N)`` boolean mask, True = hidden; any number of hidden cells per row (0 .. N).
      max_exact: largest ``k`` solved exactly (default 20, at most 24).
      progress: show a progress bar.

    Returns:
      ``(M, N)`` float32 spins, visible entries unchanged.
    """
    return complete_missing(params, spins, hidden, max_exact=max_exact, progress=progress).spins


def conditional_log_likelihood(params: IsingParams, spins, hidden, *, per_entry: bool = True,
                               max_exact: int = MAX_EXACT_HIDDEN, progress: bool = False) -> np.ndarray:
    """Log-probability of the true hidden values given the visible ones, exact by enumeration.

    For row ``m`` with hidden set ``H_m`` (``k_m = |H_m|``) this is ``log p(s_H | s_V)`` in nats, divided by ``k_m``
    when ``per_entry`` (the default), so rows hiding different numbers of cells are comparable; averaging the result
    over rows gives the mean log-likelihood per hidden entry of a test set whose rows all hide ``k`` cells.

    Args:
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)``.
      spins: ``(M, N)`` true patterns, all entries -1/+1 (the hidden ones are the values scored).
      hidden: ``(M, N)`` boolean mask, True = hidden.
      per_entry: divide each row's total by its ``k_m``. Rows hiding nothing are then rejected; with
        ``per_entry=False`` they score 0.
      max_exact: largest ``k_m`` allowed (default 20, at most 24); larger rows are rejected.
      progress: show a progress bar.

    Returns:
      ``(M,)`` float64 array of (per-entry) conditional log-likelihoods, each <= 0.

    Raises:
      ValueError: as :func:`complete_missing`, plus hidden entries that are not -1/+1, rows hiding more than
        ``max_exact`` cells, or (with ``per_entry``) rows hiding none.
    """
    max_exact = _check_max_exact(max_exact)
    raw = np.asarray(spins)
    hidden_arr = np.asarray(hidden)
    if hidden_arr.dtype == bool and hidden_arr.shape == raw.shape and raw.ndim == 2:
        as_spins(raw, name="spins (all entries are scored, hidden ones included)")
        k_rows = hidden_arr.sum(axis=1)
        if np.any(k_rows > max_exact):
            bad = int(np.flatnonzero(k_rows > max_exact)[0])
            raise ValueError(f"row {bad} hides {int(k_rows[bad])} cells; the exact conditional log-likelihood is "
                             f"limited to k <= max_exact={max_exact}")
        if per_entry and np.any(k_rows == 0):
            bad = int(np.flatnonzero(k_rows == 0)[0])
            raise ValueError(f"row {bad} hides no cells: the per-entry log-likelihood is undefined (0/0); drop such "
                             "rows or pass per_entry=False")
    res = complete_missing(params, spins, hidden, max_exact=max_exact, progress=progress)
    return res.log_likelihood / res.n_hidden if per_entry else res.log_likelihood


def reconstruction_scores(true_spins, completed, hidden) -> ReconstructionScores:
    """Accuracy of ``completed`` against ``true_spins`` on the hidden entries, overall and split by the true value.

    Args:
      true_spins: ``(M, N)`` true spins.
      completed: ``(M, N)`` reconstructed spins.
      hidden: ``(M, N)`` boolean mask.

    Returns:
      :class:`ReconstructionScores` (pooled over all hidden entries of all rows).
    """
    t = np.asarray(true_spins)
    c = np.asarray(completed)
    hm = np.asarray(hidden)
    if hm.dtype != bool or t.shape != c.shape or t.shape != hm.shape:
        raise ValueError(f"need equal shapes and a boolean mask; got {t.shape}, {c.shape}, {hm.shape} ({hm.dtype})")
    right = (t == c) & hm
    active = hm & (t > 0)
    silent = hm & (t < 0)

    def frac(num, den):
        return float(num) / float(den) if den else float("nan")

    return ReconstructionScores(frac(right.sum(), hm.sum()), frac((right & active).sum(), active.sum()),
                                frac((right & silent).sum(), silent.sum()), int(hm.sum()), int(active.sum()),
                                int(silent.sum()))


def majority_completion(train_spins, spins, hidden) -> Float[Array, "M N"]:
    """The trivial baseline: each hidden cell takes its more frequent state in ``train_spins`` (ties: -1, silent).

    Args:
      train_spins: ``(M_train, N)`` spins the frequencies come from.
      spins: ``(M, N)`` patterns; hidden entries are ignored.
      hidden: ``(M, N)`` boolean mask.

    Returns:
      ``(M, N)`` float32 spins.
    """
    train = np.asarray(as_spins(train_spins, name="train_spins"))
    majority = np.where(train.mean(axis=0) > 0, 1.0, -1.0)
    hm = np.asarray(hidden)
    raw = np.asarray(spins)
    if hm.dtype != bool or hm.shape != raw.shape or raw.ndim != 2 or raw.shape[1] != train.shape[1]:
        raise ValueError(f"need a boolean mask of the shape of spins (M, {train.shape[1]}); got spins {raw.shape}, "
                         f"hidden {hm.shape} ({hm.dtype})")
    return jnp.asarray(np.where(hm, majority[None, :], raw), jnp.float32)
