"""Potts inference on planted truths: pseudolikelihood, its CV path, mean-field DCA, contact scores, dca()."""

import jax
import numpy as np
import pytest

from ising_diffusion import contacts, potts
from ising_diffusion.dca import check_dca_options, dca
from ising_diffusion.inference.mean_field_dca import mean_field_dca
from ising_diffusion.inference.potts_pseudolikelihood import potts_pseudolikelihood, potts_pseudolikelihood_cv


@pytest.fixture(scope="module")
def planted():
    params, graph = potts.potts_sparse_params(jax.random.key(0), 6, 3, degree=2.0, g=1.0)
    samples = np.asarray(potts.potts_exact_sample(jax.random.key(1), params, 4000))
    return params, graph, samples


def test_pseudolikelihood_recovers_a_planted_model_better_with_more_data(planted):
    params, _, samples = planted
    errors = []
    for m in (250, 4000):
        est, info = potts_pseudolikelihood(samples[:m], q=3, lambda_h=1e-4, lambda_J=1e-4)
        assert float(info.grad_norm) < 1e-3
        errors.append(float(potts.potts_parameter_mse(params, est)))
    zero = potts.PottsParams(0 * params.h, 0 * params.J)
    assert errors[1] < errors[0] / 4
    assert errors[1] < 0.05 * float(potts.potts_parameter_mse(params, zero))


@pytest.mark.parametrize("symmetric", [False, True])
def test_pseudolikelihood_fields_reproduce_the_single_site_frequencies(planted, symmetric):
    """At a tiny penalty the fitted model's exact single-site marginals are the data's frequencies (the
    pseudolikelihood's stationarity in h, to sampling-free accuracy for a well-specified model at 4,000 sequences),
    and plmDCA's separate site regressions give plmc's joint fit's fields. Symmetrising the couplings before moving
    their row means into h halved each site's share of its own field (marginals off by up to 0.06 here)."""
    params, _, samples = planted
    est, _ = potts_pseudolikelihood(samples, q=3, lambda_h=1e-5, lambda_J=1e-5, symmetric=symmetric, tol=1e-7,
                                    max_iter=2000)
    freq = np.eye(3)[samples].mean(0)
    marg, _ = potts.potts_exact_marginals(est)
    np.testing.assert_allclose(np.asarray(marg), freq, atol=0.01)
    joint, _ = potts_pseudolikelihood(samples, q=3, lambda_h=1e-5, lambda_J=1e-5, symmetric=True, tol=1e-7,
                                      max_iter=2000)
    np.testing.assert_allclose(np.asarray(est.h), np.asarray(joint.h), atol=0.05)


def test_integer_weights_equal_duplicated_rows(planted):
    _, _, samples = planted
    seqs, counts = samples[:40], np.random.default_rng(0).integers(1, 4, 40)
    # plmc's convention (raw weight sum in the penalty scaling) and its symmetric objective: the harder case
    kw = dict(q=3, lambda_J=2.0, penalty="plmc", symmetric=True, tol=1e-5, max_iter=1000)
    weighted, _ = potts_pseudolikelihood(seqs, counts, **kw)
    duplicated, _ = potts_pseudolikelihood(np.repeat(seqs, counts, axis=0), **kw)
    np.testing.assert_allclose(weighted.J, duplicated.J, atol=2e-3)
    np.testing.assert_allclose(weighted.h, duplicated.h, atol=2e-3)
    halved, _ = potts_pseudolikelihood(seqs, counts / 2, **kw)  # half the weight sum: the penalty counts double
    assert float(np.abs(np.asarray(halved.J)).sum()) < float(np.abs(np.asarray(weighted.J)).sum())


def test_alignments_of_similar_depth_share_one_compiled_fit(planted):
    """Merged rows are padded (weight 0) to a bucket size: subsamples with different numbers of distinct sequences
    compile once, and the padding changes no weighted count."""
    from ising_diffusion.inference import potts_pseudolikelihood as module

    _, _, samples = planted
    a, b = samples[:60], samples[:70]
    sizes = {module.merge_identical(x, np.ones(len(x)))[0].shape[0] for x in (a, b)}
    assert len(sizes) == 2  # different distinct counts: without padding, two programs
    padded = [module.pad_rows(*module.merge_identical(x, np.ones(len(x)))) for x in (a, b)]
    assert len({p[0].shape[0] for p in padded}) == 1, sizes
    np.testing.assert_allclose(padded[0][1].sum(), 60)  # the padding carries no weight
    kw = dict(q=3, lambda_J=0.01, max_iter=20)
    potts_pseudolikelihood(a, **kw)
    before = module._advance._cache_size()
    potts_pseudolikelihood(b, **kw)
    assert module._advance._cache_size() == before


def test_apc_frobenius_scores_equal_a_numpy_loop():
    rng = np.random.default_rng(0)
    length, q = 7, 4
    h = rng.normal(size=(length, q))
    J = potts.symmetrize_couplings(rng.normal(size=(length, length, q, q)))
    scores = np.asarray(contacts.contact_scores(potts.PottsParams(h, J), gap_state=0))
    J = np.asarray(J, np.float64)
    fn = np.zeros((length, length))
    for i in range(length):
        for j in range(length):
            if i != j:
                b = J[i, j] - J[i, j].mean(0, keepdims=True) - J[i, j].mean(1, keepdims=True) + J[i, j].mean()
                fn[i, j] = np.sqrt((b[1:, 1:] ** 2).sum())
    expected = np.zeros_like(fn)
    total = sum(fn[i, j] for i in range(length) for j in range(length) if i != j) / (length * (length - 1))
    for i in range(length):
        for j in range(length):
            if i != j:
                expected[i, j] = fn[i, j] - fn[i].sum() / (length - 1) * fn[:, j].sum() / (length - 1) / total
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_contact_precision_counts_the_top_pairs_beyond_the_separation():
    length = 10
    scores = np.zeros((length, length))
    truth = np.zeros((length, length), bool)
    for rank, (i, j) in enumerate([(0, 9), (1, 2), (2, 8), (0, 6), (3, 9)]):  # (1, 2) is too close
        scores[i, j] = scores[j, i] = 10 - rank
    truth[0, 9] = truth[9, 0] = truth[0, 6] = truth[6, 0] = True
    assert contacts.contact_precision(scores, truth, top=2) == 0.5  # (0, 9) yes, (2, 8) no
    got = contacts.contact_precision(scores, truth, top=("L/5", "L/2"))
    assert got == {"L/5": 0.5, "L/2": 2 / 5}
    assert contacts.contact_precision(scores, truth, top=1, min_separation=1) == 1.0
    assert contacts.contact_precision(scores, truth, top=np.int64(2)) == 0.5  # a NumPy integer is one top
    with pytest.raises(ValueError, match="top must be a positive integer"):  # was a TypeError (not iterable)
        contacts.contact_precision(scores, truth, top=2.5)
    with pytest.raises(ValueError, match="gap_state must be in"):
        contacts.contact_scores(potts.PottsParams(np.zeros((3, 4), np.float32), np.zeros((3, 3, 4, 4), np.float32)),
                                gap_state=2.5)


def test_cross_validation_picks_a_sensible_penalty(planted):
    params, _, samples = planted
    grid = (1e-3, 1e-2, 0.1, 1.0)
    est, info = potts_pseudolikelihood_cv(samples[:300], q=3, lambda_grid=grid, lambda_h=1e-3, cv_folds=3)
    assert np.isfinite(np.asarray(info.score_mean)).sum() >= 2
    assert float(info.l2) < 0.1
    strong, _ = potts_pseudolikelihood(samples[:300], q=3, lambda_J=1.0, lambda_h=1e-3)
    assert float(potts.potts_parameter_mse(params, est)) < 0.5 * float(potts.potts_parameter_mse(params, strong))
    # patience=1 stops one penalty past the best (1e-2 here): 1e-4 is never fitted; the full path (None) scores every
    # penalty and chooses the best of them
    grid5 = (1e-4, *grid)
    fits = {p: potts_pseudolikelihood_cv(samples[:300], q=3, lambda_grid=grid5, lambda_h=1e-3, cv_folds=3,
                                         patience=p)[1] for p in (1, None)}
    short, full = (np.asarray(fits[p].score_mean) for p in (1, None))
    assert np.isneginf(short[0]) and np.isfinite(short[1:]).all() and np.isfinite(full).all()
    assert float(fits[None].l2) == np.float32(grid5[int(np.argmax(full))]) == float(fits[1].l2)
    with pytest.raises(ValueError, match="patience"):
        potts_pseudolikelihood_cv(samples[:300], q=3, lambda_grid=grid, cv_folds=3, patience=0)
    # one number is a grid of one (`--option lambda_grid=0.1` failed with "'float' object is not iterable")
    _, one = potts_pseudolikelihood_cv(samples[:300], q=3, lambda_grid=0.1, lambda_h=1e-3, cv_folds=3)
    assert np.asarray(one.l2_grid).shape == (1,) and float(one.l2) == np.float32(0.1)
    with pytest.raises(ValueError, match="lambda_grid must be"):
        potts_pseudolikelihood_cv(samples[:300], q=3, lambda_grid="abc", cv_folds=3)


def test_mean_field_dca_finds_a_planted_chain():
    params, graph = potts.potts_chain_params(jax.random.key(0), 10, 3, g=0.8)
    samples = potts.potts_exact_sample(jax.random.key(3), params, 3000)
    est, info = mean_field_dca(samples, q=3)
    assert info.m_eff == 3000
    scores = contacts.contact_scores(est, gap_state=None)
    n_edges = int(graph.sum()) // 2
    chance = n_edges / (10 * 9 / 2)
    # a chain edge whose random block happens to be weak can rank below a next-nearest pair
    assert contacts.contact_precision(scores, graph, top=n_edges, min_separation=1) >= max(0.75, 3 * chance)


def test_dca_runs_both_methods_with_weights_and_progress(planted):
    _, graph, samples = planted
    weights = np.linspace(0.5, 1.5, 500)
    for method, options in [("plm", dict(progress=True, max_iter=300)), ("mf", {})]:
        result = dca(samples[:500], weights, method=method, q=3, gap_state=None, **options)
        assert result.scores.shape == (6, 6)
        np.testing.assert_allclose(result.scores, np.asarray(result.scores).T, atol=1e-6)
        k = int(graph.sum()) // 2
        assert contacts.contact_precision(result.scores, graph, top=k, min_separation=1) >= 0.5


@pytest.mark.parametrize("seqs, weights, kwargs, match", [
    (np.zeros(5, np.int8), None, {}, "2-D"),
    (np.zeros((0, 5), np.int8), None, {}, "empty"),
    (np.full((3, 5), 0.5), None, {}, "integer"),
    (np.full((3, 5), 3), None, {"q": 3}, r"\[0, q=3\)"),
    (np.full((3, 5), -1), None, {}, r"\[0, q="),
    (np.zeros((3, 5), np.int8), np.ones(4), {}, "weights must have shape"),
    (np.zeros((3, 5), np.int8), np.array([1.0, -1.0, 1.0]), {}, "nonnegative"),
    (np.zeros((3, 5), np.int8), np.array([1.0, np.nan, 1.0]), {}, "NaN"),
    (np.zeros((3, 5), np.int8), np.zeros(3), {}, "sum to zero"),
    (np.zeros((3, 5), np.int8), None, {"method": "pcd"}, "method"),
    (np.zeros((3, 5), np.int8), None, {"lambda_x": 1.0}, "unknown option"),
    (np.zeros((3, 5), np.int8), None, {"l2": 0.1}, "l2 must be"),
    (np.zeros((3, 5), np.int8), None, {"penalty": "gauss"}, "penalty"),
    (np.zeros((3, 5), np.int8), None, {"memory_size": 2.5}, "memory_size"),
    (np.zeros((3, 5), np.int8), None, {"symmetric": "no"}, "symmetric"),  # was taken as True
    (np.zeros((3, 2), np.int8), None, {}, "at least 3 columns"),
])
def test_bad_inputs_give_value_errors_naming_the_problem(seqs, weights, kwargs, match):
    kwargs = {"q": 2, **kwargs} if "q" not in kwargs and seqs.ndim == 2 and seqs.size and seqs.max() < 1 else kwargs
    with pytest.raises(ValueError, match=match):
        dca(seqs, weights, **kwargs)


@pytest.mark.parametrize("method, options, match", [
    ("plm", {"foo": 1}, r"unknown option\(s\) \['foo'\]"),
    ("plm", {"max_iter": -5}, "max_iter must be"),
    ("plm", {"l2": "cv", "lambda_J": 0.1}, "unknown option"),  # cross-validated: no fixed lambda_J
    ("plm", {"l2": "cv", "cv_folds": 7}, r"cv_folds must be an integer in \[2, M=6\]"),
    ("plm", {"l2": "cv", "lambda_grid": "abc"}, "lambda_grid"),
    ("plm", {"l2": "cv", "patience": "x"}, "patience"),
    ("mf", {"pseudocount": "0.5"}, "pseudocount"),  # a comparison with a string was a TypeError
])
def test_check_dca_options_refuses_before_a_fit_what_dca_refuses(method, options, match):
    """The same check, without the alignment, so the msa experiment reports a bad option before its runs."""
    with pytest.raises(ValueError, match=match):
        check_dca_options(method, options, 6)
    with pytest.raises(ValueError, match=match):
        dca(np.zeros((6, 5), np.int8), method=method, q=2, **options)
    check_dca_options(method, {"l2": "cv", "cv_folds": 6} if method == "plm" else {}, 6)


def test_gathered_coupling_fields_and_their_gradient_equal_the_one_hot_products():
    from ising_diffusion.inference.potts_fields import coupling_fields, flat_indices

    rng = np.random.default_rng(0)
    m, length, q = 37, 5, 4  # M not a multiple of any block size
    seqs = rng.integers(0, q, (m, length))
    A = jax.numpy.asarray(rng.normal(size=(length * q, length * q)), jax.numpy.float32)
    G = jax.numpy.asarray(rng.normal(size=(m, length * q)), jax.numpy.float32)
    X = jax.nn.one_hot(seqs, q, dtype=jax.numpy.float32).reshape(m, length * q)
    idx = flat_indices(seqs, q)
    np.testing.assert_allclose(coupling_fields(A, idx), X @ A, atol=1e-5)
    grad = jax.grad(lambda a: jax.numpy.sum(G * coupling_fields(a, idx)))(A)
    np.testing.assert_allclose(grad, X.T @ G, atol=1e-4)


def test_mean_field_dca_at_q2_is_ising_naive_mean_field():
    """On binary states with a vanishing pseudocount mean-field DCA is the Ising naive mean field of the same data:
    with s = 2x - 1, the zero-sum couplings are ``J_ij(a, b) = J_ij s(a) s(b)`` and ``h_i(1) - h_i(0) = 2 h_i``
    (a sign, a factor or a misplaced reference state would show)."""
    from ising_diffusion import infer
    from ising_diffusion.ising import exact_sample, sk_params

    truth = sk_params(jax.random.key(3), 6, 0.5)
    spins = np.asarray(exact_sample(jax.random.key(4), truth._replace(h=truth.h + 0.2), 4000))
    potts_fit, _ = mean_field_dca(((spins + 1) / 2).astype(np.int32), q=2, pseudocount=1e-7)
    ising = infer(spins, "mean_field", ridge=1e-9)
    np.testing.assert_allclose(potts_fit.J[:, :, 1, 1], ising.J, atol=1e-3)
    np.testing.assert_allclose(potts_fit.J[:, :, 0, 1], -np.asarray(ising.J), atol=1e-3)
    np.testing.assert_allclose(potts_fit.h[:, 1] - potts_fit.h[:, 0], 2 * np.asarray(ising.h), atol=2e-3)


def test_mean_field_dca_fields_are_self_consistent_with_its_frequencies(planted):
    """The mean-field model's own single-site marginals, softmax_a(h_i(a) + sum_j sum_b J_ij(a, b) f_j(b)), are the
    pseudocounted weighted frequencies it was built from (in any gauge: the zero-sum one moves that field by a
    constant per site)."""
    _, _, samples = planted
    w = np.random.default_rng(0).uniform(0.2, 1.0, len(samples))
    fit, _ = mean_field_dca(samples, w, q=3, pseudocount=0.3)
    f = 0.7 * np.einsum("m,mia->ia", w / w.sum(), np.eye(3)[samples]) + 0.3 / 3
    field = np.asarray(fit.h, np.float64) + np.einsum("ijab,jb->ia", np.asarray(fit.J, np.float64), f)
    np.testing.assert_allclose(np.exp(field) / np.exp(field).sum(1, keepdims=True), f, atol=1e-5)
