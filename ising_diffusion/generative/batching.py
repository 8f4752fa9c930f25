"""Minibatches of the training data, and what an epoch is, for every generator.

**An epoch is** :func:`steps_per_epoch` ``= ceil(M / batch_size)`` **optimiser steps for every generator** (and for
``augment``'s epoch budgets, ``AugmentConfig(n_epochs=...)``): about one pass over the ``M`` training samples. How
each step's batch is drawn is the generator's:

* :func:`batch_with_replacement` (DDPM, D3PM): every batch is ``batch_size`` independent uniform draws of the training
  rows, keyed by the step's own key, so an epoch sees ``M`` samples *in expectation*;
* :func:`shuffled_batch` (RBM, VAE, GAN): step ``t`` belongs to epoch ``t // steps_per_epoch`` and takes slice
  ``t % steps_per_epoch`` of that epoch's random permutation, so an epoch sees every sample once (the last batch
  wraps around to the start of the permutation).

Both depend only on the key and the step number: a run resumed at any step replays exactly, as the ``Generator``
contract requires. (The two schemes were kept as they were so that no generator's numbers changed.)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ising_diffusion.types import Array, PRNGKey

__all__ = ["steps_per_epoch", "shuffled_batch", "batch_with_replacement"]

# Tag folded into the training key to get the permutation stream; keeps it apart from the per-step keys
# fold_in(key, step), which use small non-negative integers.
_PERMUTATION_TAG = 2**31 - 1


def steps_per_epoch(n_data: int, batch_size: int) -> int:
    """``ceil(M / batch_size)``: the number of optimiser steps in one epoch (the one definition of an epoch)."""
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return -(-int(n_data) // int(batch_size))


def shuffled_batch(key: PRNGKey, step: Array, data: Array, batch_size: int) -> Array:
    """The ``batch_size`` rows of ``data`` (``(M, N)``) used at global step ``step``: a slice of that epoch's random
    permutation (keyed by ``key`` and the epoch), so every row is used once per epoch."""
    m = data.shape[0]
    spe = steps_per_epoch(m, batch_size)
    epoch, slot = step // spe, step % spe
    perm = jax.random.permutation(jax.random.fold_in(jax.random.fold_in(key, _PERMUTATION_TAG), epoch), m)
    idx = (slot * batch_size + jnp.arange(batch_size)) % m
    return data[perm[idx]]


def batch_with_replacement(key: PRNGKey, data: Array, batch_size: int) -> Array:
    """``batch_size`` rows of ``data`` (``(M, N)``) drawn uniformly with replacement by ``key`` (the step's key)."""
    return data[jax.random.randint(key, (batch_size,), 0, data.shape[0])]
