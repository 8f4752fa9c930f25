"""Mean-field DCA (Morcos et al. 2011): couplings from the inverse of the pseudocounted connected correlation matrix.

With weighted frequencies ``f_i(a)``, ``f_ij(a, b)`` (weights normalised to sum one) mixed with a uniform pseudocount
``lambda``: ``f_i <- (1 - lambda) f_i + lambda / q``, ``f_ij <- (1 - lambda) f_ij + lambda / q^2`` (``i != j``),
``f_ii(a, b) = f_i(a) delta_ab``, the connected correlations ``C_ij(a, b) = f_ij(a, b) - f_i(a) f_j(b)`` over all
states but a reference (state 0) are inverted: ``J_ij(a, b) = -(C^-1)_ij(a, b)`` for ``i != j``, zero on the reference
rows and columns. Fields are the mean-field ones, ``h_i(a) = log(f_i(a) / f_i(0)) - sum_{j != i} sum_b J_ij(a, b)
f_j(b)``. The result is returned in the zero-sum gauge. One ``L(q-1)`` matrix inverse (float64): the fast baseline.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ising_diffusion.potts import PottsParams, check_sequences, zero_sum_gauge

__all__ = ["MeanFieldInfo", "mean_field_dca"]


class MeanFieldInfo(NamedTuple):
    """Diagnostics of :func:`mean_field_dca`: the ``pseudocount`` used and ``m_eff``, the sum of the weights."""

    pseudocount: float
    m_eff: float


def mean_field_dca(seqs: Int[Array, "M L"], weights: Float[Array, " M"] | None = None, *, q: int | None = None,
                   pseudocount: float = 0.5) -> tuple[PottsParams, MeanFieldInfo]:
    """Mean-field DCA estimate (see the module docstring).

    Args:
      seqs: ``(M, L)`` integer states in ``[0, q)``.
      weights: ``(M,)`` nonnegative sequence weights; ``None``: all ones.
      q: number of states; ``None``: ``max(seqs) + 1``.
      pseudocount: ``lambda`` in ``(0, 1)``; 0.5 is Morcos et al.'s choice for protein families.

    Returns:
      ``(PottsParams in the zero-sum gauge, MeanFieldInfo)``.
    """
    seqs, w, q = check_sequences(seqs, weights, q)
    if not 0 < pseudocount < 1:
        raise ValueError(f"pseudocount must be in (0, 1), got {pseudocount!r}")
    m, length = seqs.shape
    x = jax.nn.one_hot(jnp.asarray(seqs), q, dtype=jnp.float32).reshape(m, length * q)
    w_norm = jnp.asarray(w / w.sum(dtype=np.float64), jnp.float32)
    f1 = np.asarray(w_norm @ x, np.float64)
    f2 = np.asarray((x * w_norm[:, None]).T @ x, np.float64)
    lam = float(pseudocount)
    f1 = (1 - lam) * f1 + lam / q
    f2 = (1 - lam) * f2 + lam / q**2
    block = np.kron(np.eye(length), np.ones((q, q))).astype(bool)
    f2[block] = np.diag(f1)[block]  # f_ii(a, b) = f_i(a) delta_ab
    c = f2 - np.outer(f1, f1)
    keep = np.tile(np.arange(q) != 0, length)  # drop the reference state 0 of every site
    j_red = -np.linalg.inv(c[np.ix_(keep, keep)])
    J = np.zeros((length * q, length * q))
    J[np.ix_(keep, keep)] = j_red
    J[block] = 0.0
    J = J.reshape(length, q, length, q).transpose(0, 2, 1, 3)
    f1 = f1.reshape(length, q)
    h = np.log(f1 / f1[:, :1]) - np.einsum("ijab,jb->ia", J, f1)
    params = zero_sum_gauge(PottsParams(jnp.asarray(h, jnp.float32), jnp.asarray(J, jnp.float32)))
    return params, MeanFieldInfo(lam, float(w.sum(dtype=np.float64)))
