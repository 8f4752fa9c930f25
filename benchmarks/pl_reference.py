"""Pseudolikelihood references in NumPy/SciPy: the strongest plain-CPU implementation (row by row) and the joint one.

The objective is the library's (``ising_diffusion.inference.pseudolikelihood``): the mean over samples of
``sum_i softplus(-2 s_i f_i)``, ``f_i = h_i + sum_{j != i} J_ij s_j``, plus ``l2/2 (|h|^2 + |J|^2)``, then
``J <- (J + J^T) / 2``. It is a sum of N independent logistic regressions, one per spin ``i`` over the N parameters
``(h_i, J_i,-i)``, so the fastest plain implementation solves them one after another with SciPy's L-BFGS-B on a
vectorised NumPy value-and-gradient of ``M x N`` work (as ConIII's ``Pseudo`` and plmDCA do, without their Python
loops). :func:`pseudolikelihood_rows` is that reference; :func:`pseudolikelihood_joint` is the earlier one (one
L-BFGS-B over all ``N + N^2`` parameters), kept to show why it was slow.

Both run in float64 and stop by SciPy's defaults (``ftol = 2.2e-9``, projected gradient ``gtol``); the benchmarks report
the full objective's gradient norm at each solution (:func:`grad_norm`) so the tolerances can be compared with ours
(float32, ``|grad| < 1e-5``).
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

__all__ = ["pseudolikelihood_rows", "pseudolikelihood_joint", "grad_norm", "symmetrized_flat"]


def _row_problem(s: np.ndarray, i: int, l2: float):
    """Value and gradient of spin ``i``'s penalised logistic regression; ``w[i]`` is ``h_i``, ``w[j != i]`` is
    ``J_ij`` (no copy of the data without column ``i``: column ``i`` of the features is the constant 1)."""
    m = s.shape[0]
    # labels folded into the features: z = 2 s_i (h_i + sum_j J_ij s_j) = yx @ w
    yx = s * (2.0 * s[:, i:i + 1])
    yx[:, i] = 2.0 * s[:, i]

    def f(w):
        z = yx @ w
        e = np.exp(-np.abs(z))
        # softplus(-z) = max(-z, 0) + log1p(e^-|z|) (np.logaddexp is several times slower);
        # d softplus(-z) / dz = -sigmoid(-z)
        loss = (np.sum(np.maximum(-z, 0.0)) + np.sum(np.log1p(e))) / m + 0.5 * l2 * (w @ w)
        sig = np.where(z >= 0, e, 1.0) / (1.0 + e)
        grad = yx.T @ sig * (-1.0 / m) + l2 * w
        return loss, grad

    return f


def pseudolikelihood_rows(spins: np.ndarray, l2: float = 1e-4, *, gtol: float = 1e-5, ftol: float = 2.2e-9,
                          maxiter: int = 500, return_info: bool = False):
    """Row-wise SciPy L-BFGS-B pseudolikelihood: N independent logistic regressions, then symmetrised couplings.

    Args:
      spins: ``(M, N)`` spins in {-1, +1}.
      l2: penalty ``l2/2 (|h|^2 + |J|^2)`` on the mean negative log-pseudolikelihood (as the library's).
      gtol, ftol, maxiter: SciPy L-BFGS-B stopping rules of every row (SciPy's defaults except ``maxiter``).
      return_info: also return ``dict(n_iter=(N,) iterations per row, n_fev=(N,) evaluations per row, h, J)`` with
        the unsymmetrised ``J`` (for :func:`grad_norm`).

    Returns:
      flat ``(N + N(N-1)/2,)`` parameters ``[h, J upper triangle]`` (``ising_diffusion.ising.params_to_flat``'s
      layout), and the info when asked.
    """
    s = np.asarray(spins, np.float64)
    m, n = s.shape
    h, J = np.zeros(n), np.zeros((n, n))
    n_iter, n_fev = np.zeros(n, int), np.zeros(n, int)
    for i in range(n):
        res = scipy.optimize.minimize(_row_problem(s, i, l2), np.zeros(n), jac=True, method="L-BFGS-B",
                                      options=dict(maxiter=maxiter, gtol=gtol, ftol=ftol))
        h[i] = res.x[i]
        J[i] = res.x
        J[i, i] = 0.0
        n_iter[i], n_fev[i] = res.nit, res.nfev
    flat = symmetrized_flat(h, J)
    return (flat, dict(n_iter=n_iter, n_fev=n_fev, h=h, J=J)) if return_info else flat


def pseudolikelihood_joint(spins: np.ndarray, l2: float = 1e-4, *, gtol: float = 1e-6, maxiter: int = 500):
    """Joint (all rows at once) pseudolikelihood, vectorised NumPy objective, one SciPy L-BFGS-B over ``N + N^2``
    parameters. Same objective and output as :func:`pseudolikelihood_rows`; slow because one ill-conditioned joint
    problem needs many more iterations than its N small independent parts."""
    s = np.asarray(spins, np.float64)
    m, n = s.shape
    off = 1.0 - np.eye(n)

    def f(x):
        h, J = x[:n], x[n:].reshape(n, n) * off
        z = 2.0 * s * (h[None, :] + s @ J.T)
        loss = np.mean(np.sum(np.logaddexp(0.0, -z), axis=1)) + 0.5 * l2 * (x @ x)
        dz = -2.0 * s * (1.0 / (1.0 + np.exp(z))) / m  # d loss / d fields
        grad_h = dz.sum(0) + l2 * h
        grad_J = (dz.T @ s) * off + l2 * x[n:].reshape(n, n)
        return loss, np.concatenate([grad_h, grad_J.ravel()])

    res = scipy.optimize.minimize(f, np.zeros(n + n * n), jac=True, method="L-BFGS-B",
                                  options=dict(maxiter=maxiter, gtol=gtol))
    return symmetrized_flat(res.x[:n], res.x[n:].reshape(n, n) * off)


def symmetrized_flat(h: np.ndarray, J: np.ndarray) -> np.ndarray:
    """``[h, upper triangle of (J + J^T) / 2]`` as one flat vector."""
    J = 0.5 * (J + J.T)
    return np.concatenate([h, J[np.triu_indices(h.shape[0], 1)]])


def grad_norm(spins: np.ndarray, h: np.ndarray, J: np.ndarray, l2: float) -> float:
    """Euclidean norm of the gradient of the full (all rows) penalised objective at the *unsymmetrised* ``(h, J)``, in
    float64: the quantity the library's L-BFGS stops on (``< tol``)."""
    s = np.asarray(spins, np.float64)
    m, n = s.shape
    off = 1.0 - np.eye(n)
    z = 2.0 * s * (h[None, :] + s @ (J * off).T)
    dz = -2.0 * s * (1.0 / (1.0 + np.exp(z))) / m
    g_h = dz.sum(0) + l2 * h
    g_J = (dz.T @ s) * off + l2 * J * off
    return float(np.sqrt(np.sum(g_h**2) + np.sum(g_J**2)))
