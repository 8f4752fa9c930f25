"""Inverse Ising solvers: ``infer(spins, method=...)`` and the per-method pure cores it dispatches to."""

from ising_diffusion.inference._optim import OptimInfo
from ising_diffusion.inference.api import METHODS, erasure_core, infer, infer_batch
from ising_diffusion.inference.closed_form import (
    DEFAULT_CLIP,
    DEFAULT_RIDGE,
    ClosedFormInfo,
    independent,
    independent_exact,
    mean_field,
    tap,
)
from ising_diffusion.inference.erasure import (
    DEFAULT_EPS_GRID,
    ErasureResult,
    erasure_machine,
    erasure_machine_auto,
)
from ising_diffusion.inference.mle import McmcInfo, mle_exact, mle_mcmc
from ising_diffusion.inference.pseudolikelihood import neg_log_pseudolikelihood, pseudolikelihood

__all__ = [
    "DEFAULT_CLIP",
    "DEFAULT_EPS_GRID",
    "DEFAULT_RIDGE",
    "METHODS",
    "ClosedFormInfo",
    "ErasureResult",
    "McmcInfo",
    "OptimInfo",
    "erasure_core",
    "erasure_machine",
    "erasure_machine_auto",
    "independent",
    "independent_exact",
    "infer",
    "infer_batch",
    "mean_field",
    "mle_exact",
    "mle_mcmc",
    "neg_log_pseudolikelihood",
    "pseudolikelihood",
    "tap",
]
