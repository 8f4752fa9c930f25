"""The pure kernel of :func:`~ising_diffusion.augment.augment` for one seed, in the blackjax shape.

:func:`build_kernel` closes over the static settings and returns a :class:`Kernel`:

* ``init(key, train, test, truth) -> AugmentState``: ``w_train`` (the solver's fit to the training data), the test
  statistics and the untrained generator;
* ``step(key, state) -> (AugmentState, StepInfo)``: one monitor interval of training, then the monitor point
  (samples, their energy variance, the solver fit and held-out score of every mix ratio);
* ``finalize(key, state) -> FinalFits``: the augmented set drawn from ``state.gen`` and the final fits.

``key`` is the seed's run key, the same at every call: each piece derives its own keys from it (``fold_in``) and
``step`` folds in the monitor point, so a run resumed from a checkpoint replays exactly and no key is saved. All three
are pure, jit-able and vmap-able over seeds (the driver does both, :mod:`ising_diffusion.augment.seeds`).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from ising_diffusion.augment.config import AugmentConfig
from ising_diffusion.augment.rules import mix_candidates
from ising_diffusion.augment.score import mix_sizes
from ising_diffusion.augment.solver import DataModel, ising_model
from ising_diffusion.ising import IsingParams
from ising_diffusion.monitor import bootstrap_variance_band

__all__ = ["AugmentState", "Reference", "StepInfo", "FinalFits", "Kernel", "build_kernel"]

# fold_in tags of the seed's run key (fixed: a checkpointed run must derive the same keys after a restart)
_INIT, _TRAIN, _MONITOR, _FINAL, _BOOTSTRAP, _FIT, _FINAL_FIT = range(7)


class Reference(NamedTuple):
    """Per-seed constants computed once by ``init``: the data, ``w_train`` and the statistics every point compares
    against.

    Attributes:
      train, test: ``(M, N)`` and ``(Mt, N)`` spins (or int32 sequences of length ``N = L``).
      truth: the true ``IsingParams`` or ``None``.
      w_train: the solver's fit to ``train``.
      l2: the penalty of that fit (the cross-validated one for ``l2="cv"``; NaN if none); every monitor fit uses it.
      var_train, var_test: energy variances of the training and test data under ``w_train``.
      band_low, band_high: the bootstrap band of ``var_test``.
      score_train, terms_train: ``w_train``'s held-out score and its ``(Mt,)`` per-test-sample terms.
      eps_train: the erasure machine's chosen eps (NaN for other solvers).
    """

    train: jax.Array
    test: jax.Array
    truth: IsingParams | None
    w_train: IsingParams
    l2: jax.Array
    var_train: jax.Array
    var_test: jax.Array
    band_low: jax.Array
    band_high: jax.Array
    score_train: jax.Array
    terms_train: jax.Array
    eps_train: jax.Array


class AugmentState(NamedTuple):
    """The kernel's state for one seed (vmapped over seeds; everything but ``ref`` is checkpointed).

    Attributes:
      gen: the generator's training state.
      best_gen: the generator state at the best-scoring monitor point so far (the ``"score"`` rule's candidate).
      best_params: the solver fit to training + ``mix_sizes[best_mix]`` generated samples there.
      best_score: its held-out score (``-inf`` before the first candidate).
      best_point: 1-based index of that monitor point (0: none yet).
      best_mix: index into ``mix_grid`` of that fit (-1: none yet).
      point: monitor points done.
      ref: the :class:`Reference` constants.
    """

    gen: Any
    best_gen: Any
    best_params: IsingParams
    best_score: jax.Array
    best_point: jax.Array
    best_mix: jax.Array
    point: jax.Array
    ref: Reference


class StepInfo(NamedTuple):
    """What one monitor point records (the driver stacks them into the :class:`~ising_diffusion.monitor.StoppingCurve`).

    Attributes:
      gen_var: energy variance under ``w_train`` of the generated samples.
      loss: mean training loss over the interval.
      mse: parameter MSE of the fit to the generated samples alone (NaN without the truth).
      mse_combined: parameter MSE of the fit to training + all generated samples (NaN without the truth).
      score: ``(R,)`` held-out score of each mix ratio's fit.
      score_z: ``(R,)`` paired z of each fit's gain over the training-only fit.
    """

    gen_var: jax.Array
    loss: jax.Array
    mse: jax.Array
    mse_combined: jax.Array
    score: jax.Array
    score_z: jax.Array


class FinalFits(NamedTuple):
    """``finalize``'s output: ``samples`` ``(n_augmented, N)``, the solver's fits to them alone (``params_augmented``)
    and to them plus the training data (``params_combined``), the erasure machine's eps of each (NaN for other
    solvers), and the L2 penalty of the combined fit (``l2_combined``: cross-validated again on the combined set
    for ``l2="cv"`` solvers, the fixed one otherwise, NaN if the solver has none)."""

    samples: jax.Array
    params_augmented: IsingParams
    params_combined: IsingParams
    eps_augmented: jax.Array
    eps_combined: jax.Array
    l2_combined: jax.Array


class Kernel(NamedTuple):
    """``init(key, train, test, truth) -> AugmentState``; ``step(key, state) -> (AugmentState, StepInfo)``;
    ``finalize(key, state) -> FinalFits`` (samples from ``state.gen``)."""

    init: Callable
    step: Callable
    finalize: Callable


def build_kernel(gen, *, solver: str, solver_options: tuple, config: AugmentConfig, steps_per_point: int,
                 n_monitor: int, n_augmented: int, m_train: int, n_spins: int,
                 model: DataModel | None = None) -> Kernel:
    """The per-seed pure kernel of ``augment`` (closing over static settings; jit/vmap it at the edge).

    Args:
      gen: the :class:`~ising_diffusion.generative.base.Generator`.
      solver, solver_options: an ``infer`` method name and its options as ``(name, value)`` pairs.
      config: :class:`AugmentConfig` (its :class:`Selection`: ``mix_grid``, ``exact_score_max_spins``, ``score_z``,
        bootstrap settings).
      steps_per_point: optimiser steps per monitor interval.
      n_monitor, n_augmented: samples generated at each monitor point and for the final set.
      m_train, n_spins: ``M`` and ``N`` (for alignments ``N`` is the length ``L``).
      model: the data kind's fits, held-out terms, energy and MSE (:class:`~ising_diffusion.augment.solver.DataModel`;
        ``None``: +-1 spins with ``infer`` method ``solver``, :func:`~ising_diffusion.augment.solver.ising_model`).

    Returns:
      :class:`Kernel`.
    """
    sel = config.selection
    if model is None:
        model = ising_model(solver, solver_options, exact=n_spins <= sel.exact_score_max_spins)
    fits, terms, energy, parameter_mse = model
    sizes = mix_sizes(sel.mix_grid, m_train, n_monitor)

    def init(key, train, test, truth) -> AugmentState:
        w_train, l2, eps = fits.full(jax.random.fold_in(key, _FIT), train)
        e_test = energy(w_train, test)
        lo, hi = bootstrap_variance_band(jax.random.fold_in(key, _BOOTSTRAP), e_test, sel.n_bootstrap,
                                         sel.band_level)
        g = gen.init(jax.random.fold_in(key, _INIT), train)
        t_train = terms(w_train, test)
        ref = Reference(train, test, truth, w_train, l2, jnp.var(energy(w_train, train)), jnp.var(e_test), lo, hi,
                        jnp.mean(t_train), t_train, eps)
        return AugmentState(g, g, w_train, jnp.asarray(-jnp.inf, jnp.float32), jnp.zeros((), jnp.int32),
                            jnp.asarray(-1, jnp.int32), jnp.zeros((), jnp.int32), ref)

    def step(key, state: AugmentState) -> tuple[AugmentState, StepInfo]:
        ref = state.ref
        g, losses = gen.train(jax.random.fold_in(key, _TRAIN), state.gen, ref.train, steps_per_point)
        point = state.point + 1
        k = jax.random.fold_in(jax.random.fold_in(key, _MONITOR), point)
        samples = gen.sample(k, g, n_monitor)
        # one fit per distinct size (static slices: the shapes differ), all inside this one compiled call
        mixed = {s: fits.fixed(jax.random.fold_in(k, s), jnp.concatenate([ref.train, samples[:s]], axis=0), ref.l2)
                 for s in sorted(set(sizes) - {0})}
        mixed[0] = ref.w_train
        gains = jnp.stack([terms(mixed[s], ref.test) - ref.terms_train for s in sizes])  # (R, Mt), 0 for s = 0
        scores, z, candidates = mix_candidates(gains, sizes, ref.score_train, sel.score_z)
        j = jnp.argmax(candidates)
        better = candidates[j] > state.best_score
        stacked = jax.tree.map(lambda *a: jnp.stack(a), *[mixed[s] for s in sizes])
        pick = lambda new, old: jax.tree.map(lambda a, b: jnp.where(better, a, b), new, old)  # noqa: E731
        new_state = AugmentState(g, pick(g, state.best_gen), pick(jax.tree.map(lambda a: a[j], stacked),
                                                                    state.best_params),
                                 jnp.where(better, candidates[j], state.best_score),
                                 jnp.where(better, point, state.best_point), jnp.where(better, j, state.best_mix),
                                 point, ref)
        mse_a = mse_c = jnp.asarray(jnp.nan, jnp.float32)
        if ref.truth is not None:
            comb = mixed.get(n_monitor)
            if comb is None:
                both = jnp.concatenate([ref.train, samples], axis=0)
                comb = fits.fixed(jax.random.fold_in(k, 1_000_001), both, ref.l2)
            mse_a = parameter_mse(ref.truth, fits.fixed(jax.random.fold_in(k, 1_000_002), samples, ref.l2))
            mse_c = parameter_mse(ref.truth, comb)
        info = StepInfo(jnp.var(energy(ref.w_train, samples)), jnp.mean(losses), mse_a, mse_c, scores, z)
        return new_state, info

    def finalize(key, state: AugmentState) -> FinalFits:
        k_final = jax.random.fold_in(key, _FINAL)
        samples = gen.sample(k_final, state.gen, n_augmented)
        # not split(k_final): the sampler splits k_final, and split(k)[i] is fold_in(k, i) (partitionable threefry)
        k_a, k_c = jax.random.split(jax.random.fold_in(key, _FINAL_FIT))
        p_aug, _, eps_aug = fits.full(k_a, samples)
        p_comb, l2_comb, eps_comb = fits.fit_combined(k_c, samples, state.ref.train)
        return FinalFits(samples, p_aug, p_comb, eps_aug, eps_comb, l2_comb)

    return Kernel(init, step, finalize)
