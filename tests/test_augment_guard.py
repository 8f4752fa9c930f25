"""The parametric bootstrap guard (``Selection(guard="bootstrap")``): its decision on planted per-replicate MSE
ratios (milliseconds), its settings, and end to end on a planted generator whose augmentation helps or hurts the
parameters on the guard's replicates."""

import dataclasses
import warnings

import jax
import numpy as np
import pytest

from ising_diffusion import AugmentConfig, augment, exact_sample, sk_params
from ising_diffusion.augment import AugmentationNotRecommendedWarning, Selection, draw_replicates, guard_decision
from ising_diffusion.generative import register_generator
from ising_diffusion.monitor import NoCrossingWarning

from fake_augment import PlantedConfig, data_signature, flat_model, make_planted


def test_decision_on_planted_ratios():
    rng = np.random.default_rng(0)
    train = rng.uniform(0.01, 0.1, (5, 4))
    ratio = np.array([[0.80, 0.85, 0.90, 0.82],   # helps on every replicate: kept
                      [1.20, 1.10, 1.30, 1.15],   # hurts: declined
                      [0.50, 1.50, 0.70, 0.90],   # mixed, one replicate 50% worse: declined
                      [0.60, 0.99, 1.00, 0.98],   # gains but noisy: the t bound is not below 1
                      [1.00, 1.00, 1.00, 1.00]])  # the rule declined on every replicate: no resolved gain
    d = guard_decision(ratio * train, train, level=0.95, max_rise=0.05)
    np.testing.assert_array_equal(d.keep, [True, False, False, False, False])
    np.testing.assert_allclose(d.ratio, ratio)
    assert d.upper[0] < 0 < d.upper[3] and d.upper[4] == 0 and d.worst[2] == 1.5
    assert "kept" in d.reason[0] and "0.8, 0.85" in d.reason[0]
    assert all("declined" in r and "training-only fit" in r for r in d.reason[1:])
    assert "rose by more than 5%" in d.reason[2] and "not resolved" in d.reason[3]
    # the defaults (level 0.75, max_rise 0.25) keep the noisy gain of row 3 and still decline rows 1, 2 and 4
    np.testing.assert_array_equal(guard_decision(ratio * train, train).keep, [True, False, False, True, False])
    # one harmful replicate vetoes a gain on average; a small rise is tolerated
    assert not guard_decision([[0.5, 0.5, 0.5, 1.06]], [[1, 1, 1, 1]], max_rise=0.05).keep[0]
    assert guard_decision([[0.5, 0.5, 0.5, 1.04]], [[1, 1, 1, 1]], level=0.9, max_rise=0.05).keep[0]
    assert not guard_decision([[0.5, 0.5, 0.5, 1.3]], [[1, 1, 1, 1]]).keep[0]
    # non-finite MSEs are harm
    assert not guard_decision([[0.5, np.nan, 0.5]], [[1, 1, 1]]).keep[0]
    assert not guard_decision([[0.5, 0.5, 0.5]], [[1, 0, 1]]).keep[0]
    with pytest.raises(ValueError, match="at least 2 replicates"):
        guard_decision([[0.5]], [[1.0]])
    with pytest.raises(ValueError, match="same"):
        guard_decision(np.ones((2, 3)), np.ones((2, 4)))


def test_guard_settings():
    c = AugmentConfig(guard="bootstrap", n_replicates=3, guard_max_rise=0.1)  # flat keywords, like the others
    assert (c.selection.guard, c.n_replicates, c.guard_max_rise, c.guard_level) == ("bootstrap", 3, 0.1, 0.75)
    assert dataclasses.replace(c, guard="none").guard == "none"
    assert AugmentConfig().guard == "auto"  # on by default for spins under the score rule
    assert AugmentConfig().selection.active_guard() == "bootstrap"
    assert AugmentConfig.paper().selection.active_guard() == "none"  # the paper's variance rule: no guard
    # the guard is not part of the kernel's static settings: checkpoint fingerprints (by repr) are unchanged
    assert repr(Selection(guard="bootstrap")) == repr(Selection())
    for bad in ({"guard": "jackknife"}, {"n_replicates": 1}, {"guard_level": 1.0}, {"guard_max_rise": -0.1},
                {"guard_score_z": -1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Selection(**bad)


def test_auto_guard_runs_only_for_the_score_rule_on_spins():
    auto = Selection(guard="auto")
    assert auto.active_guard() == "bootstrap"
    assert auto.active_guard(alignment=True) == "none"  # no spin replicates of an alignment
    assert Selection(guard="auto", stopping="robust").active_guard() == "none"
    assert Selection(guard="bootstrap", stopping="robust").active_guard() == "bootstrap"  # an explicit choice stands
    assert Selection(guard="none").active_guard() == "none"


def test_replicates_are_samples_of_the_stand_in_truth():
    truth = sk_params(jax.random.key(0), 5, 1.0)
    keys, train, test = draw_replicates(jax.random.key(1), truth, n_replicates=3, m_train=7, m_test=4)
    assert keys.shape == (3,) and train.shape == (3, 7, 5) and test.shape == (3, 4, 5)
    assert not np.array_equal(train[0], train[1])
    np.testing.assert_array_equal(train, draw_replicates(jax.random.key(1), truth, n_replicates=3, m_train=7,
                                                         m_test=4)[1])


N, M, MT = 6, 200, 800
CFG = AugmentConfig(n_steps=2, monitor_steps=1, n_monitor_samples=4 * M, mix_grid=(0, 4), n_bootstrap=50,
                    guard="bootstrap", n_replicates=4)


@pytest.fixture(scope="module")
def planted():
    truth = sk_params(jax.random.key(20), N, 0.3)
    x = exact_sample(jax.random.key(21), truth, M + MT)
    train, test = x[:M], x[M:]
    from ising_diffusion.inference import infer
    theta_hat = infer(train, "mean_field")  # the guard's stand-in truth (the run's params_train; checked below)
    register_generator("planted_test", make_planted, PlantedConfig)
    return truth, train, test, theta_hat


def _run(planted, other):
    truth, train, test, theta_hat = planted
    gcfg = PlantedConfig(real_signature=float(data_signature(train)), real=flat_model(truth), other=flat_model(other))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrossingWarning)
        warnings.simplefilter("ignore", AugmentationNotRecommendedWarning)
        r = augment(jax.random.key(3), train, test, generator="planted_test", config=CFG, generator_config=gcfg,
                    true_params=truth, n_augmented=4 * M, progress=False, solver="mean_field")
    np.testing.assert_allclose(r.params_train.J, theta_hat.J, atol=1e-5)
    # on the real data the generator gives exact samples of the truth: the score rule recommends, and rightly
    assert r.guard["recommended_before"] and r.guard["mse_selected_before"] < r.mse["train"]
    assert r.guard["ratios"].shape == (4,) and r.timing["guard"] == r.guard["time"] > 0
    return r


@pytest.mark.slow  # about 50 s on the loaded 2-core machine: two compiles (1 seed, 4 replicates)
def test_guard_keeps_a_recommendation_the_replicates_confirm(planted):
    """Exact samples of the model behind the data, real or replicate: augmentation helps everywhere, kept."""
    r = _run(planted, planted[3])
    assert r.guard["kept"] and r.recommended and r.selected == "combined", r.reason
    assert np.all(r.guard["ratios"] < 1) and r.guard["upper"] < 1 and "guard kept" in r.reason
    assert r.mse["selected"] == r.guard["mse_selected_before"] < r.mse["train"]


@pytest.mark.slow  # about 50 s, as above
def test_guard_declines_when_the_replicates_show_harm(planted):
    """On the replicates the generator samples the stand-in truth with fields shifted by 1.5: the pipeline does not
    lower the MSE there, so the guard returns the training-only fit (though the real recommendation happened to be
    good: the guard judges the pipeline, not this one outcome)."""
    theta_hat = planted[3]
    r = _run(planted, theta_hat._replace(h=theta_hat.h + 1.5))
    assert not r.guard["kept"] and not r.recommended and r.selected == "train" and r.stop_mix == 0.0
    assert "guard declined" in r.reason and r.guard["upper"] >= 1
    assert r.mse["selected"] == r.mse["train"]
    jax.tree.map(np.testing.assert_array_equal, r.params_selected, r.params_train)


def test_map_guard_table_counts_harm_per_truth(tmp_path):
    """experiments/map_guard.py's table on planted rows: a recommendation is harmful when its ratio exceeds 1.05."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).parents[1] / "experiments" / "map_guard.py"
    spec = importlib.util.spec_from_file_location("map_guard", path)
    mg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mg)
    base = dict(truth="hopfield", n_spins=20, g=2.0, n_train=200, generator="ddpm", time_total=100.0, time_guard=50.0)
    rows = [base | dict(recommended_old=1.0, ratio_old=3.0, recommended_new=0.0, ratio_new=1.0),   # harm declined
            base | dict(recommended_old=1.0, ratio_old=1.04, recommended_new=1.0, ratio_new=1.04),  # within 5%
            base | dict(recommended_old=1.0, ratio_old=0.8, recommended_new=1.0, ratio_new=0.8),   # help kept
            base | dict(recommended_old=0.0, ratio_old=1.0, recommended_new=0.0, ratio_new=1.0)]
    lines = mg.summary_table(rows).splitlines()
    cells = [c.strip() for c in lines[2].split("|")[1:-1]]
    # truth, generator, cases, rec old, harmful old, helped old, rec new, harmful new, helped new
    assert cells[:9] == ["hopfield", "ddpm", "4", "3", "1", "1", "2", "0", "1"]
    assert lines[3].split("|")[2].strip() == "all"

    # decisions redone from the stored replicate ratios: a stricter level declines the noisy gain, the defaults keep it
    noisy = base | dict(recommended_old=1.0, ratio_old=0.8, recommended_new=0.0, ratio_new=1.0,
                        guard_ratios="0.6 0.99 1 0.98")
    assert mg.redecide([noisy], 0.75, 0.25)[0]["ratio_new"] == 0.8
    assert mg.redecide([noisy], 0.95, 0.25)[0]["ratio_new"] == 1.0
    assert mg.redecide(rows[3:], 0.75, 0.25) == rows[3:]  # no recommendation: nothing to decide
    op = mg.operating_table([noisy], levels=(0.75, 0.95), max_rises=(0.25,)).splitlines()
    assert op[0].startswith("Old rule: 1 recommendations, 1 helpful, 0 harmful")
    assert op[-2:] == ["| 0.75 | 0.25 | 1 | 1 | 0 |", "| 0.95 | 0.25 | 0 | 0 | 0 |"]

    # the map's pairs not rerun: kept only where the old rule recommended nothing (the guard cannot change them)
    import csv
    fields = ["truth", "n_spins", "g", "n_train", "generator", "seed", "mse_train", "recommended", "time_total"]
    old = [dict(zip(fields, ["sk", 20, 1.0, 200, "ddpm", s, 0.01, 0.0, 90.0])) for s in range(2)]
    table = tmp_path / "map_rows.csv"
    with open(table, "w", newline="") as f:
        csv.DictWriter(f, fields).writeheader()
        csv.DictWriter(f, fields).writerows(old)
    added = mg.rows_from_map(table, rows)
    assert len(added) == 2 and all(r["ratio_new"] == r["ratio_old"] == 1.0 for r in added)
    assert mg.rows_from_map(table, added) == []  # pairs already present are not added twice
    with open(table, "a", newline="") as f:
        csv.DictWriter(f, fields).writerow(dict(zip(fields, ["sk", 20, 2.0, 200, "d3pm", 0, 0.1, 1.0, 90.0])))
    with pytest.raises(ValueError, match="recommended here"):
        mg.rows_from_map(table, rows)
