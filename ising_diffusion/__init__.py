"""ising_diffusion: diffusion-model data augmentation for inverse Ising inference, in JAX.

Implements and extends Lim, Lee & Jo, "Data augmentation using diffusion models to enhance inverse Ising inference",
Phys. Rev. E 111, 045302 (2025).
"""

# first: the sampler module appends an XLA CPU flag to XLA_FLAGS, which only works before JAX starts its backend
from ising_diffusion import sampling as _sampling  # noqa: F401, I001
from ising_diffusion.augment import AugmentConfig, AugmentResult, augment, augment_seeds, load_checkpointed_state
from ising_diffusion.data import (
    as_spins,
    load_npz,
    load_spins,
    read_spin_file,
    save_npz,
    save_spins,
    spins_to_binary,
    train_test_split,
)
from ising_diffusion.generative import GENERATOR_CONFIGS, DDPMConfig, make_generator
from ising_diffusion.inference import erasure_machine, erasure_machine_auto
from ising_diffusion.inference import CVInfo, cross_validate_l2, infer, infer_batch
from ising_diffusion.ising import (
    IsingParams,
    energy,
    exact_moments,
    exact_probabilities,
    exact_sample,
    flat_to_params,
    local_fields,
    log_partition,
    n_params,
    parameter_mse,
    params_to_flat,
    sk_params,
    sparse_params,
    hopfield_params,
)
from ising_diffusion.reconstruct import (
    complete_missing,
    conditional_log_likelihood,
    majority_completion,
    reconstruct_missing,
    reconstruction_scores,
)
from ising_diffusion.monitor import StoppingCurve, moment_rms
from ising_diffusion.sampling import metropolis_sample
from ising_diffusion.datasets import load_retina
from ising_diffusion.potts import (
    PottsParams,
    potts_chain_params,
    potts_parameter_mse,
    potts_sparse_params,
    zero_sum_gauge,
)
from ising_diffusion.potts_sampling import potts_gibbs_sample
from ising_diffusion.contacts import contact_precision, contact_scores
from ising_diffusion.dca import DCAResult, dca

__version__ = "0.1.0"

__all__ = [
    "AugmentConfig",
    "AugmentResult",
    "DDPMConfig",
    "GENERATOR_CONFIGS",
    "StoppingCurve",
    "augment",
    "augment_seeds",
    "make_generator",
    "load_checkpointed_state",
    "IsingParams",
    "as_spins",
    "complete_missing",
    "conditional_log_likelihood",
    "energy",
    "erasure_machine",
    "erasure_machine_auto",
    "exact_moments",
    "exact_probabilities",
    "exact_sample",
    "flat_to_params",
    "CVInfo",
    "cross_validate_l2",
    "infer",
    "infer_batch",
    "load_npz",
    "load_spins",
    "moment_rms",
    "read_spin_file",
    "save_spins",
    "load_retina",
    "local_fields",
    "log_partition",
    "majority_completion",
    "metropolis_sample",
    "n_params",
    "parameter_mse",
    "params_to_flat",
    "reconstruct_missing",
    "reconstruction_scores",
    "save_npz",
    "sk_params",
    "sparse_params",
    "hopfield_params",
    "spins_to_binary",
    "train_test_split",
    "PottsParams",
    "potts_chain_params",
    "potts_parameter_mse",
    "potts_sparse_params",
    "zero_sum_gauge",
    "potts_gibbs_sample",
    "contact_precision",
    "contact_scores",
    "DCAResult",
    "dca",
]
