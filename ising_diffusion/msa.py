"""Alignment preprocessing for Potts inference: gap filters and sequence weights.

Sequence weights follow plmc (``src/weights.c``, ``MSAReweightSequences``): two sequences are neighbours when they
are identical at at least ``theta * L`` of the ``L`` columns, a gap counting as identical to a gap; the weight of a
sequence is ``1 / (number of neighbours, itself included)`` and ``M_eff`` is the sum of the weights. plmc's ``-t``
is a divergence, so plmc ``-t 0.2`` is ``theta = 1 - 0.2 = 0.8`` here (the same double, so the same threshold).

The neighbour counts are computed on the device in blocks of rows against all rows, one compiled call with a
``lax.map`` over the blocks: memory is ``O(M L + block_size * M)``, never ``M x M``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.checks import is_real
from ising_diffusion.types import Array

__all__ = [
    "FilteredAlignment",
    "effective_count",
    "filter_alignment",
    "gap_fractions",
    "identity_groups",
    "min_identity",
    "neighbour_counts",
    "sequence_weights",
    "traced_sequence_weights",
]

# Upper bound on the (block, M) int32 identity block held at once: 2**24 entries = 64 MiB.
_BLOCK_ENTRIES = 2**24
# Most columns compared in one unrolled pass (longer unrolled chains compile slowly and stop fusing well).
_CHUNK = 64


class FilteredAlignment(NamedTuple):
    """An alignment after the gap filters.

    Attributes:
      seqs: ``(M', L')`` int8 kept sequences at kept columns.
      rows: ``(M',)`` indices of the kept sequences in the input (index ``ids`` or weights with it).
      columns: ``(L',)`` indices of the kept columns in the input (map contacts and scores back with it).
    """

    seqs: np.ndarray
    rows: np.ndarray
    columns: np.ndarray


def _as_states(seqs, name: str = "seqs") -> np.ndarray:
    arr = np.asarray(seqs)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (sequences, columns) array of states, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer states, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() > 127:
        raise ValueError(f"{name} states must lie in [0, 127], found {arr.min()} .. {arr.max()}")
    return arr.astype(np.int8, copy=False)


def gap_fractions(seqs, gap_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of gaps in each sequence and in each column.

    Args:
      seqs: ``(M, L)`` integer states.
      gap_state: the gap's state index (0 for :data:`~ising_diffusion.io.alignment.PROTEIN_ALPHABET`).

    Returns:
      ``(per_sequence (M,), per_column (L,))`` float64 fractions.
    """
    gaps = _as_states(seqs) == gap_state
    return gaps.mean(axis=1), gaps.mean(axis=0)


def filter_alignment(seqs, *, max_seq_gap: float = 1.0, max_col_gap: float = 1.0,
                     gap_state: int = 0) -> FilteredAlignment:
    """Drop gappy sequences, then gappy columns.

    Sequences whose gap fraction over all ``L`` columns exceeds ``max_seq_gap`` go first; then columns whose gap
    fraction among the kept sequences exceeds ``max_col_gap``. A fraction equal to the bound is kept, so the defaults
    (1.0) keep everything.

    Args:
      seqs: ``(M, L)`` integer states.
      max_seq_gap: largest gap fraction a kept sequence may have, in ``[0, 1]``.
      max_col_gap: largest gap fraction a kept column may have, in ``[0, 1]``.
      gap_state: the gap's state index.

    Returns:
      :class:`FilteredAlignment` (kept ``seqs``, their ``rows`` and the kept ``columns`` in the input).

    Raises:
      ValueError: a bound outside ``[0, 1]``, bad ``seqs``, or no sequence / no column left (the message says which
        filter removed everything).
    """
    arr = _as_states(seqs)
    for name, value in (("max_seq_gap", max_seq_gap), ("max_col_gap", max_col_gap)):
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be a fraction in [0, 1], got {value}")
    gaps = arr == gap_state
    rows = np.flatnonzero(gaps.mean(axis=1) <= max_seq_gap)
    if rows.size == 0:
        raise ValueError(f"no sequence left: all {arr.shape[0]} sequences have a gap fraction above "
                         f"max_seq_gap={max_seq_gap} (smallest: {gaps.mean(axis=1).min():.3f})")
    columns = np.flatnonzero(gaps[rows].mean(axis=0) <= max_col_gap)
    if columns.size == 0:
        raise ValueError(f"no column left: all {arr.shape[1]} columns have a gap fraction above "
                         f"max_col_gap={max_col_gap} among the {rows.size} kept sequences")
    return FilteredAlignment(arr[np.ix_(rows, columns)], rows, columns)


@functools.partial(jax.jit, static_argnames=("block_size", "chunk"))
def _neighbour_counts(seqs: Array, min_identity: int, block_size: int, chunk: int) -> Array:
    m, length = seqs.shape
    n_blocks = -(-m // block_size)
    n_chunks = -(-length // chunk)
    pad_cols = n_chunks * chunk - length
    # Padding rows and columns hold -1 (rows) and -1 / -2 (columns of the two operands): states that never match.
    padded = jnp.pad(seqs, ((0, n_blocks * block_size - m), (0, pad_cols)), constant_values=-1)
    blocks = padded.reshape(n_blocks, block_size, n_chunks, chunk).transpose(0, 2, 3, 1)  # (blocks, chunks, chunk, B)
    columns = jnp.pad(seqs.T, ((0, pad_cols), (0, 0)), constant_values=-2).reshape(n_chunks, chunk, m)

    def block_counts(block):  # block: (chunks, chunk, B)
        def add_chunk(c, identity):  # ``chunk`` unrolled compares of a (B, M) tile, fused by XLA
            for i in range(chunk):
                identity = identity + (block[c, i][:, None] == columns[c, i][None, :])
            return identity

        identity = jax.lax.fori_loop(0, n_chunks, add_chunk, jnp.zeros((block_size, m), jnp.int32))
        return jnp.sum(identity >= min_identity, axis=1, dtype=jnp.int32)

    return jax.lax.map(block_counts, blocks).reshape(-1)[:m]


def min_identity(theta: float, length: int) -> int:
    """Sites two sequences of length ``L`` must share to be neighbours at identity ``theta``: ``ceil(theta * L)``
    (plmc's ``>= (1 - t) L`` in double precision, for integer counts)."""
    if not (is_real(theta) and 0.0 <= theta <= 1.0):
        raise ValueError(f"theta (the identity threshold) must be in [0, 1], got {theta!r}")
    theta = float(theta)
    # plmc: neighbours when matches >= (1 - t) * L in double precision; for integer matches that is the ceiling.
    return int(math.ceil(theta * length))


def neighbour_counts(seqs, theta: float = 0.8, *, block_size: int | None = None) -> Array:
    """Number of sequences identical to each sequence at ``>= theta * L`` columns (itself included).

    Args:
      seqs: ``(M, L)`` integer states; a gap matches a gap, as in plmc.
      theta: identity threshold in ``[0, 1]`` (plmc's ``1 - t``).
      block_size: rows compared against all ``M`` rows per step (default: about ``2**24 / M``, at most 1024).

    Returns:
      ``(M,)`` int32 device array, each entry ``>= 1``.
    """
    arr = _as_states(seqs)
    m, length = arr.shape
    if block_size is None:
        block_size = max(1, min(1024, _BLOCK_ENTRIES // m, m))
    block_size = int(block_size)
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    # Columns are added in unrolled chunks of at most _CHUNK (one fused pass each); equal chunks waste the least padding.
    chunk = -(-length // -(-length // _CHUNK))
    return _neighbour_counts(jnp.asarray(arr), jnp.int32(min_identity(theta, length)), min(block_size, m), chunk)


def sequence_weights(seqs, theta: float = 0.8, *, block_size: int | None = None) -> Array:
    """plmc's sequence weights: ``1 / neighbour_counts(seqs, theta)``.

    Args:
      seqs: ``(M, L)`` integer states (after any filtering: identity is taken over all ``L`` given columns).
      theta: identity threshold in ``[0, 1]``; 0.8 is plmc's default ``-t 0.2``.
      block_size: see :func:`neighbour_counts`.

    Returns:
      ``(M,)`` float32 device array of weights in ``(0, 1]``; :func:`effective_count` gives ``M_eff``.
    """
    return 1.0 / neighbour_counts(seqs, theta, block_size=block_size).astype(jnp.float32)


def traced_sequence_weights(seqs: Array, theta: float = 0.8) -> Array:
    """:func:`sequence_weights` of a device array, traceable inside ``jit`` / ``vmap`` (``augment`` reweights training
    plus generated sequences inside its compiled kernel).

    Nothing is checked on the host: ``seqs`` must already be ``(M, L)`` integer states (validated at the caller's
    edge); only ``theta`` (a Python float) and the shape are read.

    Args:
      seqs: ``(M, L)`` integer states (a traced array is fine).
      theta: identity threshold in ``[0, 1]``.

    Returns:
      ``(M,)`` float32 weights ``1 / neighbour count``.
    """
    m, length = seqs.shape
    block_size = max(1, min(1024, _BLOCK_ENTRIES // m, m))
    chunk = -(-length // -(-length // _CHUNK))
    counts = _neighbour_counts(jnp.asarray(seqs, jnp.int32), jnp.int32(min_identity(theta, length)), block_size,
                               chunk)
    return 1.0 / counts.astype(jnp.float32)


def identity_groups(seqs, theta: float = 0.8) -> np.ndarray:
    """Clusters of similar sequences: the connected components of the neighbour graph of :func:`neighbour_counts`
    (an edge where two sequences are identical at ``>= theta * L`` columns; single linkage, so a chain of neighbours
    is one group). Grouped cross-validation folds keep each group in one fold
    (:func:`ising_diffusion.inference.grouped_folds.grouped_folds`).

    Args:
      seqs: ``(M, L)`` integer states.
      theta: identity threshold in ``[0, 1]`` (0.8: the sequence weights' default).

    Returns:
      ``(M,)`` int32 group labels, numbered ``0, 1, ...`` in the order of each group's first sequence.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    arr = _as_states(seqs)
    m, length = arr.shape
    need = min_identity(theta, length)
    rows, cols = [], []
    block = max(1, _BLOCK_ENTRIES // max(1, m * length))
    for start in range(0, m, block):
        same = (arr[start:start + block, None, :] == arr[None, :, :]).sum(axis=2) >= need  # (B, M)
        r, c = np.nonzero(same)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(r.size, np.int8), (r, c)), shape=(m, m)).tocsr()
    _, labels = connected_components(graph, directed=False)
    # renumber in the order of each group's first sequence
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, np.int32)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size, dtype=np.int32)
    return rank[inverse.reshape(-1)]


def effective_count(weights) -> float:
    """The effective number of sequences ``M_eff = sum(weights)`` (float64 sum on the host)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D array, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    return float(w.sum())
