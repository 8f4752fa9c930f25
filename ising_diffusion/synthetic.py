"""Observed data of a known Ising model: the sampler choice (exact enumeration or Metropolis) and the key
derivation the paper's synthetic task uses (METHODS.md section 2).

For a seed key ``k``: the truth is drawn with :func:`truth_key` ``(k)`` and the observed data with :func:`data_key`
``(k)``, so the same seed gives the same couplings and nested data sets wherever it is used (the experiments and
``ising-diffusion sample``).
"""

from __future__ import annotations

import dataclasses

import jax

from ising_diffusion.ising import IsingParams, exact_sample
from ising_diffusion.sampling import metropolis_sample
from ising_diffusion.types import PRNGKey

__all__ = ["SamplerConfig", "truth_key", "data_key", "observed_samples"]


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
        if self.n_chains < 1 or self.burn_in < 0 or self.thin < 1:
            raise ValueError(f"need n_chains >= 1, burn_in >= 0, thin >= 1; got {self}")


def truth_key(key: PRNGKey) -> PRNGKey:
    """The key a seed's planted model is drawn with: ``fold_in(key, 1)``."""
    return jax.random.fold_in(key, 1)


def data_key(key: PRNGKey) -> PRNGKey:
    """The key a seed's observed samples are drawn with: ``fold_in(key, 2)``."""
    return jax.random.fold_in(key, 2)


def observed_samples(key: PRNGKey, params: IsingParams, n_samples: int, sampler: SamplerConfig = SamplerConfig()
                     ) -> jax.Array:
    """Samples of ``params``: exact for small ``N``, Metropolis otherwise (jit/vmap-safe with static
    ``n_samples`` and ``sampler``).

    Args:
      key: PRNG key.
      params: ``IsingParams`` with ``h (N,)``, ``J (N, N)``.
      n_samples: ``M``.
      sampler: :class:`SamplerConfig`.

    Returns:
      ``(M, N)`` spins in {-1, +1}.
    """
    n = params.h.shape[-1]
    if n <= sampler.exact_max_spins:
        return exact_sample(key, params, n_samples)
    return metropolis_sample(key, params, n_samples, n_chains=sampler.n_chains, burn_in=sampler.burn_in,
                             thin=sampler.thin).samples
