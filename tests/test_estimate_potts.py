"""``run msa --estimate``: the msa experiment's fits and augment calls counted from the config and priced from unit
costs (stand-ins with hand-derivable totals), and one real warm-up on the tiny preset's committed alignment."""

import dataclasses

import pytest

from ising_diffusion.experiments.configs import get_config
from ising_diffusion.experiments.estimate import estimate, format_estimate
from ising_diffusion.experiments.estimate_potts import estimate_msa, plan_msa

UNITS = {"iter_a": 0.01, "iter_b": 0.001, "compile_fit": 3.0, "compile_cv": 7.0}
GEN = {"step": 0.02, "sample": 0.001, "save": 0.0, "compile": 11.0}


def _tiny(**changes):
    return dataclasses.replace(get_config("msa", "tiny"), **changes)


def _fakes(calls):
    def fit_costs(length, q, options):
        calls.append(("fit", length, q))
        return dict(UNITS)

    def generator_costs(generator, config, length, seeds, *, n_states):
        calls.append(("gen", generator, length, n_states))
        return dict(GEN)

    return dict(fit_costs=fit_costs, generator_costs=generator_costs, iterations=lambda cfg, *family: 20)


def test_base_methods_are_priced_per_iteration_and_subsample():
    cfg = _tiny(ceiling=False)  # depth 50, 2 subsamples; plm capped at 50 iterations, plm_cv 3 folds x 3 penalties
    calls = []
    est = estimate_msa(cfg, **_fakes(calls))
    by = {p["label"].split(":", 1)[1]: p for p in est["points"]}
    per_fit = 20 * (0.01 + 0.001 * 50)  # 20 iterations (the converged count, under the cap of 50) at 50 rows
    assert by["M=50:plm"]["seconds"]["fits"] == pytest.approx(2 * per_fit)
    assert by["M=50:plm_cv"]["seconds"]["fits"] == pytest.approx(2 * (3 * 3 + 1) * per_fit)
    assert by["M=50:plm"]["bound_s"] - by["M=50:plm"]["seconds"]["compile"] == pytest.approx(2 * 50 * 0.06)
    assert by["M=50:mf"]["total_s"] == 0
    # one fit program and one CV program, each compiled once; the unit costs measured once per option set
    assert sum(p["seconds"]["compile"] for p in est["points"]) == pytest.approx(3.0 + 7.0)
    assert [c[0] for c in calls] == ["fit", "fit"]  # plm's and plm_cv's options differ (cap, folds, grid)
    assert est["iterations"] == {"PF00014_sub300": 20}


def test_augment_methods_count_the_generator_and_every_monitor_fit():
    cfg = _tiny(ceiling=False, methods=("plm_cv", "augment:d3pm_categorical"))
    (aug,) = [w for w in plan_msa(cfg, {"PF00014_sub300": 53}, {"PF00014_sub300": 300}) if "generator" in w]
    n_train = 50 - cfg.heldout_size(50)
    # tiny's budget: 4 steps, a point every 2 (2 points), 40 monitor and 40 final sequences, mixes (0, 1)
    assert aug["steps"] == 4 and aug["samples"] == 2 * 40 + 40
    assert aug["fits"] == [(n_train + 40, 2, 50)]
    assert aug["cv"] == [(n_train, 1, 50), (40, 1, 50), (40 + n_train, 1, 50)]
    calls = []
    est = estimate_msa(cfg, **_fakes(calls))
    point = [p for p in est["points"] if "augment" in p["label"]][0]
    assert point["seconds"]["generator"] == pytest.approx(2 * (4 * 0.02 + 120 * 0.001))
    assert ("gen", "d3pm_categorical", 53, 21) in calls


@pytest.mark.slow  # 20-40 s of real compiles and fits
def test_estimate_flag_prints_the_table_with_its_bound():
    est = estimate("msa", _tiny())  # the real warm-ups: small fits on the committed 300-sequence family
    text = format_estimate(est, "tiny")
    assert "PF00014_sub300:M=50:plm_cv" in text and "at most" in text
    assert 0 < est["total_s"] <= est["bound_s"]
    assert 1 <= est["iterations"]["PF00014_sub300"] <= 50


def test_potts_map_plan_counts_the_oracle_and_one_call_per_generator_and_seed_batch():
    from ising_diffusion.experiments.estimate_potts_map import estimate_potts_map, plan_potts_map

    cfg = dataclasses.replace(get_config("map", "potts_tiny"), n_seeds=3, seed_batch=2)  # L 6, q 3, M 24
    items = plan_potts_map(cfg)
    oracle, d3pm, d3pm_last, ddpm, ddpm_last = items
    assert oracle["calls"] == 3 and oracle["seeds"] == 1 and oracle["cv"] == [(96, 1, 50)]  # 4 x 24 fresh rows
    # 3 seeds in batches of 2: a call of 2 seeds and a call of the last 1 (not 2 calls of 2: 4 seeds' work);
    # 2 points of 2 steps; 24 monitor and 24 final samples; mixes (0, 1): one mix fit at 48 rows,
    # the fit to the monitor samples alone (24), and training + all of them is that same 48-row mix
    assert d3pm["calls"] == 1 and d3pm["seeds"] == 2 and d3pm["steps"] == 4 and d3pm["samples"] == 2 * 24 + 24
    assert d3pm_last["calls"] == 1 and d3pm_last["seeds"] == 1 and d3pm_last["label"].endswith("(last 1 seed)")
    assert sum(w["calls"] * w["seeds"] for w in items[1:3]) == sum(w["calls"] * w["seeds"] for w in items[3:]) == 3
    assert d3pm["fits"] == [(48, 2, 50), (24, 2, 50)]
    assert d3pm["cv"] == [(24, 1, 50), (24, 1, 50), (48, 1, 50)]
    calls = []
    est = estimate_potts_map(cfg, **_fakes(calls))
    per_fit = lambda rows: 20 * (0.01 + 0.001 * rows)  # noqa: E731
    n_cv = 2 * 2 + 1  # potts_tiny: 2 folds x 2 penalties, and the refit
    assert est["points"][0]["seconds"]["fits"] == pytest.approx(3 * n_cv * per_fit(96))
    per_seed = 2 * per_fit(48) + 2 * per_fit(24) + n_cv * (2 * per_fit(24) + per_fit(48))
    assert est["points"][1]["seconds"]["fits"] == pytest.approx(2 * per_seed)
    assert est["points"][2]["seconds"]["fits"] == pytest.approx(per_seed)
    assert ("gen", "d3pm_categorical", 6, 3) in calls and [c[0] for c in calls].count("fit") == 1


def test_unit_costs_measured_at_the_largest_size_scale_to_the_others():
    from ising_diffusion.experiments.estimate_potts import price

    item = {"label": "x", "calls": 1, "seeds": 1, "rows": 10, "fits": [(10, 1, 100)], "cv": [], "options": {},
            "typical": "t"}
    measured = []

    def fit_costs(length, q, options):
        measured.append((length, q))
        return dict(UNITS)

    est = price([{**item, "length": 10, "q": 2}, {**item, "length": 20, "q": 4}], {"t": 100}, fit_costs=fit_costs)
    assert measured == [(20, 4)]
    small, large = (p["seconds"]["fits"] for p in est["points"])
    assert large == pytest.approx(100 * (0.01 + 0.001 * 10))
    assert small == pytest.approx(100 * (0.01 / 16 + 0.001 / 8 * 10))  # (Lq)^2 and L x Lq: 16x and 8x less
