import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ising_diffusion as idf
from ising_diffusion.ising import all_states, operators


def brute_energy(h, J, s):
    n = len(h)
    e = -sum(h[i] * s[i] for i in range(n))
    e -= sum(J[i, j] * s[i] * s[j] for i in range(n) for j in range(i + 1, n))
    return e


def test_sk_params_shapes_symmetry_and_scale(key):
    p = idf.sk_params(key, 50, g=2.0)
    assert p.h.shape == (50,) and p.J.shape == (50, 50)
    np.testing.assert_array_equal(p.J, p.J.T)
    np.testing.assert_array_equal(np.diag(p.J), 0.0)
    w = idf.params_to_flat(p)
    assert w.shape == (idf.n_params(50),)
    # variance g^2 / N = 0.08 over 1275 draws: standard error of the variance ~ 0.08 * sqrt(2/1275) = 0.003
    assert abs(float(jnp.var(w)) - 0.08) < 0.012


def test_flat_roundtrip(key):
    p = idf.sk_params(key, 7, 1.0)
    q = idf.flat_to_params(idf.params_to_flat(p), 7)
    np.testing.assert_allclose(q.h, p.h)
    np.testing.assert_allclose(q.J, p.J)
    with pytest.raises(ValueError, match="length"):
        idf.flat_to_params(jnp.zeros(5), 7)


def test_energy_against_brute_force_loop(key):
    p = idf.sk_params(key, 6, 1.5)
    s = np.asarray(jax.random.rademacher(jax.random.key(1), (30, 6)), np.float32)
    e = idf.energy(p, s)
    h, J = np.asarray(p.h, np.float64), np.asarray(p.J, np.float64)
    expected = [brute_energy(h, J, row) for row in s]
    np.testing.assert_allclose(e, expected, rtol=1e-5, atol=1e-5)
    # -E = ops . w
    np.testing.assert_allclose(-e, operators(jnp.asarray(s)) @ idf.params_to_flat(p), rtol=1e-5, atol=1e-5)


def test_local_fields_give_flip_energy(key):
    p = idf.sk_params(key, 8, 1.0)
    s = jnp.asarray(jax.random.rademacher(jax.random.key(2), (5, 8)), jnp.float32)
    f = idf.local_fields(p, s)
    for i in range(8):
        flipped = s.at[:, i].multiply(-1)
        np.testing.assert_allclose(idf.energy(p, flipped) - idf.energy(p, s), 2 * s[:, i] * f[:, i], atol=1e-5)


def test_enumeration_hand_computed_n2():
    h = jnp.array([0.3, -0.2])
    J = jnp.array([[0.0, 0.5], [0.5, 0.0]])
    p = idf.IsingParams(h, J)
    states = [(-1, -1), (1, -1), (-1, 1), (1, 1)]  # bit i set -> s_i = +1, index order
    np.testing.assert_array_equal(all_states(2), np.array(states, np.float32))
    weights = np.array([np.exp(0.3 * a - 0.2 * b + 0.5 * a * b) for a, b in states])
    z = weights.sum()
    np.testing.assert_allclose(idf.log_partition(p), np.log(z), rtol=1e-6)
    np.testing.assert_allclose(idf.exact_probabilities(p), weights / z, rtol=1e-5)
    mean, second = idf.exact_moments(p)
    s = np.array(states, np.float64)
    np.testing.assert_allclose(mean, weights @ s / z, rtol=1e-5)
    np.testing.assert_allclose(second, (s * weights[:, None]).T @ s / z, rtol=1e-5)


def test_enumeration_hand_computed_n3():
    h = np.array([0.1, -0.4, 0.7])
    J = np.array([[0, 0.2, -0.3], [0.2, 0, 0.9], [-0.3, 0.9, 0]])
    p = idf.IsingParams(jnp.asarray(h, jnp.float32), jnp.asarray(J, jnp.float32))
    states = list(itertools.product([-1, 1], repeat=3))
    w = {st: np.exp(-brute_energy(h, J, st)) for st in states}
    z = sum(w.values())
    np.testing.assert_allclose(idf.log_partition(p), np.log(z), rtol=1e-6)
    probs = idf.exact_probabilities(p)
    for idx, st in enumerate(np.asarray(all_states(3)).astype(int)):
        np.testing.assert_allclose(probs[idx], w[tuple(st)] / z, rtol=1e-5)


def test_enumeration_chunked_large_n_consistent(key):
    # N = 16 spans several chunks (2^14 states each): moments from probabilities must agree with the chunked scan
    p = idf.sk_params(key, 16, 1.0)
    probs = idf.exact_probabilities(p)
    np.testing.assert_allclose(float(jnp.sum(probs)), 1.0, rtol=1e-5)
    s = all_states(16)
    mean, second = idf.exact_moments(p)
    np.testing.assert_allclose(mean, probs @ s, atol=2e-5)
    np.testing.assert_allclose(second, (s * probs[:, None]).T @ s, atol=2e-5)


def test_split_log_partition_matches_float64_brute_force_odd_n_asymmetric_j(key):
    # log Z is computed from two half enumerations and a cross term; odd N splits unevenly, and an asymmetric J with a
    # diagonal must still give the energy's own s^T J s / 2
    n = 7
    kh, kj = jax.random.split(key)
    h = np.asarray(jax.random.normal(kh, (n,)), np.float64) * 0.5
    J = np.asarray(jax.random.normal(kj, (n, n)), np.float64) * 0.4
    s = np.asarray(all_states(n), np.float64)
    neg_e = s @ h + 0.5 * np.einsum("si,ij,sj->s", s, J, s)
    log_z = np.log(np.sum(np.exp(neg_e - neg_e.max()))) + neg_e.max()
    p = idf.IsingParams(jnp.asarray(h, jnp.float32), jnp.asarray(J, jnp.float32))
    np.testing.assert_allclose(idf.log_partition(p), log_z, rtol=1e-6)
    probs = np.exp(neg_e - log_z)
    mean, _ = idf.exact_moments(p)
    np.testing.assert_allclose(mean, probs @ s, atol=1e-5)


def test_enumeration_rejects_large_n(key):
    with pytest.raises(ValueError, match="exact enumeration"):
        idf.exact_moments(idf.sk_params(key, 30, 1.0))


def test_exact_sample_matches_moments(key):
    p = idf.sk_params(key, 10, 1.0)
    x = idf.exact_sample(jax.random.key(3), p, 40000)
    mean, second = idf.exact_moments(p)
    # Monte-Carlo standard error <= 1/sqrt(M) = 0.005; 5 sigma
    np.testing.assert_allclose(x.mean(0), mean, atol=0.025)
    np.testing.assert_allclose(x.T @ x / 40000, second, atol=0.025)


def test_parameter_mse(key):
    p = idf.sk_params(key, 5, 1.0)
    zero = idf.IsingParams(jnp.zeros(5), jnp.zeros((5, 5)))
    w = idf.params_to_flat(p)
    np.testing.assert_allclose(idf.parameter_mse(p, zero), jnp.mean(w**2), rtol=1e-6)
    assert float(idf.parameter_mse(p, p)) == 0.0


def test_sparse_params_symmetry_sparsity_and_scale(key):
    n, degree, g = 200, 4.0, 1.5
    p = idf.sparse_params(key, n, degree, g)
    assert p.h.shape == (n,) and p.J.shape == (n, n)
    np.testing.assert_array_equal(p.J, p.J.T)
    np.testing.assert_array_equal(np.diag(p.J), 0.0)
    upper = np.asarray(p.J)[np.triu_indices(n, k=1)]
    # edge probability degree / (N-1) = 0.0201 over 19900 pairs: standard error 0.001
    frac = np.mean(upper != 0)
    assert abs(frac - degree / (n - 1)) < 0.005, frac
    # couplings on edges N(0, g^2/degree) = 0.5625 over ~400 edges (standard error of the variance ~7%)
    assert abs(np.var(upper[upper != 0]) / (g**2 / degree) - 1) < 0.3
    assert abs(float(jnp.var(p.h)) / (g**2 / n) - 1) < 0.4  # 200 fields
    # a spin's summed squared couplings ~ g^2 (SK's scale)
    assert abs(np.mean(np.sum(np.asarray(p.J) ** 2, axis=1)) / g**2 - 1) < 0.2
    # deterministic per key, different for another key
    q = idf.sparse_params(key, n, degree, g)
    np.testing.assert_array_equal(p.J, q.J)
    np.testing.assert_array_equal(p.h, q.h)
    assert not np.array_equal(p.J, idf.sparse_params(jax.random.key(1), n, degree, g).J)
    # degree = N - 1 is a dense graph
    assert np.all(np.asarray(idf.sparse_params(key, 8, 7.0).J)[np.triu_indices(8, k=1)] != 0)
    for bad in (0.0, -1.0, float(n)):
        with pytest.raises(ValueError, match="degree"):
            idf.sparse_params(key, n, bad)
    with pytest.raises(ValueError, match="n_spins"):
        idf.sparse_params(key, 1, 1.0)


def test_hopfield_params_low_rank_and_scale(key):
    n, n_patterns, g = 100, 3, 2.0
    p = idf.hopfield_params(key, n, n_patterns, g)
    assert p.h.shape == (n,) and p.J.shape == (n, n)
    np.testing.assert_array_equal(p.J, p.J.T)
    np.testing.assert_array_equal(np.diag(p.J), 0.0)
    # restoring the diagonal g sqrt(P/N) (each xi_i^2 = 1) leaves the rank-P Hebbian matrix
    full = np.asarray(p.J, np.float64) + g * np.sqrt(n_patterns / n) * np.eye(n)
    assert np.linalg.matrix_rank(full, tol=1e-4) <= n_patterns
    assert np.linalg.matrix_rank(np.asarray(p.J, np.float64), tol=1e-4) > n_patterns  # the diagonal is removed
    # off-diagonal couplings have SK's variance g^2 / N = 0.04; entries take values g/sqrt(NP) * {+-1, +-3}
    upper = np.asarray(p.J)[np.triu_indices(n, k=1)]
    assert abs(np.mean(upper**2) / (g**2 / n) - 1) < 0.1
    np.testing.assert_allclose(np.unique(np.abs(upper)) * np.sqrt(n * n_patterns) / g, [1.0, 3.0], rtol=1e-5)
    q = idf.hopfield_params(key, n, n_patterns, g)
    np.testing.assert_array_equal(p.J, q.J)
    np.testing.assert_array_equal(p.h, q.h)
    assert not np.array_equal(p.J, idf.hopfield_params(jax.random.key(1), n, n_patterns, g).J)
    with pytest.raises(ValueError, match="n_patterns"):
        idf.hopfield_params(key, n, 0)


@pytest.mark.parametrize("make", [lambda k: idf.sparse_params(k, 10, 3.0, 1.5),
                                  lambda k: idf.hopfield_params(k, 10, 2, 1.5)], ids=["sparse", "hopfield"])
def test_exact_sample_matches_moments_on_structured_truths(key, make):
    p = make(key)
    x = idf.exact_sample(jax.random.key(3), p, 40000)
    mean, second = idf.exact_moments(p)
    # Monte-Carlo standard error <= 1/sqrt(M) = 0.005; 5 sigma
    np.testing.assert_allclose(x.mean(0), mean, atol=0.025)
    np.testing.assert_allclose(x.T @ x / 40000, second, atol=0.025)


@pytest.mark.parametrize("make,match", [
    (lambda k: idf.sk_params(k, 2.5), "n_spins must be a positive integer"),
    (lambda k: idf.sk_params(k, None), "n_spins must be a positive integer"),
    (lambda k: idf.sk_params(k, 8, float("nan")), "g must be a finite number"),
    (lambda k: idf.sparse_params(k, 1), "n_spins must be an integer >= 2"),
    (lambda k: idf.sparse_params(k, 8, degree=float("nan")), "degree must be in"),
    (lambda k: idf.hopfield_params(k, 8, n_patterns=2.5), "n_patterns must be a positive integer"),
    (lambda k: idf.exact_sample(k, idf.sk_params(k, 4), 2.5), "n_samples must be a positive integer"),
])
def test_truths_and_exact_sampling_name_a_bad_argument(make, match):
    """A wrong type or value is a ValueError naming the argument (was a TypeError from a shape, or NaN couplings)."""
    with pytest.raises(ValueError, match=match):
        make(jax.random.key(0))
