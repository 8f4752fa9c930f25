"""The synthetic task of the paper (METHODS.md section 2), batched over seeds, and the seed-batched augmentation of
one sweep point.

For seed key ``k``: the truth is ``truth_params(kind, fold_in(k, 1), N, g)`` (SK unless a kind is given) and the
observed data are drawn with ``fold_in(k, 2)``, exactly (``exact_sample``) for ``N <= exact_max_spins`` and by
Metropolis chains otherwise (:mod:`ising_diffusion.synthetic`). The same seed therefore gives the same standardised
couplings at every ``g`` and nested data sets at every training size, so sweep points are paired comparisons.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ising_diffusion.experiments.runner import RunDir, run_seeds
from ising_diffusion.generative import make_generator_config
from ising_diffusion.ising import IsingParams, parameter_mse
from ising_diffusion.synthetic import (TRUTH_KINDS, SamplerConfig, data_key, observed_samples, truth_key,
                                      truth_params)
from ising_diffusion.types import PRNGKey

__all__ = ["SamplerConfig", "SyntheticTask", "truth_key", "data_key", "generator_key", "observed_samples",
           "synthetic_task", "infer_seeds_batch", "mse_seeds", "augment_point", "make_augment_config", "cv_baseline",
           "CV_BASELINE"]

#: The strong label-free baseline every figure is read against: pseudolikelihood with a cross-validated L2 penalty.
CV_BASELINE = ("pseudolikelihood", {"l2": "cv"})

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


def generator_key(key: PRNGKey) -> PRNGKey:
    return jax.random.fold_in(key, 3)


@partial(jax.jit, static_argnames=("n_spins", "n_pool", "n_train", "n_test", "sampler", "truth", "truth_options"))
def _task_batch(keys, g, n_spins, n_pool, n_train, n_test, sampler, truth="sk", truth_options=()):
    def one(k):
        params = truth_params(truth, truth_key(k), n_spins, g, **dict(truth_options))
        pool = observed_samples(data_key(k), params, n_pool, sampler)
        return params, pool[n_test:n_test + n_train], pool[:n_test]

    return jax.vmap(one)(keys)


def synthetic_task(keys: PRNGKey, n_spins: int, g: float, n_train: int, n_test: int, *, n_pool: int | None = None,
                   sampler: SamplerConfig = SamplerConfig(), shard: bool | None = None,
                   seed_batch: int | None = None, truth: str = "sk", truth_options: dict | None = None
                   ) -> SyntheticTask:
    """A planted truth (SK by default) and observed train/test data for every seed key.

    ``n_pool`` (default ``n_train + n_test``) samples are drawn per seed; the test set is the first ``n_test`` and
    the training set the next ``n_train``, so sweeps over ``n_train`` that share ``n_pool`` get nested training sets
    and the same test set.

    Args:
      keys: ``(S,)`` seed keys (:func:`ising_diffusion.experiments.runner.seed_keys`).
      n_spins: ``N``.
      g: coupling scale.
      n_train: training samples per seed.
      n_test: held-out samples per seed.
      n_pool: samples drawn per seed (>= ``n_train + n_test``).
      sampler: :class:`SamplerConfig`.
      shard, seed_batch: see :func:`run_seeds`.
      truth: the planted model's kind, one of :data:`ising_diffusion.synthetic.TRUTH_KINDS`.
      truth_options: keyword options of :func:`ising_diffusion.synthetic.truth_params` (``degree``,
        ``n_patterns``).

    Returns:
      :class:`SyntheticTask` with leading seed axis.
    """
    if n_train < 1 or n_test < 1:
        raise ValueError(f"need n_train >= 1 and n_test >= 1, got {n_train=}, {n_test=}")
    n_pool = n_train + n_test if n_pool is None else n_pool
    if n_pool < n_train + n_test:
        raise ValueError(f"n_pool={n_pool} < n_train + n_test = {n_train + n_test}")
    if truth not in TRUTH_KINDS:
        raise ValueError(f"unknown truth kind {truth!r}; choose one of {TRUTH_KINDS}")
    opts = tuple(sorted((truth_options or {}).items()))
    params, train, test = run_seeds(lambda k: _task_batch(k, float(g), n_spins, n_pool, n_train, n_test, sampler,
                                                          truth, opts), keys, shard=shard, seed_batch=seed_batch)
    return SyntheticTask(params, train, test)


def infer_seeds_batch(spins: jax.Array, method: str = "erasure", *, shard: bool | None = None,
                      seed_batch: int | None = None, **options) -> IsingParams:
    """:func:`ising_diffusion.infer_batch` on each seed's (already valid, device-resident) data set, the seed axis
    batched and sharded by :func:`run_seeds`.

    Args:
      spins: ``(S, M, N)`` spins (the experiment's own: not validated again).
      method, options: as for :func:`ising_diffusion.infer_batch`.
      shard, seed_batch: see :func:`run_seeds`.

    Returns:
      ``IsingParams`` with a leading ``(S,)`` axis.
    """
    from ising_diffusion.inference import infer_batch

    return run_seeds(lambda x: infer_batch(x, method, validate=False, **options), spins, shard=shard,
                     seed_batch=seed_batch)


@jax.jit
def mse_seeds(truth: IsingParams, inferred: IsingParams) -> jax.Array:
    """``(S,)`` parameter MSE of each seed (one compiled program)."""
    return jax.vmap(parameter_mse)(truth, inferred)


@jax.jit
def _combined(samples, train):
    return jnp.concatenate([jnp.asarray(samples, jnp.float32), train], axis=1)


@jax.jit
def generator_keys(keys: PRNGKey) -> PRNGKey:
    """:func:`generator_key` of every seed key."""
    return jax.vmap(generator_key)(keys)


def augment_seeds(*args, **kwargs):
    """Forward to :func:`ising_diffusion.augment_seeds` (a module attribute, so tests can substitute a fake)."""
    from ising_diffusion import augment_seeds as _augment_seeds

    return _augment_seeds(*args, **kwargs)


def cv_baseline(cfg, task: SyntheticTask, samples: jax.Array) -> dict[str, jax.Array]:
    """``(S,)`` MSEs of the strong baseline (:data:`CV_BASELINE`) on each seed's training data alone
    (``"train_cv"``) and on its augmented + training data (``"combined_cv"``).

    Args:
      cfg: the experiment config (``shard``, ``seed_batch``).
      task: the sweep point's :class:`SyntheticTask`.
      samples: ``(S, n_augmented, N)`` generated samples (``AugmentResult.samples``).
    """
    method, options = CV_BASELINE
    fit = partial(infer_seeds_batch, method=method, shard=cfg.shard, seed_batch=cfg.seed_batch, **options)
    # the two fits have different shapes (two programs): compiled and run side by side (XLA compiles on one core)
    with ThreadPoolExecutor(max_workers=2) as pool:
        fits = list(pool.map(fit, [task.train, _combined(samples, task.train)]))
    return {"train_cv": mse_seeds(task.truth, fits[0]), "combined_cv": mse_seeds(task.truth, fits[1])}


def make_augment_config(overrides: dict):
    """:class:`ising_diffusion.AugmentConfig` with ``overrides``, or ``None`` (the package default) if empty."""
    if not overrides:
        return None
    from ising_diffusion import AugmentConfig

    try:
        return AugmentConfig(**overrides)
    except TypeError as e:
        names = [f.name for f in dataclasses.fields(AugmentConfig)] + list(AugmentConfig.FIELD_ALIASES)
        raise ValueError(f"bad augment override {overrides}: {e}; AugmentConfig fields: {', '.join(names)}") from e


def augment_point(run: RunDir, point_id: str, cfg, keys, task: SyntheticTask, *, n_augmented: int | None,
                  generator: str | None = None, generator_overrides: dict | None = None, progress: bool = True,
                  solver: str | None = None, solver_options: dict | None = None, baseline: bool = True):
    """Augment every seed's training set of one sweep point in one ``augment_seeds`` call.

    The seed axis is batched (``cfg.seed_batch``) and sharded (``cfg.shard``) by :func:`run_seeds`; each seed batch
    checkpoints its generator under ``<run>/checkpoints/<point_id>/seeds<a>-<b>`` so a killed run resumes there. The
    data are the experiment's own, so they are passed on without a second validation (``validate=False``).
    ``solver`` and ``solver_options`` go to ``augment_seeds`` (``None``: the augment config's or the library's).

    Returns:
      the ``AugmentResult`` with a leading seed axis; with a truth and ``baseline`` its ``mse`` also holds the strong
      baseline's ``"train_cv"`` and ``"combined_cv"`` (:func:`cv_baseline`; the map, whose solver already is that
      baseline, passes ``baseline=False``).
    """
    generator = generator or cfg.generator
    overrides = cfg.generator_config if generator_overrides is None else generator_overrides
    aug_cfg = make_augment_config(cfg.augment)
    gen_cfg = make_generator_config(generator, overrides)
    ckpt = run.checkpoint_dir(point_id)
    gkeys = generator_keys(keys)

    def call(k, train, test, truth, batch):
        return augment_seeds(k, train, test, generator=generator, n_augmented=n_augmented, config=aug_cfg,
                             generator_config=gen_cfg, true_params=truth,
                             checkpoint_dir=str(ckpt / f"seeds{batch[0]}-{batch[1]}"), progress=progress,
                             solver=solver, solver_options=solver_options, validate=False)

    res = run_seeds(call, gkeys, task.train, task.test, task.truth, shard=cfg.shard, seed_batch=cfg.seed_batch,
                    pass_batch=True)
    if res.mse is None or not baseline:
        return res
    return res._replace(mse=dict(res.mse) | cv_baseline(cfg, task, res.samples))
