"""Denoising diffusion (DDPM, Ho et al. 2020) on spins as "analog bits", METHODS.md section 4.

Spins ``x0 = s`` in {-1, +1}^N are treated as real vectors. The forward process is
``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) xi`` with a linear ``beta`` schedule; a network ``eps_theta(x_t, t)``
learns to predict the noise ``xi`` (loss ``|xi - eps_theta|^2``, ``t`` uniform). Samples come from the full ancestral
sampler (``T`` network calls) or DDIM (Song et al. 2021; any number of steps, ``eta = 0`` deterministic) and are
binarised by sign (``x > 0 -> +1``, else ``-1``).

Time steps are 0-based here: ``t = 0 .. T-1`` with ``abar[t] = prod_{u <= t} (1 - beta[u])``.

The network is the paper's MLP "inspired by U-Nets" (:class:`~ising_diffusion.generative.unet.UNetMLP`, shared with
the D3PM), written with Flax NNX; training and sampling
run on the pure ``(graphdef, params)`` split with a plain ``jax.jit``/``lax.scan`` (faster than ``nnx.jit`` per step).
``params`` is a nested dict of arrays (``nnx.to_pure_dict``), so the whole state is a plain pytree that orbax saves and
``vmap`` batches over seeds.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jaxtyping import Array, Float

from ising_diffusion.generative.base import Generator, check_factory_args, check_spins, jit_generator
from ising_diffusion.generative.batching import batch_with_replacement
from ising_diffusion.checks import check_scalar_fields, check_widths, is_int, is_real
from ising_diffusion.generative.optim import check_optimizer_fields, optimizer_ema_step
from ising_diffusion.generative.unet import UNetMLP, network_fns, timestep_embedding
from ising_diffusion.types import PRNGKey

__all__ = [
    "DDPMConfig",
    "DDPMState",
    "Schedule",
    "UNetMLP",
    "make_schedule",
    "make_ddpm",
    "network_fns",
    "binarize",
    "timestep_embedding",
    "ddpm_loss",
    "ancestral_sample",
    "ddim_sample",
    "ddim_timesteps",
]


@dataclasses.dataclass(frozen=True)
class DDPMConfig:
    """Settings of the diffusion model.

    The defaults are the settings measured to work at CPU scale (a few thousand optimiser steps; docs/augmentation.md):
    a half-width network, Adam at 1e-3, DDIM-20 and an exponential moving average of the weights. The paper's
    settings (METHODS.md section 4) are :meth:`DDPMConfig.paper`.

    Attributes:
      widths: encoder widths; the decoder mirrors them (paper: (128, 256, 512); (200, 400, 600) for N = 100).
      skip: concatenate the encoder activations into the decoder (U-Net skips); the paper's N = 20 runs need none.
      time_embed_dim: size of the sinusoidal embedding of ``t`` concatenated to every layer's input (even).
      n_timesteps: ``T``.
      beta_start, beta_end: the linear ``beta`` schedule's ends.
      learning_rate: Adam step size.
      batch_size: minibatch size (drawn with replacement from the training set each step; an epoch is
        ``ceil(M / batch_size)`` steps, :mod:`ising_diffusion.generative.batching`).
      sampler: ``"ddim"`` (default: fast, deterministic for ``eta = 0``) or ``"ddpm"`` (full ancestral, ``T`` steps).
      ddim_steps: number of DDIM steps (<= ``T``).
      ddim_eta: DDIM stochasticity (0 = deterministic, 1 = ancestral-like).
      ancestral_variance: ``"posterior"`` (``beta_tilde``, the exact posterior variance given ``x0``) or ``"beta"``.
      clip_denoised: clip the predicted ``x0`` to [-1, 1] at each sampling step (Ho et al.'s code; data are in
        [-1, 1]).
      ema_decay: decay of the exponential moving average of the weights that sampling uses (0 disables it: sampling
        uses the raw weights). The average warms up as ``min(ema_decay, (1 + t) / (10 + t))`` after ``t`` steps, so
        a short run is not dominated by the random initial weights; the raw weights keep training.
    """

    widths: tuple[int, ...] = (64, 128, 256)
    skip: bool = True
    time_embed_dim: int = 32
    n_timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    learning_rate: float = 1e-3
    batch_size: int = 128
    sampler: Literal["ddim", "ddpm"] = "ddim"
    ddim_steps: int = 20
    ddim_eta: float = 0.0
    ancestral_variance: Literal["posterior", "beta"] = "posterior"
    clip_denoised: bool = True
    ema_decay: float = 0.999

    @classmethod
    def paper(cls, **overrides) -> "DDPMConfig":
        """The paper's settings (METHODS.md section 4): widths (128, 256, 512), Adam at 1e-4, no weight averaging
        (the paper mentions none), DDIM-50 sampling; ``overrides`` replace any field."""
        return cls(**({"widths": (128, 256, 512), "learning_rate": 1e-4, "ddim_steps": 50, "ema_decay": 0.0}
                      | overrides))

    def __post_init__(self):
        check_scalar_fields(self)  # integral floats (5.0, as JSON holds) stored as ints
        object.__setattr__(self, "widths", check_widths("DDPMConfig", "widths", self.widths))
        if not is_int(self.time_embed_dim, 2) or self.time_embed_dim % 2:
            raise ValueError(f"DDPMConfig.time_embed_dim must be an even int >= 2, got {self.time_embed_dim!r}")
        if not (is_real(self.beta_start) and is_real(self.beta_end) and 0 < self.beta_start <= self.beta_end < 1):
            raise ValueError(f"DDPMConfig.beta_start, DDPMConfig.beta_end: need 0 < beta_start <= beta_end < 1, got "
                             f"{self.beta_start}, {self.beta_end}")
        check_optimizer_fields(self, "DDPMConfig")
        if self.sampler not in ("ddim", "ddpm"):
            raise ValueError(f"DDPMConfig.sampler must be 'ddim' or 'ddpm', got {self.sampler!r}")
        if not (is_int(self.ddim_steps) and self.ddim_steps <= self.n_timesteps):
            raise ValueError(f"DDPMConfig.ddim_steps must be an integer in [1, n_timesteps={self.n_timesteps}], got "
                             f"{self.ddim_steps!r}")
        if not (is_real(self.ddim_eta) and self.ddim_eta >= 0):
            raise ValueError(f"DDPMConfig.ddim_eta must be >= 0, got {self.ddim_eta}")
        if self.ancestral_variance not in ("posterior", "beta"):
            raise ValueError(f"DDPMConfig.ancestral_variance must be 'posterior' or 'beta', got "
                             f"{self.ancestral_variance!r}")


# ----------------------------------------------------------------------------------------------------------------
# Noise schedule


class Schedule(NamedTuple):
    """Precomputed ``(T,)`` schedule arrays (0-based ``t``).

    Attributes:
      betas: ``beta_t``.
      alphas: ``1 - beta_t``.
      alpha_bars: ``abar_t = prod_{u <= t} alpha_u``.
      alpha_bars_prev: ``abar_{t-1}`` with ``abar_{-1} = 1``.
      posterior_variance: ``beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t`` (zero at ``t = 0``).
      posterior_mean_coef_x0, posterior_mean_coef_xt: the mean of ``q(x_{t-1} | x_t, x0)`` is
        ``coef_x0 x0 + coef_xt x_t``.
    """

    betas: Float[Array, " T"]
    alphas: Float[Array, " T"]
    alpha_bars: Float[Array, " T"]
    alpha_bars_prev: Float[Array, " T"]
    posterior_variance: Float[Array, " T"]
    posterior_mean_coef_x0: Float[Array, " T"]
    posterior_mean_coef_xt: Float[Array, " T"]


def make_schedule(n_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    """Linear ``beta`` schedule and its derived quantities, computed in float64 and stored as float32.

    Args:
      n_timesteps: ``T``.
      beta_start, beta_end: ``beta_0`` and ``beta_{T-1}``.

    Returns:
      :class:`Schedule` of ``(T,)`` arrays.
    """
    betas = np.linspace(beta_start, beta_end, n_timesteps, dtype=np.float64)
    alphas = 1.0 - betas
    abar = np.cumprod(alphas)
    abar_prev = np.concatenate([[1.0], abar[:-1]])
    post_var = betas * (1.0 - abar_prev) / (1.0 - abar)
    coef_x0 = betas * np.sqrt(abar_prev) / (1.0 - abar)
    coef_xt = (1.0 - abar_prev) * np.sqrt(alphas) / (1.0 - abar)
    f32 = lambda a: jnp.asarray(np.asarray(a, np.float32))  # noqa: E731  (cast on the host: no device program)
    return Schedule(f32(betas), f32(alphas), f32(abar), f32(abar_prev), f32(post_var), f32(coef_x0), f32(coef_xt))


# ----------------------------------------------------------------------------------------------------------------
# Loss and samplers (pure functions of an ``apply(params, x, t)`` closure)


def ddpm_loss(apply, params, schedule: Schedule, key: PRNGKey, x0: Float[Array, "B N"]) -> Float[Array, ""]:
    """Noise-prediction loss ``mean |xi - eps_theta(x_t, t)|^2`` with ``t`` uniform on ``0..T-1``."""
    k_t, k_noise = jax.random.split(key)
    b = x0.shape[0]
    t = jax.random.randint(k_t, (b,), 0, schedule.betas.shape[0])
    noise = jax.random.normal(k_noise, x0.shape, x0.dtype)
    abar = schedule.alpha_bars[t][:, None]
    xt = jnp.sqrt(abar) * x0 + jnp.sqrt(1.0 - abar) * noise
    return jnp.mean((apply(params, xt, t) - noise) ** 2)


def _predict_x0(eps, x, abar, clip, last=False, clip_final=True):
    """The predicted ``x0``, clipped to [-1, 1] if ``clip``, except at the ``last`` step when not ``clip_final``."""
    x0 = (x - jnp.sqrt(1.0 - abar) * eps) / jnp.sqrt(abar)
    if not clip:
        return x0
    clipped = jnp.clip(x0, -1.0, 1.0)
    return clipped if clip_final else jnp.where(last, x0, clipped)


def ancestral_sample(apply, params, schedule: Schedule, key: PRNGKey, n_samples: int, n_spins: int, *,
                     variance: str = "posterior", clip_denoised: bool = True,
                     clip_final: bool = True) -> Float[Array, "M N"]:
    """Full ancestral DDPM sampler over all ``T`` steps; returns the final real-valued ``x_0`` (not binarised).

    ``x_{t-1} = mu(x_t, x0_hat) + sigma_t z`` with ``mu`` the posterior mean of ``q(x_{t-1} | x_t, x0_hat)`` and
    ``sigma_t^2`` either ``beta_tilde_t`` or ``beta_t``; no noise is added at the last step. Without clipping ``mu``
    equals Ho et al.'s ``(x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t)``. ``clip_final=False`` leaves the last
    step's ``x0`` unclipped (the output then is the network's own prediction: an argmax over one-hot coordinates
    needs it, since clipping ties every coordinate beyond +-1).
    """
    n_t = schedule.betas.shape[0]
    k_init, k_loop = jax.random.split(key)
    x = jax.random.normal(k_init, (n_samples, n_spins), jnp.float32)
    var = schedule.posterior_variance if variance == "posterior" else schedule.betas

    def body(x, t):
        eps = apply(params, x, jnp.full((n_samples,), t))
        x0 = _predict_x0(eps, x, schedule.alpha_bars[t], clip_denoised, t == 0, clip_final)
        mean = schedule.posterior_mean_coef_x0[t] * x0 + schedule.posterior_mean_coef_xt[t] * x
        z = jax.random.normal(jax.random.fold_in(k_loop, t), x.shape, x.dtype)
        x = mean + jnp.where(t > 0, jnp.sqrt(var[t]), 0.0) * z
        return x, None

    x, _ = jax.lax.scan(body, x, jnp.arange(n_t - 1, -1, -1))
    return x


def ddim_timesteps(n_timesteps: int, n_steps: int) -> np.ndarray:
    """``n_steps`` distinct time steps from 0 to ``T-1``, evenly spaced (ascending); one step is ``T-1``, where
    sampling starts from noise (``linspace`` alone would give 0, a step that returns its noise)."""
    grid = np.linspace(0, n_timesteps - 1, n_steps) if n_steps > 1 else np.array([n_timesteps - 1])
    return np.unique(np.round(grid).astype(np.int32))


def ddim_sample(apply, params, schedule: Schedule, key: PRNGKey, n_samples: int, n_spins: int, *,
                n_steps: int = 50, eta: float = 0.0, clip_denoised: bool = True,
                x_init: Array | None = None, clip_final: bool = True) -> Float[Array, "M N"]:
    """DDIM sampler (Song et al. 2021) over ``n_steps`` evenly spaced time steps; returns the real-valued ``x_0``.

    With ``eta = 0`` the map from the initial noise ``x_init`` (drawn from ``key`` if ``None``) to ``x_0`` is
    deterministic. ``clip_final``: as for :func:`ancestral_sample`.
    """
    ts = jnp.asarray(ddim_timesteps(schedule.betas.shape[0], n_steps))
    ts_prev = jnp.concatenate([jnp.asarray([-1], jnp.int32), ts[:-1]])
    k_init, k_loop = jax.random.split(key)
    x = jax.random.normal(k_init, (n_samples, n_spins), jnp.float32) if x_init is None else x_init

    def body(x, i):
        t, tp = ts[i], ts_prev[i]
        abar = schedule.alpha_bars[t]
        abar_prev = jnp.where(tp >= 0, schedule.alpha_bars[jnp.maximum(tp, 0)], 1.0)
        eps = apply(params, x, jnp.full((n_samples,), t))
        x0 = _predict_x0(eps, x, abar, clip_denoised, i == 0, clip_final)
        eps = (x - jnp.sqrt(abar) * x0) / jnp.sqrt(1.0 - abar)  # consistent with the (clipped) x0
        sigma = eta * jnp.sqrt((1.0 - abar_prev) / (1.0 - abar) * (1.0 - abar / abar_prev))
        z = jax.random.normal(jax.random.fold_in(k_loop, i), x.shape, x.dtype)
        x = jnp.sqrt(abar_prev) * x0 + jnp.sqrt(jnp.maximum(1.0 - abar_prev - sigma**2, 0.0)) * eps + sigma * z
        return x, None

    x, _ = jax.lax.scan(body, x, jnp.arange(ts.shape[0] - 1, -1, -1))
    return x


def binarize(x: Array) -> Float[Array, "M N"]:
    """Sign binarisation to {-1, +1} (``x > 0 -> +1``, else ``-1``)."""
    return jnp.where(x > 0, 1.0, -1.0).astype(jnp.float32)


# ----------------------------------------------------------------------------------------------------------------
# Generator


class DDPMState(NamedTuple):
    """Trainable state: ``params`` (nested dict of arrays, the raw weights Adam trains), ``opt_state`` (optax),
    ``step`` (int32 scalar) and ``ema_params`` (the moving average of ``params`` that sampling uses; equal to
    ``params`` when ``ema_decay = 0``)."""

    params: Any
    opt_state: Any
    step: Array
    ema_params: Any


def make_ddpm(config: DDPMConfig | None = None, n_spins: int = 20) -> Generator:
    """Build the DDPM generator for ``n_spins`` spins (the :class:`~ising_diffusion.generative.base.Generator` API).

    Args:
      config: :class:`DDPMConfig` (defaults if ``None``).
      n_spins: ``N``.

    Returns:
      ``Generator(name="ddpm", init, train, sample)``; also see :func:`ancestral_sample` / :func:`ddim_sample`.
    """
    config = DDPMConfig() if config is None else config
    n_spins = check_factory_args("make_ddpm", config, DDPMConfig, n_spins)
    schedule = make_schedule(config.n_timesteps, config.beta_start, config.beta_end)
    optimizer = optax.adam(config.learning_rate)

    build, apply = network_fns(config, n_spins)

    def init(key, train_spins=None):
        del train_spins  # the network does not depend on data statistics
        _, state = nnx.split(build(key))
        params = nnx.to_pure_dict(state)
        return DDPMState(params, optimizer.init(params), jnp.zeros((), jnp.int32), params)

    def train(key, state, train_spins, n_steps):
        train_spins = jnp.asarray(train_spins, jnp.float32)

        def step(carry, i):
            params, opt_state, ema = carry
            t = state.step + i
            k_idx, k_loss = jax.random.split(jax.random.fold_in(key, t))
            x0 = batch_with_replacement(k_idx, train_spins, config.batch_size)
            loss, grads = jax.value_and_grad(lambda p: ddpm_loss(apply, p, schedule, k_loss, x0))(params)
            params, opt_state, ema = optimizer_ema_step(optimizer, grads, params, opt_state, ema,
                                                        decay=config.ema_decay, step=t)
            return (params, opt_state, ema), loss

        (params, opt_state, ema), losses = jax.lax.scan(step, (state.params, state.opt_state, state.ema_params),
                                                        jnp.arange(n_steps, dtype=jnp.int32))
        return DDPMState(params, opt_state, state.step + n_steps, ema), losses

    def sample_real(key, state, n_samples):
        if config.sampler == "ddpm":
            return ancestral_sample(apply, state.ema_params, schedule, key, n_samples, n_spins,
                                    variance=config.ancestral_variance, clip_denoised=config.clip_denoised)
        return ddim_sample(apply, state.ema_params, schedule, key, n_samples, n_spins, n_steps=config.ddim_steps,
                           eta=config.ddim_eta, clip_denoised=config.clip_denoised)

    def sample(key, state, n_samples):
        return binarize(sample_real(key, state, n_samples))

    return jit_generator("ddpm", init, train, sample, check_data=lambda x: check_spins(x, n_spins))
