"""The interface every generator (DDPM, D3PM, RBM, VAE, GAN) implements, so ``augment`` can drive any of them.

A generator is built for a fixed number of spins by its factory, ``make_<name>(config, n_spins) -> Generator``, and
is a triple of pure functions closing over static settings (the optax ``GradientTransformation`` / blackjax
``SamplingAlgorithm`` shape):

* ``init(key, train_spins) -> state``: the whole trainable state as a pytree of arrays (network parameters,
  optimiser state, a scalar int32 ``step`` counter), so it can be checkpointed with orbax and ``vmap``-ped over
  seeds. ``train_spins`` is ``(M, N)`` float32 in {-1, +1} (some generators initialise from data statistics).
* ``train(key, state, train_spins, n_steps) -> (state, losses)``: ``n_steps`` (static) minibatch steps as one
  ``lax.scan``. The key of step ``t`` is ``jax.random.fold_in(key, state.step + t)``, so calling ``train`` twice with
  ``n`` steps equals calling it once with ``2n`` steps, and a run resumed from a checkpoint replays exactly.
  ``losses`` is ``(n_steps,)`` float32: the training objective (lower is better) of each step. One epoch is
  ``ceil(M / batch_size)`` steps for every generator (:mod:`ising_diffusion.generative.batching`).
* ``sample(key, state, n_samples) -> spins``: ``(n_samples, N)`` float32 in {-1, +1}; ``n_samples`` static.

Every factory returns its functions through :func:`jit_generator`, the one place they are jitted (``n_steps`` and
``n_samples`` static); they stay vmap-able (over ``key``, ``state`` and ``train_spins`` together) and can be traced
inside a caller's own ``jit``. ``Generator`` itself is static (hashable closures) and never crosses a transformation
boundary. A bad config or argument raises ``ValueError`` naming the field (:func:`check_factory_args`).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import numpy as np

from ising_diffusion.checks import is_int

__all__ = ["Generator", "jit_generator", "check_factory_args", "check_spins", "host_rows"]


class Generator(NamedTuple):
    """A trainable generator of spin patterns; see the module docstring for the contract of each function."""

    name: str
    init: Callable[..., Any]
    train: Callable[..., tuple[Any, Any]]
    sample: Callable[..., Any]


def jit_generator(name: str, init: Callable, train: Callable, sample: Callable,
                  check_data: Callable | None = None) -> Generator:
    """The :class:`Generator` of the pure ``init``, ``train`` and ``sample``, jitted (``n_steps``, ``n_samples``
    static); ``sample`` rejects ``n_samples < 1`` and ``train`` a negative or non-integer ``n_steps`` with a
    ValueError.

    ``check_data(data)``, if given, validates the training data of ``init`` and ``train`` on the host before the
    compiled call (values cannot be checked inside ``jit``); it must accept tracers (under a caller's ``vmap`` or
    ``jit``) and then check only what shapes tell (:func:`check_spins`, ``qstates.check_states``).
    """
    check = check_data or (lambda data: None)

    def checked_sample(key, state, n_samples):
        if not is_int(n_samples):
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        return sample(key, state, n_samples)

    jit_init, jit_train = jax.jit(init), jax.jit(train, static_argnames="n_steps")

    def checked_init(key, train_spins=None):
        if train_spins is not None:
            check(train_spins)
        return jit_init(key, train_spins)

    def checked_train(key, state, train_spins, n_steps):
        if not is_int(n_steps, 0):  # a negative count would move the step counter (and its keys) backwards
            raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
        check(train_spins)
        return jit_train(key, state, train_spins, n_steps=int(n_steps))

    return Generator(name, checked_init, checked_train, jax.jit(checked_sample, static_argnames="n_samples"))


def check_factory_args(factory: str, config, config_cls: type, n_spins) -> int:
    """Validate a generator factory's arguments (ValueError naming the bad one); returns ``N`` as an int."""
    if not isinstance(config, config_cls):
        raise ValueError(f"{factory} needs a {config_cls.__name__} config, got {type(config).__name__}")
    if not is_int(n_spins):
        raise ValueError(f"n_spins must be a positive integer, got {n_spins!r}")
    return int(n_spins)


def host_rows(data, width: int, name: str, what: str) -> np.ndarray | None:
    """``data`` as a host array once it is checked to be ``(M, width)`` with ``M >= 1`` (a ValueError naming ``name``
    and the ``what`` it must hold otherwise); ``None`` for a tracer, whose shape is all that can be checked under a
    caller's ``jit`` / ``vmap``. The shared start of the generators' data checks."""
    shape = tuple(np.shape(data))
    if len(shape) != 2 or shape[1] != width or shape[0] < 1:
        raise ValueError(f"{name} must be (M, {width}) {what} with M >= 1, got shape {shape}")
    return None if isinstance(data, jax.core.Tracer) else np.asarray(data)


def check_spins(data, n: int, name: str = "train_spins") -> None:
    """Raise a ValueError unless ``data`` is ``(M, n)`` with ``M >= 1`` spins in {-1, +1}.

    Shapes are static, so they are checked under ``jit``/``vmap`` too; the values only when ``data`` is concrete.
    """
    arr = host_rows(data, n, name, "spins")
    if arr is None:
        return
    bad = ~np.isin(arr, (-1, 1))
    if bad.any():
        raise ValueError(f"{name} must hold spins -1 / +1; found {float(arr[bad].ravel()[0]):g} ({int(bad.sum())} such "
                         "values; 0/1 data: use 2 * x - 1)")
