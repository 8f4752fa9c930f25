"""The paper's DDPM on q-state sequences as one-hot "analog bits": encode, diffuse as real vectors, argmax per site.

A sequence ``s`` in ``[0, q)^L`` becomes ``x0 = scale * (2 onehot(s) - 1)`` in ``{-scale, +scale}^(L q)`` (site-major:
entry ``i q + a`` is ``+scale`` iff ``s_i = a``); the Gaussian DDPM of :mod:`ising_diffusion.generative.ddpm`
(linear ``beta`` schedule, noise-prediction loss, DDIM or ancestral sampling, the U-Net MLP, Adam and the weight EMA)
runs unchanged on these ``L q`` real coordinates, and a sample is decoded by the argmax over each site's ``q``
coordinates. The paper's spins are the ``q = 2`` case up to the encoding (two coordinates per spin instead of one).

The state is a :class:`~ising_diffusion.generative.ddpm.DDPMState`; data are int arrays ``(M, L)`` with states in
``[0, q)`` (checked on the host before the compiled call), samples int8 ``(n, L)``.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Literal

import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ising_diffusion.generative.base import Generator, check_factory_args, jit_generator
from ising_diffusion.checks import check_scalar_fields, is_real
from ising_diffusion.generative.ddpm import DDPMConfig, ancestral_sample, ddim_sample, make_ddpm, make_schedule
from ising_diffusion.generative.qstates import check_states, check_width_fields, one_hot_flat, resolve_widths
from ising_diffusion.generative.unet import network_fns

__all__ = ["OneHotDDPMConfig", "encode_one_hot", "decode_argmax", "make_ddpm_onehot"]


@dataclasses.dataclass(frozen=True)
class OneHotDDPMConfig:
    """Settings of the one-hot DDPM: ``n_states``, ``scale`` and the width rule here, every other field as
    :class:`~ising_diffusion.generative.ddpm.DDPMConfig` (same defaults and meaning).

    Attributes:
      n_states: ``q`` (21 for proteins).
      scale: the one-hot coordinates are ``+-scale``, in ``(0, 1]`` (the sampler clips its ``x0`` estimate to
        ``[-1, 1]``).
      widths: encoder widths; ``None``: ``max(min_width, round(f * L * q))`` for each ``f`` in ``width_factors``.
      width_factors, min_width: see ``widths``.
      skip, time_embed_dim, n_timesteps, beta_start, beta_end, learning_rate, batch_size, sampler, ddim_steps,
        ddim_eta, ancestral_variance, clip_denoised, ema_decay: as in ``DDPMConfig``.
    """

    n_states: int = 21
    scale: float = 1.0
    widths: tuple[int, ...] | None = None
    width_factors: tuple[float, ...] = (1.0, 1.0, 1.0)
    min_width: int = 64
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

    def __post_init__(self):
        check_scalar_fields(self)  # integral floats (5.0, as JSON holds) stored as ints
        name = type(self).__name__
        check_width_fields(self)
        if not (is_real(self.scale) and 0 < self.scale <= 1):
            raise ValueError(f"{name}.scale must be in (0, 1], got {self.scale!r}")
        try:  # the DDPM's own checks, reported under this class's name
            self.ddpm_config(1)
        except ValueError as e:
            raise ValueError(str(e).replace("DDPMConfig.", f"{name}.")) from None

    def ddpm_config(self, length: int) -> DDPMConfig:
        """The :class:`DDPMConfig` of the inner DDPM on ``length * q`` coordinates (widths resolved)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(DDPMConfig)}
        fields["widths"] = resolve_widths(self.widths, self.width_factors, self.min_width, length * self.n_states)
        return DDPMConfig(**fields)


def encode_one_hot(states: Int[Array, "M L"], q: int, scale: float = 1.0) -> Float[Array, "M Lq"]:
    """``scale * (2 onehot(states) - 1)``, flattened site-major to ``(M, L q)`` float32."""
    return scale * (2.0 * one_hot_flat(jnp.asarray(states, jnp.int32), q) - 1.0)


def decode_argmax(x: Float[Array, "n Lq"], q: int) -> Int[Array, "n L"]:
    """The state of each site: argmax over its ``q`` coordinates; ``(n, L q) -> (n, L)`` int8."""
    n, lq = x.shape
    return jnp.argmax(x.reshape(n, lq // q, q), axis=-1).astype(jnp.int8)


def make_ddpm_onehot(config: OneHotDDPMConfig | None = None, n_spins: int = 20) -> Generator:
    """Build the one-hot DDPM for sequences of ``n_spins = L`` sites.

    Args:
      config: :class:`OneHotDDPMConfig` (defaults if ``None``; ``n_states`` gives ``q``).
      n_spins: ``L``, the sequence length.

    Returns:
      ``Generator(name="ddpm_onehot", init, train, sample)``: ``train(key, state, data (M, L) int, n_steps)``,
      ``sample(key, state, n) -> (n, L) int8``; state :class:`~ising_diffusion.generative.ddpm.DDPMState`.
    """
    config = OneHotDDPMConfig() if config is None else config
    length = check_factory_args("make_ddpm_onehot", config, OneHotDDPMConfig, n_spins)
    q, dcfg = config.n_states, config.ddpm_config(length)
    inner = make_ddpm(dcfg, length * q)  # its train runs on the encoded data (a jitted call inlines in ours)
    schedule = make_schedule(dcfg.n_timesteps, dcfg.beta_start, dcfg.beta_end)
    _, apply = network_fns(dcfg, length * q)  # the inner DDPM's network: same parameter tree

    def init(key, train_states=None):
        return inner.init(key)

    def train(key, state, train_states, n_steps):
        return inner.train(key, state, encode_one_hot(train_states, q, config.scale), n_steps)

    def sample(key, state, n_samples):
        # the last step's x0 unclipped: clipped, every coordinate past +-1 would tie and argmax would give state 0
        if dcfg.sampler == "ddpm":
            x = ancestral_sample(apply, state.ema_params, schedule, key, n_samples, length * q,
                                 variance=dcfg.ancestral_variance, clip_denoised=dcfg.clip_denoised, clip_final=False)
        else:
            x = ddim_sample(apply, state.ema_params, schedule, key, n_samples, length * q, n_steps=dcfg.ddim_steps,
                            eta=dcfg.ddim_eta, clip_denoised=dcfg.clip_denoised, clip_final=False)
        return decode_argmax(x, q)

    return jit_generator("ddpm_onehot", init, train, sample, check_data=partial(check_states, length=length, q=q))
