"""Observed data of a known Ising model: the sampler choice (exact enumeration or Metropolis) and the key
derivation the paper's synthetic task uses (METHODS.md section 2).

For a seed key ``k``: the truth is drawn with :func:`truth_key` ``(k)`` and the observed data with :func:`data_key`
``(k)``, so the same seed gives the same couplings and nested data sets wherever it is used (the experiments and
``ising-diffusion sample``). :func:`truth_params` draws a planted model of any kind in :data:`TRUTH_KINDS` (SK,
sparse, Hopfield), so a synthetic task can be run on each.
"""

from __future__ import annotations

import jax

from ising_diffusion.ising import (MAX_ENUMERATION_SPINS, IsingParams, exact_sample, hopfield_params, sk_params,
                                   sparse_params)
from ising_diffusion.sampling import metropolis_sample
from ising_diffusion.synthetic_settings import TRUTH_KINDS, SamplerConfig
from ising_diffusion.types import PRNGKey

__all__ = ["SamplerConfig", "TRUTH_KINDS", "truth_params", "truth_key", "data_key", "observed_samples",
           "draw_samples"]


def truth_params(kind: str, key: PRNGKey, n_spins: int, g: float = 1.0, *, degree: float = 3.0,
                 n_patterns: int = 2) -> IsingParams:
    """A planted model of kind ``kind``, with ``g`` on the same footing for every kind (each spin's couplings have
    summed variance about ``g^2``; fields ``N(0, g^2 / N)``).

    Args:
      kind: ``"sk"`` (:func:`~ising_diffusion.ising.sk_params`, dense Gaussian couplings), ``"sparse"``
        (:func:`~ising_diffusion.ising.sparse_params`, Erdos-Renyi graph of mean degree ``degree``) or ``"hopfield"``
        (:func:`~ising_diffusion.ising.hopfield_params`, rank-``n_patterns`` couplings).
      key: PRNG key.
      n_spins: ``N``.
      g: coupling strength (may be traced).
      degree: the sparse truth's mean degree (a Python number in ``(0, N - 1]``).
      n_patterns: the Hopfield truth's number of patterns (a Python int >= 1).

    Returns:
      ``IsingParams`` with ``h (N,)`` and symmetric, zero-diagonal ``J (N, N)``.
    """
    if kind == "sk":
        return sk_params(key, n_spins, g)
    if kind == "sparse":
        return sparse_params(key, n_spins, degree, g)
    if kind == "hopfield":
        return hopfield_params(key, n_spins, n_patterns, g)
    raise ValueError(f"unknown truth kind {kind!r}; choose one of {TRUTH_KINDS}")


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


def draw_samples(key: PRNGKey, params: IsingParams, n_samples: int, *, sampler: str = "auto", n_chains: int = 256,
                 burn_in: int = 1000, thin: int = 10) -> tuple[jax.Array, str]:
    """Samples of one model by the sampler named as ``ising-diffusion sample --sampler`` names it (one compiled call).

    Args:
      key: PRNG key of the samples (``ising-diffusion sample`` passes :func:`data_key` of its seed's key).
      params: ``IsingParams`` with ``h (N,)``, ``J (N, N)``.
      n_samples: ``M``.
      sampler: ``"exact"`` (enumeration, N <= 24), ``"metropolis"``, or ``"auto"``: exact for N <= 20.
      n_chains, burn_in, thin: Metropolis settings (:class:`SamplerConfig`).

    Returns:
      ``(spins (M, N), how)``, ``how`` being ``"exact"`` or ``"metropolis"``.

    Raises:
      ValueError: an unknown sampler, or ``"exact"`` for N > 24.
    """
    limits = {"auto": 20, "exact": MAX_ENUMERATION_SPINS, "metropolis": 0}
    if sampler not in limits:
        raise ValueError(f"sampler must be one of {sorted(limits)}, got {sampler!r}")
    n = params.h.shape[0]
    if sampler == "exact" and n > MAX_ENUMERATION_SPINS:
        raise ValueError(f"--sampler exact needs N <= {MAX_ENUMERATION_SPINS}; this model has N={n}")
    cfg = SamplerConfig(exact_max_spins=limits[sampler], n_chains=n_chains, burn_in=burn_in, thin=thin)
    spins = jax.block_until_ready(jax.jit(observed_samples, static_argnums=(2, 3))(key, params, n_samples, cfg))
    return spins, "exact" if n <= limits[sampler] else "metropolis"
