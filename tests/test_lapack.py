"""The LAPACK wrappers: the same numbers as jnp.linalg, and one matrix per LAPACK call under nested vmap (a batched
call can hang XLA's CPU thread pool: ising_diffusion/inference/lapack.py)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.inference import lapack


def _spd(shape, n, seed=0):
    x = jax.random.normal(jax.random.key(seed), (*shape, 3 * n, n))
    return jnp.einsum("...mi,...mj->...ij", x, x) / (3 * n) + 0.1 * jnp.eye(n)[(None,) * len(shape)]


@pytest.mark.parametrize("name", ["eigh", "inv"])
def test_wrappers_equal_jnp_linalg_under_nested_vmap(name):
    c = _spd((3, 4), 7)
    ours = jax.jit(jax.vmap(jax.vmap(getattr(lapack, name))))(c)
    ref = jax.vmap(jax.vmap(getattr(jnp.linalg, name)))(c)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(ref)):  # eigenvectors are defined up to sign
        np.testing.assert_allclose(np.abs(np.asarray(a)), np.abs(np.asarray(b)), rtol=1e-5, atol=1e-5)
    eye = np.broadcast_to(np.eye(7), c.shape)
    if name == "inv":  # signs included: the inverse itself
        np.testing.assert_allclose(np.asarray(c @ ours), eye, atol=1e-4)
    else:  # eigenvalues as they are, and the decomposition rebuilding c
        w, v = ours
        np.testing.assert_allclose(np.asarray(w), np.asarray(ref[0]), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(jnp.einsum("...ik,...k,...jk->...ij", v, w, v)), np.asarray(c),
                                   atol=1e-4)


@pytest.mark.parametrize("name,target", [("eigh", "syevd"), ("inv", "getrf")])
def test_every_lapack_call_takes_one_matrix(name, target):
    n = 6
    hlo = jax.jit(jax.vmap(jax.vmap(getattr(lapack, name)))).lower(_spd((4, 3), n)).as_text()
    calls = [line for line in hlo.splitlines() if "custom_call @lapack" in line]
    assert calls and any(target in line for line in calls)
    for line in calls:  # operands of a batched call would be tensor<Bx...x6x6>
        operands = line.rsplit(" : (", 1)[1].split(") ->")[0]
        operand_shapes = re.findall(r"tensor<([0-9x]+)xf32>", operands)
        assert operand_shapes and all(s == f"{n}x{n}" for s in operand_shapes), line
    # the plain jnp call is batched: the check above would catch it
    plain = jax.jit(jax.vmap(jax.vmap(getattr(jnp.linalg, name)))).lower(_spd((4, 3), n)).as_text()
    assert any("4x3x6x6" in line for line in plain.splitlines() if "custom_call @lapack" in line)
