"""The q-state Potts model: parameters, energies, gauge, exact enumeration for small systems, planted truths.

Conventions (the Potts analogue of ``ising.py``; see ``docs/potts.md``):

* a configuration ``s`` is a vector of ``L`` integer states in ``[0, q)``; batches are int arrays ``(M, L)``. For
  proteins the states index ``PROTEIN_ALPHABET = "-ACDEFGHIKLMNPQRSTVWY"`` (gap = state 0, as plmc);
* ``E(s) = - sum_i h_i(s_i) - sum_{i<j} J_ij(s_i, s_j)`` and ``p(s) = exp(-E(s)) / Z``;
* ``h`` is ``(L, q)``; ``J`` is ``(L, L, q, q)`` with ``J[i, j, a, b] == J[j, i, b, a]`` and zero diagonal blocks
  ``J[i, i] == 0``, so ``sum_{i<j} J_ij(s_i, s_j) = (1/2) sum_{i != j} J[i, j, s_i, s_j]``;
* the model is invariant under gauge changes (``J_ij(a, b) += u_ij(b)`` with ``h_i(a) -= ...``); the *zero-sum*
  (Ising) gauge ``sum_a J_ij(a, b) = sum_b J_ij(a, b) = 0``, ``sum_a h_i(a) = 0`` picks one representative, used for
  parameter errors and contact scores;
* enumerated states are ordered by their integer index ``b`` in ``[0, q^L)`` with ``s_i = (b // q^i) % q``.

Everything here is a pure function of arrays, safe under ``jit`` and ``vmap``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ising_diffusion.checks import check_int, is_real
from ising_diffusion.io.alignment import PROTEIN_ALPHABET  # gap first (state 0), as plmc; defined beside the reader
from ising_diffusion.model_checks import check_finite_params
from ising_diffusion.types import PRNGKey

__all__ = [
    "PottsParams",
    "PROTEIN_ALPHABET",
    "MAX_ENUMERATION_STATES",
    "symmetrize_couplings",
    "potts_energy",
    "conditional_logits",
    "zero_sum_gauge",
    "all_potts_states",
    "potts_log_partition",
    "potts_exact_probabilities",
    "potts_exact_marginals",
    "potts_exact_sample",
    "potts_parameter_mse",
    "potts_sparse_params",
    "potts_chain_params",
    "check_sequences",
]

#: Largest state space exact enumeration accepts: ``q**L <= 2**20``.
MAX_ENUMERATION_STATES = 2**20
_CHUNK = 2**14  # states are enumerated in chunks so memory stays bounded


class PottsParams(NamedTuple):
    """Fields and couplings of a pairwise Potts model.

    Attributes:
      h: fields, shape ``(L, q)``.
      J: couplings, shape ``(L, L, q, q)``, ``J[i, j, a, b] == J[j, i, b, a]``, zero diagonal blocks.
    """

    h: Float[Array, "L q"]
    J: Float[Array, "L L q q"]

    @property
    def length(self) -> int:
        return self.h.shape[-2]

    @property
    def n_states(self) -> int:
        return self.h.shape[-1]


def _offdiag(length: int, dtype=jnp.float32) -> Array:
    """``(L, L, 1, 1)`` mask, 0 on the diagonal blocks."""
    return (1.0 - jnp.eye(length, dtype=dtype))[:, :, None, None]


def symmetrize_couplings(J: Float[Array, "L L q q"]) -> Float[Array, "L L q q"]:
    """``(J_ij + J_ji^T) / 2`` with the diagonal blocks set to zero (the plmDCA symmetrisation)."""
    J = 0.5 * (J + jnp.transpose(J, (1, 0, 3, 2)))
    return J * _offdiag(J.shape[0], J.dtype)


def _one_hot(states: Int[Array, "M L"], q: int) -> Float[Array, "M L q"]:
    return jax.nn.one_hot(states, q, dtype=jnp.float32)


def potts_energy(params: PottsParams, states: Int[Array, "M L"]) -> Float[Array, " M"]:
    """Energy ``E(s) = -sum_i h_i(s_i) - (1/2) sum_{i != j} J_ij(s_i, s_j)`` of each row of ``states``: the diagonal
    blocks ``J_ii`` are not read (as in the pseudolikelihood's conditionals and the Gibbs sampler), and an asymmetric
    ``J`` acts through ``(J_ij + J_ji^T) / 2``."""
    x = _one_hot(states, params.h.shape[-1])
    field = jnp.einsum("mia,ia->m", x, params.h)
    pair = jnp.einsum("mia,ijab,mjb->m", x, params.J * _offdiag(params.h.shape[0], params.J.dtype), x)
    return -field - 0.5 * pair


def conditional_logits(params: PottsParams, states: Int[Array, "M L"]) -> Float[Array, "M L q"]:
    """Logits of each site's conditional: ``p(s_i = a | s_rest) = softmax_a(h_i(a) + sum_{j != i} J_ij(a, s_j))``.

    ``J``'s diagonal blocks are ignored, and ``J`` may be asymmetric (row block ``i`` drives site ``i``'s conditional,
    as in asymmetric pseudolikelihood).

    Returns:
      ``(M, L, q)``.
    """
    length, q = params.h.shape
    x = _one_hot(states, q).reshape(states.shape[0], length * q)
    J = params.J * _offdiag(length, params.J.dtype)
    w = jnp.transpose(J, (0, 2, 1, 3)).reshape(length * q, length * q)  # w[(i, a), (j, b)] = J[i, j, a, b]
    return params.h[None] + (x @ w.T).reshape(states.shape[0], length, q)


def zero_sum_gauge(params: PottsParams) -> PottsParams:
    """The same distribution in the zero-sum (Ising) gauge: every row and column of every ``J_ij`` and every ``h_i``
    sums to zero. The energy changes by a constant only, for symmetric blocks ``J_ji = J_ij^T`` (what every fit and
    planted truth here has; an asymmetric ``J`` would need ``(J_ij(a, .) + J_ji(., a)) / 2`` in ``h'``).

    ``J'_ij(a, b) = J_ij(a, b) - J_ij(., b) - J_ij(a, .) + J_ij(., .)`` (dots are means over states) and
    ``h'_i(a) = h_i(a) - h_i(.) + sum_{j != i} [J_ij(a, .) - J_ij(., .)]``.
    """
    h, J = params
    J = J * _offdiag(J.shape[0], J.dtype)
    row = jnp.mean(J, axis=3, keepdims=True)  # J_ij(a, .)
    col = jnp.mean(J, axis=2, keepdims=True)  # J_ij(., b)
    both = jnp.mean(J, axis=(2, 3), keepdims=True)
    J0 = J - row - col + both
    h0 = h + jnp.sum((row - both)[..., 0], axis=1)
    h0 = h0 - jnp.mean(h0, axis=-1, keepdims=True)
    return PottsParams(h0, J0)


def potts_parameter_mse(true: PottsParams, inferred: PottsParams) -> Float[Array, ""]:
    """Mean squared error over all ``L q`` fields and ``L(L-1)/2 q^2`` couplings (``i < j``), both in the zero-sum
    gauge (so gauge-equivalent parameter sets have error zero)."""
    a, b = zero_sum_gauge(true), zero_sum_gauge(inferred)
    length = a.h.shape[0]
    iu = np.triu_indices(length, k=1)
    diff = jnp.concatenate([(a.h - b.h).reshape(-1), (a.J[iu] - b.J[iu]).reshape(-1)])
    return jnp.mean(diff**2)


# ----------------------------------------------------------------------------------------------------------------------
# Exact enumeration


def _check_enumerable(length: int, q: int) -> int:
    n = q**length
    if n > MAX_ENUMERATION_STATES:
        raise ValueError(f"exact enumeration needs q**L states; q={q}, L={length} gives {n} > "
                         f"{MAX_ENUMERATION_STATES} (2**20). Use the Gibbs sampler (potts_gibbs_sample) instead.")
    return n


def all_potts_states(length: int, q: int, start: int | Array = 0, count: int | None = None) -> Int[Array, "S L"]:
    """States ``start .. start+count-1`` of the enumeration order (all ``q^L`` by default), int32 ``(S, L)``."""
    if count is None:
        count = q**length
    idx = jnp.asarray(start, jnp.int32) + jnp.arange(count, dtype=jnp.int32)
    powers = jnp.asarray([q**i for i in range(length)], jnp.int32)
    return (idx[:, None] // powers[None, :]) % q


def _neg_energies(params: PottsParams) -> Float[Array, " S"]:
    """``-E`` of all ``q^L`` states in enumeration order, chunk by chunk (``lax.map``)."""
    length, q = params.h.shape
    n = _check_enumerable(length, q)
    chunk = min(n, _CHUNK)
    n_chunks = -(-n // chunk)

    def one(c):
        return -potts_energy(params, all_potts_states(length, q, c * chunk, chunk))

    neg_e = jax.lax.map(one, jnp.arange(n_chunks)).reshape(-1)
    if n_chunks * chunk > n:  # the last chunk ran past q^L (q not a power of 2): drop the wrapped states
        neg_e = neg_e[:n]
    return neg_e


def potts_log_partition(params: PottsParams) -> Float[Array, ""]:
    """``log Z`` by exact enumeration of the ``q^L <= 2^20`` states (``J`` should be symmetric)."""
    return jax.nn.logsumexp(_neg_energies(params))


def potts_exact_probabilities(params: PottsParams) -> Float[Array, " S"]:
    """Probabilities of all ``q^L`` states in enumeration order (see module docstring)."""
    neg_e = _neg_energies(params)
    return jnp.exp(neg_e - jax.nn.logsumexp(neg_e))


def potts_exact_marginals(params: PottsParams) -> tuple[Float[Array, "L q"], Float[Array, "L L q q"]]:
    """Exact single-site marginals ``P_i(a)`` and pair marginals ``P_ij(a, b)`` by enumeration.

    They are the gradient of :func:`potts_log_partition`: ``d log Z / d h_i(a) = P_i(a)`` and, since ``-E`` holds
    ``(1/2) sum_{i != j} J[i, j, s_i, s_j]``, ``d log Z / d J[i, j, a, b] = P_ij(a, b) / 2`` for ``i != j``. The
    diagonal blocks are set to ``diag(P_i)``.

    Returns:
      ``(P_i (L, q), P_ij (L, L, q, q))``.
    """
    grad = jax.grad(potts_log_partition)(params)
    length, q = params.h.shape
    pair = 2.0 * grad.J * _offdiag(length)
    diag = jnp.eye(length)[:, :, None, None] * (grad.h[:, None, :, None] * jnp.eye(q)[None, None])
    return grad.h, pair + diag


def potts_exact_sample(key: PRNGKey, params: PottsParams, n_samples: int) -> Int[Array, "M L"]:
    """Independent exact samples by enumeration (``q^L <= 2^20``): ``(n_samples, L)`` int32 states.

    Inverse-CDF sampling over one float32 cumulative sum, as :func:`~ising_diffusion.ising.exact_sample` (whose
    docstring gives the resulting total-variation error)."""
    check_int("", "n_samples", n_samples)
    check_finite_params(params)
    length, q = params.h.shape
    neg_e = _neg_energies(params)
    cdf = jnp.cumsum(jnp.exp(neg_e - jnp.max(neg_e)))  # inverse-CDF sampling
    u = jax.random.uniform(key, (n_samples,)) * cdf[-1]
    idx = jnp.minimum(jnp.searchsorted(cdf, u, side="right"), cdf.shape[0] - 1).astype(jnp.int32)
    powers = jnp.asarray([q**i for i in range(length)], jnp.int32)
    return (idx[:, None] // powers[None, :]) % q


# ----------------------------------------------------------------------------------------------------------------------
# Planted truths


def _planted(key: PRNGKey, graph: np.ndarray, q: int, g: float, field_scale: float) -> PottsParams:
    """Couplings ``N(0, g^2)`` (before gauging) on the edges of ``graph``, fields ``N(0, field_scale^2)``, in the
    zero-sum gauge (which keeps ``J_ij = 0`` off the graph)."""
    length = graph.shape[0]
    k_j, k_h = jax.random.split(key)
    upper = np.triu(graph, k=1)
    raw = jax.random.normal(k_j, (length, length, q, q)) * g * jnp.asarray(upper, jnp.float32)[:, :, None, None]
    J = raw + jnp.transpose(raw, (1, 0, 3, 2))
    h = jax.random.normal(k_h, (length, q)) * field_scale
    return zero_sum_gauge(PottsParams(h, J))


def _check_planted(length: int, q: int, g: float, field_scale: float) -> None:
    check_int("", "length", length, minimum=2)
    check_int("", "q", q, minimum=2)
    if not (is_real(g) and g >= 0):
        raise ValueError(f"coupling strength g must be finite and >= 0, got {g!r}")
    if not (is_real(field_scale) and field_scale >= 0):
        raise ValueError(f"field_scale must be finite and >= 0, got {field_scale!r}")


def potts_sparse_params(key: PRNGKey, length: int, q: int, degree: float = 2.0, g: float = 1.0,
                        field_scale: float = 0.5) -> tuple[PottsParams, Bool[np.ndarray, "L L"]]:
    """Random sparse (Erdos-Renyi) planted truth: each pair ``i < j`` is an edge with probability
    ``degree / (L - 1)``; each edge block ``J_ij`` has i.i.d. ``N(0, g^2)`` entries before the zero-sum gauge (so
    its entries have variance ``g^2 (q-1)^2 / q^2`` after it), all other blocks are zero; fields
    ``N(0, field_scale^2)``, gauged.

    Args:
      key: PRNG key (the graph is drawn from it too).
      length: ``L >= 2``.
      q: number of states ``>= 2``.
      degree: mean degree, ``0 < degree <= L - 1``.
      g: coupling strength.
      field_scale: field standard deviation.

    Returns:
      ``(PottsParams in the zero-sum gauge, graph bool (L, L) symmetric with a False diagonal)``.
    """
    _check_planted(length, q, g, field_scale)
    if not 0 < degree <= length - 1:
        raise ValueError(f"degree must be in (0, length - 1 = {length - 1}], got {degree}")
    k_graph, k_params = jax.random.split(key)
    draws = np.asarray(jax.random.uniform(k_graph, (length, length))) < degree / (length - 1)
    upper = np.triu(draws, k=1)
    graph = upper | upper.T
    return _planted(k_params, graph, q, g, field_scale), graph


def potts_chain_params(key: PRNGKey, length: int, q: int, g: float = 1.0,
                       field_scale: float = 0.5) -> tuple[PottsParams, Bool[np.ndarray, "L L"]]:
    """Open-chain planted truth: edges ``(i, i+1)`` only, blocks and fields drawn as in :func:`potts_sparse_params`.

    Returns:
      ``(PottsParams in the zero-sum gauge, graph bool (L, L))``.
    """
    _check_planted(length, q, g, field_scale)
    idx = np.arange(length - 1)
    graph = np.zeros((length, length), bool)
    graph[idx, idx + 1] = graph[idx + 1, idx] = True
    return _planted(key, graph, q, g, field_scale), graph


# ----------------------------------------------------------------------------------------------------------------------
# Input validation (once, at the edge)


def check_sequences(seqs, weights=None, q: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate an alignment and its sequence weights; the one check every Potts entry point runs on user data.

    Args:
      seqs: ``(M, L)`` integer states (any integer dtype; an int8 alignment from ``read_alignment`` fits).
      weights: optional ``(M,)`` finite, nonnegative sequence weights with a positive sum; ``None``: all ones.
      q: number of states; ``None``: ``max(seqs) + 1``.

    Returns:
      ``(seqs int32 (M, L), weights float32 (M,), q)``.

    Raises:
      ValueError: naming the problem (not 2-D, empty, not integers, states out of ``[0, q)``, weights of the wrong
      shape, negative, non-finite or all zero).
    """
    arr = np.asarray(seqs)
    if arr.ndim != 2:
        raise ValueError(f"seqs must be a 2-D array (M sequences, L columns), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"seqs is empty: shape {arr.shape} (need at least one sequence and one column)")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"seqs must hold integer states, got dtype {arr.dtype}")
    lo, hi = int(arr.min()), int(arr.max())
    if q is None:
        q = hi + 1
    if int(q) != q or q < 2:
        raise ValueError(f"q must be an integer >= 2, got {q!r}")
    q = int(q)
    if lo < 0 or hi >= q:
        raise ValueError(f"seqs states must lie in [0, q={q}); found values in [{lo}, {hi}]")
    if weights is None:
        w = np.ones(arr.shape[0], np.float32)
    else:
        w = np.asarray(weights, np.float64)
        if w.shape != (arr.shape[0],):
            raise ValueError(f"weights must have shape (M,) = ({arr.shape[0]},), got {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError("weights contain NaN or infinite values")
        if np.any(w < 0):
            raise ValueError(f"weights must be nonnegative; the smallest is {w.min()}")
        if not w.sum() > 0:
            raise ValueError("weights sum to zero: no sequence would count")
        w = w.astype(np.float32)
    return arr.astype(np.int32), w, q
