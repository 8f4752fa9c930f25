"""ising_diffusion: diffusion-model data augmentation for inverse Ising inference, in JAX.

Implements and extends Lim, Lee & Jo, "Data augmentation using diffusion models to enhance inverse Ising inference",
Phys. Rev. E 111, 045302 (2025).

The public names below are imported on first use (PEP 562), so ``import ising_diffusion`` and the command line's
``--help`` do not wait for JAX; ``from ising_diffusion import infer`` works as usual.
"""

import importlib as _importlib
import sys as _sys
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING

# (private aliases: a submodule's import binds its name here, e.g. ``ising_diffusion.types``, so no stdlib module may
# be kept under a name a submodule could have)

# first: XLA reads XLA_FLAGS once, when JAX starts its backend (the sampler's CPU option; see xla_flags.py)
from ising_diffusion.xla_flags import set_xla_cpu_flags as _set_xla_cpu_flags

_set_xla_cpu_flags()

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(("AugmentConfig", "AugmentResult", "augment", "augment_seeds", "load_checkpointed_state"),
                    "ising_diffusion.augment"),
    **dict.fromkeys(("as_spins", "spins_to_binary", "train_test_split"), "ising_diffusion.spins"),
    **dict.fromkeys(("load_npz", "load_spins", "read_spin_file", "save_npz", "save_spins"), "ising_diffusion.io"),
    **dict.fromkeys(("GENERATOR_CONFIGS", "DDPMConfig", "make_generator"), "ising_diffusion.generative"),
    **dict.fromkeys(("erasure_machine", "erasure_machine_auto", "CVInfo", "cross_validate_l2", "infer", "infer_batch"),
                    "ising_diffusion.inference"),
    **dict.fromkeys(("IsingParams", "energy", "exact_moments", "exact_probabilities", "exact_sample", "flat_to_params",
                     "local_fields", "log_partition", "n_params", "parameter_mse", "params_to_flat", "sk_params",
                     "sparse_params", "hopfield_params"), "ising_diffusion.ising"),
    **dict.fromkeys(("complete_missing", "conditional_log_likelihood", "majority_completion", "reconstruct_missing",
                     "reconstruction_scores"), "ising_diffusion.reconstruct"),
    **dict.fromkeys(("StoppingCurve", "moment_rms"), "ising_diffusion.monitor"),
    "metropolis_sample": "ising_diffusion.sampling",
    "load_retina": "ising_diffusion.datasets",
    **dict.fromkeys(("PottsParams", "potts_chain_params", "potts_parameter_mse", "potts_sparse_params",
                     "zero_sum_gauge"), "ising_diffusion.potts"),
    "potts_gibbs_sample": "ising_diffusion.potts_sampling",
    **dict.fromkeys(("contact_precision", "contact_scores"), "ising_diffusion.contacts"),
    **dict.fromkeys(("DCAResult", "dca"), "ising_diffusion.dca"),
}

__all__ = sorted(_EXPORTS)

if _TYPE_CHECKING:  # what the lazy imports resolve to, for type checkers and editors
    from ising_diffusion.augment import AugmentConfig, AugmentResult, augment, augment_seeds, load_checkpointed_state
    from ising_diffusion.contacts import contact_precision, contact_scores
    from ising_diffusion.datasets import load_retina
    from ising_diffusion.dca import DCAResult, dca
    from ising_diffusion.generative import GENERATOR_CONFIGS, DDPMConfig, make_generator
    from ising_diffusion.inference import (CVInfo, cross_validate_l2, erasure_machine, erasure_machine_auto, infer,
                                           infer_batch)
    from ising_diffusion.io import load_npz, load_spins, read_spin_file, save_npz, save_spins
    from ising_diffusion.ising import (IsingParams, energy, exact_moments, exact_probabilities, exact_sample,
                                       flat_to_params, hopfield_params, local_fields, log_partition, n_params,
                                       parameter_mse, params_to_flat, sk_params, sparse_params)
    from ising_diffusion.monitor import StoppingCurve, moment_rms
    from ising_diffusion.potts import (PottsParams, potts_chain_params, potts_parameter_mse, potts_sparse_params,
                                       zero_sum_gauge)
    from ising_diffusion.potts_sampling import potts_gibbs_sample
    from ising_diffusion.reconstruct import (complete_missing, conditional_log_likelihood, majority_completion,
                                             reconstruct_missing, reconstruction_scores)
    from ising_diffusion.sampling import metropolis_sample
    from ising_diffusion.spins import as_spins, spins_to_binary, train_test_split


def __getattr__(name: str):
    """Import a public name (or a submodule, as ``import ising_diffusion`` once did eagerly) on first use."""
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _EXPORTS:
        value = getattr(_importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    try:
        return _importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(__all__))


class _Package(_ModuleType):
    """The package keeps its public function when a submodule of the same name is imported (``augment``): the import
    system binds a newly loaded submodule as an attribute of its package, which would hide the function."""

    def __setattr__(self, name, value):
        if (name in _EXPORTS and isinstance(value, _ModuleType) and value.__name__ == f"{__name__}.{name}"
                and hasattr(value, name)):
            value = getattr(value, name)
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
