"""Alignment gap filters and plmc sequence weights."""

import numpy as np
import pytest

from ising_diffusion.msa import effective_count, filter_alignment, gap_fractions, neighbour_counts, sequence_weights


def _brute_force_weights(seqs, theta):
    """plmc weights.c, the single-core loop: matches over all L columns (gap == gap counts), >= theta * L."""
    m, length = seqs.shape
    counts = np.ones(m)
    for s in range(m):
        for t in range(m):
            if s != t and np.sum(seqs[s] == seqs[t]) >= theta * length:
                counts[s] += 1
    return 1.0 / counts


def _family(rng, m, length, q=21, mutation=0.15):
    """Clustered sequences (a few ancestors, point mutations, gaps) so that thresholds matter."""
    ancestors = rng.integers(0, q, size=(4, length))
    seqs = ancestors[rng.integers(0, 4, size=m)]
    mutate = rng.random((m, length)) < mutation
    seqs = np.where(mutate, rng.integers(0, q, size=(m, length)), seqs)
    seqs[rng.random((m, length)) < 0.1] = 0
    return seqs.astype(np.int8)


@pytest.mark.parametrize("theta", [0.0, 0.5, 0.8, 0.9, 1.0])
@pytest.mark.parametrize("block_size, length", [(None, 20), (1, 20), (7, 20), (None, 150)])
def test_weights_equal_brute_force(theta, block_size, length):
    # length 150 runs the columns in 3 chunks of 50
    seqs = _family(np.random.default_rng(1), 61, length)
    want = _brute_force_weights(seqs, theta)
    got = np.asarray(sequence_weights(seqs, theta, block_size=block_size))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert effective_count(got) == pytest.approx(want.sum(), rel=1e-6)


def test_threshold_is_plmc_double():
    # L = 10, theta = 0.8: 8 matches are neighbours (>= 8.0), 7 are not.
    a = np.zeros((1, 10), np.int8)
    b = a.copy()
    b[0, :2] = 1
    c = a.copy()
    c[0, :3] = 1
    counts = np.asarray(neighbour_counts(np.concatenate([a, b, c]), 1 - 0.2))
    np.testing.assert_array_equal(counts, [2, 3, 2])


def test_weights_bad_input():
    for bad in (1.5, None, float("nan"), "0.8"):  # None and a string were TypeErrors from float()
        with pytest.raises(ValueError, match="theta"):
            sequence_weights(np.zeros((3, 4), np.int8), bad)
    with pytest.raises(ValueError, match="2-D"):
        sequence_weights(np.zeros(4, np.int8))
    with pytest.raises(ValueError, match="empty"):
        sequence_weights(np.zeros((0, 4), np.int8))
    with pytest.raises(ValueError, match="integer"):
        sequence_weights(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="non-empty"):
        effective_count(np.zeros(0))


def test_filters():
    # columns:          0  1  2  3
    seqs = np.array([[1, 0, 2, 0],   # 50% gaps
                     [1, 2, 0, 0],   # 50%
                     [0, 0, 0, 3],   # 75%
                     [1, 2, 3, 0]],  # 25%
                    np.int8)
    per_seq, per_col = gap_fractions(seqs)
    np.testing.assert_allclose(per_seq, [0.5, 0.5, 0.75, 0.25])
    np.testing.assert_allclose(per_col, [0.25, 0.5, 0.5, 0.75])
    out = filter_alignment(seqs, max_seq_gap=0.5, max_col_gap=0.4)
    np.testing.assert_array_equal(out.rows, [0, 1, 3])
    # among rows 0, 1, 3 the column gap fractions are 0, 1/3, 1/3, 1
    np.testing.assert_array_equal(out.columns, [0, 1, 2])
    np.testing.assert_array_equal(out.seqs, seqs[np.ix_([0, 1, 3], [0, 1, 2])])
    kept_all = filter_alignment(seqs)
    np.testing.assert_array_equal(kept_all.seqs, seqs)


def test_filters_leave_nothing():
    seqs = np.array([[0, 0, 1], [0, 1, 0]], np.int8)
    with pytest.raises(ValueError, match="no sequence left"):
        filter_alignment(seqs, max_seq_gap=0.5)
    with pytest.raises(ValueError, match="no column left"):
        filter_alignment(np.array([[0, 1], [1, 0]], np.int8), max_col_gap=0.4)
    with pytest.raises(ValueError, match="max_col_gap"):
        filter_alignment(seqs, max_col_gap=2.0)


@pytest.mark.slow
def test_weights_large_alignment_in_blocks():
    # A scaled version of M = 100,000: 30,000 x 53 with the automatic block size (no M x M matrix anywhere).
    rng = np.random.default_rng(2)
    seqs = _family(rng, 30_000, 53, mutation=0.3)
    counts = np.asarray(neighbour_counts(seqs, 0.8))
    sub = rng.choice(30_000, size=20, replace=False)
    want = [(np.sum(seqs == seqs[s], axis=1) >= 0.8 * 53).sum() for s in sub]
    np.testing.assert_array_equal(counts[sub], want)
