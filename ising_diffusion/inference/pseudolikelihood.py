"""Pseudolikelihood maximisation (Besag 1975; Aurell & Ekeberg 2012), symmetrised couplings.

Each spin's conditional ``p(s_i | s_rest) = sigmoid(2 s_i f_i)`` with ``f_i = h_i + sum_{j != i} J_ij s_j`` is fitted
with its own row of an asymmetric ``J`` (all rows at once: the objective is a sum of independent logistic
regressions), then ``J <- (J + J^T) / 2``. The optimiser is optax L-BFGS to a gradient tolerance, run in whitened
coordinates (:func:`whitening`): every row's logistic regression is then nearly isotropic, and L-BFGS needs about 2.5x
fewer iterations for the same estimate (``benchmarks/cv.py``, ``benchmarks/README.md``).

A small default L2 penalty ``l2/2 (|h|^2 + |J|^2)`` (``l2 = 1e-4``) keeps the fit finite when the data are separable,
e.g. a spin that never flips (its field would otherwise grow without bound); its bias on well-posed problems is of
relative order ``l2``, far below sampling noise. Pass ``l2=0`` for the unregularised estimator.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ising_diffusion.inference import lapack
from ising_diffusion.inference._optim import OptimInfo, lbfgs_minimize
from ising_diffusion.ising import IsingParams, symmetrize

__all__ = ["pseudolikelihood", "neg_log_pseudolikelihood", "log_pseudolikelihood_per_sample"]


def neg_log_pseudolikelihood(params: IsingParams, spins: Float[Array, "M N"],
                             weights: Float[Array, " M"] | None = None) -> Float[Array, ""]:
    """Mean over samples of ``-sum_i log p(s_i | s_rest)`` for fields ``h`` and a possibly asymmetric ``J``.

    ``J``'s diagonal is ignored. Row ``i`` of ``J`` holds the couplings of spin ``i``'s conditional.

    Args:
      params: ``IsingParams(h (N,), J (N, N))``.
      spins: ``(M, N)`` spins in {-1, +1}.
      weights: optional ``(M,)`` nonnegative sample weights, normalised here to sum to one (a weighted mean; zero
        weights drop samples, which is how cross-validation folds keep a static shape). ``None``: the plain mean.

    Returns:
      scalar.
    """
    per_sample = log_pseudolikelihood_per_sample(params, spins)
    if weights is None:
        return -jnp.mean(per_sample)
    return -jnp.sum(normalized(weights) * per_sample)


def log_pseudolikelihood_per_sample(params: IsingParams, spins: Float[Array, "M N"]) -> Float[Array, " M"]:
    """``sum_i log p(s_i | s_rest)`` of each sample, ``(M,)`` (``J``'s diagonal ignored; rows may be asymmetric)."""
    n = spins.shape[-1]
    J = params.J * (1.0 - jnp.eye(n, dtype=params.J.dtype))
    fields = params.h[None, :] + spins @ J.T
    return jnp.sum(jax.nn.log_sigmoid(2.0 * spins * fields), axis=-1)


def normalized(weights: Float[Array, " M"]) -> Float[Array, " M"]:
    """``weights / sum(weights)``, all zeros (not NaN) when every weight is zero."""
    weights = jnp.asarray(weights, jnp.float32)
    return weights / jnp.maximum(jnp.sum(weights), jnp.finfo(jnp.float32).tiny)


def whitening(spins: Float[Array, "M N"], weights: Float[Array, " M"] | None = None):
    """Mean ``mu (N,)``, ``A ~ Cov^{-1/2} (N, N)`` and ``A^{-1}`` of the (weighted) spins, for the change of variables
    ``J = V A`` (rows of ``J`` in whitened feature space), ``h = h~ - J mu`` (centred features).

    The Hessian of spin ``i``'s logistic regression is about ``4 c_i Cov``; in the new coordinates it is about
    ``4 c_i I``, so the joint problem over all rows is well conditioned. Directions of (numerically) zero variance,
    e.g. a spin that never flips, keep their scale (eigenvalue taken as 1: the data give them no curvature, only the
    penalty does, and amplifying them slowed such fits down); the other eigenvalues are floored at ``1e-3`` of the
    largest. Any invertible ``A`` has the same optimum: only the iteration count depends on it.
    """
    m, n = spins.shape
    w = jnp.full((m,), 1.0 / m, spins.dtype) if weights is None else normalized(weights)
    mu = w @ spins
    cov = (spins * w[:, None]).T @ spins - jnp.outer(mu, mu)
    ev, u = lapack.eigh(cov)  # one matrix per LAPACK call: a batched call can hang XLA's CPU pool (lapack.py)
    ev = jnp.where(ev > 1e-5 * jnp.maximum(ev[-1], 1.0), jnp.maximum(ev, 1e-3 * ev[-1]), 1.0)
    return mu, (u * ev[None, :]**-0.5) @ u.T, (u * ev[None, :]**0.5) @ u.T


def fit_asymmetric(spins, weights, l2, x0: IsingParams, *, max_iter: int, tol: float):
    """L-BFGS on the (weighted) penalised objective from ``x0``; ``l2`` may be traced. Returns unsymmetrised params
    (zero diagonal). Minimises in the coordinates of :func:`whitening`; ``tol`` and the returned ``OptimInfo`` refer to
    the gradient in the original ``(h, J)``."""
    n = spins.shape[-1]
    off = 1.0 - jnp.eye(n, dtype=spins.dtype)
    mu, a, a_inv = whitening(spins, weights)

    def to_params(q):
        J = (q.J @ a) * off
        return IsingParams(q.h - J @ mu, J)

    def loss(q):
        p = to_params(q)
        reg = 0.5 * l2 * (jnp.sum(p.h**2) + jnp.sum(p.J**2))
        return neg_log_pseudolikelihood(p, spins, weights) + reg

    def original_grad_norm(g):
        # the chain rule gives g_V = ((g_J - g_h mu^T) * off) A, so g_J (off the diagonal) = g_V A^{-1} + g_h mu^T
        g_J = (g.J @ a_inv + g.h[:, None] * mu[None, :]) * off
        return jnp.sqrt(jnp.sum(g.h**2) + jnp.sum(g_J**2))

    J0 = x0.J * off
    q0 = IsingParams(x0.h + J0 @ mu, J0 @ a_inv)
    q, info = lbfgs_minimize(loss, q0, max_iter=max_iter, tol=tol, grad_norm=original_grad_norm)
    return to_params(q), info


def pseudolikelihood(spins: Float[Array, "M N"], *, l2: float = 1e-4, max_iter: int = 500,
                     tol: float = 1e-5, weights: Float[Array, " M"] | None = None) -> tuple[IsingParams, OptimInfo]:
    """Maximum pseudolikelihood estimate with symmetrised couplings.

    Args:
      spins: ``(M, N)`` spins in {-1, +1} (duplicated rows count as often as they occur).
      l2: L2 penalty ``l2/2 (|h|^2 + |J|^2)`` added to the mean negative log-pseudolikelihood.
      max_iter: L-BFGS iteration cap.
      tol: stop when the gradient norm falls below ``tol``.
      weights: optional ``(M,)`` nonnegative sample weights (normalised inside; see
        :func:`neg_log_pseudolikelihood`). ``None``: every sample counts once. For ``l2="cv"`` (chosen by
        cross-validation) call :func:`ising_diffusion.infer` or :func:`ising_diffusion.inference.cross_validate_l2`.

    Returns:
      ``(IsingParams, OptimInfo)``.
    """
    spins = jnp.asarray(spins, jnp.float32)
    n = spins.shape[-1]
    x0 = IsingParams(jnp.zeros(n, jnp.float32), jnp.zeros((n, n), jnp.float32))
    p, info = fit_asymmetric(spins, weights, l2, x0, max_iter=max_iter, tol=tol)
    return IsingParams(p.h, symmetrize(p.J)), info
