"""Cross-validated L2 penalty (``l2="cv"``): planted problems, equality with a plain loop, no retracing, validation."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion import cross_validate_l2, infer, infer_batch
from ising_diffusion.inference import CVInfo, mle_exact, neg_log_pseudolikelihood, pseudolikelihood
from ising_diffusion.inference import api, cv
from ising_diffusion.inference.mle import exact_mean_log_likelihood, flat_moments
from ising_diffusion.ising import exact_sample, parameter_mse, params_to_flat, sk_params
from ising_diffusion.synthetic import data_key, truth_key, truth_params

N = 10
GRID = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0)

# the loop reference: one compiled fit per method, l2 traced (subsets of equal size share one trace)
_plm = jax.jit(lambda s, l2: pseudolikelihood(s, l2=l2)[0])
_mle = jax.jit(lambda s, l2: mle_exact(s, l2=l2)[0])
_plm_score = jax.jit(lambda p, s: -neg_log_pseudolikelihood(p, s))
_mle_score = jax.jit(lambda p, s: exact_mean_log_likelihood(params_to_flat(p), flat_moments(s)))


@partial(jax.jit, static_argnames=("n", "m"))
def _planted(seeds, n, m):
    def one(seed):
        truth = sk_params(jax.random.key(seed), n, 1.0)
        return truth, exact_sample(jax.random.key(seed + 1000), truth, m)

    return jax.vmap(one)(seeds)


def _mses(truths, fits):
    return np.array([float(parameter_mse(jax.tree.map(lambda x: x[i], truths), jax.tree.map(lambda x: x[i], fits)))
                     for i in range(truths.h.shape[0])])


@pytest.fixture(scope="module")
def cv_small_large():
    """Three planted N=10 SK models, CV on M=100 and M=2000 exact samples."""
    seeds = jnp.arange(3)
    truths, small = _planted(seeds, N, 100)
    _, large = _planted(seeds, N, 2000)
    out = {}
    for name, data in (("small", small), ("large", large)):
        out[name] = infer_batch(data, "pseudolikelihood", l2="cv", l2_grid=GRID, return_info=True)
    default_small = infer_batch(small, "pseudolikelihood")
    return truths, out, default_small


@pytest.mark.slow  # about 40 s on 2 loaded cores (two compiled CV paths over 3 seeds); run with -m slow
def test_cv_picks_interior_l2_and_beats_default(cv_small_large):
    truths, out, default_small = cv_small_large
    params, info = out["small"]
    chosen = np.asarray(info.l2)
    assert np.all(chosen > GRID[0]) and np.all(chosen < GRID[-1]), chosen
    mse_cv, mse_default = _mses(truths, params), _mses(truths, default_small)
    assert np.mean(mse_cv) < np.mean(mse_default), (mse_cv, mse_default)


@pytest.mark.slow
def test_chosen_l2_grows_as_samples_shrink(cv_small_large):
    _, out, _ = cv_small_large
    small, large = np.log(np.asarray(out["small"][1].l2)), np.log(np.asarray(out["large"][1].l2))
    assert np.mean(small) > np.mean(large), (np.exp(small), np.exp(large))


def _loop_reference(spins, method, grid, folds):
    """Plain Python loop: every fold x every l2 fitted on its own rows, scored on its held-out rows."""
    m = spins.shape[0]
    fit, score = (_plm, _plm_score) if method == "pseudolikelihood" else (_mle, _mle_score)
    scores = np.zeros((folds, len(grid)))
    for f in range(folds):
        test = np.arange(m) % folds == f
        for g, l2 in enumerate(grid):
            scores[f, g] = float(score(fit(spins[~test], l2), spins[test]))
    best = int(np.argmax(scores.mean(0)))
    return scores, grid[best], fit(spins, grid[best])


@pytest.mark.parametrize("method", ["pseudolikelihood", "mle_exact"])
def test_one_call_path_equals_plain_loop(method):
    truths, spins = _planted(jnp.arange(1), 8, 150)
    spins = spins[0]
    grid, folds = GRID, 3
    scores, l2_loop, params_loop = _loop_reference(spins, method, grid, folds)
    params, info = infer(spins, method, l2="cv", l2_grid=grid, cv_folds=folds, return_info=True)
    assert isinstance(info, CVInfo)
    assert info.fold_scores.shape == (folds, len(grid)) and info.score_mean.shape == (len(grid),)
    # the path stops PATIENCE penalties past the peak: those scores are -inf, every fitted one matches the loop
    # (weakly penalised fits sit on flat optima: agreement to the L-BFGS tolerance, not to float rounding)
    fitted = np.isfinite(np.asarray(info.score_mean))
    assert fitted[np.argmax(scores.mean(0)):].all() and fitted.sum() >= 3
    np.testing.assert_allclose(np.asarray(info.fold_scores)[:, fitted], scores[:, fitted], atol=1e-3, rtol=1e-3)
    assert float(info.l2) == pytest.approx(l2_loop)
    np.testing.assert_allclose(np.asarray(params.h), np.asarray(params_loop.h), atol=2e-3)
    np.testing.assert_allclose(np.asarray(params.J), np.asarray(params_loop.J), atol=2e-3)


def test_one_se_rule_picks_a_larger_or_equal_l2():
    # the data, grid and folds of test_one_call_path_equals_plain_loop: its compiled "best" path is reused
    _, spins = _planted(jnp.arange(1), 8, 150)
    best = cross_validate_l2(spins[0], l2_grid=GRID, cv_folds=3, cv_rule="best")
    one_se = cross_validate_l2(spins[0], l2_grid=GRID, cv_folds=3, cv_rule="1se")
    assert float(one_se.l2) >= float(best.l2)
    i = int(np.argmax(np.asarray(best.score_mean)))
    j = int(np.searchsorted(np.asarray(one_se.l2_grid), float(one_se.l2)))
    assert one_se.score_mean[j] >= best.score_mean[i] - best.score_se[i]


def test_no_retracing_on_a_second_call():
    _, spins = _planted(jnp.arange(2), 8, 60)
    options = dict(l2_grid=(1e-2, 0.1), cv_folds=3)
    cross_validate_l2(spins[0], **options)
    fn = api._jitted("pseudolikelihood", tuple(sorted(list(options) + ["cv_rule"])), False, True)
    before = fn._cache_size()
    cross_validate_l2(spins[1], **options)  # new data, same shape and options
    assert before >= 1 and fn._cache_size() == before


def test_separable_fold_stays_finite():
    """Spin 0 never flips: the unpenalised fit runs off; l2 = 0 is skipped, every other score is finite."""
    _, spins = _planted(jnp.arange(1), 8, 80)
    spins = spins[0].at[:, 0].set(1.0)
    params, info = infer(spins, "pseudolikelihood", l2="cv", l2_grid=(0.0, 1e-3, 0.1), cv_folds=4, return_info=True)
    assert np.all(np.isfinite(np.asarray(params_to_flat(params))))
    assert np.all(np.isfinite(np.asarray(info.score_mean[1:])))
    assert float(info.l2) > 0


def test_saturated_unpenalised_fit_is_not_chosen():
    """Few distinct patterns (rank-2 Hopfield truth, g = 2: 3-4 distinct states in 200 samples): the unpenalised fit
    predicts the held-out rows with certainty while its couplings run off. It must not be chosen, and the chosen fit
    must be closer to the planted couplings than the paper's erasure machine on the same data."""
    key = jax.random.key(0)
    truth = truth_params("hopfield", truth_key(key), 20, 2.0)
    spins = exact_sample(data_key(key), truth, 200)
    assert np.unique(np.asarray(spins), axis=0).shape[0] < 10  # the planted case is the degenerate one
    params, info = infer(spins, "pseudolikelihood", l2="cv", return_info=True)
    grid = np.asarray(info.l2_grid)
    assert grid[0] == 0.0 and np.isneginf(np.asarray(info.score_mean)[0])  # l2 = 0: saturated, excluded
    assert float(info.l2) > 0
    assert np.all(np.isfinite(np.asarray(params_to_flat(params))))
    assert float(parameter_mse(truth, params)) < float(parameter_mse(truth, infer(spins)))


def test_selection_skips_saturated_scores_and_falls_back_to_the_largest_penalty():
    """Planted fold scores: a saturated column (held-out rows given probability 1) and a non-finite one are never
    chosen; with no usable column the largest penalty is chosen, and ``infer`` would warn."""
    grid = jnp.asarray([0.0, 1e-3, 1e-2, 0.1])
    scores = jnp.asarray([[-1e-8, -0.30, -0.20, -0.25], [0.0, -0.32, -0.22, -0.24], [-2e-7, -0.31, -0.21, -0.26]])
    _, mean, _, best = cv._select(scores, grid, "best")
    assert int(best) == 2 and np.isneginf(float(mean[0]))
    _, _, _, best = cv._select(scores.at[:, 2].set(jnp.nan), grid, "best")
    assert int(best) == 3
    for rule in cv.CV_RULES:
        _, mean, _, best = cv._select(jnp.full((3, 4), -1e-9).at[:, 1].set(jnp.inf), grid, rule)
        assert int(best) == 3 and np.all(np.isneginf(np.asarray(mean)))
        info = CVInfo(grid[best], grid, mean, mean, scores, None)
        with pytest.warns(UserWarning, match="no penalty with a usable held-out score"):
            api._warn_unusable(info)


def test_weights_match_subset_and_default():
    _, spins = _planted(jnp.arange(1), 8, 90)
    spins = spins[0]
    keep = np.arange(90) % 3 != 0
    # a well-conditioned penalty (l2 = 1e-2): at 1e-4 these few samples leave the optimum flat
    p_none, _ = pseudolikelihood(spins, l2=1e-2)
    p_ones, _ = pseudolikelihood(spins, l2=1e-2, weights=jnp.ones(90))
    # same optimum; the L-BFGS paths differ by float rounding, so agreement is to the optimiser's tolerance
    np.testing.assert_allclose(np.asarray(p_ones.J), np.asarray(p_none.J), atol=1e-4)
    p_sub, _ = pseudolikelihood(spins[keep], l2=1e-2)
    p_w, _ = pseudolikelihood(spins, l2=1e-2, weights=jnp.asarray(keep, jnp.float32))
    np.testing.assert_allclose(np.asarray(p_w.J), np.asarray(p_sub.J), atol=1e-4)
    m_sub, _ = mle_exact(spins[keep], l2=1e-3)
    m_w, _ = mle_exact(spins, l2=1e-3, weights=jnp.asarray(keep, jnp.float32) * 2.0)
    np.testing.assert_allclose(np.asarray(m_w.J), np.asarray(m_sub.J), atol=1e-3)


@pytest.mark.parametrize("options, match", [
    (dict(l2="auto"), "l2 must be a number >= 0 or the string 'cv'"),
    (dict(l2="cv", l2_grid=(0.1, -1e-3)), "l2_grid values must be >= 0"),
    (dict(l2="cv", l2_grid=(0.1, float("nan"))), "l2_grid must be finite"),
    (dict(l2="cv", l2_grid=()), "l2_grid is empty"),
    (dict(l2="cv", cv_folds=1), r"cv_folds must be an integer in \[2, M=40\]"),
    (dict(l2="cv", cv_folds=41), r"cv_folds must be an integer in \[2, M=40\]"),
    (dict(l2="cv", cv_folds=2.5), "cv_folds must be an integer"),
    (dict(l2="cv", cv_rule="2se"), "cv_rule must be one of"),
    (dict(cv_folds=3), "only apply with l2='cv'"),
])
def test_validation(options, match):
    spins = np.where(np.random.default_rng(0).random((40, 6)) < 0.5, -1.0, 1.0)
    with pytest.raises(ValueError, match=match):
        infer(spins, "pseudolikelihood", **options)


def test_cv_only_for_supported_methods():
    spins = np.where(np.random.default_rng(0).random((40, 6)) < 0.5, -1.0, 1.0)
    with pytest.raises(ValueError, match="l2='cv' is available for methods"):
        infer(spins, "mle_mcmc", key=jax.random.key(0), l2="cv")


def test_path_finds_the_second_peak_of_a_two_peaked_score():
    """A planted held-out score with a local peak at l2 = 0.3 and the global one at 1e-4 (the shape the retina's 50
    cells gave): the default path fits every penalty and picks 1e-4; the old early stop (patience 2) picks 0.3."""
    from ising_diffusion.inference.cv import cross_validate_path

    grid = (1e-5, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0)
    planted = {1e-5: -7.0, 1e-4: -6.8, 1e-3: -7.1, 1e-2: -7.3, 0.03: -7.25, 0.1: -7.2, 0.3: -7.1, 1.0: -7.4}
    table = jnp.asarray([planted[g] for g in grid])
    folds = 3

    def fit_fold(train_arg, l2, x, active):
        return jnp.where(active, l2, x), None  # the "fit" is its penalty; 0 iterations when inactive

    def score_fold(fit, test_arg):
        return table[jnp.argmin(jnp.abs(jnp.log(jnp.asarray(grid)) - jnp.log(jnp.maximum(fit, 1e-12))))] + test_arg

    refit = lambda l2, start: (l2, None)  # noqa: E731
    x0, args = jnp.ones(folds), jnp.zeros(folds)
    tests = jnp.asarray([0.01, -0.01, 0.0])
    l2, info = cross_validate_path(fit_fold, score_fold, x0, refit, grid, args, tests)
    assert float(l2) == pytest.approx(1e-4) and np.isfinite(np.asarray(info.score_mean)).all()
    l2_stop, info_stop = cross_validate_path(fit_fold, score_fold, x0, refit, grid, args, tests, patience=2)
    assert float(l2_stop) == pytest.approx(0.3) and np.isinf(np.asarray(info_stop.score_mean)).sum() == 4


def test_grid_and_option_forms_are_checked_on_every_path():
    """A bare number is a grid of one (it failed inside the CV core), a 0-d array a number (it was read as a
    1-tuple and refused); the direct CV functions check their grid as infer does; eps and eps_grid together are
    refused (the grid was ignored); weights=None with l2='cv' is the default, not an unknown keyword."""
    from ising_diffusion.inference.cv import mle_exact_cv, pseudolikelihood_cv

    spins = exact_sample(jax.random.key(1), sk_params(jax.random.key(0), 6, 1.0), 300)
    _, info = infer(spins, "pseudolikelihood", l2="cv", l2_grid=0.01, return_info=True)
    assert np.asarray(info.l2_grid).shape == (1,) and float(info.l2) == np.float32(0.01)
    a = infer(spins, "pseudolikelihood", l2=np.array(0.01))
    np.testing.assert_array_equal(a.J, infer(spins, "pseudolikelihood", l2=0.01).J)
    infer(spins, "pseudolikelihood", l2="cv", weights=None)
    for fn in (pseudolikelihood_cv, mle_exact_cv):
        with pytest.raises(ValueError, match="l2_grid values must be >= 0"):
            fn(spins, l2_grid=(-1.0, 0.1))
    with pytest.raises(ValueError, match="not both"):
        infer(spins, "erasure", eps=0.5, eps_grid=(0.95,))


def test_infer_batch_refuses_a_diverged_fit_like_infer():
    """infer raised on a diverged fit; infer_batch returned its NaN parameters silently."""
    spins = exact_sample(jax.random.key(1), sk_params(jax.random.key(0), 6, 1.0), 300)
    with pytest.raises(ValueError, match="non-finite parameters"):
        infer(spins, "erasure", alpha=50.0)
    with pytest.raises(ValueError, match=r"non-finite parameters for data sets \[0, 1\]"):
        infer_batch(jnp.stack([spins, spins]), "erasure", alpha=50.0)
    trusted = infer_batch(jnp.stack([spins, spins]), "erasure", alpha=50.0, validate=False)  # the experiments' path
    assert not np.all(np.isfinite(np.asarray(trusted.J)))


def test_checking_options_leaves_them_as_given_and_resolve_solver_gives_the_core_form():
    """check_options popped weights and rewrote l2_grid in the caller's dict (a frozen config's, through the
    experiments' settings check); resolve_solver, augment's path, kept weights=None, which the CV core refused."""
    from ising_diffusion.inference import check_options, resolve_solver

    opts = {"l2": "cv", "l2_grid": 0.01, "weights": None}
    assert check_options("pseudolikelihood", opts, n_spins=6, n_samples=300)
    assert opts == {"l2": "cv", "l2_grid": 0.01, "weights": None}
    assert dict(resolve_solver("pseudolikelihood", opts, n_spins=6, n_samples=300)[1]) == {"l2": "cv",
                                                                                         "l2_grid": (0.01,)}
