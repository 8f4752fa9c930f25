"""The interface every generator (DDPM, RBM, VAE, GAN) implements, so ``augment`` can drive any of them.

A generator is built for a fixed number of spins by its factory, ``make_<name>(config, n_spins) -> Generator``, and
is a triple of pure functions closing over static settings (the optax ``GradientTransformation`` / blackjax
``SamplingAlgorithm`` shape):

* ``init(key, train_spins) -> state``: the whole trainable state as a pytree of arrays (network parameters,
  optimiser state, a scalar int32 ``step`` counter), so it can be checkpointed with orbax and ``vmap``-ped over
  seeds. ``train_spins`` is ``(M, N)`` float32 in {-1, +1} (some generators initialise from data statistics).
* ``train(key, state, train_spins, n_steps) -> (state, losses)``: ``n_steps`` (static) minibatch steps as one
  ``lax.scan``. The key of step ``t`` is ``jax.random.fold_in(key, state.step + t)``, so calling ``train`` twice with
  ``n`` steps equals calling it once with ``2n`` steps, and a run resumed from a checkpoint replays exactly.
  ``losses`` is ``(n_steps,)`` float32: the training objective (lower is better) of each step.
* ``sample(key, state, n_samples) -> spins``: ``(n_samples, N)`` float32 in {-1, +1}; ``n_samples`` static.

All three are jit-able and vmap-able (over ``key``, ``state`` and ``train_spins`` together); ``Generator`` itself is
static (hashable closures) and never crosses a transformation boundary.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

__all__ = ["Generator"]


class Generator(NamedTuple):
    """A trainable generator of spin patterns; see the module docstring for the contract of each function."""

    name: str
    init: Callable[..., Any]
    train: Callable[..., tuple[Any, Any]]
    sample: Callable[..., Any]
