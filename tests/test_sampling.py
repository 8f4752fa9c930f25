"""Metropolis sampler against exact enumeration (netket test_sampler.py::test_correct_sampling style)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from ising_diffusion import ising, sampling
from ising_diffusion.sampling import metropolis_sample

N_SMALL = 8
# one static configuration for all histogram tests (one compilation): 4000 near-independent samples per seed
HIST = dict(n_chains=1000, burn_in=200, thin=20)
N_HIST = 4000


def _state_index(spins):
    """Enumeration index of each row (bit i set when s_i = +1), matching ising.all_states."""
    bits = (np.asarray(spins) > 0).astype(np.int64)
    return bits @ (1 << np.arange(bits.shape[1]))


def _chi2_pvalue(spins, probs):
    """Chi-square goodness-of-fit p-value of the sample histogram; states with expected count < 5 pooled."""
    probs = np.asarray(probs, np.float64)
    counts = np.bincount(_state_index(spins), minlength=probs.size)
    expected = probs / probs.sum() * counts.sum()
    small = expected < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


def _fisher(pvalues):
    return stats.combine_pvalues(np.maximum(pvalues, 1e-300), method="fisher").pvalue


@pytest.mark.parametrize("g", [0.5, 2.0])
def test_histogram_matches_exact_probabilities(g):
    params = ising.sk_params(jax.random.key(10), N_SMALL, g)
    probs = ising.exact_probabilities(params)
    keys = jax.random.split(jax.random.key(11), 4)
    samples, rate = jax.vmap(lambda k: metropolis_sample(k, params, N_HIST, **HIST))(keys)
    assert samples.shape == (4, N_HIST, N_SMALL)
    assert set(np.unique(np.asarray(samples))) == {-1.0, 1.0}
    assert np.all((rate > 0) & (rate < 1))
    p = _fisher([_chi2_pvalue(s, probs) for s in samples])
    assert p > 1e-3, f"Metropolis histogram disagrees with exact probabilities (Fisher p={p:.2e})"
    # the test has power: the same samples against the model with reversed fields are rejected
    wrong = ising.exact_probabilities(ising.IsingParams(-params.h, params.J) if g < 1 else
                                      ising.IsingParams(params.h, 0.5 * params.J))
    assert _fisher([_chi2_pvalue(s, wrong) for s in samples]) < 1e-6


@pytest.mark.parametrize("g", [1.0, 2.0])
def test_moments_of_n20_chains_match_enumeration(g):
    n, n_chains, n_batches = 20, 512, 16
    params = ising.sk_params(jax.random.key(20), n, g)
    mean, second = ising.exact_moments(params)
    samples, _ = metropolis_sample(jax.random.key(21), params, 16 * n_chains, n_chains=n_chains, burn_in=500, thin=10)
    # rows r come from chain r % n_chains: group whole chains into independent batches for honest error bars
    s = np.asarray(samples).reshape(-1, n_chains, n)  # (draws, chains, N)
    batches = s.reshape(s.shape[0], n_batches, n_chains // n_batches, n).transpose(1, 0, 2, 3).reshape(n_batches, -1, n)
    b_mean = batches.mean(1)
    b_second = np.einsum("bmi,bmj->bij", batches, batches) / batches.shape[1]
    iu = np.triu_indices(n, 1)
    est = np.concatenate([b_mean, b_second[:, iu[0], iu[1]]], axis=1)  # (batches, K)
    exact = np.concatenate([np.asarray(mean), np.asarray(second)[iu]])
    se = est.std(0, ddof=1) / np.sqrt(n_batches)
    z = np.abs(est.mean(0) - exact) / np.maximum(se, 1e-3)
    assert np.max(z) < 5.0, f"moment off by {np.max(z):.1f} standard errors"
    # the error bars are not inflated: the typical |z| is of order one
    assert np.median(z) < 1.5


def test_vmap_over_seeds_gives_different_reproducible_streams():
    params = ising.sk_params(jax.random.key(30), N_SMALL, 1.0)
    keys = jax.random.split(jax.random.key(31), 3)
    f = jax.vmap(lambda k: metropolis_sample(k, params, N_HIST, **HIST).samples)
    a, b = f(keys), f(keys)
    np.testing.assert_array_equal(a, b)
    for i in range(3):
        for j in range(i):
            assert np.mean(np.asarray(a[i]) != np.asarray(a[j])) > 0.2
    # a single call with one of the keys reproduces itself too
    np.testing.assert_array_equal(metropolis_sample(keys[0], params, N_HIST, **HIST).samples,
                                  metropolis_sample(keys[0], params, N_HIST, **HIST).samples)


def test_vmap_over_parameter_sets():
    base = ising.sk_params(jax.random.key(40), N_SMALL, 0.5)
    batch = ising.IsingParams(jnp.stack([base.h + 1.0, base.h - 1.0, base.h]), jnp.stack([base.J] * 3))
    samples, _ = jax.vmap(lambda p: metropolis_sample(jax.random.key(41), p, N_HIST, **HIST))(batch)
    assert samples.shape == (3, N_HIST, N_SMALL)
    for k in range(3):
        params_k = ising.IsingParams(batch.h[k], batch.J[k])
        assert _chi2_pvalue(samples[k], ising.exact_probabilities(params_k)) > 1e-4
        # each member follows its own parameters (the three means differ by far more than this tolerance)
        np.testing.assert_allclose(np.asarray(samples[k]).mean(0), ising.exact_moments(params_k)[0], atol=0.07)


def test_no_retracing_on_second_call():
    params = ising.sk_params(jax.random.key(50), N_SMALL, 1.0)
    other = ising.sk_params(jax.random.key(51), N_SMALL, 2.0)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def sample(key, p):
        return metropolis_sample(key, p, 64, n_chains=16, burn_in=5, thin=2)

    sample(jax.random.key(0), params)
    sample(jax.random.key(1), other)  # new key and parameter values, same shapes: no new trace
    before = sampling._sample._cache_size()
    metropolis_sample(jax.random.key(2), params, 64, n_chains=16, burn_in=5, thin=2)
    metropolis_sample(jax.random.key(3), other, 64, n_chains=16, burn_in=5, thin=2)
    assert sampling._sample._cache_size() <= before + 1

    state = sampling.init(params, jnp.ones((16, N_SMALL)))
    state, _ = sampling.run(jax.random.key(4), params, state, 3)
    size = sampling.run._cache_size()
    sampling.run(jax.random.key(5), other, state, 3)
    assert sampling.run._cache_size() == size


def test_run_leaves_exact_distribution_invariant():
    params = ising.sk_params(jax.random.key(60), N_SMALL, 1.5)
    probs = ising.exact_probabilities(params)
    n_chains = 8000
    state = sampling.init(params, ising.exact_sample(jax.random.key(61), params, n_chains))
    pvalues = []
    for step in range(3):
        state, info = sampling.run(jax.random.key(62 + step), params, state, 2)
        assert 0 < info.acceptance_rate < 1
        pvalues.append(_chi2_pvalue(sampling.state_spins(state), probs))
    assert _fisher(pvalues) > 1e-3
    # the kept fields are the exact local fields of the final spins (no float32 drift)
    np.testing.assert_allclose(state.fields, ising.local_fields(params, state.spins), atol=1e-4)


def test_sweep_and_persistent_chains_follow_new_parameters():
    params = ising.sk_params(jax.random.key(70), N_SMALL, 1.0)
    state = sampling.init(params, -jnp.ones((100, N_SMALL)))
    state, info = sampling.sweep(jax.random.key(71), params, state)
    assert state.spins.shape == (100, N_SMALL) and 0 < info.acceptance_rate < 1
    assert set(np.unique(np.asarray(sampling.state_spins(state)))) <= {-1.0, 1.0}
    # carry the chains over to parameters with a strong positive field: fields are recomputed, chains follow
    strong = ising.IsingParams(params.h + 3.0, params.J)
    state, _ = sampling.run(jax.random.key(72), strong, state, 20)
    assert float(jnp.mean(state.spins)) > 0.9
    np.testing.assert_allclose(state.fields, ising.local_fields(strong, state.spins), atol=1e-4)


def test_sweep_loop_makes_no_copies_of_the_chain_blocks():
    n, k = 20, sampling.BLOCK_SIZE
    params = ising.sk_params(jax.random.key(80), n, 1.0)
    state = sampling.init(params, jnp.ones((256, n)))
    keys = jax.random.split(jax.random.key(0), 3)
    single = sampling.run.lower(keys[0], params, state, 4).compile().as_text()
    batched = jax.jit(jax.vmap(lambda key: sampling.run(key, params, state, 4))).lower(keys).compile().as_text()
    for text, block in ((single, f"f32[{n},{k}]"), (batched, f"f32[3,{n},{k}]")):
        # a copy instruction of a block's shape (not a relayout inside a fusion) would run at every site
        copies = [line for line in text.splitlines() if line.strip().startswith("%copy") and f"= {block}" in line]
        assert not copies, copies


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_samples=0), "n_samples"),
    (dict(n_chains=0), "n_chains"),
    (dict(burn_in=-1), "burn_in"),
    (dict(thin=0), "thin"),
    (dict(thin=1.5), "thin"),
    (dict(refresh_every=0), "refresh_every"),
])
def test_bad_arguments_raise(kwargs, match):
    params = ising.sk_params(jax.random.key(90), 4, 1.0)
    args = dict(n_samples=10) | kwargs
    n_samples = args.pop("n_samples")
    with pytest.raises(ValueError, match=match):
        metropolis_sample(jax.random.key(0), params, n_samples, **args)


def test_bad_shapes_raise():
    params = ising.sk_params(jax.random.key(91), 4, 1.0)
    with pytest.raises(ValueError, match="J of shape"):
        metropolis_sample(jax.random.key(0), ising.IsingParams(params.h, params.J[:3]), 10)
    with pytest.raises(ValueError, match="spins must have shape"):
        sampling.init(params, jnp.ones((5, 3)))
    with pytest.raises(ValueError, match="n_sweeps"):
        sampling.run(jax.random.key(0), params, sampling.init(params, jnp.ones((5, 4))), -1)
    # the energy reads J's symmetric off-diagonal part; local fields read J itself: refuse J they would differ on
    for J in (params.J.at[0, 0].set(1.0), params.J.at[0, 1].add(0.5)):
        with pytest.raises(ValueError, match="symmetric with a zero diagonal"):
            metropolis_sample(jax.random.key(0), ising.IsingParams(params.h, J), 10)


def test_bad_values_raise():
    """A NaN field sampled normal-looking spins (acceptance 0.37); chains started at 0 never moved."""
    params = ising.sk_params(jax.random.key(92), 4, 1.0)
    nan = ising.IsingParams(params.h.at[1].set(jnp.nan), params.J)
    key = jax.random.key(0)
    for call in (lambda p: metropolis_sample(key, p, 10), lambda p: ising.exact_sample(key, p, 10)):
        with pytest.raises(ValueError, match="params.h must be finite"):
            call(nan)
    with pytest.raises(ValueError, match="params.J must be finite"):
        metropolis_sample(jax.random.key(0), ising.IsingParams(params.h, params.J.at[0, 1].set(jnp.inf)), 10)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        sampling.init(params, jnp.asarray([[0.0, 1.0, 0.0, 1.0]]))


def _unfmix32(z):
    """The inverse of ``sampling._fmix32`` (murmur3's finaliser is a bijection of uint32), in NumPy."""
    z = np.asarray(z, np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    z ^= z >> np.uint64(16)
    z = (z * np.uint64(pow(0xC2B2AE35, -1, 2**32))) & mask
    z ^= (z >> np.uint64(13)) ^ (z >> np.uint64(26))
    z = (z * np.uint64(pow(0x85EBCA6B, -1, 2**32))) & mask
    z ^= z >> np.uint64(16)
    return z.astype(np.uint32)


def test_uniform_has_no_floor_at_zero():
    """The 256 counters whose 24-bit uniform is 0 (found by inverting the hash) get a second 24 bits: u in
    (0, 2^-24), spread evenly, so an uphill move with 2^-48 < exp(-dE) < 2^-24 is accepted with probability exp(-dE)
    instead of the floor 2^-24 (with that floor, h = (1, 1), J_12 = 20 chains drifted from P(--) = 0.018 to 0.35).
    Every other counter keeps its 24-bit value, so ordinary chains are unchanged."""
    zero = _unfmix32(np.arange(256, dtype=np.uint32))
    np.testing.assert_array_equal(np.asarray(sampling._fmix32(jnp.asarray(zero))) >> 8, 0)
    u = np.asarray(sampling._uniform(jnp.asarray(zero)), np.float64)
    assert u.min() > 0 and u.max() < 2.0**-24
    assert stats.kstest(u * 2.0**24, "uniform").pvalue > 1e-3
    counters = jnp.arange(1, 100_001, dtype=jnp.uint32) * jnp.uint32(0x9E3779B9)
    coarse = (np.asarray(sampling._fmix32(counters)) >> 8).astype(np.float32) * np.float32(2.0**-24)
    got = np.asarray(sampling._uniform(counters))
    np.testing.assert_array_equal(got[coarse > 0], coarse[coarse > 0])


def test_hash_uniforms_are_uniform_and_uncorrelated():
    k, steps = 64, 2000
    counter0 = sampling._key_bits(jax.random.key(7), (k,), 1)
    increment = sampling._key_bits(jax.random.key(7), (k,), 2) | jnp.uint32(1)
    t = jnp.arange(1, steps + 1, dtype=jnp.uint32)[:, None]
    u = np.asarray(sampling._uniform(counter0[None, :] + t * increment[None, :]), np.float64)  # (steps, chains)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u.reshape(-1), "uniform").pvalue > 1e-3
    lag1 = np.mean([np.corrcoef(u[:-1, c], u[1:, c])[0, 1] for c in range(k)])
    assert abs(lag1) < 0.01  # average of 64 lag-1 correlations, each with sd ~ 1/sqrt(2000)
    cross = np.corrcoef(u.T)[np.triu_indices(k, 1)]
    assert abs(cross.mean()) < 0.005 and np.abs(cross).max() < 0.12
    # other keys give other streams
    other = sampling._key_bits(jax.random.key(8), (k,), 1)
    assert np.mean(np.asarray(other) == np.asarray(counter0)) < 0.05
