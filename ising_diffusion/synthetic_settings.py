"""What a synthetic task is made of, without JAX: the planted-model kinds and how observed samples are drawn.

:mod:`ising_diffusion.synthetic` draws them (and re-exports these names); the experiment presets hold a
:class:`SamplerConfig` and name truth kinds, so a bad setting is reported before JAX starts.
"""

from __future__ import annotations

import dataclasses

from ising_diffusion.checks import check_int, check_scalar_fields

__all__ = ["SamplerConfig", "TRUTH_KINDS"]

#: the planted-model kinds of :func:`ising_diffusion.synthetic.truth_params`.
TRUTH_KINDS = ("sk", "sparse", "hopfield")


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """How observed samples are drawn.

    Attributes:
      exact_max_spins: use exact enumeration sampling for ``N`` up to this, Metropolis above.
      n_chains: Metropolis chains.
      burn_in: Metropolis burn-in sweeps.
      thin: sweeps between samples of one chain.
    """

    exact_max_spins: int = 20
    n_chains: int = 256
    burn_in: int = 1000
    thin: int = 10

    def __post_init__(self):
        check_scalar_fields(self)  # integers, n_chains >= 1 and burn_in >= 0 among them
        check_int("SamplerConfig", "thin", self.thin)
