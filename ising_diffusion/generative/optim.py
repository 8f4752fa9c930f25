"""The optimiser step of the gradient-trained generators, with the moving average of the weights that sampling uses.

Every generator updates its parameters with an optax transformation (:func:`apply_gradients`); the diffusion models
(DDPM, D3PM) also keep an exponential moving average of them (:func:`update_ema`), warmed up as TensorFlow's
``ExponentialMovingAverage(num_updates=step)``: the decay after ``t`` steps is ``min(decay, (1 + t) / (10 + t))``, so
early averages do not remember the random initial weights.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from ising_diffusion.checks import check_int, is_real

__all__ = ["apply_gradients", "ema_decay", "update_ema", "optimizer_ema_step", "check_optimizer_fields"]


def check_optimizer_fields(cfg, name: str) -> None:
    """The optimiser fields the generator configs share, checked in one place (each config's ``__post_init__``):
    ``learning_rate > 0``, ``batch_size`` a positive int and ``ema_decay`` in ``[0, 1)``, each where ``cfg`` has it.

    Raises:
      ValueError: naming ``{name}.{field}`` and the value.
    """
    if not (is_real(cfg.learning_rate) and cfg.learning_rate > 0):
        raise ValueError(f"{name}.learning_rate must be > 0, got {cfg.learning_rate!r}")
    if hasattr(cfg, "batch_size"):
        check_int(name, "batch_size", cfg.batch_size)
    if hasattr(cfg, "ema_decay") and not (is_real(cfg.ema_decay) and 0 <= cfg.ema_decay < 1):
        raise ValueError(f"{name}.ema_decay must be in [0, 1), got {cfg.ema_decay!r}")


def apply_gradients(optimizer: optax.GradientTransformation, grads, opt_state, params) -> tuple[Any, Any]:
    """One optax update: ``(new_params, new_opt_state)``."""
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def ema_decay(decay: float, step) -> jax.Array:
    """The warmed-up decay ``min(decay, (1 + t) / (10 + t))`` at step ``t`` (the step before the update)."""
    t = jnp.asarray(step).astype(jnp.float32)
    return jnp.minimum(decay, (1.0 + t) / (10.0 + t))


def update_ema(ema, params, decay: float, step):
    """``d ema + (1 - d) params`` with ``d = ema_decay(decay, step)`` (``decay = 0``: the average is ``params``)."""
    d = ema_decay(decay, step)
    return jax.tree.map(lambda e, p: d * e + (1.0 - d) * p, ema, params)


def optimizer_ema_step(optimizer: optax.GradientTransformation, grads, params, opt_state, ema, *, decay: float,
                       step) -> tuple[Any, Any, Any]:
    """The diffusion models' training update: the optimiser step, then the moving average of the new weights.

    Returns:
      ``(params, opt_state, ema)``.
    """
    params, opt_state = apply_gradients(optimizer, grads, opt_state, params)
    return params, opt_state, update_ema(ema, params, decay, step)
