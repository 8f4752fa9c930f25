"""The driver of :func:`augment` and :func:`augment_seeds`: validation, the loop over monitor points (progress bar,
checkpoints, resume), the rules applied to the monitored curve, and the result.

The computation itself is the kernel (:mod:`ising_diffusion.augment.kernel`), compiled once per static setting over
a leading seed axis (:mod:`ising_diffusion.augment.seeds`); the decisions are the rules
(:mod:`ising_diffusion.augment.rules`), applied here to the host copy of the curve.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ising_diffusion.augment.checkpoints import point_tree
from ising_diffusion.augment.config import AugmentConfig, Selection
from ising_diffusion.augment.guard import apply_guard
from ising_diffusion.augment.inputs import check_inputs, trusted_inputs
from ising_diffusion.augment.kernel import AugmentState, Kernel, StepInfo, build_kernel
from ising_diffusion.augment.potts_solver import potts_model, resolve_potts_solver
from ising_diffusion.augment.rules import (best_mix_gain, lowest_point, recommend, score_choice, stop_indices,
                                          variance_stops, withdraw_memorised)
from ising_diffusion.augment.result import (AugmentationNotRecommendedWarning, AugmentResult, final_report,
                                            host_number, unbatch)
from ising_diffusion.augment.score import mix_sizes, warn_repeated_mixes
from ising_diffusion.augment.seeds import seed_batched, seed_sharding, where_seed
from ising_diffusion.augment.sequences import DEFAULT_THETA, SequenceData, sequence_quality
from ising_diffusion.checkpoint import fingerprint, open_run, resume_points
from ising_diffusion.generative import GENERATOR_CONFIGS, make_generator
from ising_diffusion.ising import IsingParams
from ising_diffusion.monitor import NoCrossingWarning, StoppingCurve, smooth_curve

__all__ = ["augment", "augment_seeds"]

# the guard runs after the kernel: its settings stay out of the kernel's static config (compile cache, fingerprint)
_NO_GUARD = {f.name: f.default for f in dataclasses.fields(Selection)
             if f.name.startswith("guard") or f.name == "n_replicates"}


def augment(key, train, test, *, generator: str = "ddpm", n_augmented: int | None = None,
            config: AugmentConfig | None = None, generator_config=None, true_params: IsingParams | None = None,
            checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
            callback: Callable[[int, dict], None] | None = None, solver: str | None = None,
            solver_options: dict | None = None, q: int | None = None, theta: float = DEFAULT_THETA) -> AugmentResult:
    """Augment the training spins (or aligned sequences) with a generative model, select the model and the mix by a
    held-out score, and compare fits.

    **Alignments.** With a q-state generator (``"d3pm_categorical"``, ``"ddpm_onehot"``:
    ``generative.Q_STATE_GENERATORS``) ``train`` and ``test`` are integer ``(M, L)`` sequences over ``q`` states and
    the solver is weighted Potts pseudolikelihood (``dca``'s ``"plm"`` options; default ``l2="cv"``): every fit weights
    its sequences at identity ``theta`` over the set it is given (training + generated reweighted together), and the
    held-out score is the weighted mean log-pseudolikelihood of the test sequences
    (:mod:`~ising_diffusion.augment.potts_solver`). Fits are ``PottsParams``; ``result.quality`` holds
    :func:`~ising_diffusion.msa_quality.generator_quality` of the generated set; ``moment_rms`` is ``None``. The
    energy-variance rules read the Potts energy under ``w_train`` but were designed and tested on spins only; the
    default ``"score"`` rule is the one meant for alignments.

    Args:
      key: PRNG key.
      train: ``(M, N)`` training spins in {-1, +1} (the generator and ``w_train`` see only these), or ``(M, L)``
        integer sequences in ``[0, q)`` for a q-state generator.
      test: ``(Mt, N)`` held-out spins (or sequences): the test energy variance of the variance rules and the
        held-out score.
      generator: registry name (``"ddpm"``; ``"d3pm"``, ``"rbm"``, ``"vae"``, ``"gan"``; for sequences
        ``"d3pm_categorical"`` or ``"ddpm_onehot"``).
      n_augmented: size of the augmented set (default ``config.n_augmented`` or 10x the training size).
      config: :class:`AugmentConfig`.
      generator_config: the generator's config (``GENERATOR_CONFIGS[generator]``; defaults if ``None``).
      true_params: the true ``IsingParams`` (``PottsParams`` for sequences) on synthetic data: enables the MSE curve,
        ``best_epoch`` and ``mse``.
      checkpoint_dir: if given, the run's state is checkpointed there at every monitor point and a rerun with the
        same data and settings resumes from the last one, ending exactly as an uninterrupted run.
      progress: show a progress bar.
      callback: called as ``callback(epoch, record)`` after every monitor point (``record``: host floats/lists).
      solver: the ``infer`` method used for ``w_train``, the monitor and score fits and the final fits (default
        ``config.solver`` or ``DEFAULT_SOLVER``).
      solver_options: its options (default ``config.solver_options``, ``DEFAULT_SOLVER_OPTIONS``, or for
        ``"erasure"`` the config's erasure settings). ``l2="cv"``: the penalty is cross-validated once on the
        training data and that value is used for every monitor and score fit; the final fits cross-validate again.
      q: sequences only: the number of states (default ``generator_config.n_states``, 21 for proteins).
      theta: sequences only: identity threshold of the sequence weights (default 0.8, plmc's ``-t 0.2``).

    Returns:
      :class:`AugmentResult`.

    Raises:
      ValueError: bad data (not spins / not states in ``[0, q)``, lengths that differ), settings or options.
    """
    inp = check_inputs(train, test, true_params, generator=generator, generator_config=generator_config, q=q,
                       theta=theta, batched=False)
    res = _run(jnp.asarray(key)[None], inp.train, inp.test, generator=generator, n_augmented=n_augmented,
               config=config, generator_config=inp.generator_config, truth=inp.truth, checkpoint_dir=checkpoint_dir,
               progress=progress, callback=callback, solver=solver, solver_options=solver_options,
               sequences=inp.sequences)
    return unbatch(res)


def augment_seeds(keys, train, test, *, generator: str = "ddpm", n_augmented: int | None = None,
                  config: AugmentConfig | None = None, generator_config=None, true_params: IsingParams | None = None,
                  checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
                  callback: Callable[[int, dict], None] | None = None, solver: str | None = None,
                  solver_options: dict | None = None, validate: bool = True, q: int | None = None,
                  theta: float = DEFAULT_THETA) -> AugmentResult:
    """:func:`augment` for ``S`` independent seeds as one vmapped computation.

    Args:
      keys: ``(S,)`` PRNG keys.
      train: ``(S, M, N)`` training spins (one set per seed; integer sequences for a q-state generator).
      test: ``(S, Mt, N)`` test spins (or sequences).
      true_params: ``IsingParams`` with a leading ``(S,)`` axis, or ``None``.
      validate: check ``train``/``test`` on the host (``as_spins``, or the sequence checks for a q-state
        generator: a host round trip). ``False`` is for arrays already validated (e.g. the experiments'
        device-resident, possibly sharded data): they are used where they are, as float32 spins or, for a q-state
        generator, int32 sequences (``q`` and ``theta`` still apply).
      (other arguments as in :func:`augment`)

    Returns:
      :class:`AugmentResult` with a leading ``S`` axis on every array (``mse``, ``eps`` and ``score`` values are
      ``(S,)``; ``selected`` and ``reason`` are ``(S,)`` numpy arrays of str, ``recommended`` a ``(S,)`` bool array).
    """
    keys = jnp.asarray(keys)
    run = functools.partial(_run, generator=generator, n_augmented=n_augmented, config=config,
                            checkpoint_dir=checkpoint_dir, progress=progress, callback=callback, solver=solver,
                            solver_options=solver_options)
    if not validate:  # trusted data: no host round trip, sharding kept
        inp = trusted_inputs(train, test, true_params, generator=generator, generator_config=generator_config, q=q,
                             theta=theta)
        return run(keys, inp.train, inp.test, truth=inp.truth, generator_config=inp.generator_config,
                   sequences=inp.sequences)
    s = np.shape(train)[0] if np.ndim(train) == 3 else None
    if s is not None and (np.ndim(test) != 3 or np.shape(test)[0] != s or np.shape(keys)[:1] != (s,)):
        raise ValueError(f"keys {keys.shape}, train {np.shape(train)} and test {np.shape(test)} must share the seed "
                         f"axis S={s}")
    inp = check_inputs(train, test, true_params, generator=generator, generator_config=generator_config, q=q,
                       theta=theta, batched=True)
    tr, te, truth = inp.train, inp.test, inp.truth
    sharding = seed_sharding(train)
    if sharding is not None:  # validation went through host memory: put the seeds back on their devices
        keys, tr, te, truth = jax.device_put((keys, tr, te, truth), sharding)
    return run(keys, tr, te, truth=truth, generator_config=inp.generator_config, sequences=inp.sequences)


class _Plan(NamedTuple):
    """Everything the driver resolved from the arguments, once."""

    generator: str
    generator_config: Any
    config: AugmentConfig
    solver: str
    options: tuple
    n_augmented: int
    n_mon: int
    steps_per_epoch: int
    steps_per_point: int
    n_points: int

    def epochs(self) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(1, self.n_points + 1) * self.steps_per_point
        epochs = steps / self.steps_per_epoch
        return steps, (np.rint(epochs).astype(np.int64) if self.config.budget_unit == "epochs" else epochs)


def _plan(train, test, truth, *, generator, n_augmented, config, generator_config, solver, solver_options,
          sequences) -> _Plan:
    config = AugmentConfig() if config is None else config
    if not isinstance(config, AugmentConfig):
        raise TypeError(f"config must be an AugmentConfig, got {type(config).__name__}")
    if generator not in GENERATOR_CONFIGS:
        raise ValueError(f"unknown generator {generator!r}; registered: {sorted(GENERATOR_CONFIGS)}")
    if generator_config is None:
        generator_config = GENERATOR_CONFIGS[generator]()
    _, m_train, n_spins = train.shape
    if m_train < 2 or test.shape[1] < 2:
        raise ValueError(f"need at least 2 training and 2 test samples, got {m_train} and {test.shape[1]}")
    if n_augmented is None:
        n_augmented = config.n_augmented if config.n_augmented is not None else 10 * m_train
    n_augmented = int(n_augmented)
    if n_augmented < 1:
        raise ValueError(f"n_augmented must be >= 1, got {n_augmented}")
    if config.stopping == "best" and truth is None:
        raise ValueError("stopping='best' needs true_params (the MSE curve)")
    if sequences is not None:  # alignments: the Potts solver (the config's solver_spec is for spins)
        solver, options = resolve_potts_solver(solver, solver_options, n_train=m_train)
    else:
        solver, options = config.solver_spec.resolve(n_spins=n_spins, n_samples=m_train, solver=solver,
                                                     solver_options=solver_options)
    n_mon = n_augmented if config.n_monitor_samples is None else int(config.n_monitor_samples)
    warn_repeated_mixes(config.mix_grid, m_train, n_mon)
    plan = config.budget.plan(m_train, int(getattr(generator_config, "batch_size", 128)))
    return _Plan(generator, generator_config, config, solver, options, n_augmented, n_mon, *plan)


@functools.lru_cache(maxsize=16)
def _compiled(generator, generator_config, solver, solver_options, selection_config, n_spins, m_train,
              steps_per_point, n_mon, n_augmented, sequences: SequenceData | None = None) -> Kernel:
    """The seed-batched, jitted kernel, cached on the static settings so repeated calls do not recompile (the
    budget, stopping rule and solver choice are not part of ``selection_config``: changing them does not
    recompile)."""
    gen = make_generator(generator, generator_config, n_spins)
    model = None if sequences is None else potts_model(solver_options, q=sequences.q, theta=sequences.theta)
    k = build_kernel(gen, solver=solver, solver_options=solver_options, config=selection_config,
                     steps_per_point=steps_per_point, n_monitor=n_mon, n_augmented=n_augmented, m_train=m_train,
                     n_spins=n_spins, model=model)
    return seed_batched(k, solver_options)


def _run(keys, train, test, *, generator, n_augmented, config, generator_config, truth, checkpoint_dir, progress,
         callback, solver, solver_options, sequences: SequenceData | None) -> AugmentResult:
    if sequences is not None and config is not None and config.selection.guard == "bootstrap":
        raise ValueError("the bootstrap guard draws spin replicates from an Ising fit; it does not take alignments")
    t_start = time.perf_counter()
    plan = _plan(train, test, truth, generator=generator, n_augmented=n_augmented, config=config,
                 generator_config=generator_config, solver=solver, solver_options=solver_options, sequences=sequences)
    n_seeds, m_train, n_spins = train.shape
    # the kernel reads only the selection settings: the rest of the config stays out of the compile cache key
    static = AugmentConfig(selection=dataclasses.replace(plan.config.selection, stopping="last", **_NO_GUARD))
    fns = _compiled(generator, plan.generator_config, plan.solver, plan.options, static, n_spins, m_train,
                    plan.steps_per_point, plan.n_mon, plan.n_augmented, sequences)
    timing = {"solver": 0.0, "train": 0.0, "monitor": 0.0, "final": 0.0}
    t0 = time.perf_counter()
    # compile step on another thread while init compiles and runs here (XLA compiles one program on one core). Not
    # finalize: its state comes through where_seed and the ahead-of-time program was not reused (measured)
    state_shape = jax.eval_shape(fns.init, keys, train, test, truth)
    with ThreadPoolExecutor(max_workers=1) as pool:
        compiling = [pool.submit(lambda: fns.step.lower(keys, state_shape).compile())]
        state = jax.block_until_ready(fns.init(keys, train, test, truth))
        timing["solver"] = timing["erasure"] = time.perf_counter() - t0
        for c in compiling:
            c.result()

    ckpt = None
    if checkpoint_dir is not None:  # without a directory nothing is written: the candidates stay in memory
        fp = fingerprint(keys=keys, train=train, test=test, truth=truth, generator=generator,
                         generator_config=plan.generator_config, solver=plan.solver, solver_options=plan.options,
                         static=static, n_mon=plan.n_mon, steps_per_point=plan.steps_per_point,
                         **({} if sequences is None else {"sequences": tuple(sequences)}))
        ckpt = open_run(checkpoint_dir, fp, {"steps_per_epoch": plan.steps_per_epoch, "n_seeds": int(n_seeds),
                                             "n_mix": len(plan.config.mix_grid)})
    try:
        t0 = time.perf_counter()
        state, records, stash = _loop(fns, keys, state, plan, ckpt, progress, callback)
        timing["train"] = time.perf_counter() - t0  # training and monitor points run in one compiled call each
        steps, epochs = plan.epochs()
        curve, z = _curve(records, state, plan, steps, epochs, m_train)
        t0 = time.perf_counter()
        decision = _decide(plan, state, curve, z, epochs, truth is not None, m_train)
        chosen_gen = _chosen_gen(fns, keys, state, plan, decision, ckpt, stash, steps)
    finally:
        if ckpt is not None:
            ckpt.close()
    final = jax.block_until_ready(fns.finalize(keys, state._replace(gen=chosen_gen)))
    timing["final"] = time.perf_counter() - t0
    rec, ref = decision["recommendation"], state.ref
    quality = None if sequences is None else jax.tree.map(lambda *q: np.stack(q), *[  # fields (S, ...)
        sequence_quality(*xs, sequences) for xs in zip(np.asarray(final.samples), np.asarray(train), np.asarray(test))])
    if quality is not None:
        rec = withdraw_memorised(rec, quality.copy_fraction, plan.config.selection.max_identical)
    chosen_fit = state.best_params if plan.config.stopping == "score" else final.params_combined
    params_selected, mse, rms, rms_train = final_report(rec.recommended, chosen_fit, ref.w_train, truth, final, train,
                                                   test, potts=sequences is not None)
    if not rec.recommended.all():
        first = rec.reason[int(np.argmin(rec.recommended))]
        warnings.warn(f"augmentation not recommended for {int((~rec.recommended).sum())} of {n_seeds} seed(s): "
                      f"{first} (see result.recommended / result.reason)", AugmentationNotRecommendedWarning,
                      stacklevel=3)
    mse = None if mse is None else {k: np.asarray(v) for k, v in mse.items()}
    timing["total"] = time.perf_counter() - t_start
    var, idx, best = decision["variance"], decision["index"], decision["best"]
    res = AugmentResult(
        samples=final.samples, curve=curve, stop_epoch=epochs[idx], stop_epoch_paper=epochs[var.paper],
        stop_epoch_robust=epochs[var.robust], crossed_paper=var.crossed_paper, crossed_robust=var.crossed_robust,
        best_epoch=np.where(best >= 0, epochs[np.maximum(best, 0)], -1),
        params_train=ref.w_train, params_augmented=final.params_augmented, params_combined=final.params_combined,
        mse=mse, eps={"train": np.asarray(ref.eps_train), "augmented": np.asarray(final.eps_augmented),
                      "combined": np.asarray(final.eps_combined)},
        timing=timing, generator=generator, solver=plan.solver, stop_step=steps[idx], solver_l2=np.asarray(ref.l2),
        solver_l2_combined=np.asarray(final.l2_combined),
        moment_rms=jax.tree.map(np.asarray, rms), moment_rms_train=jax.tree.map(np.asarray, rms_train),
        params_selected=params_selected, selected=rec.selected, recommended=rec.recommended, reason=rec.reason,
        stop_mix=rec.stop_mix, score={"train": np.asarray(ref.score_train), "selected": rec.score}, quality=quality)
    sel = plan.config.selection
    if sel.active_guard(alignment=sequences is not None) == "none":
        return res
    # the same pipeline, unguarded, on the replicates (their checkpoints beside the run's, so a rerun resumes); the
    # score rule's margin there is guard_score_z: the question is whether its best-scoring mix lowers the MSE
    unguarded = dataclasses.replace(plan.config, guard="none", score_z=sel.guard_score_z)
    rep_dir = None if checkpoint_dir is None else f"{os.fspath(checkpoint_dir).rstrip(os.sep)}-guard"
    run_rep = functools.partial(_run, generator=generator, n_augmented=plan.n_augmented, config=unguarded,
                                generator_config=plan.generator_config, checkpoint_dir=rep_dir, progress=progress,
                                callback=None, solver=solver, solver_options=solver_options, sequences=None)
    return apply_guard(res, keys, train, test, n_replicates=sel.n_replicates, level=sel.guard_level,
                       max_rise=sel.guard_max_rise, run_replicates=lambda k, tr, te, t: run_rep(k, tr, te, truth=t))


def _loop(fns: Kernel, keys, state: AugmentState, plan: _Plan, ckpt, progress, callback):
    """Train and monitor point after point (resuming after the last checkpoint); returns the final state, the
    host records of every point and, for the whole-curve rules without checkpoints, each point's generator state."""
    records, done = [], 0
    if ckpt is not None:
        target = point_tree(state, jax.eval_shape(fns.step, keys, state)[1])
        restored, saved, done = resume_points(ckpt, target, every=plan.steps_per_point,
                                              last=plan.steps_per_point * plan.n_points)
        if restored is not None:
            state = state._replace(**restored)
        records = [StepInfo(**r) for r in saved]
    keep = ckpt is None and plan.config.stopping in ("paper", "robust", "best")
    stash: dict[int, Any] = {}
    n_seeds = np.shape(state.ref.var_test)[0]
    gain = best_mix_gain(records, state.ref.score_train) if records else np.full(n_seeds, -np.inf)
    with tqdm(total=plan.n_points, initial=done // plan.steps_per_point, disable=not progress,
              desc=f"{plan.generator} training", unit="pt") as bar:
        for p in range(done // plan.steps_per_point, plan.n_points):
            step_no = (p + 1) * plan.steps_per_point
            state, info = jax.block_until_ready(fns.step(keys, state))
            if ckpt is not None:
                ckpt.save(step_no, point_tree(state, info))
                if p == done // plan.steps_per_point:  # the first save of this call: will the rest fit?
                    ckpt.check_room(step_no, plan.n_points - p - 1)
            elif keep:
                stash[p] = state.gen
            records.append(jax.tree.map(np.asarray, info))
            bar.update(1)
            # the variance rules look for var/test reaching 1; the score rule for a positive gain (range over seeds):
            # the best mix (ratio > 0) so far, margin or not (state.best_score is -inf until one clears the margin)
            ratio = records[-1].gen_var / np.asarray(state.ref.var_test)
            gain = np.fmax(gain, best_mix_gain(records[-1:], state.ref.score_train))
            bar.set_postfix({"var/test": f"{ratio.min():.2f}" if n_seeds == 1 else
                             f"{ratio.min():.2f}..{ratio.max():.2f}", "score gain": f"{gain.max():+.3g}"})
            if callback is not None:
                callback(host_number(step_no / plan.steps_per_epoch),
                         {k: v.tolist() for k, v in records[-1]._asdict().items()})
    return state, records, stash


def _curve(records, state: AugmentState, plan: _Plan, steps, epochs, m_train) -> tuple[StoppingCurve, np.ndarray]:
    """The :class:`StoppingCurve` of the host records, and the ``(S, P, R)`` paired z of every scored fit."""
    stack = lambda name: np.stack([getattr(r, name) for r in records], axis=1)  # noqa: E731  (S, P, ...)
    ref, n_seeds = state.ref, len(np.asarray(state.ref.var_test))
    gen_var = stack("gen_var")
    smoothed = np.stack([smooth_curve(g, plan.config.smooth_window) for g in gen_var])
    curve = StoppingCurve(
        epochs=np.tile(epochs, (n_seeds, 1)), generated_variance=gen_var, train_variance=np.asarray(ref.var_train),
        test_variance=np.asarray(ref.var_test), loss=stack("loss"), mse=stack("mse"),
        mse_combined=stack("mse_combined"), smoothed_variance=smoothed,
        test_variance_low=np.asarray(ref.band_low), test_variance_high=np.asarray(ref.band_high),
        steps=np.tile(steps, (n_seeds, 1)), score=stack("score"),
        mix_sizes=np.tile(np.asarray(mix_sizes(plan.config.mix_grid, m_train, plan.n_mon)), (n_seeds, 1)))
    return curve, stack("score_z")


def _decide(plan: _Plan, state: AugmentState, curve: StoppingCurve, z, epochs, have_truth, m_train: int) -> dict:
    """Every rule applied to the curve (:mod:`ising_diffusion.augment.rules`): the variance rules' points, the score
    rule's choice, the chosen point per seed, the recommendation and the point of lowest MSE (-1 without the
    truth)."""
    cfg = plan.config
    variance = variance_stops(curve.generated_variance, curve.test_variance, window=cfg.smooth_window)
    missed = int((~getattr(variance, f"crossed_{cfg.stopping}")).sum()) if cfg.stopping in ("paper", "robust") else 0
    if missed:  # the rule in use only: the other one decides nothing
        warnings.warn(f"the {cfg.stopping} rule found no crossing of the test energy variance for {missed} of "
                      f"{len(variance.paper)} seed(s) and fell back to the closest monitored epoch (see "
                      f"crossed_{cfg.stopping}); consider a longer training budget", NoCrossingWarning, stacklevel=4)
    choice = score_choice(curve.score, z, curve.mix_sizes[0], cfg.score_z)
    index = stop_indices(cfg.stopping, n_points=plan.n_points, variance=variance, choice=choice,
                               mse=curve.mse if have_truth else None)
    crossed = getattr(variance, f"crossed_{cfg.stopping}", None)
    rec = recommend(cfg.stopping, score=curve.score, score_train=np.asarray(state.ref.score_train),
                          mix_grid=cfg.mix_grid, stop_index=index, choice=choice, crossed=crossed,
                          score_z=cfg.score_z, epochs=epochs, mix_sizes=curve.mix_sizes[0], m_train=m_train,
                          n_augmented=plan.n_augmented)
    best = lowest_point(curve.mse, missing=-1) if have_truth else np.full(len(index), -1)
    return {"variance": variance, "choice": choice, "index": index, "recommendation": rec, "best": best}


def _chosen_gen(fns: Kernel, keys, state: AugmentState, plan: _Plan, decision: dict, ckpt, stash, steps):
    """Each seed's generator state at its chosen point: the score rule's is in the state (a seed without a
    candidate uses the last monitored model); the others come from memory or the checkpoints."""
    if plan.config.stopping == "score":
        return where_seed(decision["choice"].found, state.best_gen, state.gen)
    idx = decision["index"]
    gen = state.gen
    for i in np.unique(idx):
        if i == plan.n_points - 1:
            continue
        if ckpt is not None:
            target = point_tree(state, jax.eval_shape(fns.step, keys, state)[1])
            g = ckpt.restore(int(steps[i]), target)["state"]["gen"]
        else:
            g = stash[int(i)]
        gen = where_seed(idx == i, g, gen)
    return gen
