"""Single-spin-flip Metropolis sampling of dense Ising models, in the blackjax shape.

Public contract (chains on axis 0):

* ``init(params, spins (C, N)) -> MetropolisState``;
* ``sweep(key, params, state) -> (MetropolisState, MetropolisInfo)``: N proposals per chain, sites 0..N-1 in order;
* ``run(key, params, state, n_sweeps) -> (MetropolisState, MetropolisInfo)``: persistent chains;
* ``state_spins(state) -> (C, N)``;
* ``metropolis_sample(key, params, n_samples, *, n_chains, burn_in, thin, ...) -> MetropolisSamples``.

How it is made fast on a CPU (see ``docs/sampling.md`` and ``benchmarks/metropolis.py``):

* Inside a call the chains are re-laid out as blocks ``(n_blocks, N, block)`` of ``block`` (64) chains, so one
  site's update is a contiguous vector operation over the chains of a block, and a block's spins and local fields
  (``2 N block`` floats) stay in the L1/L2 cache for all the sweeps of the call. Blocks are processed in turn.
* The local fields ``f = h + J^T s`` are kept incrementally, so a proposal costs O(N); they are recomputed from scratch
  at the start of every call (so ``params`` may change between calls of :func:`run`) and every ``refresh_every`` sweeps
  (float32 drift of the incremental updates).
* The uniform numbers of the acceptance test come from a counter-based hash (murmur3's 32-bit finaliser applied to
  a per-chain Weyl sequence ``w_c + t * a_c`` with odd ``a_c``), seeded from the JAX key of the call: it costs a few
  integer vector operations per proposal, inside the loop, instead of a threefry call and a random array in memory.
* XLA's thunk runtime on CPU dispatches every operation of a ``while`` body separately, which costs more than a site
  update. XLA can compile a small ``while`` loop into one kernel instead; importing this module raises that size limit
  (``xla_cpu_small_while_loop_byte_threshold``, see :func:`xla_cpu_flags_enabled`) before JAX initialises its CPU
  backend. The body is written so XLA makes no copies of the spin and field blocks (each flip's field update is
  deferred to the next proposal, so the in-place field update does not read the spins).
"""

from __future__ import annotations

import numbers
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Float

from ising_diffusion.ising import IsingParams, local_fields
from ising_diffusion.model_checks import check_finite_params, check_ising_couplings
from ising_diffusion.types import PRNGKey
from ising_diffusion.xla_flags import set_xla_cpu_flags

__all__ = ["MetropolisState", "MetropolisInfo", "MetropolisSamples", "init", "sweep", "run", "state_spins",
           "metropolis_sample", "xla_cpu_flags_enabled", "BLOCK_SIZE"]

#: Chains per block: a block's spins and fields (2 x N x 64 float32) fit the L1/L2 cache for N <= 100.
BLOCK_SIZE = 64

# Normally already set by ``import ising_diffusion``; asked again here for the sampler's own record (see xla_flags.py).
_XLA_FLAGS_SET = set_xla_cpu_flags()


def xla_cpu_flags_enabled() -> bool:
    """Whether XLA CPU was told to compile the sweep loop into one kernel (import-time ``XLA_FLAGS``)."""
    return _XLA_FLAGS_SET


class MetropolisState(NamedTuple):
    """State of a batch of chains.

    Attributes:
      spins: ``(n_chains, N)`` in {-1, +1}.
      fields: ``(n_chains, N)`` local fields ``h + J s`` for the parameters of the last call (recomputed from ``spins``
        at the start of every :func:`run`, so a state may be carried over to new parameters).
    """

    spins: Float[Array, "C N"]
    fields: Float[Array, "C N"]


class MetropolisInfo(NamedTuple):
    """Diagnostics: ``acceptance_rate`` averaged over chains and proposals."""

    acceptance_rate: Float[Array, ""]


class MetropolisSamples(NamedTuple):
    """Result of :func:`metropolis_sample`; unpacks as ``samples, acceptance_rate = ...``."""

    samples: Float[Array, "M N"]
    acceptance_rate: Float[Array, ""]


# ----------------------------------------------------------------------------------------------------------------------
# The kernel: one block of chains, spins and fields laid out (N, block).


class _Block(NamedTuple):
    spins: Array  # (N, K) float32
    fields: Array  # (N, K) float32, up to date except for the pending flip below
    counter: Array  # (K,) uint32, Weyl sequence of the hash generator
    increment: Array  # (K,) uint32, odd
    n_accepted: Array  # (K,) int32
    sweep_index: Array  # () int32, sweeps done in this call (for the field refresh)
    pending_site: Array  # () int32, site of the last proposal, whose field update is deferred
    pending_delta: Array  # (K,) float32, change of that site's spins (0 where rejected)


_GOLDEN = 0x9E3779B9  # 2^32 / golden ratio, the usual Weyl increment


def _fmix32(z: Array) -> Array:
    """murmur3's 32-bit finaliser: a bijection of uint32 with full avalanche."""
    z = (z ^ (z >> 16)) * jnp.uint32(0x85EBCA6B)
    z = (z ^ (z >> 13)) * jnp.uint32(0xC2B2AE35)
    return z ^ (z >> 16)


def _uniform(counter: Array) -> Array:
    """Uniform float32 in [0, 1) from ``counter`` (uint32): 24 bits, and where those are all zero (probability
    2^-24) 24 more from a second hash, so that ``u < exp(-dE)`` accepts an uphill move of ``dE`` up to ~33 with
    probability ``exp(-dE)`` rather than the floor 2^-24 of a 24-bit ``u`` (whose 0 accepts any move): with that floor
    strongly coupled chains crossed barriers of ``dE > 16.6`` as often downhill as uphill and their modes drifted
    towards equal weight. Elsewhere ``u`` is the 24-bit value alone, so ordinary chains are unchanged."""
    coarse = (_fmix32(counter) >> 8).astype(jnp.float32) * jnp.float32(2.0**-24)
    fine = ((_fmix32(counter ^ jnp.uint32(0x5851F42D)) >> 8).astype(jnp.float32) + 0.5) * jnp.float32(2.0**-48)
    return jnp.where(coarse > 0, coarse, fine)


def _key_bits(key: PRNGKey, shape: tuple[int, ...], stream: int) -> Array:
    """uint32 bits of ``shape`` hashed from the key's data, the element index and ``stream``.

    Used for seeds and initial states instead of ``jax.random.bits``, whose threefry loop costs most of the compile
    time of a sampler call; the sampler's own streams then run from these seeds.
    """
    words = jax.random.key_data(key).reshape(-1).astype(jnp.uint32)
    seed = jnp.uint32((stream * _GOLDEN + 0x6A09E667) % 2**32)
    for w in range(words.shape[0]):  # a handful of key words (2 for threefry keys)
        seed = _fmix32(seed ^ words[w]) + jnp.uint32(_GOLDEN)
    index = lax.iota(jnp.uint32, int(np.prod(shape))).reshape(shape)
    return _fmix32(_fmix32(index * jnp.uint32(_GOLDEN) + seed) ^ seed)


def _block_sweeps(J: Array, h: Array, blk: _Block, n_sweeps: int, refresh_every: int) -> _Block:
    """``n_sweeps`` sweeps of one block; the fields are recomputed every ``refresh_every`` sweeps.

    The field update of a flip is deferred to the next proposal, so the in-place update of the ``(N, K)`` fields reads
    only a loop-carried delta: if it read the spins (to form the delta itself) XLA would copy the spin block at every
    site, since the spins are also updated in place.
    """
    n = J.shape[0]

    def apply_pending(b: _Block) -> Array:
        j_p = lax.dynamic_index_in_dim(J, b.pending_site, 0, keepdims=False)
        return b.fields + j_p[:, None] * b.pending_delta[None, :]

    def site(i, b: _Block) -> _Block:
        fields = apply_pending(b)
        counter = b.counter + b.increment
        u = _uniform(counter)
        s_i = lax.dynamic_index_in_dim(b.spins, i, 0, keepdims=False)
        f_i = lax.dynamic_index_in_dim(fields, i, 0, keepdims=False)
        accept = u < jnp.exp(-2.0 * s_i * f_i)  # flipping s_i changes the energy by 2 s_i f_i
        delta = jnp.where(accept, -2.0 * s_i, 0.0)
        spins = lax.dynamic_update_index_in_dim(b.spins, s_i + delta, i, 0)
        return b._replace(spins=spins, fields=fields, counter=counter, pending_site=i, pending_delta=delta,
                          n_accepted=b.n_accepted + accept.astype(jnp.int32))

    def refresh(b: _Block) -> _Block:
        # f = h + J^T s as N rank-one updates: the same code as a site update, so it compiles small and fast
        def add_row(i, f):
            s_i = lax.dynamic_index_in_dim(b.spins, i, 0, keepdims=False)
            return f + lax.dynamic_index_in_dim(J, i, 0, keepdims=False)[:, None] * s_i[None, :]

        fields = lax.fori_loop(0, n, add_row, jnp.broadcast_to(h[:, None], b.fields.shape))
        return b._replace(fields=fields, pending_delta=jnp.zeros_like(b.pending_delta))

    def one_sweep(_, b: _Block) -> _Block:
        b = lax.fori_loop(0, n, site, b)
        b = b._replace(sweep_index=b.sweep_index + 1)
        return lax.cond(b.sweep_index % refresh_every == 0, refresh, lambda x: x, b)

    blk = lax.fori_loop(0, n_sweeps, one_sweep, blk)
    return blk._replace(fields=apply_pending(blk), pending_delta=jnp.zeros_like(blk.pending_delta))


def _new_blocks(key: PRNGKey, params: IsingParams, spins_blocks: Array) -> _Block:
    """Per-block carries for spins ``(B, N, K)``: fresh fields and generator streams from ``key``."""
    n_blocks, _, k = spins_blocks.shape
    counter = _key_bits(key, (n_blocks, k), 1)
    increment = _key_bits(key, (n_blocks, k), 2) | jnp.uint32(1)
    fields = params.h[None, :, None] + jnp.einsum("ij,bik->bjk", params.J, spins_blocks)
    return _Block(spins_blocks, fields, counter, increment, jnp.zeros((n_blocks, k), jnp.int32),
                  jnp.zeros((n_blocks,), jnp.int32), jnp.zeros((n_blocks,), jnp.int32),
                  jnp.zeros((n_blocks, k), jnp.float32))


# XLA's CPU code for the (N, K) field update is about six times slower per chain for K below ~44 (measured on AVX2,
# N = 20..400), so blocks of fewer chains are padded up to 48 unless there are only a few chains.
_MIN_FAST_BLOCK = 48
_FEW_CHAINS = 12


def _block_size(n_chains: int, block_size: int) -> int:
    """Chains per block: about ``block_size``, balanced, a multiple of 8 and at least 48 (or all, if only a few)."""
    if n_chains < _FEW_CHAINS or block_size < _MIN_FAST_BLOCK:
        return min(n_chains, block_size)
    n_blocks = -(-n_chains // block_size)
    k = -(-n_chains // n_blocks)
    return max(-(-k // 8) * 8, _MIN_FAST_BLOCK)


def _to_blocks(x: Array, k: int) -> Array:
    """``(C, N) -> (B, N, K)`` with ``B = ceil(C / K)``; padding chains start at +1 (they are run and discarded)."""
    c, n = x.shape
    b = -(-c // k)
    x = jnp.concatenate([x, jnp.ones((b * k - c, n), x.dtype)], axis=0) if b * k > c else x
    return x.reshape(b, k, n).transpose(0, 2, 1)


def _from_blocks(xb: Array, c: int) -> Array:
    """``(B, N, K) -> (C, N)``, dropping padding chains."""
    b, n, k = xb.shape
    return xb.transpose(0, 2, 1).reshape(b * k, n)[:c]


def _check_params(params: IsingParams) -> int:
    h, J = params
    if h.ndim != 1 or J.ndim != 2 or J.shape != (h.shape[0], h.shape[0]):
        raise ValueError(f"params must have h of shape (N,) and J of shape (N, N); got h {h.shape}, J {J.shape} "
                         f"(vmap over a batch of parameter sets instead of passing them stacked)")
    check_finite_params(params)  # values only when concrete (under jit/vmap a caller's own check)
    check_ising_couplings(J)
    return h.shape[0]


# ----------------------------------------------------------------------------------------------------------------------
# Public API


def init(params: IsingParams, spins: Float[Array, "C N"]) -> MetropolisState:
    """Chains started at ``spins``.

    Args:
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)``.
      spins: ``(n_chains, N)`` in {-1, +1}.

    Returns:
      ``MetropolisState`` with the spins as float32 and their local fields.
    """
    n = _check_params(params)
    if not isinstance(spins, jax.core.Tracer) and not np.all(np.isin(np.asarray(spins), (-1, 1))):
        raise ValueError("spins must be -1 or +1 (a chain started at 0 never moves: its flips change nothing); "
                         "convert 0/1 data with 2 * x - 1")
    spins = jnp.asarray(spins, jnp.float32)
    if spins.ndim != 2 or spins.shape[1] != n:
        raise ValueError(f"spins must have shape (n_chains, N={n}), got {spins.shape}")
    return MetropolisState(spins, local_fields(params, spins))


@partial(jax.jit, static_argnames=("n_sweeps", "refresh_every", "block_size"))
def run(key: PRNGKey, params: IsingParams, state: MetropolisState, n_sweeps: int, *, refresh_every: int = 200,
        block_size: int = BLOCK_SIZE) -> tuple[MetropolisState, MetropolisInfo]:
    """``n_sweeps`` sweeps of persistent chains (e.g. Boltzmann-machine learning).

    The local fields are recomputed from ``state.spins`` at the start, so ``params`` may differ from the previous call.

    Args:
      key: PRNG key.
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)`` (symmetric, zero diagonal).
      state: chains from :func:`init` or an earlier call.
      n_sweeps: sweeps of N proposals each (static).
      refresh_every: sweeps between exact recomputations of the local fields (static).
      block_size: chains processed together (static); the default suits the cache.

    Returns:
      the new state and the acceptance rate averaged over chains and proposals.
    """
    n = _check_params(params)
    if n_sweeps < 0 or refresh_every < 1 or block_size < 1:
        raise ValueError(f"need n_sweeps >= 0, refresh_every >= 1, block_size >= 1; got {n_sweeps=}, "
                         f"{refresh_every=}, {block_size=}")
    c = state.spins.shape[0]
    if state.spins.shape != (c, n):
        raise ValueError(f"state.spins must have shape (n_chains, N={n}), got {state.spins.shape}")
    k = _block_size(c, block_size)
    blocks = _new_blocks(key, params, _to_blocks(state.spins.astype(jnp.float32), k))

    def body(carry, blk):
        return carry, _block_sweeps(params.J, params.h, blk, n_sweeps, refresh_every)

    _, blocks = lax.scan(body, None, blocks)
    spins = _from_blocks(blocks.spins, c)
    fields = _from_blocks(blocks.fields, c)
    n_acc = _from_blocks(blocks.n_accepted[:, None, :], c)
    rate = jnp.sum(n_acc) / jnp.maximum(n_sweeps * n * c, 1)
    return MetropolisState(spins, fields), MetropolisInfo(rate.astype(jnp.float32))


def sweep(key: PRNGKey, params: IsingParams, state: MetropolisState) -> tuple[MetropolisState, MetropolisInfo]:
    """One sweep: N single-spin Metropolis proposals visiting sites 0..N-1 in order, for every chain.

    Each site update leaves the Boltzmann distribution invariant, so the sweep does too.

    Returns:
      the new state and the acceptance rate of the sweep.
    """
    return run(key, params, state, 1)


def state_spins(state: MetropolisState) -> Float[Array, "C N"]:
    """The chains' current spins as ``(n_chains, N)``."""
    return state.spins


@partial(jax.jit, static_argnames=("n_samples", "n_chains", "burn_in", "thin", "refresh_every", "block_size"))
def _sample(key, params, n_samples, n_chains, burn_in, thin, refresh_every, block_size):
    n = params.h.shape[-1]
    n_draws = -(-n_samples // n_chains)
    k = _block_size(n_chains, block_size)
    n_blocks = -(-n_chains // k)
    spins0 = jnp.where(_key_bits(key, (n_blocks, n, k), 0) >> 31 == 1, 1.0, -1.0)
    blocks = _new_blocks(key, params, spins0)

    def one_block(carry, blk):
        blk = _block_sweeps(params.J, params.h, blk, burn_in, refresh_every)

        def draw(b, _):
            b = _block_sweeps(params.J, params.h, b, thin, refresh_every)
            return b, b.spins.T

        blk, samples = lax.scan(draw, blk, None, length=n_draws)  # (n_draws, K, N)
        return carry, (samples, blk.n_accepted)

    _, (samples, n_acc) = lax.scan(one_block, None, blocks)  # (B, n_draws, K, N), (B, K)
    samples = samples.transpose(1, 0, 2, 3).reshape(n_draws, n_blocks * k, n)[:, :n_chains]
    rate = jnp.sum(n_acc.reshape(-1)[:n_chains]) / ((burn_in + n_draws * thin) * n * n_chains)
    return MetropolisSamples(samples.reshape(n_draws * n_chains, n)[:n_samples], rate.astype(jnp.float32))


def metropolis_sample(key: PRNGKey, params: IsingParams, n_samples: int, *, n_chains: int = 256, burn_in: int = 1000,
                      thin: int = 10, refresh_every: int = 200, block_size: int = BLOCK_SIZE) -> MetropolisSamples:
    """Draw ``n_samples`` spin configurations from ``p(s) ~ exp(-E(s))`` with Metropolis chains.

    Chains start from independent uniformly random states; after ``burn_in`` sweeps, one sample is collected from
    every chain every ``thin`` sweeps, round-robin over chains (row ``r`` comes from chain ``r % n_chains``).
    A sweep is ``N`` single-spin proposals visiting the sites in order. The defaults mix well for N <= 100 and g <= 2
    (SK couplings). Compiled once per set of static settings; vmap over ``key`` (seeds) and over ``params`` (a batch of
    parameter sets) works.

    Args:
      key: PRNG key.
      params: ``IsingParams`` with ``h (N,)`` and ``J (N, N)`` (symmetric, zero diagonal).
      n_samples: number of samples ``M``.
      n_chains: independent chains (``min(n_chains, n_samples)`` are used).
      burn_in: sweeps discarded before the first sample.
      thin: sweeps between successive samples of one chain.
      refresh_every: sweeps between exact recomputations of the local fields (float32 drift).
      block_size: chains processed together; the default suits the cache.

    Returns:
      ``MetropolisSamples(samples (M, N) float32 in {-1,+1}, acceptance_rate)``; unpacks as a 2-tuple.

    Raises:
      ValueError: a count out of range or parameters of the wrong shape.
    """
    for name, value, lo in (("n_samples", n_samples, 1), ("n_chains", n_chains, 1), ("burn_in", burn_in, 0),
                            ("thin", thin, 1), ("refresh_every", refresh_every, 1), ("block_size", block_size, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    _check_params(params)
    return _sample(key, params, int(n_samples), int(min(n_chains, n_samples)), int(burn_in), int(thin),
                   int(refresh_every), int(block_size))
