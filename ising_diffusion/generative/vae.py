"""Variational autoencoder baseline generator (METHODS.md section 5; the paper's appendix A), in Flax NNX.

The paper's network at N = 40 is 40-30-20-10-20-30-40: an encoder ``N -> 30 -> 20`` whose last hidden layer feeds two
heads giving the mean and log-variance of a 10-dimensional Gaussian posterior ``q(z|x)``, and a mirrored decoder
``10 -> 20 -> 30 -> N`` giving Bernoulli logits for ``x = (s + 1) / 2``. For other ``N`` the widths scale with ``N``
(``0.75 N``, ``0.5 N``, latent ``0.25 N``) unless set in the config. Prior ``N(0, I)``; loss: the negative ELBO per
sample, ``BCE(x, decoder(z)) + KL(q(z|x) || N(0, I))`` with one reparameterised ``z``; Adam, learning rate 1e-3.

Samples: decode ``z ~ N(0, I)`` and draw each unit from its Bernoulli probability (``sample_mode="bernoulli"``) or
threshold it at 1/2 (``"threshold"``).

The module is built with ``nnx`` and split once (``graphdef`` is static, closed over by the factory); the state that
is trained, vmapped and checkpointed is the pure ``nnx.State`` of parameters.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jaxtyping import Array, Float

from ising_diffusion.generative.base import Generator, check_factory_args, check_spins, jit_generator
from ising_diffusion.generative.batching import shuffled_batch
from ising_diffusion.checks import check_int, check_scalar_fields, check_widths
from ising_diffusion.generative.optim import apply_gradients, check_optimizer_fields

__all__ = ["VAEConfig", "VAEState", "VAE", "make_vae", "vae_layer_sizes", "vae_elbo"]

_ACTIVATIONS: dict[str, Callable] = {"relu": jax.nn.relu, "tanh": jnp.tanh, "gelu": jax.nn.gelu,
                                     "elu": jax.nn.elu, "sigmoid": jax.nn.sigmoid}


@dataclasses.dataclass(frozen=True)
class VAEConfig:
    """Hyperparameters of the VAE baseline.

    Attributes:
      hidden: encoder hidden widths (the decoder mirrors them); ``None`` scales the paper's ``(30, 20)`` at N = 40
        with ``N`` as ``(round(0.75 N), round(0.5 N))``.
      latent: latent dimension; ``None`` scales the paper's 10 at N = 40 as ``round(0.25 N)``.
      activation: hidden activation, one of relu, tanh, gelu, elu, sigmoid (**default** relu; not in the paper).
      learning_rate: Adam learning rate (paper: 1e-3).
      batch_size: minibatch size; one epoch is ``ceil(M / batch_size)`` steps (**default** 100).
      sample_mode: ``"bernoulli"`` draws each unit from the decoder's probability, ``"threshold"`` takes ``p > 1/2``.
    """

    hidden: tuple[int, ...] | None = None
    latent: int | None = None
    activation: str = "relu"
    learning_rate: float = 1e-3
    batch_size: int = 100
    sample_mode: str = "bernoulli"

    def __post_init__(self):
        check_scalar_fields(self)  # integral floats (5.0, as JSON holds) stored as ints
        if self.hidden is not None:
            object.__setattr__(self, "hidden", check_widths("VAEConfig", "hidden", self.hidden))  # hashable tuple
        if self.latent is not None:
            check_int("VAEConfig", "latent", self.latent)
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"VAEConfig.activation must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")
        check_optimizer_fields(self, "VAEConfig")
        if self.sample_mode not in ("bernoulli", "threshold"):
            raise ValueError(f"VAEConfig.sample_mode must be 'bernoulli' or 'threshold', got {self.sample_mode!r}")


def vae_layer_sizes(config: VAEConfig, n_spins: int) -> tuple[tuple[int, ...], int]:
    """The encoder's hidden widths and the latent size for ``n_spins`` (``((30, 20), 10)`` at N = 40 by default)."""
    hidden = config.hidden if config.hidden is not None else (max(1, round(0.75 * n_spins)),
                                                              max(1, round(0.5 * n_spins)))
    latent = config.latent if config.latent is not None else max(1, round(0.25 * n_spins))
    return tuple(hidden), int(latent)


class VAE(nnx.Module):
    """Encoder ``N -> hidden -> (mu, logvar)`` and mirrored decoder ``latent -> reversed(hidden) -> N`` logits."""

    def __init__(self, n_spins: int, hidden: tuple[int, ...], latent: int, activation: str, *, rngs: nnx.Rngs):
        widths = (n_spins,) + tuple(hidden)
        self.encoder = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(widths[:-1], widths[1:])])
        self.mu = nnx.Linear(widths[-1], latent, rngs=rngs)
        self.logvar = nnx.Linear(widths[-1], latent, rngs=rngs)
        dec = (latent,) + tuple(reversed(hidden))
        self.decoder = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(dec[:-1], dec[1:])])
        self.out = nnx.Linear(dec[-1], n_spins, rngs=rngs)
        self.activation = activation

    def encode(self, x):
        act = _ACTIVATIONS[self.activation]
        for layer in self.encoder:
            x = act(layer(x))
        return self.mu(x), self.logvar(x)

    def decode(self, z):
        act = _ACTIVATIONS[self.activation]
        for layer in self.decoder:
            z = act(layer(z))
        return self.out(z)


class VAEState(NamedTuple):
    """Trainable state: ``nnx.State`` of parameters, Adam state and the int32 step counter."""

    params: Any
    opt_state: Any
    step: Array


def _negative_elbo(model: VAE, key, x):
    """Per-sample negative ELBO (nats) with one reparameterised latent draw; ``x`` in {0,1}, shape ``(B, N)``."""
    mu, logvar = model.encode(x)
    z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape)
    logits = model.decode(z)
    # Bernoulli log-likelihood in logit form: x * logit - softplus(logit)
    rec = jnp.sum(jax.nn.softplus(logits) - x * logits, axis=-1)
    kl = 0.5 * jnp.sum(jnp.exp(logvar) + mu**2 - 1.0 - logvar, axis=-1)
    return rec + kl


def make_vae(config: VAEConfig, n_spins: int) -> Generator:
    """Build the VAE generator for ``n_spins``; see the module docstring and ``generative.base``.

    Args:
      config: ``VAEConfig``.
      n_spins: ``N``.

    Returns:
      ``Generator(name="vae", init, train, sample)`` with ``VAEState`` as state (evaluate one with
      :func:`vae_elbo`).
    """
    n_spins = check_factory_args("make_vae", config, VAEConfig, n_spins)
    n = int(n_spins)
    hidden, latent = vae_layer_sizes(config, n)
    build = partial(VAE, n, hidden, latent, config.activation)
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: build(rngs=nnx.Rngs(0))))
    optimizer = optax.adam(config.learning_rate)
    bs = config.batch_size

    def init(key, train_spins):
        params = nnx.state(build(rngs=nnx.Rngs(params=key)), nnx.Param)
        return VAEState(params, optimizer.init(params), jnp.zeros((), jnp.int32))

    def loss_fn(params, key, x):
        return jnp.mean(_negative_elbo(nnx.merge(graphdef, params), key, x))

    def train(key, state, train_spins, n_steps):
        data = 0.5 * (jnp.asarray(train_spins, jnp.float32) + 1.0)

        def body(st, t):
            x = shuffled_batch(key, st.step, data, bs)
            loss, grads = jax.value_and_grad(loss_fn)(st.params, jax.random.fold_in(key, st.step), x)
            params, opt_state = apply_gradients(optimizer, grads, st.opt_state, st.params)
            return VAEState(params, opt_state, st.step + 1), loss

        return jax.lax.scan(body, state, jnp.arange(n_steps))

    def sample(key, state, n_samples):
        k_z, k_x = jax.random.split(key)
        logits = nnx.merge(graphdef, state.params).decode(jax.random.normal(k_z, (n_samples, latent)))
        if config.sample_mode == "bernoulli":
            on = jax.random.bernoulli(k_x, jax.nn.sigmoid(logits))
        else:
            on = logits > 0.0
        return jnp.where(on, 1.0, -1.0).astype(jnp.float32)

    return jit_generator("vae", init, train, sample, check_data=lambda x: check_spins(x, n))


def vae_elbo(config: VAEConfig, key, state: VAEState, spins: Float[Array, "M N"]) -> Float[Array, ""]:
    """Mean ELBO (nats per sample, higher is better) of ``spins`` under a VAE state, one latent draw per sample.

    Args:
      config: the ``VAEConfig`` the state was built with (it fixes the network's shape).
      key: PRNG key for the latent draws.
      state: ``VAEState`` from a generator made by :func:`make_vae`.
      spins: ``(M, N)`` in {-1, +1}.

    Returns:
      scalar mean ELBO.
    """
    n = spins.shape[-1]
    hidden, latent = vae_layer_sizes(config, n)
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: VAE(n, hidden, latent, config.activation, rngs=nnx.Rngs(0))))
    x = 0.5 * (jnp.asarray(spins, jnp.float32) + 1.0)
    return -jnp.mean(_negative_elbo(nnx.merge(graphdef, state.params), key, x))
