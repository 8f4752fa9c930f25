"""Single-spin-flip Metropolis sampling of dense Ising models, in the blackjax shape.

``init(params, spins) -> MetropolisState`` and ``sweep(key, params, state) -> (MetropolisState, MetropolisInfo)``
work on chains stacked on axis 0; :func:`metropolis_sample` runs burn-in, thinning and collection with ``lax.scan``.
Local fields are kept incrementally so a proposal costs O(N) and are recomputed from scratch every
``refresh_every`` sweeps so float32 drift cannot accumulate.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ising_diffusion.ising import IsingParams, local_fields
from ising_diffusion.types import PRNGKey

__all__ = ["MetropolisState", "MetropolisInfo", "MetropolisSamples", "init", "sweep", "run", "state_spins",
           "metropolis_sample"]


class MetropolisState(NamedTuple):
    """State of a batch of chains.

    Attributes:
      spins: ``(n_chains, N)`` in {-1, +1}.
      fields: ``(n_chains, N)`` local fields ``h + J s``.
    """

    spins: Float[Array, "C N"]
    fields: Float[Array, "C N"]


class MetropolisInfo(NamedTuple):
    """Per-sweep diagnostics: ``acceptance_rate`` averaged over chains and proposals."""

    acceptance_rate: Float[Array, ""]


class MetropolisSamples(NamedTuple):
    """Result of :func:`metropolis_sample`; unpacks as ``samples, acceptance_rate = ...``."""

    samples: Float[Array, "M N"]
    acceptance_rate: Float[Array, ""]


def init(params: IsingParams, spins: Float[Array, "C N"]) -> MetropolisState:
    """Chains started at ``spins`` (shape ``(n_chains, N)``)."""
    spins = jnp.asarray(spins, jnp.float32)
    return MetropolisState(spins, local_fields(params, spins))


def sweep(key: PRNGKey, params: IsingParams, state: MetropolisState) -> tuple[MetropolisState, MetropolisInfo]:
    """One sweep: N single-spin Metropolis proposals visiting sites 0..N-1 in order, for every chain.

    Each site update leaves the Boltzmann distribution invariant, so the sweep does too.
    """
    n = params.h.shape[-1]
    log_u = jnp.log(jax.random.uniform(key, (n,) + state.spins.shape[:1]))

    def site(i, carry):
        spins, fields, n_acc = carry
        s_i = spins[:, i]
        d_e = 2.0 * s_i * fields[:, i]  # energy change of flipping spin i
        accept = log_u[i] < -d_e
        delta = jnp.where(accept, -2.0 * s_i, 0.0)  # change of s_i
        spins = spins.at[:, i].add(delta)
        fields = fields + delta[:, None] * params.J[i][None, :]
        return spins, fields, n_acc + jnp.sum(accept)

    spins, fields, n_acc = jax.lax.fori_loop(0, n, site, (state.spins, state.fields, jnp.zeros((), jnp.int32)))
    rate = n_acc / (n * state.spins.shape[0])
    return MetropolisState(spins, fields), MetropolisInfo(rate)


def state_spins(state: MetropolisState) -> Float[Array, "C N"]:
    """The chains' current spins as ``(n_chains, N)`` whatever the state's internal layout."""
    return state.spins


def run(key: PRNGKey, params: IsingParams, state: MetropolisState, n_sweeps: int
        ) -> tuple[MetropolisState, MetropolisInfo]:
    """``n_sweeps`` sweeps of persistent chains (e.g. for Boltzmann-machine learning); ``n_sweeps`` is static.

    Returns:
      the new state and the acceptance rate averaged over the sweeps.
    """
    state, acc = _run(key, params, state, n_sweeps, 100)
    return state, MetropolisInfo(acc / n_sweeps)


def _run(key, params, state, n_sweeps, refresh_every, offset=0):
    """``n_sweeps`` sweeps (``offset`` sweeps done before); returns the final state and the summed acceptance rate."""

    def body(carry, k):
        st, acc, i = carry
        st, info = sweep(k, params, st)
        # recompute the incrementally kept fields now and then (float32 drift)
        fields = jax.lax.cond((i + 1) % refresh_every == 0, lambda: local_fields(params, st.spins), lambda: st.fields)
        return (MetropolisState(st.spins, fields), acc + info.acceptance_rate, i + 1), None

    keys = jax.random.split(key, n_sweeps)
    (state, acc, _), _ = jax.lax.scan(body, (state, jnp.zeros(()), jnp.asarray(offset, jnp.int32)), keys)
    return state, acc


@partial(jax.jit, static_argnames=("n_samples", "n_chains", "burn_in", "thin", "refresh_every"))
def metropolis_sample(key: PRNGKey, params: IsingParams, n_samples: int, *, n_chains: int = 256,
                      burn_in: int = 1000, thin: int = 10, refresh_every: int = 100) -> MetropolisSamples:
    """Draw ``n_samples`` spin configurations from ``p(s) ~ exp(-E(s))`` with Metropolis chains.

    Chains start from independent uniformly random states; after ``burn_in`` sweeps, one sample is collected from
    every chain every ``thin`` sweeps, round-robin over chains (row ``r`` comes from chain ``r % n_chains``).
    A sweep is ``N`` single-spin proposals. The defaults mix well for N <= 100 and g <= 2 (SK couplings).

    Args:
      key: PRNG key.
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)``.
      n_samples: number of samples ``M``.
      n_chains: independent chains run in parallel.
      burn_in: sweeps discarded before the first sample.
      thin: sweeps between successive samples of one chain.
      refresh_every: sweeps between exact recomputations of the local fields.

    Returns:
      ``MetropolisSamples(samples (M, N) float32 in {-1,+1}, acceptance_rate)``; unpacks as a 2-tuple.
    """
    if n_samples < 1 or n_chains < 1 or burn_in < 0 or thin < 1 or refresh_every < 1:
        raise ValueError(f"need n_samples >= 1, n_chains >= 1, burn_in >= 0, thin >= 1, refresh_every >= 1; got "
                         f"{n_samples=}, {n_chains=}, {burn_in=}, {thin=}, {refresh_every=}")
    n = params.h.shape[-1]
    n_chains = min(n_chains, n_samples)
    n_draws = -(-n_samples // n_chains)
    key_init, key_burn, key_draw = jax.random.split(key, 3)
    spins0 = jnp.where(jax.random.bernoulli(key_init, 0.5, (n_chains, n)), 1.0, -1.0)
    state = init(params, spins0)
    state, acc_burn = _run(key_burn, params, state, burn_in, refresh_every) if burn_in else (state, 0.0)

    def draw(carry, k):
        st, done = carry
        st, acc = _run(k, params, st, thin, refresh_every, done)
        return (st, done + thin), (st.spins, acc)

    _, (samples, acc_draw) = jax.lax.scan(draw, (state, jnp.asarray(burn_in, jnp.int32)),
                                          jax.random.split(key_draw, n_draws))
    rate = (acc_burn + jnp.sum(acc_draw)) / (burn_in + n_draws * thin)
    return MetropolisSamples(samples.reshape(n_draws * n_chains, n)[:n_samples], rate)
