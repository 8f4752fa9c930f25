"""A stand-in for ``ising_diffusion.augment_seeds`` with the same call signature and result shape, for fast tests of
the experiment layer (the real generator is tested in its own module). Its "generator" resamples training rows with
a few random flips, so augmented MSEs are finite and differ from training-only ones."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ising_diffusion.ising import IsingParams
from ising_diffusion.experiments_lib.synthetic import mse_seeds


@jax.jit
def _cheap_fit(spins):
    """A crude moment estimate (not a real solver): enough to give distinct, finite MSEs without compiling one."""
    mean = spins.mean(1)
    cov = jnp.einsum("smi,smj->sij", spins, spins) / spins.shape[1] - mean[:, :, None] * mean[:, None, :]
    n = spins.shape[-1]
    return IsingParams(0.5 * mean, 0.3 * cov * (1.0 - jnp.eye(n))[None])


class FakeCurve(NamedTuple):
    epochs: jax.Array
    generated_variance: jax.Array
    train_variance: jax.Array
    test_variance: jax.Array
    loss: jax.Array
    mse: jax.Array


class FakeResult(NamedTuple):
    samples: jax.Array
    curve: FakeCurve
    stop_epoch: jax.Array
    stop_epoch_paper: jax.Array
    stop_epoch_robust: jax.Array
    best_epoch: jax.Array
    params_train: object
    params_augmented: object
    params_combined: object
    mse: dict
    timing: dict


class FakeAugment:
    def __init__(self):
        self.calls = []

    def __call__(self, keys, train, test, *, generator="ddpm", n_augmented=None, config=None, generator_config=None,
                 true_params=None, checkpoint_dir=None, progress=True):
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
        mse = {"train": mse_seeds(true_params, p_train), "augmented": mse_seeds(true_params, p_aug),
               "combined": mse_seeds(true_params, p_comb)}
        epochs = jnp.tile(jnp.arange(0, 50, 10), (s, 1))
        var = 1.0 + jnp.abs(jnp.sin(epochs / 10.0))
        curve = FakeCurve(epochs, var, jnp.ones_like(var), 1.2 * jnp.ones_like(var), 1.0 / (1.0 + epochs),
                          mse["augmented"][:, None] * (1.0 + (epochs - 20.0) ** 2 / 400.0))
        stop = jnp.full((s,), 20)
        return FakeResult(samples, curve, stop, stop, jnp.full((s,), 30), stop, p_train, p_aug, p_comb, mse,
                          {"train_s": 0.1})
