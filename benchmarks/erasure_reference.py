"""The erasure machine's published update in plain NumPy: the reference the library's erasure fit is tested and
benchmarked against (``ising_diffusion.inference.erasure``).

It works on the full operator matrix ``[s_i, s_i s_j (i < j)]`` of shape ``(M, N + N (N - 1) / 2)``, as the published
code does, in float64, starting from zero (as the library does; the published code starts small and random).
"""

from __future__ import annotations

import numpy as np

__all__ = ["erasure_reference"]


def erasure_reference(spins: np.ndarray, eps: float, alpha: float = 0.1, n_iter: int = 150) -> np.ndarray:
    """``n_iter`` steps of ``w += alpha (sum_m f_m ops(s_m) - eps w)``, ``f = softmax((eps - 1) ops @ w)``; returns
    the flat weights ``w`` (fields first, then the upper-triangle couplings, the layout of ``params_to_flat``)."""
    n = spins.shape[1]
    iu = np.triu_indices(n, k=1)
    ops = np.concatenate([spins, spins[:, iu[0]] * spins[:, iu[1]]], axis=1).astype(np.float64)
    w = np.zeros(ops.shape[1])
    for _ in range(n_iter):
        e = ops @ w
        f = np.exp((eps - 1.0) * (e - e.max()))
        f /= f.sum()
        w += alpha * (f @ ops - eps * w)
    return w
