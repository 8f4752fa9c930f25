"""Gibbs sampling of Potts models with vectorised chains, in the shape of ``sampling.py``'s Metropolis sampler.

Public contract (chains on axis 0):

* ``init(params, states (C, L)) -> GibbsState``;
* ``sweep(key, params, state) -> (GibbsState, GibbsInfo)``: sites 0..L-1 in order, each redrawn from its conditional;
* ``run(key, params, state, n_sweeps) -> (GibbsState, GibbsInfo)``: persistent chains;
* ``state_states(state) -> (C, L)``;
* ``potts_gibbs_sample(key, params, n_samples, *, n_chains, burn_in, thin) -> GibbsSamples``.

A site update draws ``s_i`` from ``softmax_a(h_i(a) + sum_{j != i} J_ij(a, s_j))`` (heat bath), which leaves the Potts
distribution invariant; a sweep costs ``O(C L^2 q)``. Keys: sweep ``t`` of a call uses ``fold_in(key, t)``, site
``i`` of it ``fold_in(that, i)``, counting from 0 in every call of :func:`run`: consecutive calls need their own keys
(``jax.random.split``), or they replay the same draws. ``potts_gibbs_sample`` numbers its sweeps through, so its
samples do not depend on how it groups them.
"""

from __future__ import annotations

import numbers
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Float, Int

from ising_diffusion.model_checks import check_finite_params, check_potts_couplings
from ising_diffusion.potts import PottsParams
from ising_diffusion.types import PRNGKey

__all__ = ["GibbsState", "GibbsInfo", "GibbsSamples", "init", "sweep", "run", "state_states", "potts_gibbs_sample"]


class GibbsState(NamedTuple):
    """State of a batch of chains: ``states (n_chains, L)`` int32 in ``[0, q)``."""

    states: Int[Array, "C L"]


class GibbsInfo(NamedTuple):
    """Diagnostics: ``change_rate``, the fraction of site updates that changed the state (over chains and sites)."""

    change_rate: Float[Array, ""]


class GibbsSamples(NamedTuple):
    """Result of :func:`potts_gibbs_sample`; unpacks as ``samples, change_rate = ...``."""

    samples: Int[Array, "M L"]
    change_rate: Float[Array, ""]


def _check_params(params: PottsParams) -> tuple[int, int]:
    h, J = params
    if h.ndim != 2 or J.shape != (h.shape[0], h.shape[0], h.shape[1], h.shape[1]):
        raise ValueError(f"params must have h of shape (L, q) and J of shape (L, L, q, q); got h {h.shape}, "
                         f"J {J.shape} (vmap over a batch of parameter sets instead of passing them stacked)")
    check_finite_params(params)  # values only when concrete (under jit/vmap a caller's own check)
    check_potts_couplings(J)
    return h.shape


def _sweeps(key: PRNGKey, params: PottsParams, states: Array, first: int | Array, n_sweeps: int):
    """``n_sweeps`` sweeps numbered ``first, first+1, ...``; returns the states and the number of changed sites."""
    length, q = params.h.shape
    # Jt[i, j, b, a] = J[i, j, a, b] with the diagonal block removed: site i's logits gather Jt[i, j, s_j, :]
    Jt = jnp.transpose(params.J, (0, 1, 3, 2)) * (1.0 - jnp.eye(length, dtype=params.J.dtype))[:, :, None, None]
    cols = jnp.arange(length)

    def site(i, carry):
        s, n_changed, k_sweep = carry
        Ji = lax.dynamic_index_in_dim(Jt, i, 0, keepdims=False)  # (L, q, q)
        logits = params.h[i][None, :] + jnp.sum(Ji[cols[None, :], s], axis=1)  # (C, q)
        new = jax.random.categorical(jax.random.fold_in(k_sweep, i), logits).astype(s.dtype)
        old = lax.dynamic_index_in_dim(s, i, 1, keepdims=False)
        s = lax.dynamic_update_index_in_dim(s, new, i, 1)
        return s, n_changed + jnp.sum(new != old), k_sweep

    def one_sweep(t, carry):
        s, n_changed = carry
        s, n_changed, _ = lax.fori_loop(0, length, site, (s, n_changed, jax.random.fold_in(key, first + t)))
        return s, n_changed

    return lax.fori_loop(0, n_sweeps, one_sweep, (states, jnp.asarray(0, jnp.int32)))


def init(params: PottsParams, states: Int[Array, "C L"]) -> GibbsState:
    """Chains started at ``states`` (``(n_chains, L)`` ints in ``[0, q)``)."""
    length, q = _check_params(params)
    states = jnp.asarray(states)
    if states.ndim != 2 or states.shape[1] != length:
        raise ValueError(f"states must have shape (n_chains, L={length}), got {states.shape}")
    if not jnp.issubdtype(states.dtype, jnp.integer):
        raise ValueError(f"states must be integers in [0, q={q}), got dtype {states.dtype}")
    if not isinstance(states, jax.core.Tracer) and states.size and (int(states.min()) < 0 or int(states.max()) >= q):
        raise ValueError(f"states must be integers in [0, q={q}), got values in [{int(states.min())}, "
                         f"{int(states.max())}]")
    return GibbsState(states.astype(jnp.int32))


@partial(jax.jit, static_argnames=("n_sweeps",))
def run(key: PRNGKey, params: PottsParams, state: GibbsState, n_sweeps: int) -> tuple[GibbsState, GibbsInfo]:
    """``n_sweeps`` Gibbs sweeps of persistent chains.

    Args:
      key: PRNG key.
      params: ``PottsParams`` with ``h (L, q)`` and ``J (L, L, q, q)`` (symmetric blocks).
      state: chains from :func:`init` or an earlier call (give each call its own key: see the module docstring).
      n_sweeps: sweeps of ``L`` site updates each (static).

    Returns:
      the new state and the fraction of site updates that changed a state.
    """
    length, _ = _check_params(params)
    if n_sweeps < 0:
        raise ValueError(f"n_sweeps must be >= 0, got {n_sweeps}")
    s, n_changed = _sweeps(key, params, state.states, 0, n_sweeps)
    rate = n_changed / jnp.maximum(n_sweeps * length * s.shape[0], 1)
    return GibbsState(s), GibbsInfo(rate.astype(jnp.float32))


def sweep(key: PRNGKey, params: PottsParams, state: GibbsState) -> tuple[GibbsState, GibbsInfo]:
    """One sweep: every site of every chain redrawn from its conditional, sites 0..L-1 in order."""
    return run(key, params, state, 1)


def state_states(state: GibbsState) -> Int[Array, "C L"]:
    """The chains' current states as ``(n_chains, L)``."""
    return state.states


@partial(jax.jit, static_argnames=("n_samples", "n_chains", "burn_in", "thin"))
def _sample(key, params, n_samples, n_chains, burn_in, thin):
    length, q = params.h.shape
    n_draws = -(-n_samples // n_chains)
    k_init, k_run = jax.random.split(key)
    s0 = jax.random.randint(k_init, (n_chains, length), 0, q, dtype=jnp.int32)
    s, n0 = _sweeps(k_run, params, s0, 0, burn_in)

    def draw(carry, t):
        s, n = carry
        s, dn = _sweeps(k_run, params, s, burn_in + t * thin, thin)
        return (s, n + dn), s

    (_, n_changed), samples = lax.scan(draw, (s, n0), jnp.arange(n_draws))  # (n_draws, C, L)
    rate = n_changed / ((burn_in + n_draws * thin) * length * n_chains)
    return GibbsSamples(samples.reshape(n_draws * n_chains, length)[:n_samples], rate.astype(jnp.float32))


def potts_gibbs_sample(key: PRNGKey, params: PottsParams, n_samples: int, *, n_chains: int = 256,
                       burn_in: int = 200, thin: int = 2) -> GibbsSamples:
    """Draw ``n_samples`` configurations from ``p(s) ~ exp(-E(s))`` with Gibbs (heat-bath) chains.

    Chains start from independent uniform states; after ``burn_in`` sweeps one sample is taken from every chain every
    ``thin`` sweeps (row ``r`` comes from chain ``r % n_chains``). Compiled once per set of static settings; vmap over
    ``key`` or ``params`` works.

    Args:
      key: PRNG key.
      params: ``PottsParams`` with ``h (L, q)`` and symmetric ``J (L, L, q, q)``.
      n_samples: number of samples ``M``.
      n_chains: independent chains (``min(n_chains, n_samples)`` are used).
      burn_in: sweeps discarded before the first sample.
      thin: sweeps between successive samples of one chain.

    Returns:
      ``GibbsSamples(samples (M, L) int32, change_rate)``.

    Raises:
      ValueError: a count out of range or parameters of the wrong shape.
    """
    for name, value, lo in (("n_samples", n_samples, 1), ("n_chains", n_chains, 1), ("burn_in", burn_in, 0),
                            ("thin", thin, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    _check_params(params)
    return _sample(key, params, int(n_samples), int(min(n_chains, n_samples)), int(burn_in), int(thin))
