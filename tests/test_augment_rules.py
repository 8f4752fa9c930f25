"""The decisions of augment (ising_diffusion.augment.rules) on planted curves with known answers: plain NumPy arrays,
no generator, no solver, milliseconds."""

import numpy as np
import pytest

from ising_diffusion.augment.rules import (
    ScoreChoice,
    best_mix_gain,
    curve_gain,
    lowest_point,
    mix_candidates,
    recommend,
    score_choice,
    stop_indices,
    variance_stops,
    withdraw_memorised,
)

SIZES = np.array([0, 30, 60])  # ratio 0 (training only), then two mixes
GRID = np.array([0.0, 0.5, 1.0])


def _planted_scores():
    """Two seeds, four points, three ratios. Seed 0: the best candidate is (point 2, ratio 1); a higher score at
    (3, 2) misses the margin and the ratio-0 column (training only) is never a candidate however high. Seed 1: nothing
    clears the margin."""
    score = np.full((2, 4, 3), -1.0)
    z = np.zeros((2, 4, 3))
    score[:, :, 0], z[:, :, 0] = 5.0, 99.0  # training only: excluded by its size 0
    score[0, 1, 1], z[0, 1, 1] = -0.8, 3.5
    score[0, 2, 1], z[0, 2, 1] = -0.5, 4.0  # the answer
    score[0, 3, 2], z[0, 3, 2] = -0.1, 2.9  # higher, but below the margin of 3
    score[1, :, 1:], z[1, :, 1:] = -0.2, 2.0
    return score, z


def test_score_choice_finds_the_planted_best_candidate():
    score, z = _planted_scores()
    c = score_choice(score, z, SIZES, 3.0)
    np.testing.assert_array_equal(c.point, [2, -1])
    np.testing.assert_array_equal(c.mix, [1, -1])
    assert c.score[0] == score[0, 2, 1] and c.score[1] == -np.inf
    np.testing.assert_array_equal(c.found, [True, False])
    # a lower margin admits the higher (3, 2) fit
    c = score_choice(score, z, SIZES, 2.5)
    assert (c.point[0], c.mix[0]) == (3, 2)


def test_score_choice_takes_the_earliest_point_on_ties():
    score = np.zeros((1, 3, 2))
    z = np.full((1, 3, 2), 10.0)
    score[0, 1:, 1] = 1.0  # the same best score at points 1 and 2
    assert score_choice(score, z, np.array([0, 5]), 3.0).point[0] == 1


def test_mix_candidates_is_a_paired_z_test():
    rng = np.random.default_rng(0)
    gains = np.stack([np.zeros(200), rng.normal(0.5, 1.0, 200), rng.normal(-0.5, 1.0, 200)]).astype(np.float32)
    scores, z, cand = (np.asarray(a) for a in mix_candidates(gains, (0, 30, 60), np.float32(-2.0), 3.0))
    want_z = gains.mean(1) / np.maximum(gains.std(1, ddof=1) / np.sqrt(200), np.finfo(np.float32).tiny)
    np.testing.assert_allclose(z, want_z, rtol=1e-5)
    np.testing.assert_allclose(scores, -2.0 + gains.mean(1), rtol=1e-6)
    # only the mix whose gain clears 3 standard errors is a candidate; ratio 0 never is
    assert np.isfinite(cand[1]) and cand[0] == -np.inf and cand[2] == -np.inf


def test_score_choice_replays_the_kernels_point_by_point_tracking():
    """The kernel keeps the best candidate point after point (strictly better replaces); score_choice over the whole
    recorded curve must name the same point and ratio."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        n_points = 6
        means = rng.normal(0.0, 0.3, (n_points, 3))
        gains = rng.normal(means[..., None], 1.0, (n_points, 3, 50)).astype(np.float32)
        gains[:, 0] = 0.0
        best, best_point, best_mix, rows = -np.inf, 0, -1, []
        for p in range(n_points):
            scores, z, cand = (np.asarray(a) for a in mix_candidates(gains[p], SIZES, np.float32(0.0), 2.0))
            rows.append((scores, z))
            j = int(np.argmax(cand))
            if cand[j] > best:
                best, best_point, best_mix = cand[j], p + 1, j
        score = np.stack([r[0] for r in rows])[None]
        z = np.stack([r[1] for r in rows])[None]
        c = score_choice(score, z, SIZES, 2.0)
        assert (c.point[0] + 1, c.mix[0]) == ((best_point, best_mix) if best_point else (0, -1))


def test_variance_rules_on_a_planted_curve():
    """Seed 0 falls through the test variance (1.0) between points 5 and 6, after a one-point dip at point 1: the
    paper's rule stops at the dip, the robust rule (running median of 3) at the real crossing. Seed 1 never reaches
    it (still falling at the end): both rules fall back to the closest, last, point and say so."""
    gen_var = np.array([[2.0, 0.5, 2.0, 1.8, 1.5, 1.2, 0.9, 0.8],
                        [3.0, 2.8, 2.5, 2.3, 2.2, 2.1, 2.0, 1.9]])
    v = variance_stops(gen_var, np.array([1.0, 1.0]), window=3)
    np.testing.assert_array_equal(v.paper, [1, 7])
    np.testing.assert_array_equal(v.robust, [6, 7])
    np.testing.assert_array_equal(v.crossed_paper, [True, False])
    np.testing.assert_array_equal(v.crossed_robust, [True, False])
    assert v.n_missed == 2


def test_stop_indices_of_each_rule():
    score, z = _planted_scores()
    choice = score_choice(score, z, SIZES, 3.0)
    gen_var = np.array([[2.0, 1.5, 0.9, 0.7], [2.0, 1.8, 1.6, 1.4]])
    var = variance_stops(gen_var, np.ones(2), window=1)
    mse = np.array([[4.0, 1.0, 2.0, 3.0], [4.0, 3.0, 2.0, 0.5]])
    at = lambda rule: stop_indices(rule, n_points=4, variance=var, choice=choice, mse=mse).tolist()  # noqa: E731
    assert at("score") == [2, 3]  # no candidate: the last point
    assert at("paper") == [2, 3] and at("robust") == [2, 3]
    assert at("best") == [1, 3] and at("last") == [3, 3]
    with pytest.raises(ValueError, match="true_params"):
        stop_indices("best", n_points=4, variance=var, choice=choice)


def test_recommend_score_rule():
    score, z = _planted_scores()
    choice = score_choice(score, z, SIZES, 3.0)
    idx = np.array([2, 3])
    r = recommend("score", score=score, score_train=np.array([-0.7, -0.7]), mix_grid=GRID, stop_index=idx,
                  choice=choice, score_z=3.0, epochs=np.array([10, 20, 30, 40]))
    np.testing.assert_array_equal(r.recommended, [True, False])
    np.testing.assert_array_equal(r.selected, ["combined", "train"])
    np.testing.assert_array_equal(r.stop_mix, [GRID[1], 0.0])
    assert r.score[0] == score[0, 2, 1]
    assert "0.5x generated samples" in r.reason[0] and "epoch 30" in r.reason[0]
    assert "3 standard errors" in r.reason[1] and "not recommended" in r.reason[1]
    # with the counts the reason says what the mix added, and when the monitor sample count capped it
    kw = dict(score=score, score_train=np.array([-0.7, -0.7]), mix_grid=GRID, stop_index=idx, choice=choice,
              score_z=3.0, epochs=np.arange(4), m_train=60)
    assert "0.5x generated samples (30)" in recommend("score", mix_sizes=SIZES, **kw).reason[0]
    capped = recommend("score", mix_sizes=np.array([0, 20, 20]), **kw)
    assert "20 generated samples (ratio 0.5 of mix_grid, capped at the 20 monitor samples: 0.333x)" in capped.reason[0]
    np.testing.assert_array_equal(capped.stop_mix, [GRID[1], 0.0])
    # a candidate that clears the margin but not the training-only score is not recommended either
    r = recommend("score", score=score, score_train=np.array([0.0, 0.0]), mix_grid=GRID, stop_index=idx,
                  choice=choice, score_z=3.0, epochs=np.arange(4))
    assert not r.recommended.any()


def test_a_generator_that_copies_its_training_sequences_is_not_recommended():
    """Three recommended seeds whose generated sets are 100%, 90% and 50% (near-)copies of training sequences, one
    declined seed of copies: at max_identical 0.9 only the first recommendation is withdrawn (with its reason), the
    declined seed stays as it was; at 1.0 nothing is withdrawn."""
    from ising_diffusion.augment.rules import Recommendation

    rec = Recommendation(np.array([True, True, True, False]), np.array(["combined"] * 3 + ["train"]),
                         np.array([2.0, 1.0, 0.5, 0.0]), np.array([-60.0, -61.0, -62.0, -63.0]),
                         np.array(["gain a", "gain b", "gain c", "declined d"]))
    identical = [1.0, 0.9, 0.5, 1.0]
    out = withdraw_memorised(rec, identical, 0.9)
    np.testing.assert_array_equal(out.recommended, [False, True, True, False])
    np.testing.assert_array_equal(out.selected, ["train", "combined", "combined", "train"])
    np.testing.assert_array_equal(out.stop_mix, [0.0, 1.0, 0.5, 0.0])
    assert "100% of the generated sequences are copies or near-copies" in out.reason[0]
    assert "not recommended" in out.reason[0]
    assert list(out.reason[1:]) == ["gain b", "gain c", "declined d"]
    assert withdraw_memorised(rec, identical, 1.0) is rec


def test_recommend_variance_rule_needs_the_crossing_and_a_better_score():
    score, z = _planted_scores()
    choice = ScoreChoice(np.array([-1, -1]), np.array([-1, -1]), np.full(2, -np.inf))
    idx = np.array([2, 2])  # seed 0 scores -0.5 there with ratio 0.5, seed 1 -0.2
    r = recommend("paper", score=score, score_train=np.array([-0.7, -0.1]), mix_grid=GRID, stop_index=idx,
                  choice=choice, crossed=np.array([True, True]), score_z=3.0, epochs=np.arange(4))
    np.testing.assert_array_equal(r.recommended, [True, False])
    np.testing.assert_array_equal(r.stop_mix, [GRID[-1], 0.0])  # without n_augmented: the largest ratio
    assert "paper rule chose" in r.reason[1]
    # with the counts: stop_mix is params_combined's own ratio, and the reason names the mix that scored best there
    r = recommend("paper", score=score, score_train=np.array([-0.7, -0.1]), mix_grid=GRID, stop_index=idx,
                  choice=choice, crossed=np.array([True, True]), score_z=3.0, epochs=np.arange(4),
                  mix_sizes=SIZES, m_train=60, n_augmented=600)
    np.testing.assert_array_equal(r.stop_mix, [10.0, 0.0])
    assert "0.5x generated samples (30)" in r.reason[0] and "from -0.7 to -0.5" in r.reason[0]
    assert "training + 600 generated samples (params_combined)" in r.reason[0]
    r = recommend("robust", score=score, score_train=np.array([-0.7, -0.7]), mix_grid=GRID, stop_index=idx,
                  choice=choice, crossed=np.array([False, True]), score_z=3.0, epochs=np.arange(4))
    np.testing.assert_array_equal(r.recommended, [False, True])
    assert "never met the test variance (robust rule)" in r.reason[0]


def test_best_mix_gain_is_the_best_ratio_above_zero_over_points_margin_or_not():
    """What the progress bar shows: the ratio-0 column (the training data alone) and NaN scores are not mixes."""
    from types import SimpleNamespace

    train = np.array([-8.0, -5.0])
    records = [SimpleNamespace(score=np.array([[-8.0, -8.3, np.nan], [-5.0, -5.2, -5.4]])),
               SimpleNamespace(score=np.array([[-8.0, -8.1, -9.0], [-5.0, np.nan, -4.9]]))]
    np.testing.assert_allclose(best_mix_gain(records, train), [-0.1, 0.1])
    np.testing.assert_allclose(best_mix_gain(records[:1], train), [-0.3, -0.2])
    all_nan = [SimpleNamespace(score=np.array([[-8.0, np.nan, np.nan]]))]
    assert best_mix_gain(all_nan, train[:1])[0] == -np.inf
    # the experiments read the same number off a result's curve: (S, P, R) batched, (P, R) for one seed
    curve = np.stack([r.score for r in records], axis=1)
    np.testing.assert_allclose(curve_gain(curve, train), [-0.1, 0.1])
    assert curve_gain(curve[1], train[1]) == pytest.approx(0.1)


def test_ratios_capped_at_the_monitor_count_are_named():
    """The msa paper preset at depth 1,000 (800 training sequences, 1,000 monitor samples): ratios 2 and 4 both add
    1,000 sequences, one fit scored twice; at depth 500 (400 training) every ratio is its own fit."""
    import warnings

    from ising_diffusion.augment.score import mix_sizes, warn_repeated_mixes
    from ising_diffusion.experiments.configs.msa import get_config

    cfg = get_config("paper")
    grid, n_mon = cfg.augment["mix_grid"], cfg.augment["n_monitor_samples"]
    m_1000, m_500 = (d - cfg.heldout_size(d) for d in (1000, 500))
    with pytest.warns(UserWarning, match=r"ratios \[2.0, 4.0\] all add 1000 generated samples"):
        assert warn_repeated_mixes(grid, m_1000, n_mon) == [2.0, 4.0]
    assert mix_sizes(grid, m_1000, n_mon) == (0, 400, 800, 1000, 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_repeated_mixes(grid, m_500, n_mon) == []
    assert mix_sizes(grid, m_500, n_mon) == (0, 200, 400, 800, 1000)  # ratio 4 adds 2.5x: capped, not repeated


def test_the_lowest_mse_point_ignores_a_diverged_fit():
    """stopping="best" and best_epoch: argmin returned the first NaN, a diverged fit, as the best point."""
    mse = np.array([[0.5, np.nan, 0.2], [np.nan, np.nan, np.nan], [0.1, 0.3, 0.3]])
    assert lowest_point(mse, missing=-1).tolist() == [2, -1, 0]
    choice = ScoreChoice(np.full(3, -1), np.full(3, -1), np.full(3, -np.inf))
    assert stop_indices("best", n_points=3, variance=None, choice=choice, mse=mse).tolist() == [2, 2, 0]
