"""How good a set of generated sequences is, without a true model: statistics against held-out sequences, and
memorisation of the training sequences.

* **Frequencies.** The (weighted) single-site frequencies ``f_i(a)`` and connected pair correlations
  ``C_ij(a, b) = f_ij(a, b) - f_i(a) f_j(b)`` (``i < j``, all ``q^2`` state pairs, gap included) of the generated set
  are compared with those of held-out sequences by their RMS difference, and divided by the training set's own RMS
  difference from the same held-out set: a ratio of 1.0 means "as close to unseen data as the data it learned from";
  below 1 is possible (a model that smooths the training set's sampling noise), above 1 is worse than the training
  set. These are the statistics a pairwise Potts model (DCA) is fitted to.
* **Memorisation.** For each generated sequence, the Hamming distance to its nearest training sequence: the fraction
  at distance 0 (identical copies), a histogram over ``0 .. L`` and quantiles; the same for each held-out sequence as
  the reference (a generator that does not copy should look like unseen data, not closer). A generated sequence
  closer to a training sequence than all but :data:`COPY_LEVEL` (5%) of the held-out natural sequences are is a
  *near-copy* (a copy with a few changed sites; identical ones always count): ``copy_fraction``. A generator that
  draws new members of the family has about 5% of them; one that copies its data, exactly or with noise, nearly all.

Frequencies are accumulated and distances computed in row blocks on the device: no ``M x M`` (or ``M x Lq`` one-hot
of a whole large set) is ever built on the host.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.potts import check_sequences

__all__ = ["GeneratorQuality", "QUANTILE_LEVELS", "COPY_LEVEL", "copy_threshold", "default_block", "frequencies",
           "nearest_distances", "nearest_rows", "generator_quality"]

#: Levels of the nearest-distance quantiles reported by :func:`generator_quality`.
QUANTILE_LEVELS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
#: A generated sequence nearer a training sequence than this quantile of the held-out sequences' nearest distances is
#: a near-copy (``GeneratorQuality.copy_fraction``).
COPY_LEVEL = 0.05
_BLOCK = 1024


class GeneratorQuality(NamedTuple):
    """Quality of a generated set (see the module docstring).

    Attributes:
      single_rms, pair_rms: RMS difference of the generated set's single-site frequencies / connected pair
        correlations from the held-out set's.
      train_single_rms, train_pair_rms: the same for the training set (the floor).
      single_ratio, pair_ratio: ``single_rms / train_single_rms`` and ``pair_rms / train_pair_rms`` (1.0 = as good
        as the training data).
      identical_fraction: fraction of generated sequences identical to some training sequence.
      distance_histogram: ``(L + 1,)`` int counts of generated sequences by Hamming distance ``0 .. L`` to their
        nearest training sequence.
      distance_quantiles: ``(len(QUANTILE_LEVELS),)`` quantiles of that distance.
      heldout_identical_fraction, heldout_distance_quantiles: the same for the held-out sequences (the reference).
      copy_fraction: fraction of generated sequences that are copies or near-copies: at a distance below
        :func:`copy_threshold` of the held-out distances (at least 1, so identical ones always count).
    """

    single_rms: float
    pair_rms: float
    train_single_rms: float
    train_pair_rms: float
    single_ratio: float
    pair_ratio: float
    identical_fraction: float
    distance_histogram: np.ndarray
    distance_quantiles: np.ndarray
    heldout_identical_fraction: float
    heldout_distance_quantiles: np.ndarray
    copy_fraction: float


def copy_threshold(heldout_distances) -> int:
    """The distance below which a generated sequence is a (near-)copy: ``ceil`` of the :data:`COPY_LEVEL` quantile of
    the held-out sequences' nearest-training distances, at least 1 (distance 0, identical, always counts)."""
    return max(1, int(np.ceil(np.quantile(np.asarray(heldout_distances), COPY_LEVEL))))


@functools.partial(jax.jit, static_argnames=("q", "block"))
def _moments(seqs, weights, q: int, block: int):
    m, length = seqs.shape
    n_blocks = -(-m // block)
    pad = n_blocks * block - m
    seqs = jnp.pad(seqs, ((0, pad), (0, 0))).reshape(n_blocks, block, length)
    weights = jnp.pad(weights, (0, pad)).reshape(n_blocks, block)  # padded rows weigh 0

    def add(carry, xs):
        s, w = xs
        x = jax.nn.one_hot(s, q, dtype=jnp.float32).reshape(block, length * q)
        f1, f2 = carry
        return (f1 + w @ x, f2 + (x * w[:, None]).T @ x), None

    zeros = (jnp.zeros(length * q), jnp.zeros((length * q, length * q)))
    (f1, f2), _ = jax.lax.scan(add, zeros, (seqs, weights))
    total = jnp.sum(weights)
    return f1 / total, f2 / total


def frequencies(seqs, weights=None, q: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted single-site frequencies and connected pair correlations.

    Args:
      seqs: ``(M, L)`` integer states in ``[0, q)``.
      weights: ``(M,)`` nonnegative sequence weights (``None``: all ones).
      q: number of states (``None``: ``max(seqs) + 1``).

    Returns:
      ``(f (L, q), C (L, L, q, q))`` float64 with ``C[i, j, a, b] = f_ij(a, b) - f_i(a) f_j(b)`` (diagonal blocks
      included; :func:`generator_quality` uses ``i < j`` only).
    """
    s, w, q = check_sequences(seqs, weights, q)
    length = s.shape[1]
    f1, f2 = _moments(jnp.asarray(s), jnp.asarray(w), q, min(_BLOCK, s.shape[0]))
    f1 = np.asarray(f1, np.float64)
    f2 = np.asarray(f2, np.float64)
    conn = (f2 - np.outer(f1, f1)).reshape(length, q, length, q).transpose(0, 2, 1, 3)
    return f1.reshape(length, q), conn


def default_block(n_reference: int) -> int:
    """Query rows :func:`nearest_rows` compares with all ``n_reference`` rows at a time: about ``2**22 / R``, at most
    1024 (a ``(block, R)`` int32 tile of at most 16 MiB)."""
    return max(1, min(_BLOCK, 2**22 // n_reference))


@functools.partial(jax.jit, static_argnames=("block",))
def nearest_rows(queries, reference, block: int):
    """Nearest row of ``reference`` to each row of ``queries``, traceable (nothing checked: both ``(., L)`` integer
    states; ``block`` query rows at a time, :func:`default_block`).

    Returns:
      ``(distances (M,), index (M,))``: the Hamming distance to the nearest reference row and that row's index (the
      first of equally near ones).
    """
    m, length = queries.shape
    n_blocks = -(-m // block)
    padded = jnp.pad(queries, ((0, n_blocks * block - m), (0, 0))).reshape(n_blocks, block, length)

    def one(qb):  # (block, L) against every reference row, column by column: a (block, M_ref) tile at most
        matches = jax.lax.fori_loop(0, length, lambda i, acc: acc + (qb[:, i][:, None] == reference[:, i][None, :]),
                                    jnp.zeros((block, reference.shape[0]), jnp.int32))
        return length - jnp.max(matches, axis=1), jnp.argmax(matches, axis=1)

    distances, index = jax.lax.map(one, padded)
    return distances.reshape(-1)[:m], index.reshape(-1)[:m]


def nearest_distances(queries, reference, *, block_size: int | None = None) -> np.ndarray:
    """Hamming distance from each row of ``queries`` to its nearest row of ``reference``.

    Args:
      queries: ``(M, L)`` integer states.
      reference: ``(R, L)`` integer states.
      block_size: query rows compared with all ``R`` reference rows at a time (default :func:`default_block`).

    Returns:
      ``(M,)`` int array of distances in ``[0, L]``.
    """
    qs, _, _ = check_sequences(queries)
    rs, _, _ = check_sequences(reference)
    if qs.shape[1] != rs.shape[1]:
        raise ValueError(f"queries and reference must have the same length L, got {qs.shape[1]} and {rs.shape[1]}")
    if block_size is None:
        block_size = default_block(rs.shape[0])
    if int(block_size) < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    block = min(int(block_size), qs.shape[0])
    return np.asarray(nearest_rows(jnp.asarray(qs), jnp.asarray(rs), block)[0])


def _rms_upper(a: np.ndarray, b: np.ndarray) -> float:
    iu = np.triu_indices(a.shape[0], k=1)
    return float(np.sqrt(np.mean((a[iu] - b[iu]) ** 2)))


def generator_quality(generated, train, heldout, *, q: int | None = None, generated_weights=None,
                      train_weights=None, heldout_weights=None) -> GeneratorQuality:
    """Score generated sequences against held-out ones, relative to the training set, and measure copying.

    Args:
      generated: ``(G, L)`` integer states (a generator's samples).
      train: ``(M, L)`` the sequences the generator was trained on.
      heldout: ``(H, L)`` sequences neither saw.
      q: number of states (``None``: ``1 + max`` over the three sets).
      generated_weights, train_weights, heldout_weights: optional sequence weights of each set (e.g.
        :func:`ising_diffusion.msa.sequence_weights`); ``None``: uniform.

    Returns:
      :class:`GeneratorQuality`.

    Raises:
      ValueError: a set that is not ``(n, L)`` integer states, lengths that differ, states outside ``[0, q)``, bad
      weights.
    """
    sets = {"generated": generated, "train": train, "heldout": heldout}
    arrays = {k: np.asarray(v) for k, v in sets.items()}
    for k, v in arrays.items():
        if v.ndim != 2 or v.shape[0] == 0:
            raise ValueError(f"{k} must be a non-empty (n, L) array of states, got shape {v.shape}")
    lengths = {k: v.shape[1] for k, v in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"generated, train and heldout must have the same length L, got {lengths}")
    if q is None:
        q = 1 + max(int(np.max(v)) for v in arrays.values())
    f_gen, c_gen = frequencies(arrays["generated"], generated_weights, q)
    f_tr, c_tr = frequencies(arrays["train"], train_weights, q)
    f_ho, c_ho = frequencies(arrays["heldout"], heldout_weights, q)
    single = float(np.sqrt(np.mean((f_gen - f_ho) ** 2)))
    train_single = float(np.sqrt(np.mean((f_tr - f_ho) ** 2)))
    pair, train_pair = _rms_upper(c_gen, c_ho), _rms_upper(c_tr, c_ho)
    length = lengths["train"]
    d_gen = nearest_distances(arrays["generated"], arrays["train"])
    d_ho = nearest_distances(arrays["heldout"], arrays["train"])
    ratio = lambda a, b: a / b if b > 0 else (1.0 if a == 0 else float("inf"))  # noqa: E731
    return GeneratorQuality(
        single_rms=single, pair_rms=pair, train_single_rms=train_single, train_pair_rms=train_pair,
        single_ratio=float(ratio(single, train_single)), pair_ratio=float(ratio(pair, train_pair)),
        identical_fraction=float(np.mean(d_gen == 0)),
        distance_histogram=np.bincount(d_gen, minlength=length + 1),
        distance_quantiles=np.quantile(d_gen, QUANTILE_LEVELS),
        heldout_identical_fraction=float(np.mean(d_ho == 0)),
        heldout_distance_quantiles=np.quantile(d_ho, QUANTILE_LEVELS),
        copy_fraction=float(np.mean(d_gen < copy_threshold(d_ho))))
