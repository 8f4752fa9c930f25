"""``--estimate``: counts per figure and preset from the config (checked by hand-derivable planted cases), the time
model, and one real warm-up on the tiny preset."""

import math

import pytest

from ising_diffusion.experiments.estimate import ESTIMATED, PointWork, estimate, format_estimate, plan_work, point_seconds
from ising_diffusion.experiments.configs import get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.registry import EXPERIMENTS

FIGURES = tuple(EXPERIMENTS)  # every experiment of the registry


def _config(name, preset):
    return get_config(name, preset)


def _fake_measure(p):
    return {"seeds": p.seeds_per_call, "init": 0.5, "step": 1e-3, "monitor": 0.2, "final": 1.0, "save": 1e-2,
            "compile": 5.0}


AUGMENTATION = tuple(n for n in ESTIMATED if n != "msa")  # msa: tests/test_estimate_potts.py


def test_every_experiment_has_a_cost_model():
    assert [name for name in FIGURES if name not in ESTIMATED] == []
    with pytest.raises(ValueError, match="no augmentation cost model for experiment 'msa'"):
        plan_work("msa", _config("msa", "tiny"))


@pytest.mark.parametrize("name", AUGMENTATION)
@pytest.mark.parametrize("preset", ("tiny", "quick", "paper"))
def test_every_figure_and_preset_is_planned(name, preset):
    est = estimate(name, _config(name, preset), measure_fn=_fake_measure)
    assert est["points"], (name, preset)
    t = est["total"]
    assert t["steps"] > 0 and t["monitor_samples"] > 0 and t["fits"] > 0
    assert math.isfinite(t["total_s"]) and t["total_s"] > 0
    assert t["steps"] == sum(p["steps_per_seed"] * p["n_seeds"] for p in est["points"])
    text = format_estimate(est, preset)
    assert "training steps" in text and "estimated time" in text


def test_counts_of_the_quick_main_job():
    from ising_diffusion.augment import mix_sizes

    cfg = _config("main", "quick")
    (p,) = plan_work("main", cfg)
    steps_per_point, n_points = p.augment.schedule(math.ceil(p.n_train / p.batch_size))
    assert (p.n_steps, p.n_points) == (steps_per_point * n_points, n_points)
    assert p.monitor_samples == n_points * p.n_monitor
    # w_train + per point (one per distinct mix size, samples alone, and training + all samples if no mix size is
    # that) + two final fits
    sizes = set(mix_sizes(p.augment.mix_grid, p.n_train, p.n_monitor)) - {0}
    per_point = len(sizes) + 1 + (p.n_monitor not in sizes)
    assert p.n_fits == 1 + n_points * per_point + 2
    est = estimate("main", cfg, measure_fn=_fake_measure)
    assert est["total"]["steps"] == p.n_steps * cfg.n_seeds and est["total"]["fits"] == p.n_fits * cfg.n_seeds
    # the strong baseline: CV-PLM on the training data and on augmented + training data, per seed
    assert p.baseline_fits == ((p.n_train, 1), (p.n_augmented + p.n_train, 1))
    assert est["total"]["baseline_fits"] == 2 * cfg.n_seeds
    assert f"{2 * cfg.n_seeds} cross-validated baseline fits" in format_estimate(est, "quick")


def test_compiles_paid_once_for_identical_points():
    cfg = _config("fig3", "quick")  # four g values, identical shapes
    est = estimate("fig3", cfg, measure_fn=_fake_measure)
    compiles = [p["seconds"]["compile"] for p in est["points"]]
    assert compiles[0] == 5.0 and compiles[1:] == [0.0] * (len(compiles) - 1)


def test_time_model_is_linear_in_the_work():
    from ising_diffusion import AugmentConfig, DDPMConfig

    p = PointWork("x", "ddpm", DDPMConfig(batch_size=100), AugmentConfig(n_steps=20, monitor_steps=10,
                                                                         n_monitor_samples=50),
                  n_spins=10, n_train=200, n_test=20, n_augmented=300, n_seeds=3)
    t = {"init": 3.0, "step": 2.0, "monitor": 0.5, "final": 4.0, "save": 1.0, "compile": 7.0}
    s = point_seconds(p, t)
    assert p.n_steps == 20 and p.n_points == 2
    assert s == {"init": 3.0, "train": 40.0, "monitor": 2 * (0.5 + 1.0), "final": 4.0, "compile": 7.0}
    # seed batches of 2: two calls, each the same per-call cost; the compile is paid once
    s2 = point_seconds(PointWork(**{**p.__dict__, "seed_batch": 2}), t)
    assert s2["train"] == 80.0 and s2["compile"] == 7.0


def test_estimate_flag_tiny(capsys):
    est = figure_main("fig2", ["--preset", "tiny", "--estimate"], lambda preset: _config("fig2", preset),
                      lambda *a, **k: pytest.fail("--estimate must not run the experiment"), ("tiny",), "fig2")
    out = capsys.readouterr().out
    assert "fig2 --preset tiny" in out and "estimated time" in out
    (p,) = est["points"]
    assert p["steps_per_seed"] == 8 and p["monitor_points"] == 2  # 4 epochs x 2 steps; a point every 2 epochs
    assert all(v >= 0 and math.isfinite(v) for v in p["seconds"].values()) and p["total_s"] > 0


@pytest.mark.parametrize("name", ("fig2", "fig3", "fig4", "main", "fig5", "fig6"))
def test_paper_presets_train_the_paper_budget(name):
    from ising_diffusion.experiments.configs.paper import PAPER_MONITOR_STEPS, PAPER_N_STEPS

    work = [p for p in plan_work(name, _config(name, "paper")) if p.generator == "ddpm"]
    assert work and all(p.generator_config.widths == (128, 256, 512) for p in work)
    assert all(p.generator_config.learning_rate == 1e-4 for p in work)
    # the same step budget at every training size, the paper's procedure
    assert all(p.n_steps == PAPER_N_STEPS and p.steps_per_point == PAPER_MONITOR_STEPS for p in work)
    assert all(p.n_points == 50 and p.augment.stopping == "paper" and p.augment.solver == "erasure" for p in work)


def test_map_plan_is_one_call_per_point_and_generator_with_its_solver():
    cfg = _config("map", "quick")
    work = plan_work("map", cfg)
    assert len(work) == len(cfg.points()) * len(cfg.generators)
    assert {p.generator for p in work} == set(cfg.generators)
    assert all(p.augment.solver == "pseudolikelihood" and dict(p.augment.solver_options) == cfg.solver_options
               for p in work)
    # the oracle fit (oracle_factor x M fresh samples) is counted once per point, with the first generator
    oracle = [p for p in work if p.extra_fits]
    assert len(oracle) == len(cfg.points())
    assert all(p.extra_fits == ((int(round(cfg.oracle_factor * p.n_train)), 1),) for p in oracle)
    assert all(p.baseline_fits == () for p in work)  # the map's solver already is the baseline


def test_paper_estimate_prices_every_stage_from_small_warmups(monkeypatch, capsys):
    """``run fig4 --preset paper --estimate`` must answer fast: the warm-up measures unit costs once per generator /
    N / solver on small fixed sizes and never builds or runs the experiment's own (paper-size) kernel."""
    import importlib

    from ising_diffusion.experiments import warmup

    augment_pkg = importlib.import_module("ising_diffusion.augment")

    calls = []

    def fake_units(*args):
        calls.append(args)
        return {"step": 1e-3, "sample": 1e-4, "fixed_row": 1e-5, "full_row": 2e-5, "score": 1e-2, "save": 1e-2,
                "compile": 5.0}

    monkeypatch.setattr(warmup, "unit_costs", fake_units)
    monkeypatch.setattr(augment_pkg, "build_kernel", lambda *a, **k: pytest.fail("the estimate built a kernel"))
    cfg = _config("fig4", "paper")
    est = figure_main("fig4", ["--preset", "paper", "--estimate"], lambda preset: _config("fig4", preset),
                      lambda *a, **k: pytest.fail("--estimate must not run the experiment"), ("paper",), "fig4")
    assert "estimated time" in capsys.readouterr().out
    work = plan_work("fig4", cfg)
    # one warm-up per distinct N (the generator, network, seed batch and solver are the same), not one per point
    assert len(calls) == len({p.n_spins for p in work}) < len(work)
    assert {a[2] for a in calls} == {p.n_spins for p in work}
    for p, pt in zip(work, est["points"]):
        s = pt["seconds"]
        assert set(s) == {"init", "train", "monitor", "final", "compile"}
        assert s["train"] == pytest.approx(p.n_steps * 1e-3 * p.calls)
        assert all(v > 0 for k, v in s.items() if k != "compile")


def test_same_network_at_another_n_is_priced_by_flops_without_a_compile(monkeypatch):
    """The warm-up measures a network once per seed batch: at another N its step and sample times are the measured
    ones scaled by the lowered programs' flop counts, and nothing is compiled for it (the solver part is, per N)."""
    from ising_diffusion.experiments import warmup
    from ising_diffusion.generative.rbm import RBMConfig

    monkeypatch.setattr(warmup, "_PARTS", {})
    cfg = RBMConfig(burn_in=10, sample_chains=16)  # the cheapest network to compile
    solver = ("pseudolikelihood", (("l2", 0.01),), False)
    small = warmup.unit_costs("rbm", cfg, 4, 2, *solver, n_test=8, fit_rows=16)
    compiled = []
    real_compile = warmup._compile_all
    monkeypatch.setattr(warmup, "_compile_all", lambda low: compiled.append(sorted(low)) or real_compile(low))
    large = warmup.unit_costs("rbm", cfg, 12, 2, *solver, n_test=8, fit_rows=16)
    assert compiled == [[("sol", "fits"), ("sol", "terms")]]  # the solver's programs only
    ref, new = warmup._PARTS[warmup._gen_key("rbm", cfg, 4, 2)], warmup._PARTS[warmup._gen_key("rbm", cfg, 12, 2)]
    for unit, piece in (("step", "train"), ("sample", "sample")):
        assert new["flops"][piece] > ref["flops"][piece]  # a wider visible layer
        assert large[unit] / small[unit] == pytest.approx(new["flops"][piece] / ref["flops"][piece])
    assert large["save"] == small["save"] and large["compile"] != small["compile"]
