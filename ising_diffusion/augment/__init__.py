"""Data augmentation for inverse Ising inference with a generative model (the paper's method, METHODS.md section 4,
plus selection by a held-out score), on +-1 spins or, with a q-state generator, on aligned sequences (Potts solver).

:func:`augment` trains a generator (DDPM by default) on the training spins. At every monitor point it generates
samples, records their energy variance under ``w_train`` (the solver's fit to the training data; the paper's monitor)
and, for each ratio ``r`` of the config's ``mix_grid``, fits the solver to the training data plus ``r M`` generated
samples and scores the held-out test set (exact mean log-likelihood for small N, else mean log-pseudolikelihood).
The stopping rule picks the point (and, for the default ``"score"`` rule, the ratio); the result says whether the
augmented data are recommended over the training data alone and gives the fit to use (``params_selected``).
:func:`augment_seeds` runs ``S`` independent seeds as one vmapped computation.

One idea per module:

=================  ====================================================================================================
``config``         :class:`AugmentConfig` = :class:`Budget` + :class:`Selection` + :class:`SolverSpec` (flat keywords
                   accepted)
``score``          the held-out score of a fit (:func:`held_out_score`) and the mix sizes
``solver``         the solver adapter: one ``infer`` method as a full fit and a fixed-penalty fit; the
                   :class:`DataModel` (fits, held-out terms, energy, MSE) the kernel takes per data kind
``potts_solver``   the :class:`DataModel` of alignments: weighted Potts pseudolikelihood, weighted held-out PL
``sequences``      the alignments' data edge: q-state generators, checks, truth, generator quality
``inputs``         the arguments checked once at the edge, spins or sequences by the generator's kind
``kernel``         the pure per-seed kernel: ``init`` / ``step(key, state) -> (state, info)`` / ``finalize``
``seeds``          the kernel over a leading seed axis (vmap / sequential map, jit) and the seeds' sharding
``rules``          the stopping and selection rules and the recommendation, on plain arrays
``guard``          the optional parametric bootstrap guard of a recommendation (``Selection(guard="bootstrap")``)
``checkpoints``    what is saved at each monitor point, and :func:`load_checkpointed_state`
``driver``         :func:`augment` / :func:`augment_seeds`: validation, the loop over points, the result
``result``         :class:`AugmentResult`
=================  ====================================================================================================
"""

from ising_diffusion.augment.checkpoints import load_checkpointed_state
from ising_diffusion.augment.config import (
    DEFAULT_MONITOR_STEPS,
    DEFAULT_N_STEPS,
    DEFAULT_SOLVER,
    DEFAULT_SOLVER_OPTIONS,
    FLAT_FIELDS,
    PAPER_AUGMENT,
    AugmentConfig,
    Budget,
    Selection,
    SolverSpec,
)
from ising_diffusion.augment.driver import augment, augment_seeds
from ising_diffusion.augment.guard import GuardDecision, apply_guard, draw_replicates, guard_decision
from ising_diffusion.augment.potts_solver import DEFAULT_POTTS_OPTIONS, POTTS_SOLVER, potts_model
from ising_diffusion.augment.sequences import DEFAULT_SEQUENCE_GENERATOR, DEFAULT_THETA
from ising_diffusion.augment.solver import DataModel, ising_model
from ising_diffusion.augment.kernel import AugmentState, FinalFits, Kernel, Reference, StepInfo, build_kernel
from ising_diffusion.augment.result import AugmentationNotRecommendedWarning, AugmentResult
from ising_diffusion.augment.rules import (
    Recommendation,
    ScoreChoice,
    VarianceStops,
    recommend,
    score_choice,
    stop_indices,
    variance_stops,
)
from ising_diffusion.augment.score import held_out_score, held_out_terms, mix_sizes
from ising_diffusion.augment.seeds import seed_batched

__all__ = [
    "AugmentConfig",
    "AugmentResult",
    "AugmentState",
    "AugmentationNotRecommendedWarning",
    "Budget",
    "DEFAULT_MONITOR_STEPS",
    "DEFAULT_POTTS_OPTIONS",
    "DEFAULT_SEQUENCE_GENERATOR",
    "DEFAULT_THETA",
    "DataModel",
    "POTTS_SOLVER",
    "ising_model",
    "potts_model",
    "DEFAULT_N_STEPS",
    "DEFAULT_SOLVER",
    "DEFAULT_SOLVER_OPTIONS",
    "FLAT_FIELDS",
    "FinalFits",
    "GuardDecision",
    "Kernel",
    "PAPER_AUGMENT",
    "Recommendation",
    "Reference",
    "ScoreChoice",
    "Selection",
    "SolverSpec",
    "StepInfo",
    "VarianceStops",
    "augment",
    "apply_guard",
    "augment_seeds",
    "build_kernel",
    "draw_replicates",
    "guard_decision",
    "held_out_score",
    "held_out_terms",
    "load_checkpointed_state",
    "mix_sizes",
    "recommend",
    "score_choice",
    "seed_batched",
    "stop_indices",
    "variance_stops",
]
