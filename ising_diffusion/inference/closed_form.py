"""Closed-form inverse Ising estimates from data moments: independent, naive mean field and TAP.

All are pure functions of the ``(M, N)`` spins (duplicated rows simply count twice), safe under ``jit`` and ``vmap``.

Regularisation, the same for every method here (and documented in ``docs/inference.md``):

* magnetisations are clipped to ``|m_i| <= 1 - clip`` (default ``clip = 1e-3``, so ``|atanh(m_i)| <= 3.8``) before any
  ``atanh``; a spin that never flips therefore gets a large but finite field;
* the connected correlation matrix ``C = <s s^T> - m m^T`` is inverted as ``C + ridge * I`` (default
  ``ridge = 1e-3``): a spin that never flips has a zero row and column in ``C``, and exactly duplicated spins make ``C``
  singular; with the ridge such a spin gets zero couplings instead of NaN, and well-conditioned data are barely
  changed (``C``'s diagonal is ``1 - m_i^2``, of order one).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float

from ising_diffusion.inference import lapack
from ising_diffusion.ising import IsingParams, moments, symmetrize

__all__ = ["DEFAULT_CLIP", "DEFAULT_RIDGE", "ClosedFormInfo", "clip_magnetisation", "connected_correlations",
           "independent", "independent_exact", "mean_field", "tap"]

#: Magnetisations are clipped to ``|m| <= 1 - DEFAULT_CLIP``.
DEFAULT_CLIP = 1e-3
#: Ridge added to the diagonal of the connected correlation matrix before inversion.
DEFAULT_RIDGE = 1e-3


class ClosedFormInfo(NamedTuple):
    """Diagnostics of a closed-form estimate.

    Attributes:
      n_clipped: number of magnetisations that were clipped (spins that (almost) never flip).
    """

    n_clipped: Array


def clip_magnetisation(m: Float[Array, " N"], clip: float = DEFAULT_CLIP) -> Float[Array, " N"]:
    """Clip magnetisations to ``[-1 + clip, 1 - clip]`` so ``atanh`` stays finite."""
    return jnp.clip(m, -1.0 + clip, 1.0 - clip)


def connected_correlations(spins: Float[Array, "M N"]) -> tuple[Float[Array, " N"], Float[Array, "N N"]]:
    """Magnetisations ``m (N,)`` and connected correlations ``C = <s s^T> - m m^T (N, N)`` of the data."""
    mean, second = moments(spins)
    return mean, second - mean[:, None] * mean[None, :]


def _n_clipped(m, clip):
    return jnp.sum(jnp.abs(m) > 1.0 - clip)


def independent(spins: Float[Array, "M N"]) -> tuple[IsingParams, ClosedFormInfo]:
    """Hopfield-style estimate ``w = <ops>_data``: ``h_i = <s_i>``, ``J_ij = <s_i s_j>`` (the weakest baseline).

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.

    Returns:
      ``(IsingParams, ClosedFormInfo)``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    mean, second = moments(spins)
    return IsingParams(mean, symmetrize(second)), ClosedFormInfo(jnp.zeros((), jnp.int32))


def independent_exact(spins: Float[Array, "M N"], *, clip: float = DEFAULT_CLIP) -> tuple[IsingParams, ClosedFormInfo]:
    """Exact maximum likelihood of the independent-spin model: ``h_i = atanh(m_i)``, ``J = 0``.

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.
      clip: magnetisations are clipped to ``|m| <= 1 - clip``.

    Returns:
      ``(IsingParams, ClosedFormInfo)``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    m = jnp.mean(spins, axis=0)
    n = m.shape[0]
    return (IsingParams(jnp.arctanh(clip_magnetisation(m, clip)), jnp.zeros((n, n), jnp.float32)),
            ClosedFormInfo(_n_clipped(m, clip)))


def _inverse_correlations(spins, ridge):
    m, c = connected_correlations(spins)
    n = m.shape[0]
    c_inv = lapack.inv(c + ridge * jnp.eye(n, dtype=c.dtype))  # one matrix per LAPACK call (lapack.py)
    return m, symmetrize(c_inv)


def mean_field(spins: Float[Array, "M N"], *, clip: float = DEFAULT_CLIP,
               ridge: float = DEFAULT_RIDGE) -> tuple[IsingParams, ClosedFormInfo]:
    """Naive mean-field inversion: ``J = -(C^-1)`` off the diagonal, ``h_i = atanh(m_i) - sum_j J_ij m_j``.

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.
      clip: magnetisations are clipped to ``|m| <= 1 - clip``.
      ridge: ``C + ridge * I`` is inverted (see the module docstring).

    Returns:
      ``(IsingParams, ClosedFormInfo)``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    m, c_inv = _inverse_correlations(spins, ridge)
    J = -c_inv  # symmetrize already zeroed the diagonal
    mc = clip_magnetisation(m, clip)
    h = jnp.arctanh(mc) - J @ mc
    return IsingParams(h, J), ClosedFormInfo(_n_clipped(m, clip))


def tap(spins: Float[Array, "M N"], *, clip: float = DEFAULT_CLIP,
        ridge: float = DEFAULT_RIDGE) -> tuple[IsingParams, ClosedFormInfo]:
    """TAP inversion (Kappen & Rodriguez 1998; Tanaka 1998).

    Solves ``(C^-1)_ij = -J_ij - 2 J_ij^2 m_i m_j`` for ``J_ij`` on the root that tends to naive mean field as
    ``m -> 0``, written in the cancellation-free form ``J = -2 c / (1 + sqrt(1 - 8 m_i m_j c))``; where the
    discriminant is negative (no real TAP solution) it is clipped to zero. Fields from the TAP self-consistency
    ``h_i = atanh(m_i) - sum_j J_ij m_j + m_i sum_j J_ij^2 (1 - m_j^2)``.

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.
      clip: magnetisations are clipped to ``|m| <= 1 - clip``.
      ridge: ``C + ridge * I`` is inverted (see the module docstring).

    Returns:
      ``(IsingParams, ClosedFormInfo)``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    m, c_inv = _inverse_correlations(spins, ridge)
    mc = clip_magnetisation(m, clip)
    mm = mc[:, None] * mc[None, :]
    disc = jnp.maximum(1.0 - 8.0 * mm * c_inv, 0.0)
    J = symmetrize(-2.0 * c_inv / (1.0 + jnp.sqrt(disc)))
    h = jnp.arctanh(mc) - J @ mc + mc * ((J**2) @ (1.0 - mc**2))
    return IsingParams(h, J), ClosedFormInfo(_n_clipped(m, clip))
