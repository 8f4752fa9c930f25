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
