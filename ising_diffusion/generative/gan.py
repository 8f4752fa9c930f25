"""A small MLP generative adversarial network baseline (optional in the paper, which dropped GANs for mode collapse).

Generator ``z ~ N(0, I) -> MLP -> N`` outputs, discriminator ``N -> MLP -> 1`` logit, both Flax NNX MLPs with leaky-ReLU
hidden layers. Spins are discrete, so the generator's output is made binary in one of two ways
(``GANConfig.output``):

* ``"straight_through"`` (**default**): the forward pass emits ``sign(tanh(a))`` in {-1, +1}, the backward pass uses the
  gradient of ``tanh(a)``; the discriminator only ever sees binary patterns, like the data.
* ``"tanh"``: the discriminator sees the continuous ``tanh(a)`` during training; samples are ``sign`` of it.

Losses: the standard discriminator cross-entropy and the non-saturating generator loss
``-log D(G(z))`` (Goodfellow et al. 2014), one discriminator and one generator Adam step per training step. The
reported per-step loss is the discriminator's cross-entropy (there is no single objective; near ``2 log 2`` the
discriminator cannot tell data from samples). :func:`distinct_patterns` counts the distinct generated patterns, the
evidence of mode collapse.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jaxtyping import Array

from ising_diffusion.generative.base import Generator, check_factory_args, check_spins, jit_generator
from ising_diffusion.generative.batching import shuffled_batch
from ising_diffusion.checks import check_int, check_scalar_fields, check_widths, is_real
from ising_diffusion.generative.optim import apply_gradients, check_optimizer_fields

__all__ = ["GANConfig", "GANState", "MLP", "make_gan", "distinct_patterns"]


@dataclasses.dataclass(frozen=True)
class GANConfig:
    """Hyperparameters of the GAN baseline (all **defaults**; the paper gives none).

    Attributes:
      latent: dimension of the generator's Gaussian input ``z``.
      gen_hidden: generator hidden widths.
      disc_hidden: discriminator hidden widths.
      learning_rate: Adam learning rate of both networks.
      beta1: Adam's first-moment decay (0.5, the usual GAN setting).
      batch_size: minibatch size; one epoch is ``ceil(M / batch_size)`` steps.
      output: ``"straight_through"`` or ``"tanh"``; see the module docstring.
    """

    latent: int = 16
    gen_hidden: tuple[int, ...] = (64, 64)
    disc_hidden: tuple[int, ...] = (64, 64)
    learning_rate: float = 2e-4
    beta1: float = 0.5
    batch_size: int = 100
    output: str = "straight_through"

    def __post_init__(self):
        check_scalar_fields(self)  # integral floats (5.0, as JSON holds) stored as ints
        check_int("GANConfig", "latent", self.latent)
        for name in ("gen_hidden", "disc_hidden"):
            object.__setattr__(self, name, check_widths("GANConfig", name, getattr(self, name)))
        check_optimizer_fields(self, "GANConfig")
        if not (is_real(self.beta1) and 0 <= self.beta1 < 1):
            raise ValueError(f"GANConfig.beta1 must be in [0, 1), got {self.beta1!r}")
        if self.output not in ("straight_through", "tanh"):
            raise ValueError(f"GANConfig.output must be 'straight_through' or 'tanh', got {self.output!r}")


class MLP(nnx.Module):
    """Leaky-ReLU multilayer perceptron ``widths[0] -> ... -> widths[-1]`` with a linear last layer."""

    def __init__(self, widths: tuple[int, ...], *, rngs: nnx.Rngs):
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(widths[:-1], widths[1:])])

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = jax.nn.leaky_relu(layer(x), 0.2)
        return self.layers[-1](x)


class GANState(NamedTuple):
    """Trainable state: generator and discriminator ``nnx.State`` parameters, their Adam states, int32 step."""

    gen_params: Any
    disc_params: Any
    gen_opt_state: Any
    disc_opt_state: Any
    step: Array


def distinct_patterns(spins) -> int:
    """Number of distinct rows of ``spins`` (``(M, N)``), the count that exposes mode collapse. Host-side NumPy."""
    return int(np.unique(np.asarray(spins) > 0, axis=0).shape[0])


def make_gan(config: GANConfig, n_spins: int) -> Generator:
    """Build the GAN generator for ``n_spins``; see the module docstring and ``generative.base``.

    Args:
      config: ``GANConfig``.
      n_spins: ``N``.

    Returns:
      ``Generator(name="gan", init, train, sample)`` with ``GANState`` as state.
    """
    n_spins = check_factory_args("make_gan", config, GANConfig, n_spins)
    n, bs, latent = int(n_spins), config.batch_size, config.latent
    build_g = partial(MLP, (latent,) + config.gen_hidden + (n,))
    build_d = partial(MLP, (n,) + config.disc_hidden + (1,))
    g_def, _ = nnx.split(nnx.eval_shape(lambda: build_g(rngs=nnx.Rngs(0))))
    d_def, _ = nnx.split(nnx.eval_shape(lambda: build_d(rngs=nnx.Rngs(0))))
    optimizer = optax.adam(config.learning_rate, b1=config.beta1)

    def init(key, train_spins):
        k_g, k_d = jax.random.split(key)
        gp = nnx.state(build_g(rngs=nnx.Rngs(params=k_g)), nnx.Param)
        dp = nnx.state(build_d(rngs=nnx.Rngs(params=k_d)), nnx.Param)
        return GANState(gp, dp, optimizer.init(gp), optimizer.init(dp), jnp.zeros((), jnp.int32))

    def generate(gp, z):
        soft = jnp.tanh(nnx.merge(g_def, gp)(z))
        if config.output == "straight_through":
            hard = jnp.where(soft > 0, 1.0, -1.0)
            return soft + jax.lax.stop_gradient(hard - soft)
        return soft

    def disc(dp, x):
        return nnx.merge(d_def, dp)(x)[:, 0]

    def d_loss(dp, gp, x_real, z):
        fake = jax.lax.stop_gradient(generate(gp, z))
        return jnp.mean(jax.nn.softplus(-disc(dp, x_real))) + jnp.mean(jax.nn.softplus(disc(dp, fake)))

    def g_loss(gp, dp, z):
        return jnp.mean(jax.nn.softplus(-disc(dp, generate(gp, z))))  # non-saturating -log D(G(z))

    def train(key, state, train_spins, n_steps):
        data = jnp.asarray(train_spins, jnp.float32)

        def body(st, t):
            k_d, k_g = jax.random.split(jax.random.fold_in(key, st.step))
            x = shuffled_batch(key, st.step, data, bs)
            ld, gd = jax.value_and_grad(d_loss)(st.disc_params, st.gen_params, x,
                                                jax.random.normal(k_d, (bs, latent)))
            dp, d_opt = apply_gradients(optimizer, gd, st.disc_opt_state, st.disc_params)
            gg = jax.grad(g_loss)(st.gen_params, dp, jax.random.normal(k_g, (bs, latent)))
            gp, g_opt = apply_gradients(optimizer, gg, st.gen_opt_state, st.gen_params)
            return GANState(gp, dp, g_opt, d_opt, st.step + 1), ld

        return jax.lax.scan(body, state, jnp.arange(n_steps))

    def sample(key, state, n_samples):
        out = nnx.merge(g_def, state.gen_params)(jax.random.normal(key, (n_samples, latent)))
        return jnp.where(out > 0, 1.0, -1.0).astype(jnp.float32)

    return jit_generator("gan", init, train, sample, check_data=lambda x: check_spins(x, n))
