"""Edge cases of the cross-validated fits that used to pass silently (from a review): a fold with no weight on one
side, fold counts given to the CV functions directly, weights with ``l2="cv"``, ``patience`` through ``dca``,
unchecked states in the public log-pseudolikelihood, and APC of all-zero scores."""

import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.contacts import average_product_correction
from ising_diffusion.dca import dca
from ising_diffusion.inference import infer
from ising_diffusion.inference.cv import mle_exact_cv, pseudolikelihood_cv
from ising_diffusion.inference.potts_pseudolikelihood import potts_log_pseudolikelihood
from ising_diffusion.potts import PottsParams


def _seqs(m=30, length=5, q=3, seed=0):
    return np.random.default_rng(seed).integers(0, q, (m, length)).astype(np.int8)


def test_a_potts_cv_fold_with_no_weight_is_named():
    seqs = _seqs()
    w = np.ones(30)
    w[::3] = 0.0  # every third sequence: all of position fold 0
    with pytest.raises(ValueError, match="CV fold 0 has no held-out weight"):
        dca(seqs, w, q=3, l2="cv", cv_folds=3, lambda_grid=(1e-3, 1e-2, 1e-1), max_iter=5, progress=False)


def test_direct_cv_calls_check_their_fold_count():
    spins = np.where(np.random.default_rng(0).random((20, 4)) < 0.5, -1.0, 1.0)
    with pytest.raises(ValueError, match=r"cv_folds must be an integer in \[2, M=20\], got 25"):
        pseudolikelihood_cv(spins, cv_folds=25)
    with pytest.raises(ValueError, match="cv_folds"):
        mle_exact_cv(spins, cv_folds=1)
    with pytest.raises(ValueError, match="cv_rule"):
        pseudolikelihood_cv(spins, cv_rule="2se")
    with pytest.raises(ValueError, match="weights are not supported with l2='cv'"):
        infer(spins, "pseudolikelihood", l2="cv", weights=np.ones(20))


def test_dca_takes_the_patience_it_lists():
    seqs = _seqs()
    a = dca(seqs, q=3, l2="cv", cv_folds=3, lambda_grid=(1e-3, 1e-2, 1e-1), max_iter=20, patience=None,
            progress=False)
    assert np.all(np.isfinite(np.asarray(a.info.score_mean)))  # patience=None: every penalty of the grid fitted


def test_public_log_pseudolikelihood_checks_states_and_apc_of_nothing_is_zero():
    params = PottsParams(jnp.zeros((3, 3)), jnp.zeros((3, 3, 3, 3)))
    np.testing.assert_allclose(potts_log_pseudolikelihood(params, np.array([[0, 1, 2]])), [3 * np.log(1 / 3)],
                               rtol=1e-6)
    for bad in ([[0, 3, 1]], [[0, -1, 1]]):  # NaN, and a wrapped index into the previous site's block
        with pytest.raises(ValueError, match=r"\[0, q=3\)"):
            potts_log_pseudolikelihood(params, np.array(bad))
    np.testing.assert_array_equal(average_product_correction(jnp.zeros((4, 4))), np.zeros((4, 4)))
