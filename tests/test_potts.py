"""Potts core and Gibbs sampler against exact enumeration."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from ising_diffusion import potts
from ising_diffusion import potts_sampling as gibbs


def _random_params(seed, length, q, scale=1.0):
    rng = np.random.default_rng(seed)
    h = jnp.asarray(rng.normal(size=(length, q)) * scale, jnp.float32)
    J = potts.symmetrize_couplings(jnp.asarray(rng.normal(size=(length, length, q, q)) * scale, jnp.float32))
    return potts.PottsParams(h, J)


def _index(states, q):
    return (np.asarray(states) * q ** np.arange(np.asarray(states).shape[1])).sum(axis=1)


def _chi2_pvalue(states, probs, q):
    obs = np.bincount(_index(states, q), minlength=probs.shape[0])
    exp = np.asarray(probs, np.float64)
    return stats.chisquare(obs, exp / exp.sum() * obs.sum()).pvalue


def test_energy_matches_a_loop_and_enumeration_order():
    params = _random_params(0, 4, 3)
    states = potts.all_potts_states(4, 3)
    h, J = np.asarray(params.h), np.asarray(params.J)
    pairs = list(itertools.combinations(range(4), 2))
    loop = [-sum(h[i, s[i]] for i in range(4)) - sum(J[i, j, s[i], s[j]] for i, j in pairs) for s in np.asarray(states)]
    np.testing.assert_allclose(potts.potts_energy(params, states), loop, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(_index(states, 3), np.arange(3**4))


def test_conditional_logits_are_energy_differences():
    params = _random_params(1, 5, 3)
    states = np.asarray(potts.all_potts_states(5, 3))[::17]
    logits = np.asarray(potts.conditional_logits(params, states))
    for m, i in [(0, 0), (3, 2), (7, 4)]:
        flipped = np.repeat(states[m][None], 3, axis=0)
        flipped[:, i] = np.arange(3)
        neg_e = -np.asarray(potts.potts_energy(params, flipped))
        np.testing.assert_allclose(logits[m, i] - logits[m, i, 0], neg_e - neg_e[0], atol=1e-5)


def test_zero_sum_gauge_keeps_the_distribution_and_sums_to_zero():
    params = _random_params(2, 4, 3)
    gauged = potts.zero_sum_gauge(params)
    states = potts.all_potts_states(4, 3)
    diff = np.asarray(potts.potts_energy(params, states) - potts.potts_energy(gauged, states))
    assert np.ptp(diff) < 1e-5
    np.testing.assert_allclose(gauged.J.sum(axis=2), 0, atol=1e-5)
    np.testing.assert_allclose(gauged.J.sum(axis=3), 0, atol=1e-5)
    np.testing.assert_allclose(gauged.h.sum(axis=1), 0, atol=1e-5)
    assert float(potts.potts_parameter_mse(params, gauged)) < 1e-10
    assert float(potts.potts_parameter_mse(params, potts.zero_sum_gauge(_random_params(3, 4, 3)))) > 0.1


def test_marginals_are_the_sums_of_enumerated_probabilities():
    params = _random_params(4, 4, 3, scale=0.7)
    probs = np.asarray(potts.potts_exact_probabilities(params), np.float64)
    states = np.asarray(potts.all_potts_states(4, 3))
    single, pair = potts.potts_exact_marginals(params)
    for i in range(4):
        np.testing.assert_allclose(single[i], np.bincount(states[:, i], probs, minlength=3), atol=1e-5)
    counts = np.zeros((3, 3))
    np.add.at(counts, (states[:, 1], states[:, 3]), probs)
    np.testing.assert_allclose(pair[1, 3], counts, atol=1e-5)
    np.testing.assert_allclose(pair[2, 2], np.diag(np.asarray(single[2])), atol=1e-6)
    neg_e = -np.asarray(potts.potts_energy(params, states), np.float64)
    assert abs(float(potts.potts_log_partition(params)) - np.log(np.exp(neg_e).sum())) < 1e-4


def test_exact_samples_and_gibbs_chains_match_enumeration(key):
    params, _ = potts.potts_sparse_params(key, 4, 3, degree=2.0, g=1.5)
    probs = np.asarray(potts.potts_exact_probabilities(params))
    wrong = np.roll(probs, 1)
    assert _chi2_pvalue(potts.potts_exact_sample(jax.random.key(1), params, 20_000), probs, 3) > 1e-4
    pvalues, wrong_pvalues = [], []
    for seed in range(3):  # one draw per chain: the draws are independent, so the chi-square test applies
        samples, rate = gibbs.potts_gibbs_sample(jax.random.key(10 + seed), params, 10_000, n_chains=10_000,
                                                 burn_in=20, thin=1)
        assert 0 < float(rate) < 1
        pvalues.append(_chi2_pvalue(samples, probs, 3))
        wrong_pvalues.append(_chi2_pvalue(samples, wrong, 3))
    assert stats.combine_pvalues(np.maximum(pvalues, 1e-300), method="fisher").pvalue > 1e-3
    assert stats.combine_pvalues(np.maximum(wrong_pvalues, 1e-300), method="fisher").pvalue < 1e-6


def test_several_thinned_draws_per_chain_match_enumeration(key):
    """The default collection path: 20 draws from each of 500 chains, ``thin`` sweeps apart (row r from chain
    r % n_chains). The draws match the exact distribution, and a chain's successive draws are not repeats of one
    state (a collection that re-read the same state would show identical rows ``n_chains`` apart)."""
    params, _ = potts.potts_chain_params(key, 4, 3, g=1.0)
    probs = np.asarray(potts.potts_exact_probabilities(params))
    samples, _ = gibbs.potts_gibbs_sample(jax.random.key(21), params, 10_000, n_chains=500, burn_in=50, thin=5)
    samples = np.asarray(samples)
    assert _chi2_pvalue(samples, probs, 3) > 1e-4
    assert _chi2_pvalue(samples, np.roll(probs, 1), 3) < 1e-6
    same = np.mean(np.all(samples[:-500] == samples[500:], axis=1))
    assert same < 0.5, same


def test_persistent_chains_stay_at_the_exact_distribution(key):
    params, _ = potts.potts_chain_params(key, 4, 3, g=1.0)
    probs = np.asarray(potts.potts_exact_probabilities(params))
    state = gibbs.init(params, potts.potts_exact_sample(jax.random.key(3), params, 8000))
    state, info = gibbs.run(jax.random.key(4), params, state, 3)
    state, _ = gibbs.sweep(jax.random.key(5), params, state)
    assert _chi2_pvalue(gibbs.state_states(state), probs, 3) > 1e-4
    assert 0 < float(info.change_rate) < 1


@pytest.mark.parametrize("maker", [potts.potts_sparse_params, potts.potts_chain_params])
def test_planted_truths_live_on_their_graph(key, maker):
    params, graph = maker(key, 7, 4, g=1.0)
    J = np.asarray(params.J)
    assert graph.dtype == bool and (graph == graph.T).all() and not graph.diagonal().any()
    np.testing.assert_allclose(J, np.transpose(J, (1, 0, 3, 2)), atol=1e-6)
    norms = np.sqrt((J**2).sum(axis=(2, 3)))
    assert (norms[~graph] == 0).all() and (norms[graph] > 0).all()
    if maker is potts.potts_chain_params:
        assert graph.sum() == 2 * 6


def test_bad_inputs_raise(key):
    with pytest.raises(ValueError, match="exact enumeration"):
        potts.potts_log_partition(_random_params(0, 21, 2))
    with pytest.raises(ValueError, match="degree"):
        potts.potts_sparse_params(key, 5, 3, degree=9.0)
    with pytest.raises(ValueError, match="q must be"):
        potts.potts_chain_params(key, 5, 1)
    params = _random_params(0, 4, 3)
    with pytest.raises(ValueError, match="shape"):
        gibbs.init(params, np.zeros((5, 3), np.int32))
    with pytest.raises(ValueError, match=r"in \[0, q=3\), got values in \[7, 7\]"):  # was clamped, silently
        gibbs.init(params, np.full((5, 4), 7, np.int32))
    with pytest.raises(ValueError, match="n_samples"):
        gibbs.potts_gibbs_sample(key, params, 0)
    with pytest.raises(ValueError, match="n_samples"):
        potts.potts_exact_sample(key, params, 2.5)


def test_nonfinite_asymmetric_or_diagonal_parameters_are_refused(key):
    """A NaN field gave normal-looking samples; an asymmetric J or a diagonal block made the Gibbs conditionals
    disagree with the energy (P(s0 = 1) 0.50 against the exact 0.88 for a diagonal block of 4 at L = 3, q = 2)."""
    params = _random_params(0, 3, 2)
    nan = params._replace(h=params.h.at[0, 1].set(jnp.nan))
    for call in (lambda p: potts.potts_exact_sample(key, p, 5), lambda p: gibbs.potts_gibbs_sample(key, p, 5)):
        with pytest.raises(ValueError, match="params.h must be finite"):
            call(nan)
    for J in (params.J.at[0, 1, 1, 1].add(3.0), params.J.at[0, 0, 1, 1].set(4.0)):
        with pytest.raises(ValueError, match="zero diagonal blocks"):
            gibbs.potts_gibbs_sample(key, params._replace(J=J), 5)
        with pytest.raises(ValueError, match="zero diagonal blocks"):
            gibbs.init(params._replace(J=J), np.zeros((2, 3), np.int32))


def test_energy_reads_the_symmetric_off_diagonal_part_of_J():
    """The energy, its enumeration and the conditionals agree on any J: a diagonal block is ignored and an
    asymmetric J acts through (J_ij + J_ji^T) / 2, the model the conditional logits (and the sampler) describe."""
    params = _random_params(1, 4, 3)
    raw = jnp.asarray(np.random.default_rng(2).normal(size=(4, 4, 3, 3)), jnp.float32)
    states = potts.all_potts_states(4, 3)
    e = potts.potts_energy(params._replace(J=raw), states)
    np.testing.assert_allclose(e, potts.potts_energy(params._replace(J=potts.symmetrize_couplings(raw)), states),
                               rtol=1e-5, atol=1e-5)
    diag = params.J + jnp.eye(4)[:, :, None, None] * 5.0
    np.testing.assert_allclose(potts.potts_energy(params._replace(J=diag), states), potts.potts_energy(params, states),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call,match", [
    (lambda k: potts.potts_sparse_params(k, None, 4), "length must be an integer >= 2"),
    (lambda k: potts.potts_chain_params(k, None, 4), "length must be an integer >= 2"),
    (lambda k: potts.potts_sparse_params(k, 6, 4, field_scale=float("nan")), "field_scale must be finite"),
])
def test_planted_truths_name_a_bad_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call(jax.random.key(0))
