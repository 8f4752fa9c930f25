"""Data augmentation for inverse Ising inference with a generative model (the paper's method, METHODS.md section 4).

:func:`augment` trains a generator (DDPM by default) on the training spins, monitors the energy variance of generated
samples under ``w_train`` (the erasure-machine fit to the training data), picks the stopping epoch, generates the
augmented set from the model of that epoch and compares the erasure machine on training data only, augmented data
only, and augmented + training data. :func:`augment_seeds` runs ``S`` independent seeds as one vmapped computation.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import tempfile
import time
import warnings
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from ising_diffusion.checkpoint import Checkpointer
from ising_diffusion.data import as_spins, atomic_write
from ising_diffusion.generative import GENERATOR_CONFIGS, make_generator
from ising_diffusion.inference.erasure import DEFAULT_EPS_GRID, erasure_machine_auto
from ising_diffusion.ising import IsingParams, energy, parameter_mse
from ising_diffusion.monitor import (
    STOPPING_RULES,
    NoCrossingWarning,
    StoppingCurve,
    bootstrap_variance_band,
    paper_stop_index,
    robust_stop_index,
    smooth_curve,
)

__all__ = ["AugmentConfig", "AugmentResult", "augment", "augment_seeds", "load_checkpointed_state"]


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Settings of :func:`augment` (defaults run in about a minute on a CPU for N = 20 and a few hundred samples).

    Attributes:
      n_epochs: maximum number of training epochs (one epoch = ``ceil(M_train / batch_size)`` minibatch steps).
      monitor_every: epochs between monitor points (and checkpoints).
      n_monitor_samples: samples generated at each monitor point (``None``: ``n_augmented``, so the recorded MSE
        curve is exactly what augmentation at that epoch gives).
      stopping: which rule picks the epoch of the final model: ``"robust"`` (default; see docs/augmentation.md),
        ``"paper"``, ``"best"`` (lowest monitored MSE; needs the truth) or ``"last"``.
      n_augmented: generated samples in the final augmented set (``None``: 10x the training size).
      eps_grid: the erasure machine's grid of inverse temperatures.
      erasure_alpha, erasure_n_iter: the erasure machine's step size and iterations.
      smooth_window: running-median width over monitor points for the robust rule (odd).
      n_bootstrap: bootstrap resamples of the test energies for the reported band of the test variance.
      band_level: coverage of that band.
    """

    n_epochs: int = 400
    monitor_every: int = 20
    n_monitor_samples: int | None = 1000
    stopping: str = "robust"
    n_augmented: int | None = None
    eps_grid: tuple[float, ...] = DEFAULT_EPS_GRID
    erasure_alpha: float = 0.1
    erasure_n_iter: int = 150
    smooth_window: int = 5
    n_bootstrap: int = 200
    band_level: float = 0.68

    def __post_init__(self):
        if self.n_epochs < 1:
            raise ValueError(f"n_epochs must be >= 1, got {self.n_epochs}")
        if not (1 <= self.monitor_every <= self.n_epochs):
            raise ValueError(f"monitor_every must be in [1, n_epochs={self.n_epochs}], got {self.monitor_every}")
        if self.n_monitor_samples is not None and self.n_monitor_samples < 2:
            raise ValueError(f"n_monitor_samples must be >= 2 (a variance needs two samples), got "
                             f"{self.n_monitor_samples}")
        if self.stopping not in STOPPING_RULES:
            raise ValueError(f"stopping must be one of {STOPPING_RULES}, got {self.stopping!r}")
        if self.n_augmented is not None and self.n_augmented < 1:
            raise ValueError(f"n_augmented must be >= 1, got {self.n_augmented}")
        object.__setattr__(self, "eps_grid", tuple(float(e) for e in self.eps_grid))
        if not self.eps_grid or not all(0 < e < 1 for e in self.eps_grid):
            raise ValueError(f"eps_grid must be non-empty with values in (0, 1), got {self.eps_grid}")
        if self.erasure_n_iter < 1 or not self.erasure_alpha > 0:
            raise ValueError("erasure_n_iter must be >= 1 and erasure_alpha > 0")
        if self.smooth_window < 1 or self.smooth_window % 2 == 0:
            raise ValueError(f"smooth_window must be an odd int >= 1, got {self.smooth_window}")
        if self.n_bootstrap < 10 or not (0 < self.band_level < 1):
            raise ValueError("n_bootstrap must be >= 10 and band_level in (0, 1)")

    @property
    def n_points(self) -> int:
        return self.n_epochs // self.monitor_every


class AugmentResult(NamedTuple):
    """The outcome of :func:`augment` (:func:`augment_seeds` adds a leading seed axis ``S`` to every array).

    Attributes:
      samples: ``(n_augmented, N)`` float32 spins generated by the model at ``stop_epoch``.
      curve: :class:`~ising_diffusion.monitor.StoppingCurve` (the whole monitored curve).
      stop_epoch: epoch chosen by the configured rule (``config.stopping``).
      stop_epoch_paper, stop_epoch_robust: epochs each rule picks.
      crossed_paper, crossed_robust: whether each rule's condition was met (False: fallback used).
      best_epoch: monitored epoch of lowest ``curve.mse`` (-1 without the truth).
      params_train, params_augmented, params_combined: ``IsingParams`` from the erasure machine on the training data
        only, the augmented data only, and augmented + training data.
      mse: ``{"train", "augmented", "combined"}`` parameter MSEs (``None`` without the truth).
      eps: ``{"train", "augmented", "combined"}`` eps chosen by the erasure machine for each fit.
      timing: seconds spent: ``{"erasure", "train", "monitor", "final", "total"}``.
      generator: name of the generator used.
    """

    samples: Any
    curve: StoppingCurve
    stop_epoch: Any
    stop_epoch_paper: Any
    stop_epoch_robust: Any
    crossed_paper: Any
    crossed_robust: Any
    best_epoch: Any
    params_train: IsingParams
    params_augmented: IsingParams
    params_combined: IsingParams
    mse: dict | None
    eps: dict
    timing: dict
    generator: str


# ----------------------------------------------------------------------------------------------------------------


def augment(key, train, test, *, generator: str = "ddpm", n_augmented: int | None = None,
            config: AugmentConfig | None = None, generator_config=None, true_params: IsingParams | None = None,
            checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
            callback: Callable[[int, dict], None] | None = None) -> AugmentResult:
    """Augment the training spins with a generative model stopped by the energy-variance rule, and compare fits.

    Args:
      key: PRNG key.
      train: ``(M, N)`` training spins in {-1, +1} (the generator and ``w_train`` see only these).
      test: ``(Mt, N)`` held-out spins, used only for the test energy variance of the stopping rule.
      generator: registry name (``"ddpm"``; ``"rbm"``, ``"vae"``, ``"gan"`` when registered).
      n_augmented: size of the augmented set (default ``config.n_augmented`` or 10x the training size).
      config: :class:`AugmentConfig`.
      generator_config: the generator's config (``GENERATOR_CONFIGS[generator]``; defaults if ``None``).
      true_params: the true ``IsingParams`` on synthetic data: enables the MSE curve, ``best_epoch`` and ``mse``.
      checkpoint_dir: if given, the training state is checkpointed there at every monitor point and a rerun with the
        same data and settings resumes from the last one, ending exactly as an uninterrupted run.
      progress: show a progress bar.
      callback: called as ``callback(epoch, record)`` after every monitor point (``record``: host floats).

    Returns:
      :class:`AugmentResult`.
    """
    train = as_spins(train, name="train")
    test = as_spins(test, name="test", n_spins=train.shape[1])
    truth = None
    if true_params is not None:
        truth = _check_truth(true_params, train.shape[1], batched=False)
        truth = jax.tree.map(lambda a: a[None], truth)
    res = _run(jnp.asarray(key)[None], train[None], test[None], generator=generator, n_augmented=n_augmented,
               config=config, generator_config=generator_config, truth=truth, checkpoint_dir=checkpoint_dir,
               progress=progress, callback=callback)
    return _unbatch(res)


def augment_seeds(keys, train, test, *, generator: str = "ddpm", n_augmented: int | None = None,
                  config: AugmentConfig | None = None, generator_config=None, true_params: IsingParams | None = None,
                  checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
                  callback: Callable[[int, dict], None] | None = None, validate: bool = True) -> AugmentResult:
    """:func:`augment` for ``S`` independent seeds as one vmapped computation.

    Args:
      keys: ``(S,)`` PRNG keys.
      train: ``(S, M, N)`` training spins (one set per seed).
      test: ``(S, Mt, N)`` test spins.
      true_params: ``IsingParams`` with a leading ``(S,)`` axis, or ``None``.
      validate: check ``train``/``test`` with ``as_spins`` (a host round trip). ``False`` is for arrays already
        validated (e.g. the experiments' device-resident, possibly sharded data): they are used where they are.
      (other arguments as in :func:`augment`)

    Returns:
      :class:`AugmentResult` with a leading ``S`` axis on every array (``mse`` and ``eps`` values are ``(S,)``).
    """
    keys = jnp.asarray(keys)
    if not validate:  # trusted arrays: no host round trip, sharding kept
        tr, te = jnp.asarray(train, jnp.float32), jnp.asarray(test, jnp.float32)
        truth = None if true_params is None else jax.tree.map(jnp.asarray, true_params)
        return _run(keys, tr, te, generator=generator, n_augmented=n_augmented, config=config,
                    generator_config=generator_config, truth=truth, checkpoint_dir=checkpoint_dir, progress=progress,
                    callback=callback)
    train_np, test_np = np.asarray(train), np.asarray(test)
    if train_np.ndim != 3 or test_np.ndim != 3:
        raise ValueError(f"augment_seeds needs train (S, M, N) and test (S, Mt, N), got shapes {train_np.shape}, "
                         f"{test_np.shape}")
    s = train_np.shape[0]
    if test_np.shape[0] != s or keys.shape != (s,):
        raise ValueError(f"keys {keys.shape}, train {train_np.shape} and test {test_np.shape} must share the seed "
                         f"axis S={s}")
    tr = as_spins(train_np.reshape(-1, train_np.shape[-1]), name="train").reshape(train_np.shape)
    te = as_spins(test_np.reshape(-1, test_np.shape[-1]), name="test", n_spins=tr.shape[-1]).reshape(test_np.shape)
    truth = None
    if true_params is not None:
        truth = _check_truth(true_params, tr.shape[-1], batched=True, n_seeds=s)
    sharding = _seed_sharding(train)
    if sharding is not None:  # validation went through host memory: put the seeds back on their devices
        keys, tr, te, truth = jax.device_put((keys, tr, te, truth), sharding)
    return _run(keys, tr, te, generator=generator, n_augmented=n_augmented, config=config,
                generator_config=generator_config, truth=truth, checkpoint_dir=checkpoint_dir, progress=progress,
                callback=callback)


def load_checkpointed_state(checkpoint_dir, epoch: int, *, n_spins: int, generator: str = "ddpm",
                            generator_config=None, n_seeds: int | None = None):
    """The generator state that :func:`augment` / :func:`augment_seeds` saved at monitor ``epoch``.

    Args:
      checkpoint_dir: the ``checkpoint_dir`` of that run.
      epoch: a monitored epoch (``result.stop_epoch``, ``result.curve.epochs[i]``).
      n_spins: ``N``.
      generator, generator_config: as passed to that run.
      n_seeds: ``S`` for a run of :func:`augment_seeds` (state with a leading seed axis); ``None`` for :func:`augment`.

    Returns:
      The state pytree; draw samples with ``make_generator(generator, generator_config, n_spins).sample``.
    """
    if generator_config is None:
        generator_config = GENERATOR_CONFIGS[generator]()
    gen = make_generator(generator, generator_config, n_spins)
    s = 1 if n_seeds is None else int(n_seeds)
    keys = jax.random.split(jax.random.key(0), s)
    template = jax.eval_shape(lambda k: jax.vmap(gen.init)(k, jnp.ones((s, 2, n_spins), jnp.float32)), keys)
    record = {k: jax.ShapeDtypeStruct((s,), jnp.float32) for k in _RECORD_KEYS}
    with Checkpointer(checkpoint_dir) as ckpt:
        if int(epoch) not in ckpt.steps():
            raise ValueError(f"no checkpoint for epoch {epoch} in {checkpoint_dir}; saved: {ckpt.steps()}")
        state = ckpt.restore(int(epoch), {"state": template, "record": record})["state"]
    return jax.tree.map(lambda a: a[0], state) if n_seeds is None else state


_RECORD_KEYS = ("gen_var", "loss", "mse", "mse_combined")

# ----------------------------------------------------------------------------------------------------------------


def _seed_sharding(x) -> NamedSharding | None:
    """The sharding of ``x``'s leading (seed) axis when it is split over several devices, else ``None``."""
    s = getattr(x, "sharding", None)
    if isinstance(s, NamedSharding) and len(s.device_set) > 1 and len(s.spec) > 0 and s.spec[0] is not None:
        return NamedSharding(s.mesh, PartitionSpec(s.spec[0]))
    return None


def _check_truth(p, n, *, batched, n_seeds=None):
    if not isinstance(p, IsingParams):
        raise TypeError(f"true_params must be IsingParams, got {type(p).__name__}")
    h, J = jnp.asarray(p.h, jnp.float32), jnp.asarray(p.J, jnp.float32)
    want_h = (n_seeds, n) if batched else (n,)
    if h.shape != want_h or J.shape != want_h + (n,):
        raise ValueError(f"true_params shapes h {h.shape}, J {J.shape} do not match "
                         f"h {want_h}, J {want_h + (n,)}")
    return IsingParams(h, J)


def _unbatch(res: AugmentResult) -> AugmentResult:
    first = lambda x: x[0]  # noqa: E731
    return res._replace(
        samples=res.samples[0],
        curve=StoppingCurve(*[c[0] for c in res.curve]),
        stop_epoch=int(res.stop_epoch[0]), stop_epoch_paper=int(res.stop_epoch_paper[0]),
        stop_epoch_robust=int(res.stop_epoch_robust[0]), crossed_paper=bool(res.crossed_paper[0]),
        crossed_robust=bool(res.crossed_robust[0]), best_epoch=int(res.best_epoch[0]),
        params_train=jax.tree.map(first, res.params_train),
        params_augmented=jax.tree.map(first, res.params_augmented),
        params_combined=jax.tree.map(first, res.params_combined),
        mse=None if res.mse is None else {k: float(v[0]) for k, v in res.mse.items()},
        eps={k: float(v[0]) for k, v in res.eps.items()})


def _fingerprint(**parts) -> str:
    h = hashlib.sha256()
    for name in sorted(parts):
        v = parts[name]
        h.update(name.encode())
        if isinstance(v, (np.ndarray, jax.Array)):
            a = np.asarray(v)
            h.update(str(a.shape).encode() + str(a.dtype).encode() + a.tobytes())
        else:
            h.update(repr(v).encode())
    return h.hexdigest()


class _Compiled(NamedTuple):
    init: Callable
    fit_train: Callable
    train_chunk: Callable
    monitor: Callable
    final: Callable


@functools.lru_cache(maxsize=32)
def _compiled(generator, generator_config, config, n_spins, steps_per_point, n_mon, n_augmented) -> _Compiled:
    """The seed-vmapped, jitted pieces of a run, cached on the static settings so repeated calls do not recompile."""
    gen = make_generator(generator, generator_config, n_spins)

    def erasure(x):
        return erasure_machine_auto(x, config.eps_grid, alpha=config.erasure_alpha, n_iter=config.erasure_n_iter)

    @jax.jit
    def fit_train(train, test, k_boot):
        fit = jax.vmap(erasure)(train)
        e_train = jax.vmap(energy)(fit.params, train)
        e_test = jax.vmap(energy)(fit.params, test)
        lo, hi = jax.vmap(lambda k, e: bootstrap_variance_band(k, e, config.n_bootstrap, config.band_level))(
            k_boot, e_test)
        return fit, jnp.var(e_train, axis=1), jnp.var(e_test, axis=1), lo, hi

    def monitor_point(k, state, w, train_x, w_true):
        samples = gen.sample(k, state, n_mon)
        var = jnp.var(energy(w, samples))
        if w_true is None:
            return var, jnp.nan, jnp.nan
        aug = erasure(samples)
        comb = erasure(jnp.concatenate([samples, train_x], axis=0))
        return var, parameter_mse(w_true, aug.params), parameter_mse(w_true, comb.params)

    def final(k, st, train_x):
        samples = gen.sample(k, st, n_augmented)
        return samples, erasure(samples), erasure(jnp.concatenate([samples, train_x], axis=0))

    return _Compiled(init=jax.jit(jax.vmap(gen.init)), fit_train=fit_train,
                     train_chunk=jax.jit(jax.vmap(lambda k, st, x: gen.train(k, st, x, steps_per_point))),
                     monitor=jax.jit(jax.vmap(monitor_point)), final=jax.jit(jax.vmap(final)))


def _run(keys, train, test, *, generator, n_augmented, config, generator_config, truth, checkpoint_dir, progress,
         callback) -> AugmentResult:
    t_start = time.perf_counter()
    config = AugmentConfig() if config is None else config
    if not isinstance(config, AugmentConfig):
        raise TypeError(f"config must be an AugmentConfig, got {type(config).__name__}")
    if generator not in GENERATOR_CONFIGS:
        raise ValueError(f"unknown generator {generator!r}; registered: {sorted(GENERATOR_CONFIGS)}")
    if generator_config is None:
        generator_config = GENERATOR_CONFIGS[generator]()
    n_seeds, m_train, n_spins = train.shape
    if m_train < 2 or test.shape[1] < 2:
        raise ValueError(f"need at least 2 training and 2 test samples, got {m_train} and {test.shape[1]}")
    if n_augmented is None:
        n_augmented = config.n_augmented if config.n_augmented is not None else 10 * m_train
    n_augmented = int(n_augmented)
    if n_augmented < 1:
        raise ValueError(f"n_augmented must be >= 1, got {n_augmented}")
    if config.stopping == "best" and truth is None:
        raise ValueError("stopping='best' needs true_params (the MSE curve)")
    n_mon = n_augmented if config.n_monitor_samples is None else int(config.n_monitor_samples)
    batch_size = int(getattr(generator_config, "batch_size", 128))
    steps_per_epoch = math.ceil(m_train / batch_size)
    steps_per_point = steps_per_epoch * config.monitor_every
    n_points = config.n_points
    have_truth = truth is not None
    timing = {"erasure": 0.0, "train": 0.0, "monitor": 0.0, "final": 0.0}
    static = dataclasses.replace(config, n_epochs=config.monitor_every, stopping="last", n_augmented=None)
    fns = _compiled(generator, generator_config, static, n_spins, steps_per_point, n_mon, n_augmented)

    # --- w_train and the fixed variances (one vmapped call over seeds)
    t0 = time.perf_counter()
    keys_init, keys_train, keys_mon, keys_final, keys_boot = [
        jax.vmap(lambda k, i=i: jax.random.fold_in(k, i))(keys) for i in range(5)]
    fit, var_train, var_test, band_lo, band_hi = jax.block_until_ready(fns.fit_train(train, test, keys_boot))
    w_train = fit.params
    timing["erasure"] += time.perf_counter() - t0
    train_chunk, monitor_v = fns.train_chunk, fns.monitor

    # --- checkpoints (a temporary directory when none is given: the chosen epoch is restored from it)
    tmp = None
    if checkpoint_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="augment-ckpt-")
        ckpt_dir = tmp.name
    else:
        ckpt_dir = os.fspath(checkpoint_dir)
    fingerprint = _fingerprint(keys=jax.random.key_data(keys), train=train, test=test, generator=generator,
                               generator_config=generator_config, config={k: v for k, v in dataclasses.asdict(config).items()
                                       if k not in ("n_epochs", "stopping", "n_augmented")},
                               n_mon=n_mon, truth=None if truth is None else np.asarray(truth.h))
    os.makedirs(ckpt_dir, exist_ok=True)
    meta_path = os.path.join(ckpt_dir, "augment_meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            old = json.load(f).get("fingerprint")
        if old != fingerprint:
            raise ValueError(f"checkpoint_dir {ckpt_dir} holds a run with different data, keys or settings; use "
                             "another directory (n_epochs alone may change)")
    else:
        atomic_write(meta_path, lambda f: f.write(json.dumps({"fingerprint": fingerprint}).encode()))
    ckpt = Checkpointer(ckpt_dir)
    try:
        state = fns.init(keys_init, train)
        record_shape = {k: jnp.zeros(n_seeds) for k in _RECORD_KEYS}
        records: list[dict] = []
        done_epochs = 0
        saved = [s for s in ckpt.steps() if s % config.monitor_every == 0 and s <= config.n_epochs]
        if saved:  # resume: the state of the last point and the records of all earlier ones
            for ep in saved:
                if ep == saved[-1]:
                    r = ckpt.restore(ep, {"state": state, "record": record_shape})
                    state = r["state"]
                else:
                    r = ckpt.restore(ep, {"state": state, "record": record_shape})
                records.append({k: np.asarray(v) for k, v in r["record"].items()})
            done_epochs = saved[-1]
            if saved != list(range(config.monitor_every, done_epochs + 1, config.monitor_every)):
                raise ValueError(f"checkpoint_dir {ckpt_dir} has an incomplete set of monitor points {saved}")

        bar = tqdm(total=n_points, initial=done_epochs // config.monitor_every, disable=not progress,
                   desc=f"{generator} training", unit="pt")
        for p in range(done_epochs // config.monitor_every, n_points):
            epoch = (p + 1) * config.monitor_every
            t0 = time.perf_counter()
            state, losses = train_chunk(keys_train, state, train)
            losses = jax.block_until_ready(losses)
            timing["train"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            k_p = jax.vmap(lambda k: jax.random.fold_in(k, epoch))(keys_mon)
            var, mse_a, mse_c = jax.block_until_ready(monitor_v(k_p, state, w_train, train, truth))
            timing["monitor"] += time.perf_counter() - t0
            rec = {"gen_var": var, "loss": jnp.mean(losses, axis=1),
                   "mse": jnp.broadcast_to(mse_a, (n_seeds,)), "mse_combined": jnp.broadcast_to(mse_c, (n_seeds,))}
            ckpt.save(epoch, {"state": state, "record": rec})
            records.append({k: np.asarray(v) for k, v in rec.items()})
            bar.update(1)
            # generated / test energy variance: the stopping rules look for it reaching 1 (range over seeds)
            ratio = np.asarray(var) / np.asarray(var_test)
            bar.set_postfix({"var/test": f"{ratio.min():.2f}" if n_seeds == 1 else
                             f"{ratio.min():.2f}..{ratio.max():.2f}"})
            if callback is not None:
                callback(epoch, {k: v.tolist() for k, v in records[-1].items()})
        bar.close()

        # --- the curve and the stopping rules (host side, per seed)
        epochs = np.arange(1, n_points + 1) * config.monitor_every
        stack = lambda name: np.stack([r[name] for r in records], axis=1)  # noqa: E731  (S, P)
        gen_var, loss, mse_curve, mse_comb_curve = (stack(k) for k in ("gen_var", "loss", "mse", "mse_combined"))
        smoothed = np.stack([smooth_curve(g, config.smooth_window) for g in gen_var])
        idx_paper, crossed_paper, idx_robust, crossed_robust = [], [], [], []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NoCrossingWarning)
            for s in range(n_seeds):
                i, c = paper_stop_index(gen_var[s], var_test[s])
                idx_paper.append(i)
                crossed_paper.append(c)
                i, c = robust_stop_index(gen_var[s], var_test[s], window=config.smooth_window)
                idx_robust.append(i)
                crossed_robust.append(c)
        if caught:
            n_no = len(caught)
            warnings.warn(f"{n_no} stopping decision(s) over {n_seeds} seed(s) found no crossing of the test energy "
                          "variance and fell back to the closest monitored epoch (see crossed_paper / "
                          "crossed_robust); consider more epochs", NoCrossingWarning, stacklevel=3)
        idx_paper, idx_robust = np.asarray(idx_paper), np.asarray(idx_robust)
        best = np.argmin(mse_curve, axis=1) if have_truth else np.full(n_seeds, -1)
        chosen = {"paper": idx_paper, "robust": idx_robust, "best": best,
                  "last": np.full(n_seeds, n_points - 1)}[config.stopping]

        # --- the final augmented set from each seed's chosen epoch
        t0 = time.perf_counter()
        chosen_state = state
        for ep_idx in np.unique(chosen):
            ep = int(epochs[ep_idx])
            st = ckpt.restore(ep, {"state": state, "record": record_shape})["state"]
            mask = jnp.asarray(chosen == ep_idx)
            chosen_state = jax.tree.map(
                lambda a, b: jnp.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), b, a), chosen_state, st)
    finally:
        ckpt.close()
        if tmp is not None:
            tmp.cleanup()

    samples, fit_aug, fit_comb = jax.block_until_ready(fns.final(keys_final, chosen_state, train))
    timing["final"] += time.perf_counter() - t0

    mse = None
    if have_truth:
        pm = jax.vmap(parameter_mse)
        mse = {"train": np.asarray(pm(truth, w_train)), "augmented": np.asarray(pm(truth, fit_aug.params)),
               "combined": np.asarray(pm(truth, fit_comb.params))}
    curve = StoppingCurve(epochs=np.tile(epochs, (n_seeds, 1)), generated_variance=gen_var, train_variance=np.asarray(var_train),
                          test_variance=np.asarray(var_test), loss=loss, mse=mse_curve, mse_combined=mse_comb_curve,
                          smoothed_variance=smoothed, test_variance_low=np.asarray(band_lo),
                          test_variance_high=np.asarray(band_hi))
    timing["total"] = time.perf_counter() - t_start
    return AugmentResult(
        samples=samples, curve=curve, stop_epoch=epochs[chosen], stop_epoch_paper=epochs[idx_paper],
        stop_epoch_robust=epochs[idx_robust], crossed_paper=np.asarray(crossed_paper),
        crossed_robust=np.asarray(crossed_robust),
        best_epoch=np.where(best >= 0, epochs[np.maximum(best, 0)], -1),
        params_train=w_train, params_augmented=fit_aug.params, params_combined=fit_comb.params, mse=mse,
        eps={"train": np.asarray(fit.eps), "augmented": np.asarray(fit_aug.eps), "combined": np.asarray(fit_comb.eps)},
        timing=timing, generator=generator)
