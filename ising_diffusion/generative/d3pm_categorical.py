"""Categorical discrete diffusion on q-state sequences (D3PM, Austin et al. 2021; masked diffusion, MD4, Shi et al.
2024): uniform transitions or the absorbing ("masked") state.

Each site of ``x0`` in ``[0, q)^L`` is noised independently. With ``K`` states per site (``K = q`` for
``transition="uniform"``, ``K = q + 1`` for ``"absorbing"``, the extra state ``q`` being the mask) and a stationary
distribution ``pi`` (uniform over the ``q`` states, or all mass on the mask), step ``t`` (0-based, ``t = 0 .. T-1``)
keeps a site with probability ``alpha_t`` and otherwise redraws it from ``pi``:

    Q_t = alpha_t I + (1 - alpha_t) 1 pi^T,      q(x_t | x0) = abar_t delta(x_t, x0) + (1 - abar_t) pi(x_t),

``abar_t = prod_{u <= t} alpha_u`` from the bit-flip D3PM's schedule (:func:`~ising_diffusion.generative.d3pm.
make_flip_schedule`; ``abar_{T-1} = 0``, so ``x_{T-1} ~ pi``). ``"uniform"`` is Austin et al.'s uniform transition
(for ``q = 2`` the bit-flip D3PM's process, with ``abar`` its correlation); ``"absorbing"`` with the linear schedule is
their absorbing-state D3PM (``beta_t = 1 / (T - t + 1)`` for their 1-based ``t``; ``1 / (T - t)`` for this file's
0-based ``t``) and a discretisation of MD4's linear masking schedule
(``abar_t`` = the probability that a site is still unmasked).

**Posterior.** For ``s < t``, with ``a = abar_t / abar_s`` and ``b = abar_s`` (``abar_{-1} = 1``) and ``x = x_t``:

    q(x_s = y | x_t = x, x0 = z) = f(y) g(y, z) / n(z),
    f(y) = a delta(x, y) + (1 - a) pi(x),  g(y, z) = b delta(y, z) + (1 - b) pi(y),
    n(z) = abar_t delta(x, z) + (1 - abar_t) pi(x)   (= q(x_t = x | x0 = z)).

**Model** (x0-parameterisation). The network (:class:`~ising_diffusion.generative.unet.UNetMLP`) sees the one-hot
``x_t`` (``L K`` inputs) and the time embedding and outputs ``K`` logits per site; the first ``q`` give
``p_theta(x0 | x_t)`` per site (the mask is never a data state). For ``"absorbing"`` an unmasked site is copied
(``p_theta(x0 = x_t) = 1``, MD4's and D3PM's carry-over: an unmasked site *is* its data value). The reverse step is the
posterior averaged over the predicted ``x0``, site by site, as the bit-flip D3PM does,

    p_theta(x_s = y | x_t) = sum_z p_theta(z | x_t) q(x_s = y | x_t, z) = f(y) [b w(y) + (1 - b) pi(y) sum_z w(z)],
    w(z) = p_theta(z | x_t) / n(z),

``O(K)`` per site; a coarser grid of ``s`` skips steps (``sample_steps``). At ``s = -1`` it is ``p_theta(x0 | x_t)``.
For the absorbing state this is exactly MD4's / D3PM's reverse step (``n`` is constant over ``z`` at a masked site).

**Loss** (``loss``): ``"hybrid"`` = ``L_vb + hybrid_coeff * L_ce`` with ``L_vb`` the per-site
``KL(q(x_{t-1} | x_t, x0) || p_theta(x_{t-1} | x_t))`` at a uniform ``t`` and ``L_ce = -log p_theta(x0 | x_t)``; or
``"ce"``. For ``"absorbing"`` ``L_vb`` equals ``(abar_{t-1} - abar_t) / (1 - abar_t) * L_ce`` on masked sites and 0
elsewhere: the discrete-time masked-diffusion ELBO (MD4's weighted cross-entropy). Averaged over sites and batch.

Data: int arrays ``(M, L)`` with states in ``[0, q)`` (``n_states = q`` in the config; checked on the host before the
compiled call); samples are int8 ``(n, L)``. The state is a
:class:`~ising_diffusion.generative.d3pm.D3PMState` (plain pytree; orbax saves it, ``vmap`` batches it).
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jaxtyping import Array, Float, Int

from ising_diffusion.checks import check_scalar_fields
from ising_diffusion.generative.base import Generator, check_factory_args, jit_generator
from ising_diffusion.generative.batching import batch_with_replacement
from ising_diffusion.generative.d3pm import (
    D3PMState,
    FlipSchedule,
    check_d3pm_fields,
    make_flip_schedule,
    sampling_timesteps,
)
from ising_diffusion.generative.optim import optimizer_ema_step
from ising_diffusion.generative.qstates import check_states, check_width_fields, resolve_widths
from ising_diffusion.generative.unet import network_fns
from ising_diffusion.types import PRNGKey

__all__ = ["CategoricalD3PMConfig", "stationary_distribution", "forward_sample_categorical", "reverse_probabilities",
           "categorical_d3pm_loss", "categorical_d3pm_sample", "make_d3pm_categorical"]

_TINY = 1e-12


@dataclasses.dataclass(frozen=True)
class CategoricalD3PMConfig:
    """Settings of the categorical discrete diffusion generator.

    Attributes:
      n_states: ``q``, the number of states per site (21 for proteins).
      transition: ``"uniform"`` or ``"absorbing"`` (masked diffusion; adds a mask state).
      widths: encoder widths of the U-Net MLP; ``None``: ``max(min_width, round(f * L * K))`` for each ``f`` in
        ``width_factors`` (``K = q``, or ``q + 1`` with the mask), so the network scales with ``L * q``.
      width_factors, min_width: see ``widths``.
      skip, time_embed_dim: the U-Net MLP's skips and time embedding size (even).
      n_timesteps: ``T``.
      schedule: ``"cosine"`` or ``"linear"`` ``abar_t`` (:func:`~ising_diffusion.generative.d3pm.make_flip_schedule`);
        ``None``: cosine for uniform (Austin et al.'s choice), linear for absorbing (D3PM's ``1 / (T - t + 1)``,
        MD4's linear schedule).
      learning_rate: Adam step size.
      batch_size: minibatch size (rows drawn with replacement; an epoch is ``ceil(M / batch_size)`` steps).
      loss: ``"hybrid"`` or ``"ce"``; hybrid_coeff: ``lambda`` of the hybrid loss.
      ema_decay: decay of the weight average that sampling uses (0: the raw weights).
      sample_steps: reverse steps of ``sample`` on an even grid (``None``: all ``T``).
    """

    n_states: int = 21
    transition: Literal["uniform", "absorbing"] = "uniform"
    widths: tuple[int, ...] | None = None
    width_factors: tuple[float, ...] = (1.0, 1.0, 1.0)
    min_width: int = 64
    skip: bool = True
    time_embed_dim: int = 32
    n_timesteps: int = 100
    schedule: Literal["cosine", "linear"] | None = None
    learning_rate: float = 1e-3
    batch_size: int = 128
    loss: Literal["hybrid", "ce"] = "hybrid"
    hybrid_coeff: float = 1.0
    ema_decay: float = 0.995
    sample_steps: int | None = None

    def __post_init__(self):
        check_scalar_fields(self)  # integral floats (5.0, as JSON holds) stored as ints
        name = type(self).__name__
        check_width_fields(self)
        if self.transition not in ("uniform", "absorbing"):
            raise ValueError(f"{name}.transition must be 'uniform' or 'absorbing', got {self.transition!r}")
        check_d3pm_fields(self, name, min_timesteps=2, schedules=(None, "cosine", "linear"))

    @property
    def n_classes(self) -> int:
        """``K``: ``q`` states, plus the mask for ``"absorbing"``."""
        return self.n_states + (self.transition == "absorbing")

    @property
    def schedule_kind(self) -> str:
        """The schedule used: ``schedule``, or its transition's default."""
        return self.schedule or ("cosine" if self.transition == "uniform" else "linear")


def stationary_distribution(q: int, transition: str) -> Float[Array, " K"]:
    """``pi``: uniform over ``q`` states, or (``"absorbing"``) all mass on the mask state ``q`` of ``K = q + 1``."""
    if transition == "uniform":
        return jnp.full((q,), 1.0 / q, jnp.float32)
    return jax.nn.one_hot(q, q + 1, dtype=jnp.float32)


def forward_sample_categorical(key: PRNGKey, schedule: FlipSchedule, x0: Int[Array, "B L"], t: Array, q: int,
                               transition: str) -> Int[Array, "B L"]:
    """Draw ``x_t ~ q(x_t | x0)``: each site kept with probability ``abar_{t_b}``, else redrawn from ``pi`` (a uniform
    state, or the mask ``q``). ``t`` is ``(B,)``; returns int32 ``(B, L)``."""
    k_keep, k_new = jax.random.split(key)
    keep = jax.random.bernoulli(k_keep, schedule.alpha_bars[t][:, None], x0.shape)
    new = jax.random.randint(k_new, x0.shape, 0, q) if transition == "uniform" else jnp.full(x0.shape, q)
    return jnp.where(keep, x0, new).astype(jnp.int32)


def reverse_probabilities(p0: Float[Array, "B L K"], x_t: Float[Array, "B L K"], a: Array, b: Array,
                          pi: Float[Array, " K"]) -> Float[Array, "B L K"]:
    """``sum_z p0(z) q(x_s | x_t, z)`` per site (module docstring); with ``p0`` one-hot at ``x0`` it is the true
    posterior ``q(x_s | x_t, x0)``.

    Args:
      p0: ``(B, L, K)`` probabilities of ``x0`` (zero on the mask state).
      x_t: ``(B, L, K)`` one-hot ``x_t``.
      a: ``abar_t / abar_s``, shape ``(B, 1, 1)`` or scalar.
      b: ``abar_s``, same shape as ``a``.
      pi: ``(K,)`` stationary distribution.

    Returns:
      ``(B, L, K)`` probabilities of ``x_s``, normalised per site.
    """
    pi = pi[None, None, :]
    pi_x = jnp.sum(x_t * pi, axis=-1, keepdims=True)
    f = a * x_t + (1.0 - a) * pi_x
    norm = a * b * x_t + (1.0 - a * b) * pi_x
    w = jnp.where(p0 > 0, p0 / jnp.maximum(norm, _TINY), 0.0)
    p = f * (b * w + (1.0 - b) * pi * jnp.sum(w, axis=-1, keepdims=True))
    return p / jnp.maximum(jnp.sum(p, axis=-1, keepdims=True), _TINY)


def _predict_x0(apply, params, x_t: Int[Array, "B L"], t: Array, q: int, transition: str):
    """``(p0 (B, L, K), log p0 (B, L, K))`` of the network at ``x_t``; absorbing: unmasked sites copied."""
    b, length = x_t.shape
    k = q + (transition == "absorbing")
    x_oh = jax.nn.one_hot(x_t, k, dtype=jnp.float32)
    logits = apply(params, x_oh.reshape(b, length * k), t).reshape(b, length, k)
    logp = jax.nn.log_softmax(logits[..., :q], axis=-1)
    if transition == "absorbing":
        logp = jnp.concatenate([logp, jnp.full((b, length, 1), -jnp.inf)], axis=-1)
        masked = (x_t == q)[..., None]
        logp = jnp.where(masked, logp, jnp.where(x_oh > 0, 0.0, -jnp.inf))
    return jnp.exp(logp), logp, x_oh


def categorical_d3pm_loss(apply, params, schedule: FlipSchedule, key: PRNGKey, x0: Int[Array, "B L"], *, q: int,
                          transition: str, loss: str = "hybrid", hybrid_coeff: float = 1.0) -> Float[Array, ""]:
    """The training loss at a uniform ``t`` (module docstring), averaged over sites and batch.

    Args:
      apply: ``apply(params, x (B, L K), t (B,)) -> logits (B, L K)``.
      params: network parameters.
      schedule: :class:`~ising_diffusion.generative.d3pm.FlipSchedule` (its ``alpha_bars``).
      key: PRNG key.
      x0: ``(B, L)`` int states in ``[0, q)``.
      q, transition: as in :class:`CategoricalD3PMConfig`.
      loss, hybrid_coeff: as in :class:`CategoricalD3PMConfig`.

    Returns:
      scalar loss.
    """
    k_t, k_noise = jax.random.split(key)
    b = x0.shape[0]
    t = jax.random.randint(k_t, (b,), 0, schedule.alpha_bars.shape[0])
    xt = forward_sample_categorical(k_noise, schedule, x0, t, q, transition)
    p0, logp0, xt_oh = _predict_x0(apply, params, xt, t, q, transition)
    x0_oh = jax.nn.one_hot(x0, p0.shape[-1], dtype=jnp.float32)
    ce = -jnp.mean(jnp.sum(jnp.where(x0_oh > 0, logp0, 0.0), axis=-1))
    if loss == "ce":
        return ce
    pi = stationary_distribution(q, transition)
    abar_s = schedule.alpha_bars_prev[t][:, None, None]
    a = schedule.alpha_bars[t][:, None, None] / abar_s
    q_post = reverse_probabilities(x0_oh, xt_oh, a, abar_s, pi)
    p_post = reverse_probabilities(p0, xt_oh, a, abar_s, pi)
    kl = jnp.sum(jnp.where(q_post > 0, q_post * (jnp.log(jnp.maximum(q_post, _TINY))
                                                  - jnp.log(jnp.maximum(p_post, _TINY))), 0.0), axis=-1)
    return jnp.mean(kl) + hybrid_coeff * ce


def categorical_d3pm_sample(apply, params, schedule: FlipSchedule, key: PRNGKey, n_samples: int, length: int, *,
                            q: int, transition: str, n_steps: int | None = None) -> Int[Array, "n L"]:
    """Ancestral sampling from ``pi`` down a grid of ``n_steps`` time steps (all ``T`` if ``None``) to ``x0``.

    Returns:
      ``(n_samples, length)`` int8 states in ``[0, q)``.
    """
    n_t = schedule.alpha_bars.shape[0]
    ts = jnp.asarray(sampling_timesteps(n_t, n_t if n_steps is None else n_steps))
    ts_prev = jnp.concatenate([jnp.asarray([-1], jnp.int32), ts[:-1]])
    pi = stationary_distribution(q, transition)
    k_init, k_loop = jax.random.split(key)
    x = (jax.random.randint(k_init, (n_samples, length), 0, q) if transition == "uniform"
         else jnp.full((n_samples, length), q)).astype(jnp.int32)

    def body(x, i):
        t, s = ts[i], ts_prev[i]
        abar_s = jnp.where(s >= 0, schedule.alpha_bars[jnp.maximum(s, 0)], 1.0)  # > 0 for every s < T-1
        a = schedule.alpha_bars[t] / abar_s
        p0, _, x_oh = _predict_x0(apply, params, x, jnp.full((n_samples,), t), q, transition)
        p = reverse_probabilities(p0, x_oh, a, abar_s, pi)
        x = jax.random.categorical(jax.random.fold_in(k_loop, i), jnp.log(jnp.maximum(p, 1e-30)), axis=-1)
        return x.astype(jnp.int32), None

    x, _ = jax.lax.scan(body, x, jnp.arange(ts.shape[0] - 1, -1, -1))
    return x.astype(jnp.int8)


def make_d3pm_categorical(config: CategoricalD3PMConfig | None = None, n_spins: int = 20) -> Generator:
    """Build the categorical discrete diffusion generator for sequences of ``n_spins = L`` sites.

    Args:
      config: :class:`CategoricalD3PMConfig` (defaults if ``None``; ``n_states`` gives ``q``).
      n_spins: ``L``, the sequence length.

    Returns:
      ``Generator(name="d3pm_categorical", init, train, sample)``: ``init(key, data=None)``, ``train(key, state,
      data (M, L) int, n_steps)``, ``sample(key, state, n) -> (n, L) int8``; state
      :class:`~ising_diffusion.generative.d3pm.D3PMState`; ``sample`` uses the EMA weights.
    """
    config = CategoricalD3PMConfig() if config is None else config
    length = check_factory_args("make_d3pm_categorical", config, CategoricalD3PMConfig, n_spins)
    q, k, transition = config.n_states, config.n_classes, config.transition
    schedule = make_flip_schedule(config.n_timesteps, config.schedule_kind)
    optimizer = optax.adam(config.learning_rate)
    widths = resolve_widths(config.widths, config.width_factors, config.min_width, length * k)
    build, apply = network_fns(dataclasses.replace(config, widths=widths), length * k)

    def init(key, train_states=None):
        params = nnx.to_pure_dict(nnx.split(build(key))[1])
        return D3PMState(params, params, optimizer.init(params), jnp.zeros((), jnp.int32))

    def train(key, state, train_states, n_steps):
        data = jnp.asarray(train_states, jnp.int32)

        def step(st, i):
            k_idx, k_loss = jax.random.split(jax.random.fold_in(key, st.step))
            x0 = batch_with_replacement(k_idx, data, config.batch_size)
            loss, grads = jax.value_and_grad(
                lambda p: categorical_d3pm_loss(apply, p, schedule, k_loss, x0, q=q, transition=transition,
                                                loss=config.loss, hybrid_coeff=config.hybrid_coeff))(st.params)
            params, opt_state, ema = optimizer_ema_step(optimizer, grads, st.params, st.opt_state, st.ema_params,
                                                        decay=config.ema_decay, step=st.step)
            return D3PMState(params, ema, opt_state, st.step + 1), loss

        return jax.lax.scan(step, state, jnp.arange(n_steps, dtype=jnp.int32))

    def sample(key, state, n_samples):
        return categorical_d3pm_sample(apply, state.ema_params, schedule, key, n_samples, length, q=q,
                                       transition=transition, n_steps=config.sample_steps)

    return jit_generator("d3pm_categorical", init, train, sample,
                         check_data=partial(check_states, length=length, q=q))
