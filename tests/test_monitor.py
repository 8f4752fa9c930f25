"""Stopping rules on hand-made energy-variance curves; the bootstrap band; smoothing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.ising import IsingParams, energy
from ising_diffusion.monitor import (  # noqa: I001
    NoCrossingWarning,
    bootstrap_variance_band,
    energy_variance,
    paper_stop_index,
    robust_stop_index,
    smooth_curve,
)


def test_paper_rule_falling_curve_picks_closest_point_at_first_crossing():
    # high early, falls through the test variance (10) between points 2 and 3, then rises again to 14
    g = [30.0, 20.0, 10.5, 8.0, 9.0, 12.0, 14.0]
    assert paper_stop_index(g, 10.0) == (2, True)
    g = [30.0, 20.0, 12.0, 9.5, 9.0, 12.0, 14.0]
    assert paper_stop_index(g, 10.0) == (3, True)


def test_paper_rule_rising_curve_and_exact_hit():
    g = [5.0, 6.0, 8.0, 11.0, 13.0]  # starts below the test variance and rises through it
    assert paper_stop_index(g, 10.0) == (3, True)
    assert paper_stop_index([12.0, 10.0, 8.0], 10.0) == (1, True)
    assert paper_stop_index([10.0, 12.0], 10.0) == (0, True)


def test_paper_rule_no_crossing_falls_back_to_closest_with_warning():
    g = [30.0, 20.0, 14.0, 12.0, 13.0, 15.0]  # dips toward 10 but never reaches it
    with pytest.warns(NoCrossingWarning):
        assert paper_stop_index(g, 10.0) == (3, False)
    with pytest.warns(NoCrossingWarning):
        assert paper_stop_index([1.0, 2.0, 3.0], 10.0) == (2, False)


def test_robust_rule_ignores_a_single_noisy_dip():
    # one noisy point dips below the test variance at index 1; the curve itself crosses between 4 and 5
    g = [30.0, 9.0, 25.0, 18.0, 10.2, 7.0, 8.0, 11.0]
    assert paper_stop_index(g, 10.0) == (1, True)  # the raw rule is fooled
    # running median of 3: [19.5, 25, 18, 18, 10.2, 8, 8, 9.5] -> crosses 10 between 4 and 5, 4 is closer
    assert robust_stop_index(g, 10.0, window=3) == (4, True)
    assert robust_stop_index(g, 10.0, window=1) == paper_stop_index(g, 10.0)


def test_robust_rule_no_crossing_warns():
    with pytest.warns(NoCrossingWarning):
        i, crossed = robust_stop_index([30.0, 25.0, 22.0, 21.0, 23.0, 24.0], 10.0, window=3)
    assert (i, crossed) == (2, False)  # smoothed: [27.5, 25, 22, 22, 23, 23.5]; the first closest point


def test_smooth_curve_running_median():
    np.testing.assert_allclose(smooth_curve([1.0, 100.0, 3.0, 4.0, 5.0], 3), [50.5, 3.0, 4.0, 4.0, 4.5])
    np.testing.assert_allclose(smooth_curve([1.0, 2.0], 1), [1.0, 2.0])


def test_energy_variance_and_bootstrap_band_cover_the_truth():
    n = 4
    params = IsingParams(jnp.array([0.5, -0.2, 0.1, 0.0]), jnp.zeros((n, n)))
    spins = jax.random.rademacher(jax.random.key(0), (2000, n)).astype(jnp.float32)
    # independent spins: Var(h.s) = sum h_i^2
    np.testing.assert_allclose(energy_variance(params, spins), 0.30, rtol=0.1)
    # energies with a mean far from 0 (all-up patterns, couplings): the variance about the mean, not <E^2>
    strong = IsingParams(jnp.full((n,), 1.0), 0.3 * (jnp.ones((n, n)) - jnp.eye(n)))
    ups = jnp.where(jax.random.uniform(jax.random.key(2), (2000, n)) < 0.8, 1.0, -1.0)
    e_up = np.asarray(energy(strong, ups), np.float64)
    assert abs(e_up.mean()) > e_up.std()  # <E^2> would be more than twice the variance
    np.testing.assert_allclose(energy_variance(strong, ups), e_up.var(), rtol=1e-4)
    e = energy(params, spins)
    lo, hi = bootstrap_variance_band(jax.random.key(1), e, n_boot=300, level=0.9)
    v = float(jnp.var(e))
    assert lo < v < hi
    assert 0.8 * v < lo and hi < 1.2 * v  # 2000 samples pin the variance to a few percent
    lo50, hi50 = bootstrap_variance_band(jax.random.key(1), e[:50], n_boot=300, level=0.9)
    assert hi50 - lo50 > 3 * (hi - lo)  # 50 samples do not


def test_held_out_score_exact_and_pseudolikelihood_are_proper():
    """The score rule's held-out score: exact mode equals the mean log-probability by enumeration; both modes rank
    the true parameters above a damaged copy on many samples (proper scoring rules); "score" is a stopping rule."""
    from ising_diffusion.augment import held_out_score
    from ising_diffusion.ising import IsingParams, exact_probabilities, exact_sample, sk_params

    truth = sk_params(jax.random.key(0), 6, 1.0)
    x = exact_sample(jax.random.key(1), truth, 4000)
    idx = np.asarray(((np.asarray(x) > 0) * (1 << np.arange(6))).sum(1))
    want = np.mean(np.log(np.asarray(exact_probabilities(truth))[idx]))
    np.testing.assert_allclose(held_out_score(truth, x, exact=True), want, rtol=1e-5)
    damaged = IsingParams(truth.h, 0.5 * truth.J)
    for exact in (True, False):
        assert held_out_score(truth, x, exact=exact) > held_out_score(damaged, x, exact=exact)
    from ising_diffusion.monitor import STOPPING_RULES

    assert "score" in STOPPING_RULES


# moment_rms (imported here, not at the top, so this block merges independently of changes to the imports above)


def test_moment_rms_zero_for_identical_sets_and_hand_computed_cases():
    from ising_diffusion.monitor import moment_rms

    x = jnp.asarray([[1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, -1.0]])
    r = moment_rms(x, x)
    assert float(r.first) == 0.0 and float(r.second) == 0.0
    # all +1 against all -1: means differ by 2 everywhere, every pair product is +1 in both
    r = moment_rms(jnp.ones((4, 3)), -jnp.ones((5, 3)))
    np.testing.assert_allclose([r.first, r.second], [2.0, 0.0], atol=1e-6)
    # aligned pairs (s1 s2 = +1) against anti-aligned (-1), both with zero means
    r = moment_rms(jnp.asarray([[1.0, 1.0], [-1.0, -1.0]]), jnp.asarray([[1.0, -1.0], [-1.0, 1.0]]))
    np.testing.assert_allclose([r.first, r.second], [0.0, 2.0], atol=1e-6)
    # N = 3: generated means (1, 0, 0), pairs (s1s2, s1s3, s2s3) = (0, 0, 1); reference x above: means (1/3, -1/3,
    # -1/3), pairs (-1/3, -1/3, -1/3); errors (2/3, 1/3, 1/3) and (1/3, 1/3, 4/3)
    g = jnp.asarray([[1.0, 1.0, 1.0], [1.0, -1.0, -1.0]])
    r = jax.jit(moment_rms)(g, x)
    np.testing.assert_allclose(r.first, np.sqrt((4 + 1 + 1) / 27), rtol=1e-6)
    np.testing.assert_allclose(r.second, np.sqrt((1 + 1 + 16) / 27), rtol=1e-6)
    with pytest.raises(ValueError, match="same N"):
        moment_rms(jnp.ones((4, 3)), jnp.ones((4, 2)))


def test_moment_rms_ranks_a_bad_generator_below_a_good_one():
    from ising_diffusion.ising import exact_sample, sk_params
    from ising_diffusion.monitor import moment_rms

    truth = sk_params(jax.random.key(0), 8, 1.5)
    held_out = exact_sample(jax.random.key(1), truth, 2000)
    good = exact_sample(jax.random.key(2), truth, 4000)  # a perfect generator
    # independent sites with the right means (columns shuffled separately): pair correlations lost
    keys = jax.random.split(jax.random.key(3), 8)
    independent = jnp.stack([jax.random.permutation(k, good[:, i]) for i, k in enumerate(keys)], axis=1)
    uniform = jnp.where(jax.random.bernoulli(jax.random.key(4), 0.5, good.shape), 1.0, -1.0)
    r_good, r_ind, r_uni = (moment_rms(s, held_out) for s in (good, independent, uniform))
    assert float(r_ind.second) > 3 * float(r_good.second), (r_ind, r_good)
    assert float(r_uni.first) > 3 * float(r_good.first) and float(r_uni.second) > 3 * float(r_good.second)
    # the perfect generator sits at the sampling floor, about 1/sqrt(2000) + 1/sqrt(4000) per moment at most
    assert float(r_good.first) < 0.04 and float(r_good.second) < 0.04
