"""Inverse Ising solvers: ``infer(spins, method=...)`` and the per-method pure cores it dispatches to."""

from ising_diffusion.inference._optim import OptimInfo
from ising_diffusion.inference.api import (
    CV_METHODS,
    check_options,
    cross_validate_l2,
    CV_OPTIONS,
    CV_SOLVERS,
    erasure_core,
    freeze_options,
    infer,
    infer_batch,
    METHODS,
    NEEDS_KEY,
    resolve_solver,
    SOLVERS,
)
from ising_diffusion.inference.closed_form import (
    DEFAULT_CLIP,
    DEFAULT_RIDGE,
    ClosedFormInfo,
    independent,
    independent_exact,
    mean_field,
    tap,
)
from ising_diffusion.inference.cv import CV_RULES, DEFAULT_L2_GRID, CVInfo, mle_exact_cv, pseudolikelihood_cv
from ising_diffusion.inference.erasure import (
    DEFAULT_EPS_GRID,
    ErasureResult,
    erasure_machine,
    erasure_machine_auto,
)
from ising_diffusion.inference.mle import McmcInfo, mle_exact, mle_mcmc
from ising_diffusion.inference.pseudolikelihood import neg_log_pseudolikelihood, pseudolikelihood
from ising_diffusion.inference.signatures import method_options

__all__ = [
    "CVInfo",
    "CV_METHODS",
    "CV_OPTIONS",
    "CV_RULES",
    "CV_SOLVERS",
    "DEFAULT_CLIP",
    "DEFAULT_EPS_GRID",
    "DEFAULT_L2_GRID",
    "DEFAULT_RIDGE",
    "METHODS",
    "NEEDS_KEY",
    "SOLVERS",
    "ClosedFormInfo",
    "ErasureResult",
    "McmcInfo",
    "OptimInfo",
    "check_options",
    "cross_validate_l2",
    "erasure_core",
    "erasure_machine",
    "erasure_machine_auto",
    "freeze_options",
    "independent",
    "independent_exact",
    "infer",
    "infer_batch",
    "mean_field",
    "method_options",
    "mle_exact",
    "mle_exact_cv",
    "mle_mcmc",
    "neg_log_pseudolikelihood",
    "pseudolikelihood",
    "pseudolikelihood_cv",
    "resolve_solver",
    "tap",
]
