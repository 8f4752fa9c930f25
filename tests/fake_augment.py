"""A stand-in for ``ising_diffusion.augment_seeds`` with the same call signature and the real result types
(:class:`AugmentResult`, :class:`StoppingCurve`), for fast tests of the experiment layer (the real generator is
tested in its own module). Its "generator" resamples training rows with a few random flips, and its "inference" is
a crude moment estimate, so MSEs are finite and distinct without compiling a solver or a network."""

from __future__ import annotations

import jax
import jax.numpy as jnp

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


class FakeAugment:
    def __init__(self):
        self.calls = []

    def __call__(self, keys, train, test, *, generator="ddpm", n_augmented=None, config=None, generator_config=None,
                 true_params=None, checkpoint_dir=None, progress=True, validate=True):
        self.calls.append(dict(n_seeds=keys.shape[0], train_shape=tuple(train.shape), generator=generator,
                               n_augmented=n_augmented, checkpoint_dir=checkpoint_dir))
        s, m, n = train.shape
        n_aug = n_augmented or 10 * m

        def gen(k, tr):
            k1, k2 = jax.random.split(k)
            rows = tr[jax.random.randint(k1, (n_aug,), 0, m)]
            flips = jnp.where(jax.random.bernoulli(k2, 0.05, rows.shape), -1.0, 1.0)
            return rows * flips

        samples = jax.vmap(gen)(keys, train)
        p_train = _cheap_fit(train)
        p_aug = _cheap_fit(samples)
        p_comb = _cheap_fit(jnp.concatenate([samples, train], axis=1))
        if true_params is None:  # no planted model (e.g. the retina): no MSEs, NaN MSE curves, as augment_seeds
            mse, nan = None, jnp.full((s,), jnp.nan)
            mse_aug, mse_comb = nan, nan
        else:
            mse = {"train": mse_seeds(true_params, p_train), "augmented": mse_seeds(true_params, p_aug),
                   "combined": mse_seeds(true_params, p_comb)}
            mse_aug, mse_comb = mse["augmented"], mse["combined"]
        epochs = jnp.arange(10, 60, 10)
        var = 1.0 + jnp.abs(jnp.sin(epochs / 10.0))[None, :] * jnp.ones((s, 1))
        ones = jnp.ones(s)
        bowl = 1.0 + (epochs - 20.0) ** 2 / 400.0
        curve = StoppingCurve(epochs, var, ones, 1.2 * ones, 1.0 / (1.0 + var), mse_aug[:, None] * bowl[None, :],
                              mse_comb[:, None] * bowl[None, :], var, 1.1 * ones, 1.3 * ones)
        stop = jnp.full((s,), 20)
        return AugmentResult(samples, curve, stop, stop, jnp.full((s,), 30), jnp.ones(s, bool), jnp.ones(s, bool),
                             stop, p_train, p_aug, p_comb, mse, {"train": 0.5 * ones}, {"total": 0.1}, generator)
