"""Discrete diffusion on spins (D3PM, Austin et al. 2021) with bit-flip ("uniform") transitions.

The data ``x0 = s`` in {-1, +1}^N are never treated as real numbers by the noise process: forward step ``t``
(0-based, ``t = 0 .. T-1``) flips each spin independently with probability ``beta_t``, i.e. the two-state uniform
transition ``Q_t = (1 - beta_t) I + beta_t (1 1^T - I)``. Writing ``a_t = 1 - 2 beta_t`` (the correlation
``E[x_t x_{t-1}]`` of one step) and ``abar_t = prod_{u <= t} a_u``, the ``t``-step marginal is again a bit flip,

    q(x_t | x0):  each spin flipped with probability (1 - abar_t) / 2,  i.e. q(x_t = y | x0) = (1 + abar_t y x0) / 2,

and the schedule ends at ``abar_{T-1} = 0``: ``x_{T-1}`` is uniform on {-1, +1}^N whatever the data.

**Posterior.** Bayes with the two bit flips gives, per spin, with ``a = abar_t / abar_s`` and ``b = abar_s`` for any
``s < t`` (``s = t - 1`` for the one-step posterior, ``abar_{-1} = 1``),

    q(x_s = y | x_t = x, x0 = z) = (1 + a x y) (1 + b y z) / (2 (1 + a b x z)),
    E[x_s | x_t = x, x0 = z] = (a x + b z) / (1 + a b x z).

**Model.** A network (the DDPM's :class:`~ising_diffusion.generative.ddpm.UNetMLP`, fed ``x_t`` as +-1 floats, with the
same sinusoidal time embedding) outputs one logit per spin, ``logit_i = log p(x0_i = +1 | x_t) - log p(x0_i = -1 |
x_t)`` (the x0-parameterisation). The reverse step is the posterior marginalised over the predicted ``x0``, spin by
spin:

    p(x_s = y | x_t) = sum_z p_theta(x0 = z | x_t) q(x_s = y | x_t, x0 = z).

This is the exact identity ``p(x_s | x_t) = E[q(x_s | x_t, x0) | x_t]`` applied to each spin's predicted marginal
(Austin et al.'s eq. 4 instead weights ``z`` by ``q(x_t | z)`` as well; the two agree when the prediction is sharp).
With ``s`` on a coarser grid than ``t - 1`` the same formula skips steps (``sample_steps < T``), as DDIM does for
Gaussian diffusion. At ``s = -1`` (``b = 1``) it returns ``x0 ~ p_theta(x0 | x_t)`` itself.

**Loss** (``loss`` in the config): ``"hybrid"`` (Austin et al.'s ``L_vb + lambda L_ce``), with ``L_vb`` the
per-spin ``KL(q(x_{t-1} | x_t, x0) || p_theta(x_{t-1} | x_t))`` at a uniform ``t`` (at ``t = 0`` this is
``-log p_theta(x0 | x_0)``, the reconstruction term; the prior term is zero because ``abar_{T-1} = 0``) and
``L_ce = -log p_theta(x0 | x_t)``; or ``"ce"``, the x0 cross-entropy alone. The cross-entropy alone is a valid
objective: its minimiser is the true per-spin posterior ``p(x0_i | x_t)``, which is all the reverse step above needs.
Both are averaged over spins and batch.

**EMA.** The state carries an exponential moving average of the parameters (``ema_decay``; decay warmed up as
``min(ema_decay, (1 + step) / (10 + step))`` so early averages do not remember the random initialisation), and
``sample`` uses it.

The state is a plain pytree (:class:`D3PMState`: nested dicts of arrays, the optax state and an int32 ``step``), so
orbax saves it and ``vmap`` batches it over seeds; ``train`` keys step ``t`` by ``fold_in(key, step + t)``.
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
from ising_diffusion.checks import check_int, check_scalar_fields, check_widths, is_int, is_real
from ising_diffusion.generative.optim import check_optimizer_fields, optimizer_ema_step
from ising_diffusion.generative.unet import network_fns
from ising_diffusion.types import PRNGKey

__all__ = [
    "D3PMConfig",
    "D3PMState",
    "check_d3pm_fields",
    "FlipSchedule",
    "make_flip_schedule",
    "flip_probability",
    "forward_sample",
    "forward_step",
    "posterior_mean",
    "reverse_mean",
    "d3pm_loss",
    "d3pm_sample",
    "sampling_timesteps",
    "make_d3pm",
]


@dataclasses.dataclass(frozen=True)
class D3PMConfig:
    """Settings of the bit-flip discrete diffusion generator (defaults: a CPU-sized network that trains on ``N = 20``
    and a few hundred samples within a minute; see docs/generators.md).

    Attributes:
      widths: encoder widths of the :class:`~ising_diffusion.generative.ddpm.UNetMLP` backbone (decoder mirrors).
      skip: U-Net skip connections in the backbone.
      time_embed_dim: size of the sinusoidal time embedding (even).
      n_timesteps: ``T``, the number of forward bit-flip steps.
      schedule: ``"cosine"`` (``abar_t = cos(pi/2 (t + 1 + s T) / (T (1 + s)))`` normalised, ``s = 0.008``: the
        correlation with the data falls smoothly to exactly 0 at ``t = T-1``) or ``"linear"`` (``abar_t = 1 - (t + 1) / T``,
        linear from ``1 - 1 / T`` at ``t = 0`` to 0).
      learning_rate: Adam step size.
      batch_size: minibatch size (drawn with replacement each step, as the DDPM does; an epoch is
        ``ceil(M / batch_size)`` steps).
      loss: ``"hybrid"`` (``L_vb + hybrid_coeff * L_ce``) or ``"ce"`` (x0 cross-entropy only).
      hybrid_coeff: ``lambda`` of the hybrid loss.
      ema_decay: decay of the parameter EMA used for sampling (0 = sample from the raw parameters).
      sample_steps: reverse steps taken by ``sample`` on an even grid of the ``T`` steps (``None`` = all ``T``).
    """

    widths: tuple[int, ...] = (64, 128, 256)
    skip: bool = True
    time_embed_dim: int = 32
    n_timesteps: int = 100
    schedule: Literal["cosine", "linear"] = "cosine"
    learning_rate: float = 1e-3
    batch_size: int = 128
    loss: Literal["hybrid", "ce"] = "hybrid"
    hybrid_coeff: float = 1.0
    ema_decay: float = 0.995
    sample_steps: int | None = None

    def __post_init__(self):
        check_scalar_fields(self)  # integral floats (5.0, as JSON holds) stored as ints
        object.__setattr__(self, "widths", check_widths("D3PMConfig", "widths", self.widths))
        check_d3pm_fields(self, "D3PMConfig")


def check_d3pm_fields(cfg, name: str, *, min_timesteps: int = 1, schedules: tuple = ("cosine", "linear")) -> None:
    """The checks every D3PM config shares (the binary :class:`D3PMConfig` and the categorical one), raising
    ``ValueError`` under the config's class ``name``: time embedding, ``n_timesteps >= min_timesteps``, schedule,
    learning rate, batch size, loss, hybrid coefficient, EMA decay and ``sample_steps``."""
    if not is_int(cfg.time_embed_dim, 2) or cfg.time_embed_dim % 2:
        raise ValueError(f"{name}.time_embed_dim must be an even int >= 2, got {cfg.time_embed_dim!r}")
    check_int(name, "n_timesteps", cfg.n_timesteps, min_timesteps)
    if cfg.schedule not in schedules:
        raise ValueError(f"{name}.schedule must be {' or '.join(map(repr, schedules))}, got {cfg.schedule!r}")
    check_optimizer_fields(cfg, name)
    if cfg.loss not in ("hybrid", "ce"):
        raise ValueError(f"{name}.loss must be 'hybrid' or 'ce', got {cfg.loss!r}")
    if not (is_real(cfg.hybrid_coeff) and cfg.hybrid_coeff >= 0):
        raise ValueError(f"{name}.hybrid_coeff must be >= 0, got {cfg.hybrid_coeff!r}")
    if cfg.sample_steps is not None and not (is_int(cfg.sample_steps) and cfg.sample_steps <= cfg.n_timesteps):
        raise ValueError(f"{name}.sample_steps must be None or an integer in [1, n_timesteps={cfg.n_timesteps}], got "
                         f"{cfg.sample_steps!r}")


# ----------------------------------------------------------------------------------------------------------------
# The bit-flip process


class FlipSchedule(NamedTuple):
    """Precomputed ``(T,)`` schedule arrays (0-based ``t``).

    Attributes:
      betas: ``beta_t``, the flip probability of step ``t``.
      alpha_bars: ``abar_t = prod_{u <= t} (1 - 2 beta_u)``, the correlation of ``x_t`` with ``x0``.
      alpha_bars_prev: ``abar_{t-1}`` with ``abar_{-1} = 1``.
    """

    betas: Float[Array, " T"]
    alpha_bars: Float[Array, " T"]
    alpha_bars_prev: Float[Array, " T"]


def make_flip_schedule(n_timesteps: int = 100, kind: str = "cosine") -> FlipSchedule:
    """The bit-flip schedule, defined through ``abar_t`` (computed in float64, stored as float32).

    Args:
      n_timesteps: ``T``.
      kind: ``"cosine"`` or ``"linear"`` (see :class:`D3PMConfig`); both end at ``abar_{T-1} = 0``.

    Returns:
      :class:`FlipSchedule` of ``(T,)`` arrays; ``beta_t = (1 - abar_t / abar_{t-1}) / 2`` lies in ``(0, 1/2]``.
    """
    t = np.arange(1, n_timesteps + 1, dtype=np.float64)
    if kind == "cosine":
        s = 0.008
        f = lambda u: np.cos(0.5 * np.pi * (u / n_timesteps + s) / (1 + s))  # noqa: E731
        abar = f(t) / f(0.0)
    elif kind == "linear":
        abar = 1.0 - t / n_timesteps
    else:
        raise ValueError(f"schedule kind must be 'cosine' or 'linear', got {kind!r}")
    abar[-1] = 0.0  # exactly uniform at the end (cos(pi/2) is 6e-17 in floating point)
    abar_prev = np.concatenate([[1.0], abar[:-1]])
    betas = 0.5 * (1.0 - abar / abar_prev)
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return FlipSchedule(f32(betas), f32(abar), f32(abar_prev))


def flip_probability(schedule: FlipSchedule, t: Array) -> Array:
    """Probability ``(1 - abar_t) / 2`` that a spin of ``x_t`` differs from ``x0`` (``t`` any integer array)."""
    return 0.5 * (1.0 - schedule.alpha_bars[t])


def forward_sample(key: PRNGKey, schedule: FlipSchedule, x0: Float[Array, "B N"], t: Array) -> Float[Array, "B N"]:
    """Draw ``x_t ~ q(x_t | x0)`` in one go: flip each spin of row ``b`` with probability ``(1 - abar_{t_b}) / 2``.

    Args:
      key: PRNG key.
      schedule: :class:`FlipSchedule`.
      x0: ``(B, N)`` spins in {-1, +1}.
      t: ``(B,)`` integer time steps in ``[0, T)``.

    Returns:
      ``(B, N)`` spins.
    """
    flip = jax.random.bernoulli(key, flip_probability(schedule, t)[:, None], x0.shape)
    return jnp.where(flip, -x0, x0)


def forward_step(key: PRNGKey, schedule: FlipSchedule, x: Float[Array, "B N"], t: Array) -> Float[Array, "B N"]:
    """One forward step ``x_{t-1} -> x_t``: flip each spin with probability ``beta_t`` (``t`` scalar)."""
    flip = jax.random.bernoulli(key, schedule.betas[t], x.shape)
    return jnp.where(flip, -x, x)


def posterior_mean(x_t: Array, x0: Array, a: Array, b: Array) -> Array:
    """``E[x_s | x_t, x0] = (a x_t + b x0) / (1 + a b x_t x0)`` for the bit-flip process (elementwise).

    Args:
      x_t: spins at the later time ``t``.
      x0: data spins (+-1).
      a: ``abar_t / abar_s``, the correlation of ``x_t`` with ``x_s``.
      b: ``abar_s``, the correlation of ``x_s`` with ``x0`` (1 for ``s = -1``).

    Returns:
      the posterior mean of ``x_s``, so ``q(x_s = +1 | x_t, x0) = (1 + mean) / 2``.
    """
    return (a * x_t + b * x0) / (1.0 + a * b * x_t * x0)


def reverse_mean(logits: Array, x_t: Array, a: Array, b: Array) -> Array:
    """``E_theta[x_s | x_t] = sum_z p_theta(x0 = z | x_t) E[x_s | x_t, x0 = z]``, the posterior marginalised over the
    predicted ``x0`` (``logits`` = log-odds of ``x0 = +1``; other arguments as :func:`posterior_mean`)."""
    p_plus = jax.nn.sigmoid(logits)
    return p_plus * posterior_mean(x_t, 1.0, a, b) + (1.0 - p_plus) * posterior_mean(x_t, -1.0, a, b)


def _log_bernoulli(mean: Array) -> tuple[Array, Array]:
    """``(log P(+1), log P(-1))`` of a +-1 variable with the given mean, safe at the ends."""
    tiny = 1e-12
    return jnp.log(jnp.clip(0.5 * (1.0 + mean), tiny, 1.0)), jnp.log(jnp.clip(0.5 * (1.0 - mean), tiny, 1.0))


def d3pm_loss(apply, params, schedule: FlipSchedule, key: PRNGKey, x0: Float[Array, "B N"], *,
              loss: str = "hybrid", hybrid_coeff: float = 1.0) -> Float[Array, ""]:
    """The D3PM training loss at a uniform ``t`` (see the module docstring), averaged over spins and batch.

    Args:
      apply: ``apply(params, x (B, N), t (B,)) -> logits (B, N)``.
      params: network parameters.
      schedule: :class:`FlipSchedule`.
      key: PRNG key (``t`` and the forward noise).
      x0: ``(B, N)`` data spins.
      loss: ``"hybrid"`` or ``"ce"``.
      hybrid_coeff: ``lambda`` of the hybrid loss.

    Returns:
      scalar loss.
    """
    k_t, k_flip = jax.random.split(key)
    b = x0.shape[0]
    t = jax.random.randint(k_t, (b,), 0, schedule.betas.shape[0])
    xt = forward_sample(k_flip, schedule, x0, t)
    logits = apply(params, xt, t)
    ce = jnp.mean(-jax.nn.log_sigmoid(x0 * logits))  # -log p_theta(x0 | x_t), x0 = +-1
    if loss == "ce":
        return ce
    a = (1.0 - 2.0 * schedule.betas[t])[:, None]
    bb = schedule.alpha_bars_prev[t][:, None]
    q_mean = posterior_mean(xt, x0, a, bb)
    p_mean = reverse_mean(logits, xt, a, bb)
    q_plus, q_minus = 0.5 * (1.0 + q_mean), 0.5 * (1.0 - q_mean)
    lp_plus, lp_minus = _log_bernoulli(p_mean)
    lq_plus, lq_minus = _log_bernoulli(q_mean)
    # KL(q || p) for one +-1 variable; terms with q = 0 vanish (the clip keeps their 0 * log 0 finite)
    kl = q_plus * (lq_plus - lp_plus) + q_minus * (lq_minus - lp_minus)
    return jnp.mean(kl) + hybrid_coeff * ce


def sampling_timesteps(n_timesteps: int, n_steps: int) -> np.ndarray:
    """Up to ``n_steps`` distinct time steps evenly spaced from ``T-1`` down to 0 (returned ascending); ``T-1`` is
    always included, since sampling starts from the uniform ``x_{T-1}``."""
    return np.unique(np.round(np.linspace(n_timesteps - 1, 0, n_steps)).astype(np.int32))


def d3pm_sample(apply, params, schedule: FlipSchedule, key: PRNGKey, n_samples: int, n_spins: int, *,
                n_steps: int | None = None) -> Float[Array, "M N"]:
    """Ancestral sampling from uniform spins down a grid of ``n_steps`` time steps (all ``T`` if ``None``).

    Each step from ``t`` to the previous grid point ``s`` (``-1`` after the last) draws every spin from
    :func:`reverse_mean` with ``a = abar_t / abar_s``, ``b = abar_s``.

    Returns:
      ``(n_samples, n_spins)`` float32 spins in {-1, +1}.
    """
    n_t = schedule.betas.shape[0]
    ts = jnp.asarray(sampling_timesteps(n_t, n_t if n_steps is None else n_steps))
    ts_prev = jnp.concatenate([jnp.asarray([-1], jnp.int32), ts[:-1]])
    k_init, k_loop = jax.random.split(key)
    x = jnp.where(jax.random.bernoulli(k_init, 0.5, (n_samples, n_spins)), 1.0, -1.0).astype(jnp.float32)

    def body(x, i):
        t, s = ts[i], ts_prev[i]
        abar_s = jnp.where(s >= 0, schedule.alpha_bars[jnp.maximum(s, 0)], 1.0)
        # abar_s > 0 for every s < T-1 (the schedule reaches 0 only at its last step)
        a = schedule.alpha_bars[t] / abar_s
        logits = apply(params, x, jnp.full((n_samples,), t))
        mean = reverse_mean(logits, x, a, abar_s)
        up = jax.random.bernoulli(jax.random.fold_in(k_loop, i), 0.5 * (1.0 + mean))
        return jnp.where(up, 1.0, -1.0).astype(jnp.float32), None

    x, _ = jax.lax.scan(body, x, jnp.arange(ts.shape[0] - 1, -1, -1))
    return x


# ----------------------------------------------------------------------------------------------------------------
# Generator


class D3PMState(NamedTuple):
    """Trainable state: ``params`` and ``ema_params`` (nested dicts of arrays), ``opt_state`` (optax), ``step``
    (int32 scalar)."""

    params: Any
    ema_params: Any
    opt_state: Any
    step: Array


def make_d3pm(config: D3PMConfig | None = None, n_spins: int = 20) -> Generator:
    """Build the bit-flip discrete diffusion generator (the :class:`~ising_diffusion.generative.base.Generator` API).

    Args:
      config: :class:`D3PMConfig` (defaults if ``None``).
      n_spins: ``N``.

    Returns:
      ``Generator(name="d3pm", init, train, sample)`` with :class:`D3PMState` as state; ``sample`` uses the EMA
      parameters.
    """
    config = D3PMConfig() if config is None else config
    n = check_factory_args("make_d3pm", config, D3PMConfig, n_spins)
    schedule = make_flip_schedule(config.n_timesteps, config.schedule)
    optimizer = optax.adam(config.learning_rate)

    build, apply = network_fns(config, n)  # the DDPM's U-Net MLP (it reads widths, skip, time_embed_dim)

    def init(key, train_spins=None):
        params = nnx.to_pure_dict(nnx.split(build(key))[1])
        return D3PMState(params, params, optimizer.init(params), jnp.zeros((), jnp.int32))

    def train(key, state, train_spins, n_steps):
        train_spins = jnp.asarray(train_spins, jnp.float32)

        def step(st, i):
            k_idx, k_loss = jax.random.split(jax.random.fold_in(key, st.step))
            x0 = batch_with_replacement(k_idx, train_spins, config.batch_size)
            loss, grads = jax.value_and_grad(
                lambda p: d3pm_loss(apply, p, schedule, k_loss, x0, loss=config.loss,
                                    hybrid_coeff=config.hybrid_coeff))(st.params)
            params, opt_state, ema = optimizer_ema_step(optimizer, grads, st.params, st.opt_state, st.ema_params,
                                                        decay=config.ema_decay, step=st.step)
            return D3PMState(params, ema, opt_state, st.step + 1), loss

        return jax.lax.scan(step, state, jnp.arange(n_steps, dtype=jnp.int32))

    def sample(key, state, n_samples):
        return d3pm_sample(apply, state.ema_params, schedule, key, n_samples, n, n_steps=config.sample_steps)

    return jit_generator("d3pm", init, train, sample, check_data=lambda x: check_spins(x, n))
