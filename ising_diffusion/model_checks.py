"""Value checks of model parameters handed to the samplers and exact enumeration, shared by the Ising and Potts modules.

Each check reads values only when the arrays are concrete: under ``jit`` / ``vmap`` the arrays are tracers and the
check is the caller's (the experiments build their parameters themselves). A NaN field would otherwise give
normal-looking samples (the Metropolis test ``u < exp(NaN)`` is never true, exact sampling draws one state), and an
asymmetric coupling matrix or a non-zero diagonal makes a sampler's conditionals disagree with the energy it claims to
sample.
"""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["check_finite_params", "check_ising_couplings", "check_potts_couplings"]


def _concrete(x) -> np.ndarray | None:
    return None if isinstance(x, jax.core.Tracer) else np.asarray(x)


def check_finite_params(params, name: str = "params") -> None:
    """A ValueError naming the field when a concrete ``params.h`` or ``params.J`` holds NaN or infinity."""
    for field in ("h", "J"):
        x = _concrete(getattr(params, field))
        if x is not None and not np.all(np.isfinite(x)):
            raise ValueError(f"{name}.{field} must be finite, got {int(np.sum(~np.isfinite(x)))} NaN or infinite "
                             f"entries")


def check_ising_couplings(J) -> None:
    """A ValueError unless a concrete ``J (N, N)`` is symmetric with a zero diagonal."""
    Jn = _concrete(J)
    if Jn is not None and (np.any(np.diagonal(Jn) != 0) or not np.allclose(Jn, Jn.T, rtol=1e-5, atol=1e-6)):
        raise ValueError("params.J must be symmetric with a zero diagonal (the energy reads only its symmetric, "
                         "off-diagonal part; the sampler's local fields would not): use symmetrize(J) from "
                         "ising_diffusion.ising")


def check_potts_couplings(J) -> None:
    """A ValueError unless a concrete ``J (L, L, q, q)`` has ``J[i, j] == J[j, i].T`` and zero diagonal blocks."""
    Jn = _concrete(J)
    if Jn is None:
        return
    diagonal = Jn[np.arange(Jn.shape[0]), np.arange(Jn.shape[0])]
    if np.any(diagonal != 0) or not np.allclose(Jn, Jn.transpose(1, 0, 3, 2), rtol=1e-5, atol=1e-6):
        raise ValueError("params.J must satisfy J[i, j] == J[j, i].T with zero diagonal blocks J[i, i] (the energy "
                         "reads only that part; the sampler's conditionals would not): use symmetrize_couplings(J) "
                         "from ising_diffusion.potts")
