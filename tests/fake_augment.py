"""A stand-in for ``ising_diffusion.augment_seeds`` with the same call signature and the real result types
(:class:`AugmentResult`, :class:`StoppingCurve`), for fast tests of the experiment layer (the real generator is
tested in its own module). Its "generator" resamples training rows with a few random flips, and its "inference" is
a crude moment estimate, so MSEs are finite and distinct without compiling a solver or a network."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.augment import AugmentResult
from ising_diffusion.ising import IsingParams
from ising_diffusion.monitor import StoppingCurve
from ising_diffusion.experiments.synthetic import mse_seeds


@jax.jit
def _cheap_fit(spins):
    mean = spins.mean(1)
    cov = jnp.einsum("smi,smj->sij", spins, spins) / spins.shape[1] - mean[:, :, None] * mean[:, None, :]
    n = spins.shape[-1]
    return IsingParams(0.5 * mean, 0.3 * cov * (1.0 - jnp.eye(n))[None])


@partial(jax.jit, static_argnums=2)
def _fake_fits(keys, train, n_aug):
    """One compiled call: the fake generator's samples and the three crude fits."""
    m = train.shape[1]

    def gen(k, tr):
        k1, k2 = jax.random.split(k)
        rows = tr[jax.random.randint(k1, (n_aug,), 0, m)]
        flips = jnp.where(jax.random.bernoulli(k2, 0.05, rows.shape), -1.0, 1.0)
        return rows * flips

    samples = jax.vmap(gen)(keys, train)
    return samples, _cheap_fit(train), _cheap_fit(samples), _cheap_fit(jnp.concatenate([samples, train], axis=1))


class FakeAugment:
    def __init__(self):
        self.calls = []

    def __call__(self, keys, train, test, *, generator="ddpm", n_augmented=None, config=None, generator_config=None,
                 true_params=None, checkpoint_dir=None, progress=True, callback=None, solver=None,
                 solver_options=None, validate=True):
        self.calls.append(dict(n_seeds=keys.shape[0], train_shape=tuple(train.shape), generator=generator,
                               n_augmented=n_augmented, checkpoint_dir=checkpoint_dir))
        s, m, n = train.shape
        n_aug = n_augmented or 10 * m

        samples, p_train, p_aug, p_comb = _fake_fits(keys, train, n_aug)
        if true_params is None:  # no planted model (e.g. the retina): no MSEs, NaN MSE curves, as augment_seeds
            mse, nan = None, np.full((s,), np.nan)
            mse_aug, mse_comb = nan, nan
            # the made-up held-out score below: combined beats training only by 10%
            gain = np.full((s, 1), 0.1)
        else:
            mse = {"train": mse_seeds(true_params, p_train), "augmented": mse_seeds(true_params, p_aug),
                   "combined": mse_seeds(true_params, p_comb)}
            mse = {k: np.asarray(v) for k, v in mse.items()}
            mse_aug, mse_comb = mse["augmented"], mse["combined"]
            gain = (mse["train"] / mse["combined"])[:, None] - 1.0
        # the bookkeeping on the host (NumPy): eager JAX operations compile one program each, seconds per call
        epochs = np.arange(10, 60, 10)
        var = 1.0 + np.abs(np.sin(epochs / 10.0))[None, :] * np.ones((s, 1))
        ones = np.ones(s)
        bowl = 1.0 + (epochs - 20.0) ** 2 / 400.0
        # a made-up held-out score: training only -1, the mixes better by the MSE ratio (ratios (0, 1), sizes (0, m))
        score = np.stack([-np.ones((s, epochs.shape[0])), -1.0 + gain / bowl[None, :]], axis=-1)
        curve = StoppingCurve(epochs, var, ones, 1.2 * ones, 1.0 / (1.0 + var), mse_aug[:, None] * bowl[None, :],
                              mse_comb[:, None] * bowl[None, :], var, 1.1 * ones, 1.3 * ones,
                              steps=np.tile(4 * epochs, (s, 1)), score=score,
                              mix_sizes=np.tile(np.asarray([0, m]), (s, 1)))
        stop = np.full((s,), 20)
        recommended = np.asarray(gain[:, 0] > 0)
        selected = jax.tree.map(lambda a, b: np.where(recommended.reshape((-1,) + (1,) * (a.ndim - 1)), a, b),
                                jax.device_get(p_comb), jax.device_get(p_train))
        if mse is not None:
            mse = mse | {"selected": np.asarray(mse_seeds(true_params, selected))}
        return AugmentResult(samples, curve, stop, stop, np.full((s,), 30), np.ones(s, bool), np.ones(s, bool),
                             stop, p_train, p_aug, p_comb, mse, {"train": 0.5 * ones}, {"total": 0.1}, generator,
                             params_selected=selected, selected=np.where(recommended, "combined", "train"),
                             recommended=recommended,
                             reason=np.where(recommended, "fake: combined beat training only",
                                             "fake: combined did not beat training only"),
                             solver=solver or "pseudolikelihood", stop_step=4 * stop,
                             stop_mix=np.where(recommended, 1.0, 0.0),
                             score={"train": -ones, "selected": score[:, 1, 1]}, solver_l2=0.01 * ones,
                             solver_l2_combined=0.001 * ones)


#: the strong baseline the experiment tests use: a closed-form solver instead of cross-validated pseudolikelihood,
#: whose path compiles for ~20-60 s per shape (it is tested in test_cv.py; the experiments only pass its MSEs on)
CHEAP_BASELINE = ("mean_field", {})


def install_fake(monkeypatch) -> FakeAugment:
    """Replace ``augment_seeds`` in the experiment layer by a :class:`FakeAugment` and its strong baseline by
    :data:`CHEAP_BASELINE`; return the fake (its ``calls`` record every call)."""
    from ising_diffusion.experiments import synthetic

    fake = FakeAugment()
    monkeypatch.setattr(synthetic, "augment_seeds", fake)
    monkeypatch.setattr(synthetic, "CV_BASELINE", CHEAP_BASELINE)
    return fake


# --- a planted generator for end-to-end tests of the bootstrap guard ------------------------------------------------
# It trains nothing: it recognises its training data by a float signature and returns exact samples of a fixed model,
# ``real`` for the one data set whose signature is ``real_signature`` and ``other`` for any other (the guard's
# replicates). Models are stored as flat tuples so the config stays hashable (augment caches on it).

import dataclasses  # noqa: E402

from ising_diffusion.generative.base import jit_generator  # noqa: E402
from ising_diffusion.ising import exact_sample  # noqa: E402


@jax.jit
def data_signature(spins):
    """A float that differs between any two of the tests' data sets (weighted sum of the spins)."""
    m, n = spins.shape
    w = jnp.sin(1.0 + jnp.arange(m * n, dtype=jnp.float32)).reshape(m, n)
    return jnp.sum(spins * w)


def flat_model(p: IsingParams) -> tuple:
    return tuple(float(x) for x in np.concatenate([np.ravel(p.h), np.ravel(p.J)]))


def _model(flat, n):
    a = jnp.asarray(flat, jnp.float32)
    return IsingParams(a[:n], a[n:].reshape(n, n))


@dataclasses.dataclass(frozen=True)
class PlantedConfig:
    real_signature: float = 0.0
    real: tuple = ()
    other: tuple = ()
    batch_size: int = 32


def make_planted(config: PlantedConfig, n_spins: int):
    real, other = _model(config.real, n_spins), _model(config.other, n_spins)

    def init(key, train_spins):
        sig = data_signature(train_spins)
        is_real = jnp.abs(sig - config.real_signature) < 1e-3 * (1.0 + abs(config.real_signature))
        return {"step": jnp.zeros((), jnp.int32), "is_real": is_real}

    def train(key, state, train_spins, n_steps):
        return state | {"step": state["step"] + n_steps}, jnp.zeros((n_steps,), jnp.float32)

    def sample(key, state, n_samples):
        return jnp.where(state["is_real"], exact_sample(key, real, n_samples), exact_sample(key, other, n_samples))

    return jit_generator("planted", init, train, sample)
