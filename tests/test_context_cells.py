"""The 40-vs-50 comparison (extra observed cells as context) on planted data where the answer is known."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.experiments.context_cells import context_comparison, hidden_sets
from ising_diffusion.inference import infer
from ising_diffusion.ising import IsingParams, exact_sample


def _planted(n_inner=6, strong=1.5, weak=0.1):
    """Inner cells weakly coupled among themselves; context cell ``n_inner + i`` strongly coupled to inner cell i."""
    n = 2 * n_inner
    rng = np.random.default_rng(0)
    J = np.zeros((n, n))
    J[:n_inner, :n_inner] = weak * rng.standard_normal((n_inner, n_inner))
    for i in range(n_inner):
        J[i, n_inner + i] = strong
    J = np.triu(J, 1)
    J = J + J.T
    h = np.zeros(n)
    return IsingParams(jnp.asarray(h, jnp.float32), jnp.asarray(J, jnp.float32))


def _restricted(p, cells):
    return IsingParams(p.h[cells], p.J[np.ix_(cells, cells)])


def test_context_cells_help_with_the_true_models():
    """The comparison itself, fast: the planted model against its inner block (no fit)."""
    truth = _planted()
    x = np.asarray(exact_sample(jax.random.key(0), truth, 500))
    inner = np.arange(6)
    res = context_comparison(jax.random.key(1), x, x, inner, k=3, n_sets=4,
                             params=(truth, _restricted(truth, inner)))
    acc = next(s for s in res.summary if s["score"] == "accuracy")
    cll = next(s for s in res.summary if s["score"] == "cll")
    assert acc["n_better"] == 4 and acc["low"] > 0.2 and cll["n_better"] == 4 and cll["low"] > 0


@pytest.mark.slow
def test_context_cells_help_when_strongly_coupled():
    truth = _planted()
    x = np.asarray(exact_sample(jax.random.key(0), truth, 2300))
    train, test = x[:2000], x[2000:]
    inner = np.arange(6)
    res = context_comparison(jax.random.key(1), train, test, inner, k=3, n_sets=5,
                             fit=lambda s: infer(s, "pseudolikelihood", l2=1e-3))
    acc = next(s for s in res.summary if s["score"] == "accuracy")
    cll = next(s for s in res.summary if s["score"] == "cll")
    # With the partners observed, each hidden cell agrees with its context cell with p = tanh(1.5)-ish ~ 0.95; alone,
    # the weakly coupled inner cells give little better than a coin.
    assert acc["n_better"] == 5 and acc["low"] > 0.2
    assert cll["n_better"] == 5 and cll["low"] > 0
    assert acc["large"] > 0.85 and acc["small"] < 0.7
    assert len(res.rows) == 5


def test_context_cells_no_gain_without_context_couplings():
    truth = _planted(strong=0.0)
    x = np.asarray(exact_sample(jax.random.key(0), truth, 500))
    inner = np.arange(6)
    res = context_comparison(jax.random.key(1), x, x, inner, k=3, n_sets=4, params=(truth, _restricted(truth, inner)))
    acc = next(s for s in res.summary if s["score"] == "accuracy")
    assert abs(acc["mean"]) < 0.05  # independent context cells carry nothing about the hidden ones


def test_hidden_sets_and_errors():
    sets = hidden_sets(jax.random.key(0), np.arange(10, 20), 4, 3)
    assert sets.shape == (3, 4) and np.all((sets >= 10) & (sets < 20))
    assert all(len(set(s.tolist())) == 4 for s in sets)
    x = np.ones((5, 4), np.float32)
    with pytest.raises(ValueError, match="leave some context"):
        context_comparison(jax.random.key(0), x, x, np.arange(4), k=2, params=(None, None))
    with pytest.raises(ValueError, match="distinct column"):
        context_comparison(jax.random.key(0), x, x, np.array([0, 0]), k=1, params=(None, None))
    with pytest.raises(ValueError, match="n_sets"):
        hidden_sets(jax.random.key(0), np.arange(4), 2, 1)
