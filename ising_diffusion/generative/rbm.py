"""Restricted Boltzmann machine baseline generator (METHODS.md section 5; the paper's appendix A).

Binary visible units ``v in {0,1}^N`` (``v = (s + 1) / 2``) and binary hidden units ``h in {0,1}^H`` with energy
``E(v, h) = -b.v - c.h - v^T W h``, so the visible free energy is
``F(v) = -b.v - sum_j softplus(c_j + (v W)_j)`` and ``p(v) ~ exp(-F(v))``.

Training follows the paper: contrastive divergence with one Gibbs step (CD-1; CD-k and persistent CD as options),
learning rate 0.05, momentum 0.5, weight decay 1e-4 on ``W`` (the usual practice: biases are not decayed), applied
with ``optax.chain(optax.add_decayed_weights(...), optax.sgd(..., momentum=...))`` to the negated CD gradient estimate
``<v h^T>_data - <v h^T>_model``. Hidden statistics use probabilities, the negative visible states are sampled
(as in scikit-learn's ``BernoulliRBM``). The per-step "loss" is the mean squared one-step reconstruction error per
unit, the usual CD monitor (CD follows no objective's gradient exactly).

Samples come from long block-Gibbs chains ``v -> h -> v`` run in parallel (chains on axis 0): after ``burn_in`` Gibbs
steps one sample is taken from every chain every ``thin`` steps, round-robin over chains.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from ising_diffusion.generative.base import Generator, check_factory_args, check_spins, jit_generator
from ising_diffusion.generative.batching import shuffled_batch
from ising_diffusion.checks import check_int, check_scalar_fields, is_real
from ising_diffusion.generative.optim import apply_gradients, check_optimizer_fields
from ising_diffusion.ising import MAX_ENUMERATION_SPINS, all_states
from ising_diffusion.types import PRNGKey

__all__ = ["RBMConfig", "RBMParams", "RBMState", "make_rbm", "rbm_free_energy", "rbm_log_likelihood",
           "rbm_gibbs_step"]


@dataclasses.dataclass(frozen=True)
class RBMConfig:
    """Hyperparameters of the RBM baseline (paper defaults where the paper gives them).

    Attributes:
      n_hidden: number of hidden units ``H`` (paper: 20).
      learning_rate: SGD learning rate (paper: 0.05).
      momentum: SGD momentum (paper: 0.5).
      weight_decay: L2 decay added to the gradient of ``W`` (paper: 1e-4).
      batch_size: minibatch size; one epoch is ``ceil(M / batch_size)`` steps (**default** 100; not in the paper).
      cd_steps: Gibbs steps ``k`` of CD-k (paper: 1).
      persistent: persistent CD (negative chains carried across steps, ``batch_size`` of them) instead of CD from data.
      init_scale: standard deviation of the initial ``W``; visible biases start at the data's log-odds, hidden at 0.
      sample_chains: Gibbs chains run in parallel by ``sample`` (capped at ``n_samples``).
      burn_in: Gibbs steps before the first sample of each chain.
      thin: Gibbs steps between successive samples of one chain.
    """

    n_hidden: int = 20
    learning_rate: float = 0.05
    momentum: float = 0.5
    weight_decay: float = 1e-4
    batch_size: int = 100
    cd_steps: int = 1
    persistent: bool = False
    init_scale: float = 0.01
    sample_chains: int = 1000
    burn_in: int = 1000
    thin: int = 10

    def __post_init__(self):
        check_scalar_fields(self)  # also n_hidden >= 1 and burn_in >= 0; integral floats stored as ints
        for name in ("cd_steps", "sample_chains", "thin"):
            check_int("RBMConfig", name, getattr(self, name))
        check_optimizer_fields(self, "RBMConfig")
        if not (is_real(self.momentum) and 0 <= self.momentum < 1):
            raise ValueError(f"RBMConfig.momentum must be in [0, 1), got {self.momentum!r}")
        for name in ("weight_decay", "init_scale"):
            if not (is_real(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"RBMConfig.{name} must be >= 0, got {getattr(self, name)!r}")


class RBMParams(NamedTuple):
    """RBM weights: ``W (N, H)``, visible bias ``b (N,)``, hidden bias ``c (H,)`` (visible units in {0,1})."""

    W: Float[Array, "N H"]
    b: Float[Array, " N"]
    c: Float[Array, " H"]


class RBMState(NamedTuple):
    """Trainable state: parameters, optimiser state, persistent chains ``(batch_size, N)`` in {0,1} (used only
    with ``persistent=True``) and the int32 step counter."""

    params: RBMParams
    opt_state: Any
    chains: Float[Array, "B N"]
    step: Array


def rbm_free_energy(params: RBMParams, spins: Float[Array, "M N"]) -> Float[Array, " M"]:
    """Visible free energy ``F(v) = -b.v - sum_j softplus(c_j + (v W)_j)`` of spins ``s`` (``v = (s+1)/2``).

    Args:
      params: ``RBMParams``.
      spins: ``(M, N)`` in {-1, +1}.

    Returns:
      ``(M,)`` free energies; ``p(s) ~ exp(-F)``.
    """
    v = 0.5 * (spins + 1.0)
    return -(v @ params.b) - jnp.sum(jax.nn.softplus(params.c[None, :] + v @ params.W), axis=-1)


def rbm_log_likelihood(params: RBMParams, spins: Float[Array, "M N"]) -> Float[Array, ""]:
    """Exact mean log-likelihood ``<log p(s)>`` of ``spins`` under the RBM, enumerating all ``2^N`` visible states.

    Small ``N`` only (``N <= 24``); for tests and diagnostics.

    Args:
      params: ``RBMParams``.
      spins: ``(M, N)`` in {-1, +1}.

    Returns:
      scalar mean log-likelihood (nats per sample).
    """
    n = params.b.shape[-1]
    if n > MAX_ENUMERATION_SPINS:
        raise ValueError(f"rbm_log_likelihood enumerates 2^N states; N={n} > {MAX_ENUMERATION_SPINS}")
    log_z = jax.nn.logsumexp(-rbm_free_energy(params, all_states(n)))
    return -jnp.mean(rbm_free_energy(params, spins)) - log_z


def rbm_gibbs_step(key: PRNGKey, params: RBMParams, v: Float[Array, "C N"]):
    """One block-Gibbs step ``v -> h -> v'`` for chains on axis 0 (visible in {0,1}).

    Returns:
      ``(v_new (C, N), h (C, H), p_v (C, N))``: the new visible states, the sampled hidden states and the
      visible probabilities ``p(v'=1 | h)`` they were drawn from.
    """
    k_h, k_v = jax.random.split(key)
    p_h = jax.nn.sigmoid(params.c[None, :] + v @ params.W)
    h = jax.random.bernoulli(k_h, p_h).astype(v.dtype)
    p_v = jax.nn.sigmoid(params.b[None, :] + h @ params.W.T)
    return jax.random.bernoulli(k_v, p_v).astype(v.dtype), h, p_v


def make_rbm(config: RBMConfig, n_spins: int) -> Generator:
    """Build the RBM generator for ``n_spins`` visible units; see the module docstring and ``generative.base``.

    Args:
      config: ``RBMConfig``.
      n_spins: ``N``.

    Returns:
      ``Generator(name="rbm", init, train, sample)`` with ``RBMState`` as state.
    """
    n_spins = check_factory_args("make_rbm", config, RBMConfig, n_spins)
    n, n_hidden, bs = int(n_spins), config.n_hidden, config.batch_size
    # weight decay on W only (biases are conventionally not decayed)
    decay_mask = RBMParams(W=True, b=False, c=False)
    optimizer = optax.chain(optax.add_decayed_weights(config.weight_decay, mask=decay_mask),
                            optax.sgd(config.learning_rate, momentum=config.momentum))

    def init(key, train_spins):
        k_w, k_chain = jax.random.split(key)
        v_mean = jnp.clip(jnp.mean(0.5 * (train_spins + 1.0), axis=0), 1e-3, 1 - 1e-3)
        params = RBMParams(W=config.init_scale * jax.random.normal(k_w, (n, n_hidden), jnp.float32),
                           b=jnp.log(v_mean) - jnp.log1p(-v_mean),  # Hinton's guide: visible biases at log-odds
                           c=jnp.zeros(n_hidden, jnp.float32))
        chains = jax.random.bernoulli(k_chain, 0.5, (bs, n)).astype(jnp.float32)
        return RBMState(params, optimizer.init(params), chains, jnp.zeros((), jnp.int32))

    def cd_gradient(key, params, v0, chains):
        """Negated CD-k estimate of the log-likelihood gradient, the new persistent chains and the recon. error."""
        keys = jax.random.split(key, config.cd_steps)
        start = chains if config.persistent else v0
        p_h0 = jax.nn.sigmoid(params.c[None, :] + v0 @ params.W)

        def gibbs(v, k):
            v_new, _, p_v = rbm_gibbs_step(k, params, v)
            return v_new, p_v

        v_k, p_vs = jax.lax.scan(gibbs, start, keys)
        p_hk = jax.nn.sigmoid(params.c[None, :] + v_k @ params.W)
        m = v0.shape[0]
        grads = RBMParams(W=-(v0.T @ p_h0 - v_k.T @ p_hk) / m,
                          b=-jnp.mean(v0 - v_k, axis=0),
                          c=-jnp.mean(p_h0 - p_hk, axis=0))
        # one-step reconstruction from the data (a separate chain under PCD, so the monitor means the same thing)
        if config.persistent:
            # fold_in(key, i) is split(key, n)[i] (partitionable threefry): past the chain's cd_steps keys
            _, _, p_v1 = rbm_gibbs_step(jax.random.fold_in(key, config.cd_steps), params, v0)
        else:
            p_v1 = p_vs[0]
        recon = jnp.mean((v0 - p_v1) ** 2)
        return grads, v_k, recon

    def train(key, state, train_spins, n_steps):
        data = 0.5 * (jnp.asarray(train_spins, jnp.float32) + 1.0)

        def body(st, t):
            step = st.step
            k = jax.random.fold_in(key, step)
            v0 = shuffled_batch(key, step, data, bs)
            grads, chains, recon = cd_gradient(k, st.params, v0, st.chains)
            params, opt_state = apply_gradients(optimizer, grads, st.opt_state, st.params)
            chains = chains if config.persistent else st.chains
            return RBMState(params, opt_state, chains, step + 1), recon

        return jax.lax.scan(body, state, jnp.arange(n_steps))

    def sample(key, state, n_samples):
        params = state.params
        n_chains = min(config.sample_chains, n_samples)
        n_draws = -(-n_samples // n_chains)
        k_init, k_burn, k_draw = jax.random.split(key, 3)
        v = jax.random.bernoulli(k_init, 0.5, (n_chains, n)).astype(jnp.float32)

        def run(v, k, n_gibbs):
            def gibbs(v, kk):
                return rbm_gibbs_step(kk, params, v)[0], None
            return jax.lax.scan(gibbs, v, jax.random.split(k, n_gibbs))[0]

        if config.burn_in:
            v = run(v, k_burn, config.burn_in)

        def draw(v, k):
            v = run(v, k, config.thin)
            return v, v

        _, draws = jax.lax.scan(draw, v, jax.random.split(k_draw, n_draws))
        return 2.0 * draws.reshape(n_draws * n_chains, n)[:n_samples] - 1.0

    return jit_generator("rbm", init, train, sample, check_data=lambda x: check_spins(x, n))
