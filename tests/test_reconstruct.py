"""Missing-value reconstruction: exact enumeration against brute force, normalisation, planted model, edge cases."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp

from ising_diffusion import (
    IsingParams,
    complete_missing,
    conditional_log_likelihood,
    exact_probabilities,
    exact_sample,
    majority_completion,
    reconstruct_missing,
    reconstruction_scores,
    sk_params,
)
from ising_diffusion.ising import all_states


def _np_energy(params, s):
    h = np.asarray(params.h, np.float64)
    J = np.asarray(params.J, np.float64)
    return -(s @ h) - 0.5 * np.einsum("mi,ij,mj->m", s, J, s)


def _brute_force(params, row, hid):
    """Most probable completion and log p(true hidden | visible) by enumerating full states in float64."""
    k = int(hid.sum())
    comps = np.array(list(itertools.product([-1.0, 1.0], repeat=k))).reshape(-1, k)
    full = np.repeat(row[None, :].astype(np.float64), len(comps), axis=0)
    full[:, hid] = comps
    neg_e = -_np_energy(params, full)
    best = full[np.argmax(neg_e)]
    return best, float(-_np_energy(params, row[None].astype(np.float64))[0] - logsumexp(neg_e))


def _random_masks(rng, m, n, ks):
    hidden = np.zeros((m, n), bool)
    for r in range(m):
        hidden[r, rng.choice(n, size=ks[r], replace=False)] = True
    return hidden


def test_exact_matches_brute_force_on_tiny_model():
    n, m = 6, 40
    params = sk_params(jax.random.key(1), n, g=1.5)
    spins = np.asarray(exact_sample(jax.random.key(2), params, m))
    rng = np.random.default_rng(0)
    hidden = _random_masks(rng, m, n, rng.integers(1, n + 1, size=m))  # 1..6 hidden, different cells per row
    res = complete_missing(params, spins, hidden)
    assert res.exact.all()
    for r in range(m):
        best, ll = _brute_force(params, spins[r], hidden[r])
        np.testing.assert_array_equal(np.asarray(res.spins[r]), best)
        assert res.log_likelihood[r] == pytest.approx(ll, abs=1e-4)
    np.testing.assert_array_equal(res.n_hidden, hidden.sum(1))


@pytest.mark.parametrize("k", [13, 17])  # 13: low + high bits in one chunk; 17: several high-bit chunks
def test_exact_matches_brute_force_for_large_k(k):
    n, m = 18, 3
    params = sk_params(jax.random.key(3), n, g=1.0)
    spins = np.asarray(exact_sample(jax.random.key(4), params, m))
    rng = np.random.default_rng(1)
    hidden = _random_masks(rng, m, n, [k] * m)
    res = complete_missing(params, spins, hidden)
    for r in range(m):
        best, ll = _brute_force(params, spins[r], hidden[r])
        np.testing.assert_array_equal(np.asarray(res.spins[r]), best)
        assert res.log_likelihood[r] == pytest.approx(ll, abs=2e-3)


def test_conditional_probabilities_sum_to_one():
    n = 8
    params = sk_params(jax.random.key(5), n, g=2.0)
    base = np.asarray(exact_sample(jax.random.key(6), params, 1))[0]
    for cells in [(0,), (1, 4, 6), (0, 2, 3, 5, 7)]:
        k = len(cells)
        comps = np.array(list(itertools.product([-1.0, 1.0], repeat=k)))
        rows = np.repeat(base[None], len(comps), axis=0)
        rows[:, list(cells)] = comps
        hidden = np.zeros_like(rows, bool)
        hidden[:, list(cells)] = True
        total = conditional_log_likelihood(params, rows, hidden, per_entry=False)
        assert np.all(total <= 1e-6)
        assert logsumexp(total) == pytest.approx(0.0, abs=1e-5)
        per_entry = conditional_log_likelihood(params, rows, hidden)
        np.testing.assert_allclose(per_entry, total / k, rtol=1e-6)


def test_true_parameters_beat_trivial_baseline_on_planted_model():
    n, m, k = 12, 2000, 4
    key_p, key_train, key_test = jax.random.split(jax.random.key(7), 3)
    params = sk_params(key_p, n, g=2.0)
    train = exact_sample(key_train, params, 4000)
    test = np.asarray(exact_sample(key_test, params, m))
    hidden = _random_masks(np.random.default_rng(2), m, n, [k] * m)
    model = reconstruction_scores(test, reconstruct_missing(params, test, hidden), hidden)
    trivial = reconstruction_scores(test, majority_completion(train, test, hidden), hidden)
    assert model.accuracy > trivial.accuracy + 0.05, (model, trivial)
    # The true pairwise model also assigns the true hidden values more probability than the independent model.
    mean = np.clip(np.asarray(train).mean(0), -0.999, 0.999)
    indep = IsingParams(jnp.arctanh(jnp.asarray(mean, jnp.float32)), jnp.zeros((n, n), jnp.float32))
    ll_true = conditional_log_likelihood(params, test, hidden).mean()
    ll_indep = conditional_log_likelihood(indep, test, hidden).mean()
    assert ll_true > ll_indep + 0.05


def test_zero_and_all_hidden_rows():
    n = 7
    params = sk_params(jax.random.key(8), n, g=1.5)
    spins = np.asarray(exact_sample(jax.random.key(9), params, 3))
    hidden = np.zeros_like(spins, bool)
    hidden[1] = True  # all hidden
    hidden[2, [0, 3]] = True
    res = complete_missing(params, spins, hidden)
    np.testing.assert_array_equal(np.asarray(res.spins[0]), spins[0])  # nothing hidden: unchanged
    assert res.log_likelihood[0] == 0.0
    probs = np.asarray(exact_probabilities(params))
    mode = np.asarray(all_states(n))[np.argmax(probs)]
    np.testing.assert_array_equal(np.asarray(res.spins[1]), mode)  # all hidden: the model's most probable state
    idx = int(((spins[1] + 1) / 2) @ (2 ** np.arange(n)))
    assert res.log_likelihood[1] == pytest.approx(np.log(probs[idx]), abs=1e-4)
    with pytest.raises(ValueError, match="hides no cells"):
        conditional_log_likelihood(params, spins, hidden)
    totals = conditional_log_likelihood(params, spins, hidden, per_entry=False)
    assert totals[0] == 0.0 and totals[1] < 0


def test_hidden_values_are_ignored():
    n = 9
    params = sk_params(jax.random.key(10), n, g=1.0)
    spins = np.asarray(exact_sample(jax.random.key(11), params, 20))
    hidden = _random_masks(np.random.default_rng(3), 20, n, [3] * 20)
    junk = np.where(hidden, np.nan, spins)
    np.testing.assert_array_equal(np.asarray(reconstruct_missing(params, junk, hidden)),
                                  np.asarray(reconstruct_missing(params, spins, hidden)))
    assert np.isnan(complete_missing(params, junk, hidden).log_likelihood).all()  # nothing to score
    visible_same = ~hidden
    np.testing.assert_array_equal(np.asarray(reconstruct_missing(params, junk, hidden))[visible_same],
                                  spins[visible_same])


def test_approximate_method_is_a_single_flip_minimum_and_usually_exact():
    n, m = 12, 200
    params = sk_params(jax.random.key(12), n, g=0.5)
    spins = np.asarray(exact_sample(jax.random.key(13), params, m))
    hidden = _random_masks(np.random.default_rng(4), m, n, [6] * m)
    approx = complete_missing(params, spins, hidden, max_exact=0)
    assert not approx.exact.any() and np.isnan(approx.log_likelihood).all()
    exact = reconstruct_missing(params, spins, hidden)
    same_rows = np.all(np.asarray(approx.spins) == np.asarray(exact), axis=1)
    assert same_rows.mean() > 0.7  # 84% here: fields and couplings are comparable, so local minima exist
    e_approx = _np_energy(params, np.asarray(approx.spins, np.float64))
    e_exact = _np_energy(params, np.asarray(exact, np.float64))
    assert np.all(e_approx >= e_exact - 1e-5)  # the exact search is never beaten
    # Every hidden spin agrees with the sign of its local field given all other spins (a single-flip minimum).
    s = np.asarray(approx.spins)
    f = np.asarray(params.h)[None, :] + s @ np.asarray(params.J)
    assert np.all((s * f)[hidden] >= -1e-6)


def test_large_k_uses_approximate_method():
    n, m = 22, 4
    params = sk_params(jax.random.key(14), n, g=1.0)
    spins = np.asarray(exact_sample(jax.random.key(15), params, m))
    hidden = _random_masks(np.random.default_rng(5), m, n, [22, 21, 3, 21])  # one row hides everything
    res = complete_missing(params, spins, hidden)
    np.testing.assert_array_equal(res.exact, [False, False, True, False])
    s = np.asarray(res.spins)
    f = np.asarray(params.h)[None, :] + s @ np.asarray(params.J)
    assert np.all((s * f)[hidden] >= -1e-6)
    with pytest.raises(ValueError, match="max_exact"):
        conditional_log_likelihood(params, spins, hidden)


def test_input_validation():
    params = sk_params(jax.random.key(16), 5)
    spins = np.ones((3, 5))
    hidden = np.zeros((3, 5), bool)
    hidden[:, 0] = True
    with pytest.raises(ValueError, match="boolean"):
        reconstruct_missing(params, spins, hidden.astype(int))
    with pytest.raises(ValueError, match="shape"):
        reconstruct_missing(params, spins, hidden[:2])
    with pytest.raises(ValueError, match="N=5"):
        reconstruct_missing(params, np.ones((3, 4)), np.zeros((3, 4), bool))
    bad = spins.copy()
    bad[0, 1] = 0.0  # a visible entry that is not a spin
    with pytest.raises(ValueError, match="visible"):
        reconstruct_missing(params, bad, hidden)
    with pytest.raises(ValueError, match="2-D"):
        reconstruct_missing(params, np.ones(5), np.zeros(5, bool))
    with pytest.raises(ValueError, match="max_exact"):
        reconstruct_missing(params, spins, hidden, max_exact=30)
    nan_hidden = spins.copy()
    nan_hidden[:, 0] = np.nan
    with pytest.raises(ValueError):
        conditional_log_likelihood(params, nan_hidden, hidden)  # the scored (hidden) values must be spins


def test_reconstruction_scores_by_hand():
    true = np.array([[1, -1, -1, 1], [-1, -1, 1, 1]], float)
    comp = np.array([[1, 1, -1, -1], [-1, -1, -1, 1]], float)
    hidden = np.array([[True, True, True, False], [False, True, True, False]])
    s = reconstruction_scores(true, comp, hidden)
    # hidden entries: (+1 ok), (-1 wrong), (-1 ok), (-1 ok), (+1 wrong)
    assert (s.n_hidden, s.n_active, s.n_silent) == (5, 2, 3)
    assert s.accuracy == pytest.approx(3 / 5)
    assert s.accuracy_active == pytest.approx(1 / 2)
    assert s.accuracy_silent == pytest.approx(2 / 3)


def test_counts_and_fractions_of_the_wrong_type_are_named():
    """max_exact=None and n_hide=2.5 were TypeErrors, max_exact=2.5 was cut to 2, n_rounds=2.5 a TypeError."""
    from ising_diffusion import impute

    params = sk_params(jax.random.key(0), 6, 1.0)
    x = np.asarray(exact_sample(jax.random.key(1), params, 12))
    hidden = np.zeros_like(x, bool)
    hidden[:, :2] = True
    for bad in (None, 2.5):
        with pytest.raises(ValueError, match="max_exact must be an integer"):
            reconstruct_missing(params, x, hidden, max_exact=bad)
    with pytest.raises(ValueError, match="must be an integer between 1 and"):
        impute.holdout_scores(jax.random.key(0), params, params, x, 2.5)
    with pytest.raises(ValueError, match="n_rounds must be a non-negative integer"):
        impute.fit_with_missing(lambda s: params, jax.random.key(0), x, hidden, n_rounds=2.5)
    with pytest.raises(ValueError, match="test fraction must be in"):
        impute.holdout_split(jax.random.key(0), x, hidden, test_fraction=None)
