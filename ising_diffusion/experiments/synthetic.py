"""The synthetic task of the paper (METHODS.md section 2), batched over seeds.

For seed key ``k``: the truth is ``sk_params(fold_in(k, 1), N, g)`` and the observed data are drawn with
``fold_in(k, 2)``, exactly (``exact_sample``) for ``N <= exact_max_spins`` and by Metropolis chains otherwise. The same
seed therefore gives the same standardised couplings at every ``g`` and nested data sets at every training size, so
sweep points are paired comparisons.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ising_diffusion.ising import IsingParams, exact_sample, parameter_mse, sk_params
from ising_diffusion.sampling import metropolis_sample
from ising_diffusion.types import PRNGKey
from ising_diffusion.experiments_lib.runner import run_seeds

__all__ = ["SamplerConfig", "SyntheticTask", "truth_key", "data_key", "generator_key", "observed_samples",
           "synthetic_task", "infer_seeds", "mse_seeds"]


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


class SyntheticTask(NamedTuple):
    """Truth and observed data for a batch of seeds (leading axis ``S`` everywhere).

    Attributes:
      truth: ``IsingParams`` with ``h (S, N)``, ``J (S, N, N)``.
      train: ``(S, n_train, N)`` spins.
      test: ``(S, n_test, N)`` spins.
    """

    truth: IsingParams
    train: jax.Array
    test: jax.Array


def truth_key(key: PRNGKey) -> PRNGKey:
    return jax.random.fold_in(key, 1)


def data_key(key: PRNGKey) -> PRNGKey:
    return jax.random.fold_in(key, 2)


def generator_key(key: PRNGKey) -> PRNGKey:
    return jax.random.fold_in(key, 3)


def observed_samples(key: PRNGKey, params: IsingParams, n_samples: int, sampler: SamplerConfig = SamplerConfig()
                     ) -> jax.Array:
    """``(n_samples, N)`` samples of ``params``: exact for small ``N``, Metropolis otherwise (jit/vmap-safe)."""
    n = params.h.shape[-1]
    if n <= sampler.exact_max_spins:
        return exact_sample(key, params, n_samples)
    return metropolis_sample(key, params, n_samples, n_chains=sampler.n_chains, burn_in=sampler.burn_in,
                             thin=sampler.thin).samples


@partial(jax.jit, static_argnames=("n_spins", "n_pool", "sampler"))
def _task_batch(keys, g, n_spins, n_pool, sampler):
    def one(k):
        truth = sk_params(truth_key(k), n_spins, g)
        return truth, observed_samples(data_key(k), truth, n_pool, sampler)

    return jax.vmap(one)(keys)


def synthetic_task(keys: PRNGKey, n_spins: int, g: float, n_train: int, n_test: int, *, n_pool: int | None = None,
                   sampler: SamplerConfig = SamplerConfig(), shard: bool | None = None,
                   seed_batch: int | None = None) -> SyntheticTask:
    """SK truth and observed train/test data for every seed key.

    ``n_pool`` (default ``n_train + n_test``) samples are drawn per seed; the test set is the first ``n_test`` and
    the training set the next ``n_train``, so sweeps over ``n_train`` that share ``n_pool`` get nested training sets
    and the same test set.

    Args:
      keys: ``(S,)`` seed keys (:func:`ising_diffusion.experiments_lib.runner.seed_keys`).
      n_spins: ``N``.
      g: coupling scale.
      n_train: training samples per seed.
      n_test: held-out samples per seed.
      n_pool: samples drawn per seed (>= ``n_train + n_test``).
      sampler: :class:`SamplerConfig`.
      shard, seed_batch: see :func:`run_seeds`.

    Returns:
      :class:`SyntheticTask` with leading seed axis.
    """
    if n_train < 1 or n_test < 1:
        raise ValueError(f"need n_train >= 1 and n_test >= 1, got {n_train=}, {n_test=}")
    n_pool = n_train + n_test if n_pool is None else n_pool
    if n_pool < n_train + n_test:
        raise ValueError(f"n_pool={n_pool} < n_train + n_test = {n_train + n_test}")
    truth, pool = run_seeds(lambda k: _task_batch(k, float(g), n_spins, n_pool, sampler), keys, shard=shard,
                            seed_batch=seed_batch)
    return SyntheticTask(truth, pool[:, n_test:n_test + n_train], pool[:, :n_test])


def infer_seeds(spins: jax.Array, method: str = "erasure", *, key: PRNGKey | None = None, shard: bool | None = None,
                seed_batch: int | None = None, **options) -> IsingParams:
    """Infer parameters from each seed's data set in one vmapped, compiled call (seed axis sharded like
    :func:`run_seeds`). The data are the experiment's own (already valid spins), so the solver core is called
    directly, as :func:`ising_diffusion.infer_batch` does after validating.

    Args:
      spins: ``(S, M, N)`` spins.
      method: a key of :data:`ising_diffusion.inference.METHODS` (default the erasure machine).
      key: PRNG key for stochastic methods (split over seeds).
      **options: the method's options (static).

    Returns:
      ``IsingParams`` with a leading ``(S,)`` axis.
    """
    from ising_diffusion.inference.api import METHODS, _hashable

    if method not in METHODS:
        raise ValueError(f"unknown inference method {method!r}; choose one of {sorted(METHODS)}")
    spins = jnp.asarray(spins, jnp.float32)
    keys = jax.random.split(jax.random.key(0) if key is None else key, spins.shape[0])
    return run_seeds(_batched_core(method, tuple(sorted(_hashable(options).items()))), keys, spins, shard=shard,
                     seed_batch=seed_batch)


_CORES: dict = {}


def _batched_core(method: str, options: tuple):
    if (method, options) not in _CORES:
        from ising_diffusion.inference.api import METHODS

        core = partial(METHODS[method], **dict(options))
        _CORES[(method, options)] = jax.jit(jax.vmap(lambda k, s: core(k, s)[0]))
    return _CORES[(method, options)]


def mse_seeds(truth: IsingParams, inferred: IsingParams) -> jax.Array:
    """``(S,)`` parameter MSE of each seed."""
    return jax.vmap(parameter_mse)(truth, inferred)
