"""Pieces shared by the baseline generators (RBM, VAE, GAN): argument checks, and minibatching by epochs of random
permutations, keyed by epoch.

Step ``t`` (the generator's global step counter) belongs to epoch ``t // steps_per_epoch`` and takes slice
``t % steps_per_epoch`` of that epoch's permutation, so every training sample is seen once per epoch and the batch of
a step depends only on ``(key, t)``: resuming at any step replays exactly, as the ``Generator`` contract requires.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ising_diffusion.types import Array, PRNGKey

# Tag folded into the training key to get the permutation stream; keeps it apart from the per-step keys
# fold_in(key, step), which use small non-negative integers.
_PERMUTATION_TAG = 2**31 - 1


def check_factory_args(factory: str, config, config_cls: type, n_spins) -> int:
    """Validate a generator factory's arguments; returns ``N`` as an int."""
    if not isinstance(config, config_cls):
        raise ValueError(f"{factory} needs a {config_cls.__name__}, got {type(config).__name__}")
    if int(n_spins) != n_spins or n_spins < 1:
        raise ValueError(f"n_spins must be a positive integer, got {n_spins!r}")
    return int(n_spins)


def check_train_width(train_spins, n: int) -> None:
    """Raise a ValueError unless ``train_spins`` is ``(M, n)`` (shapes are static, so this works under jit)."""
    if train_spins.ndim != 2 or train_spins.shape[-1] != n:
        raise ValueError(f"train_spins must be (M, {n}), got shape {train_spins.shape}")


def steps_per_epoch(n_data: int, batch_size: int) -> int:
    """``ceil(M / batch_size)``: the number of minibatch steps in one epoch."""
    return -(-n_data // batch_size)


def minibatch(key: PRNGKey, step: Array, data: Array, batch_size: int) -> Array:
    """The ``batch_size`` rows of ``data`` (``(M, N)``) used at global step ``step``.

    The last batch of an epoch wraps around to the start of the permutation, so shapes stay static.
    """
    m = data.shape[0]
    spe = steps_per_epoch(m, batch_size)
    epoch, slot = step // spe, step % spe
    perm = jax.random.permutation(jax.random.fold_in(jax.random.fold_in(key, _PERMUTATION_TAG), epoch), m)
    idx = (slot * batch_size + jnp.arange(batch_size)) % m
    return data[perm[idx]]
