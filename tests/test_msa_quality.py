"""Generator quality without a truth: frequencies against a NumPy loop, nearest distances against brute force, and
on a planted Potts truth: exact samples score at the training set's floor, an independent-site model clearly worse on
pair correlations, a copy of the training set is all identical at distance 0."""

import jax
import numpy as np
import pytest

from ising_diffusion.msa_quality import (QUANTILE_LEVELS, copy_threshold, frequencies, generator_quality,
                                         nearest_distances)
from ising_diffusion.potts import potts_exact_sample, potts_sparse_params

L, Q = 8, 4


@pytest.fixture(scope="module")
def planted():
    params, _ = potts_sparse_params(jax.random.key(1), L, Q, degree=2.0, g=1.0)
    s = np.asarray(potts_exact_sample(jax.random.key(2), params, 27000)).astype(np.int8)
    return s[:2000], s[2000:7000], s[7000:]  # train, held-out, a large exact sample


def test_frequencies_equal_a_weighted_loop():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 3, (37, 5))
    w = rng.uniform(0.1, 1.0, 37)
    f, c = frequencies(s, w, q=3)
    oh = np.eye(3)[s]  # (M, L, q)
    f_ref = np.einsum("m,mia->ia", w, oh) / w.sum()
    f2 = np.einsum("m,mia,mjb->ijab", w, oh, oh) / w.sum()
    np.testing.assert_allclose(f, f_ref, atol=1e-6)
    np.testing.assert_allclose(c, f2 - np.einsum("ia,jb->ijab", f_ref, f_ref), atol=1e-6)


def test_nearest_distances_equal_brute_force_in_any_block_size():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 3, (23, 7)), rng.integers(0, 3, (41, 7))
    brute = (a[:, None, :] != b[None, :, :]).sum(-1).min(1)
    for block in (1, 5, 23, None):
        np.testing.assert_array_equal(nearest_distances(a, b, block_size=block), brute)


def test_exact_samples_score_at_the_floor_and_an_independent_site_model_does_not(planted):
    train, held, exact = planted
    q_small = generator_quality(exact[:2000], train, held, q=Q)
    q_large = generator_quality(exact, train, held, q=Q)
    rng = np.random.default_rng(0)
    independent = np.stack([rng.choice(train[:, i], 20000) for i in range(L)], axis=1)  # training marginals
    q_ind = generator_quality(independent, train, held, q=Q)
    # an exact sample as large as the training set is as good as it (expected ratio 1); a larger one is better,
    # expected sqrt((1/G + 1/H) / (1/M + 1/H)) = 0.57 here
    assert 0.7 < q_small.pair_ratio < 1.3
    expected = np.sqrt((1 / 20000 + 1 / 5000) / (1 / 2000 + 1 / 5000))
    assert abs(q_large.pair_ratio - expected) < 0.15 and q_large.single_ratio < 1.0
    # the independent-site model matches single-site frequencies (resampled from the training set's, so expected
    # ratio sqrt(1 + (1/G) / (1/M + 1/H)) = 1.03) but misses every connected correlation
    assert q_ind.single_ratio < 1.2 and q_ind.pair_ratio > 4.0
    # nobody copies: the exact samples are as often in the training set as held-out sequences are
    assert abs(q_large.identical_fraction - q_large.heldout_identical_fraction) < 0.05


def test_copying_the_training_set_is_all_identical(planted):
    train, held, _ = planted
    r = generator_quality(train, train, held, q=Q)
    assert r.identical_fraction == 1.0 and r.pair_ratio == 1.0 and r.single_ratio == 1.0
    assert r.distance_histogram[0] == len(train) and r.distance_histogram.sum() == len(train)
    np.testing.assert_array_equal(r.distance_quantiles, np.zeros(len(QUANTILE_LEVELS)))
    assert r.heldout_distance_quantiles[-1] > 0  # held-out sequences are not all in the training set


def test_near_copies_count_as_copies_and_new_sequences_do_not():
    """Diverse sequences (L = 40, q = 21, uniform): held-out ones are about 36 sites from their nearest training
    sequence. Training sequences with one site changed are no identical copies but are all near-copies; fresh draws
    from the same distribution are near-copies as often as held-out ones are nearer than the 5% quantile (about 5%)."""
    rng = np.random.default_rng(0)
    train, held, fresh = (rng.integers(0, 21, (n, 40)).astype(np.int8) for n in (200, 100, 400))
    mutated = train.copy()
    rows = np.arange(len(train))
    sites = rng.integers(0, 40, len(train))
    mutated[rows, sites] = (mutated[rows, sites] + rng.integers(1, 21, len(train))) % 21
    near = generator_quality(mutated, train, held, q=21)
    assert near.identical_fraction == 0.0 and near.copy_fraction == 1.0
    new = generator_quality(fresh, train, held, q=21)
    assert new.copy_fraction < 0.15 and new.distance_quantiles[3] > 20
    assert copy_threshold(nearest_distances(held, train)) == int(np.ceil(new.heldout_distance_quantiles[1]))
    # identical ones always count, even where held-out sequences sit in the training set (threshold at least 1)
    assert copy_threshold(np.zeros(10, int)) == 1
    assert generator_quality(train, train, train[:50], q=21).copy_fraction == 1.0


def test_bad_inputs_are_value_errors():
    s = np.zeros((4, 5), np.int8)
    with pytest.raises(ValueError, match="same length"):
        generator_quality(s, np.zeros((4, 6), np.int8), s)
    with pytest.raises(ValueError, match="generated"):
        generator_quality(np.zeros((0, 5), np.int8), s, s)
    with pytest.raises(ValueError, match=r"\[0, q=2\)"):
        generator_quality(s + 3, s, s, q=2)
    with pytest.raises(ValueError, match="weights"):
        generator_quality(s, s, s, q=2, train_weights=np.ones(3))
