"""The flat Potts pseudolikelihood objective against a plain one-hot formula, and the symmetric fit's invariant."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.inference.potts_fields import flat_indices
from ising_diffusion.inference.potts_objective import FlatParams, coupling_mask, objective, start_point, to_params

M, L, Q = 29, 5, 3


def _reference(h, J, seqs, w_norm, c_h, c_J):
    """``F`` written from the couplings ``J[i, j, a, b]`` with dense one-hot products (no flat layout, no masks)."""
    X = jax.nn.one_hot(seqs, Q, dtype=jnp.float32)  # (M, L, Q)
    off = 1.0 - jnp.eye(L)[:, :, None, None]
    logits = h[None] + jnp.einsum("ijab,mjb->mia", J * off, X)
    logp = jnp.sum(jax.nn.log_softmax(logits, -1) * X, axis=(1, 2))
    return -jnp.dot(w_norm, logp) + c_h * jnp.sum(h**2) + c_J * jnp.sum((J * off) ** 2)


def _layout(J):
    """``W[(j, b), (i, a)] = J[i, j, a, b]``."""
    return jnp.transpose(J, (1, 3, 0, 2)).reshape(L * Q, L * Q)


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    seqs = rng.integers(0, Q, (M, L))
    w = rng.uniform(0.2, 1.0, M)
    h = jnp.asarray(rng.normal(size=(L, Q)), jnp.float32)
    J = jnp.asarray(rng.normal(size=(L, L, Q, Q)), jnp.float32)
    return seqs, jnp.asarray(w / w.sum(), jnp.float32), h, J


@pytest.mark.parametrize("symmetric", [False, True])
def test_value_and_gradient_equal_the_one_hot_formula(problem, symmetric):
    seqs, w_norm, h, J = problem
    if symmetric:  # a symmetric fit's parameters: J_ij = J_ji^T; the gradient is the one along symmetric directions
        J = 0.5 * (J + jnp.transpose(J, (1, 0, 3, 2)))
    c_h, c_J = 0.03, 0.07
    fun = lambda x: objective(x, flat_indices(seqs, Q), w_norm, c_h, c_J, coupling_mask(L, Q), symmetric)  # noqa: E731
    value, grad = jax.value_and_grad(fun)(FlatParams(h, _layout(J)))
    ref = lambda h, J: _reference(h, J, seqs, w_norm, c_h, c_J)  # noqa: E731
    ref_value = ref(h, J)
    g_h, g_J = jax.grad(ref, argnums=(0, 1))(h, J)
    if symmetric:
        g_J = 0.5 * (g_J + jnp.transpose(g_J, (1, 0, 3, 2)))
    np.testing.assert_allclose(value, ref_value, rtol=1e-5)
    np.testing.assert_allclose(grad.h, g_h, atol=1e-5)
    np.testing.assert_allclose(grad.W, _layout(g_J) * coupling_mask(L, Q), atol=1e-5)


def test_symmetric_fit_keeps_its_couplings_exactly_symmetric(problem):
    """The symmetric objective never symmetrises ``W``; L-BFGS (optax, as the fits run it) must keep it symmetric to
    the last bit, and the fit must still descend and equal the symmetrised result ``to_params`` returns."""
    import optax

    seqs, w_norm, _, _ = problem
    idx = flat_indices(seqs, Q)
    fun = lambda x: objective(x, idx, w_norm, 0.01, 0.02, coupling_mask(L, Q), True)  # noqa: E731
    x = start_point(idx, w_norm * M, L, Q)
    opt = optax.lbfgs(memory_size=4, linesearch=optax.scale_by_zoom_linesearch(max_linesearch_steps=20))
    value_and_grad = optax.value_and_grad_from_state(fun)

    @jax.jit
    def step(x, state):
        value, grad = value_and_grad(x, state=state)
        updates, state = opt.update(grad, state, x, value=value, grad=grad, value_fn=fun)
        return optax.apply_updates(x, updates), state, value

    state, values = opt.init(x), []
    for _ in range(15):
        x, state, value = step(x, state)
        values.append(float(value))
    W = np.asarray(x.W)
    assert np.abs(W).max() > 0.01  # it moved
    np.testing.assert_array_equal(W, W.T)
    np.testing.assert_array_equal(W * (1 - np.asarray(coupling_mask(L, Q))), 0.0)  # diagonal blocks stay zero
    assert values[-1] < values[0] - 1e-3
    J = np.asarray(to_params(x).J)
    np.testing.assert_allclose(J, np.transpose(J, (1, 0, 3, 2)), atol=1e-6)
