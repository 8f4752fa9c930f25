"""The weighted Potts pseudolikelihood objective in the flat layout the fits optimise (plmDCA and plmc).

Parameters are :class:`FlatParams` ``(h (L, q), W (Lq, Lq))`` with ``W[(j, b), (i, a)] = J[i, j, a, b]``: the rows
``potts_fields.coupling_fields`` adds, so the logits of all sites are ``h + X W`` for the one-hot sequences
``X (M, Lq)``, computed without forming ``X``. Diagonal blocks of ``W`` are masked to zero.

No evaluation transposes ``W``. A transposed read of a ``1,113 x 1,113`` matrix inside an XLA CPU fusion is a strided
loop (PF00014, 2 cores: ``(W + W^T) / 2`` and its gradient took 28 of the 35 ms of one value and gradient at 200
sequences; 10 ms without), so:

* ``symmetric=False`` (plmDCA): ``W`` is stored in the layout the fields use (rows of ``J_ij`` read as columns), the
  transpose of the intuitive one; the symmetrisation at the end (:func:`to_params`) is the only transpose.
* ``symmetric=True`` (plmc's joint pseudolikelihood): ``W`` is kept exactly symmetric instead of being symmetrised at
  every evaluation: the fits start at ``W = 0`` and the gradient is symmetrised (:func:`shared`), so every L-BFGS
  iterate, a linear combination of symmetric matrices, is symmetric to the last bit and ``(W + W^T) / 2 = W``.

Objective (``-log PL`` over sequences with weights ``w_m``, ``W_sum = sum_m w_m``; see
:mod:`~ising_diffusion.inference.potts_pseudolikelihood` for the penalty conventions)::

    F = -(1/W_sum) sum_m w_m sum_i log p(s_i^m | s_rest^m) + c_h sum_{i,a} h_i(a)^2 + c_J sum_{i != j} |J_ij|_F^2
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ising_diffusion.inference.potts_fields import coupling_fields
from ising_diffusion.potts import PottsParams, symmetrize_couplings, zero_sum_gauge

__all__ = ["FlatParams", "field_gauge", "to_params", "coupling_mask", "shared", "symmetrized", "log_pl_per_sequence", "objective",
           "penalty_coefficients", "start_point"]


class FlatParams(NamedTuple):
    """Fields ``h (L, q)`` and couplings ``W (Lq, Lq)``, ``W[(j, b), (i, a)] = J[i, j, a, b]`` (symmetric fits:
    ``W = W^T``)."""

    h: Array
    W: Array


def field_gauge(x: FlatParams) -> FlatParams:
    """The same conditionals with every coupling block in the zero-sum gauge, its row means moved into the fields.

    In site ``i``'s conditional a row mean ``J_ij(a, .)`` acts as a field on ``s_i`` and a column mean ``J_ij(., b)``
    cancels, so the penalty alone splits ``i``'s field between ``h_i`` and its blocks. Symmetrising first (plmDCA's
    ``(J_ij + J_ji^T) / 2``) would halve that share of every field; moving it into ``h_i`` block by block first keeps
    it whole. A symmetric fit gets its zero-sum gauge, the same model.
    """
    length, q = x.h.shape
    W = x.W.reshape(length, q, length, q) * (1.0 - jnp.eye(length, dtype=x.W.dtype))[:, None, :, None]
    row = jnp.mean(W, axis=1, keepdims=True)  # [j, ., i, a] = J_ij(a, .)
    col = jnp.mean(W, axis=3, keepdims=True)  # [j, b, i, .] = J_ij(., b)
    both = jnp.mean(W, axis=(1, 3), keepdims=True)
    h = x.h + jnp.sum((row - both)[:, 0], axis=0)
    return FlatParams(h, (W - row - col + both).reshape(length * q, length * q))


def to_params(x: FlatParams) -> PottsParams:
    """Symmetrised, zero-sum-gauged ``PottsParams`` from the flat fit (:func:`field_gauge` first: the fields keep
    every site's own share)."""
    length, q = x.h.shape
    x = field_gauge(x)
    J = jnp.transpose(x.W.reshape(length, q, length, q), (2, 0, 3, 1))
    return zero_sum_gauge(PottsParams(x.h, symmetrize_couplings(J)))


def coupling_mask(length: int, q: int) -> Array:
    """``(Lq, Lq)`` float mask, zero on the ``q x q`` diagonal blocks."""
    return jnp.asarray(np.kron(1.0 - np.eye(length), np.ones((q, q))), jnp.float32)


@jax.custom_vjp
def shared(W: Array) -> Array:
    """``W`` itself, for a symmetric ``W`` whose entries ``W_kl = W_lk`` are one parameter: the cotangent is
    symmetrised, ``(G + G^T) / 2``, so L-BFGS iterates started symmetric stay exactly symmetric (every update is a
    combination of symmetric matrices) and no evaluation transposes ``W`` itself."""
    return W


def _shared_fwd(W):
    return W, None


def _shared_bwd(_, G):
    return (0.5 * (G + G.T),)


shared.defvjp(_shared_fwd, _shared_bwd)


def symmetrized(W: Array) -> Array:
    """``(W + W^T) / 2`` (the held-out score of a fit, once per fit)."""
    return 0.5 * (W + W.T)


def log_pl_per_sequence(x: FlatParams, idx: Array, mask: Array, symmetric: bool) -> Array:
    """``sum_i log p(s_i | s_rest)`` of each sequence, ``(M,)``; ``idx`` is ``flat_indices(seqs, q)``, ``(M, L)``.
    With ``symmetric`` ``x.W`` must be symmetric (the fits keep it so)."""
    m = idx.shape[0]
    length, q = x.h.shape
    Wm = x.W * mask
    logits = coupling_fields(shared(Wm) if symmetric else Wm, idx).reshape(m, length, q) + x.h[None]
    logp = jax.nn.log_softmax(logits, axis=-1)
    own = idx - q * jnp.arange(length, dtype=idx.dtype)[None, :]
    return jnp.sum(jnp.take_along_axis(logp, own[..., None], axis=-1), axis=(1, 2))


def objective(x: FlatParams, idx, w_norm, c_h, c_J, mask, symmetric: bool):
    """``F`` (module docstring) for normalised weights ``w_norm``; with ``symmetric`` ``x.W`` must be symmetric."""
    nll = -jnp.dot(w_norm, log_pl_per_sequence(x, idx, mask, symmetric))
    return nll + c_h * jnp.sum(x.h**2) + c_J * jnp.sum((x.W * mask) ** 2)


def penalty_coefficients(penalty: str, lambda_h, lambda_J, weight_sum):
    """``(c_h, c_J)`` of ``F`` for penalty convention ``"plmdca"`` or ``"plmc"`` and total weight ``weight_sum``."""
    if penalty == "plmdca":
        return lambda_h, lambda_J
    return lambda_h / weight_sum, lambda_J / (2.0 * weight_sum)


def start_point(idx: Array, w: Array, length: int, q: int) -> FlatParams:
    """Fields at plmc's start ``log(weighted count + 1)`` (raw weights ``w``), centred; couplings zero."""
    counts = jnp.zeros(length * q, w.dtype).at[idx.reshape(-1)].add(jnp.repeat(w, length)).reshape(length, q)
    h = jnp.log(counts + 1.0)
    h = h - jnp.mean(h, axis=-1, keepdims=True)
    return FlatParams(h, jnp.zeros((length * q, length * q), jnp.float32))
