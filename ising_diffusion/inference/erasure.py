"""The erasure machine (Jo, Hoang & Periwal, PRE 101, 032107, 2020), METHODS.md section 3.

With ``e_m = ops(s_m) . w = -E(s_m; w)`` for every observed sample (duplicates count), each iteration

1. reweights the data toward a uniform distribution, ``f_m ~ exp((eps - 1) e_m)`` normalised in log space (so the
   exponential never overflows): frequent, low-energy patterns are "erased";
2. updates ``w <- w + alpha (sum_m f_m ops(s_m) - eps w)``.

This is gradient descent with step ``alpha`` on the strongly convex function
``L(w) = log(sum_m exp((eps - 1) e_m)) / (1 - eps) + eps |w|^2 / 2``, so the fixed point does not depend on the
start (the reference starts small and random; we start at zero). ``sum_m f_m ops(s_m)`` is computed as weighted first
and second moments, never materialising the ``(M, K)`` operator matrix.

``eps`` is picked on a grid by the reference's rule: the eps whose fit gives the **largest** mean energy of the observed
data ``<E>_data`` (METHODS.md explains why argmax, not the paper's "minimised").
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ising_diffusion.ising import IsingParams, energy, flat_to_params, n_params, operators, symmetrize

__all__ = ["ErasureResult", "erasure_machine", "erasure_machine_auto", "DEFAULT_EPS_GRID"]

#: The reference's grid of inverse temperatures.
DEFAULT_EPS_GRID = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class ErasureResult(NamedTuple):
    """Erasure machine fit over a grid of ``eps``.

    Attributes:
      params: parameters at the chosen eps.
      eps: the chosen eps.
      eps_grid: ``(G,)`` grid.
      mean_energy: ``(G,)`` mean energy ``<E>_data`` of the observed data under each fit.
      params_grid: ``IsingParams`` with a leading ``(G,)`` axis: the fit at every eps.
    """

    params: IsingParams
    eps: Float[Array, ""]
    eps_grid: Float[Array, " G"]
    mean_energy: Float[Array, " G"]
    params_grid: IsingParams


def erasure_machine(spins: Float[Array, "M N"], eps: float | Array = 0.5, *, alpha: float = 0.1,
                    n_iter: int = 150) -> IsingParams:
    """Erasure machine fit at one inverse temperature ``eps`` in (0, 1).

    Pure and transformation-safe (``n_iter`` must be static under ``jit``).

    Args:
      spins: ``(M, N)`` observed spins in {-1, +1} (validated by the caller, e.g. :func:`ising_diffusion.infer`).
      eps: inverse temperature in (0, 1).
      alpha: step size.
      n_iter: number of iterations.

    Returns:
      ``IsingParams``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    n = spins.shape[-1]
    offdiag = 1.0 - jnp.eye(n, dtype=spins.dtype)

    def step(params, _):
        e = -energy(params, spins)  # ops . w
        logf = (eps - 1.0) * e
        f = jax.nn.softmax(logf)  # normalised in log space: no overflow
        mean = f @ spins
        second = (spins * f[:, None]).T @ spins
        h = params.h + alpha * (mean - eps * params.h)
        J = params.J + alpha * (second * offdiag - eps * params.J)
        return IsingParams(h, J), None

    init = IsingParams(jnp.zeros(n, spins.dtype), jnp.zeros((n, n), spins.dtype))
    params, _ = jax.lax.scan(step, init, None, length=n_iter)
    return IsingParams(params.h, symmetrize(params.J))


#: Largest ``M * K`` (operator-matrix entries, float32) for which the eps grid runs on the materialised operators.
OPS_MATRIX_LIMIT = 2**25


def _erasure_grid(spins, grid, alpha: float, n_iter: int) -> IsingParams:
    """Every eps of ``grid`` at once: the fits share the data, so each iteration is two large matmuls.

    A ``vmap`` of :func:`erasure_machine` gives ``G`` small batched products per step. When the ``(M, K)`` operator
    matrix is small (``M K <= OPS_MATRIX_LIMIT``) it is built once and each iteration is ``ops @ W^T`` (energies of all
    samples under all ``G`` fits) and ``F^T @ ops`` (all weighted moments). Otherwise the ``G`` coupling matrices sit
    side by side as one ``(N, G N)`` matrix: the energies are one ``(M, N) x (N, G N)`` product and the weighted second
    moments one ``(G N, M) x (M, N)`` product. Same update as :func:`erasure_machine`, equal up to float rounding.
    """
    m, n = spins.shape
    g = grid.shape[0]
    if m * n_params(n) <= OPS_MATRIX_LIMIT:
        ops = operators(spins)

        def ops_step(W, _):
            f = jax.nn.softmax((grid - 1.0)[None, :] * (ops @ W.T), axis=0)  # (M, G), log-space normalised
            return W + alpha * (f.T @ ops - grid[:, None] * W), None

        W, _ = jax.lax.scan(ops_step, jnp.zeros((g, ops.shape[1]), spins.dtype), None, length=n_iter)
        return jax.vmap(lambda w: flat_to_params(w, n))(W)
    offdiag = 1.0 - jnp.eye(n, dtype=spins.dtype)

    def step(params, _):
        h, J = params  # (G, N), (G, N, N)
        fields = (spins @ jnp.transpose(J, (1, 0, 2)).reshape(n, g * n)).reshape(m, g, n)  # s J_g, all g
        e = spins @ h.T + 0.5 * jnp.einsum("mgn,mn->mg", fields, spins)  # ops . w_g = -E_g   (M, G)
        f = jax.nn.softmax((grid - 1.0)[None, :] * e, axis=0)  # per-eps weights over samples, log-space normalised
        mean = f.T @ spins  # (G, N)
        second = ((f[:, :, None] * spins[:, None, :]).reshape(m, g * n).T @ spins).reshape(g, n, n)
        h = h + alpha * (mean - grid[:, None] * h)
        J = J + alpha * (second * offdiag - grid[:, None, None] * J)
        return IsingParams(h, J), None

    init = IsingParams(jnp.zeros((g, n), spins.dtype), jnp.zeros((g, n, n), spins.dtype))
    params, _ = jax.lax.scan(step, init, None, length=n_iter)
    return IsingParams(params.h, jax.vmap(symmetrize)(params.J))


@partial(jax.jit, static_argnames=("alpha", "n_iter"))
def erasure_machine_auto(spins: Float[Array, "M N"], eps_grid=DEFAULT_EPS_GRID, *, alpha: float = 0.1,
                         n_iter: int = 150) -> ErasureResult:
    """Erasure machine over a grid of ``eps`` (one vmapped, compiled call), choosing eps by the reference's rule.

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.
      eps_grid: inverse temperatures in (0, 1).
      alpha: step size.
      n_iter: iterations per eps.

    Returns:
      :class:`ErasureResult`; ``result.params`` is the fit at the eps with the largest ``<E>_data``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    grid = jnp.asarray(eps_grid, jnp.float32)
    fits = _erasure_grid(spins, grid, alpha, n_iter)
    mean_energy = jax.vmap(lambda p: jnp.mean(energy(p, spins)))(fits)
    best = jnp.argmax(mean_energy)
    chosen = jax.tree.map(lambda x: x[best], fits)
    return ErasureResult(chosen, grid[best], grid, mean_energy, fits)
