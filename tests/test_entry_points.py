"""The experiment entry points: each writes its run folder (config, rows, summary, figure), resumes, checkpoints
its seed batches and refuses bad settings before writing anything; a fake generator keeps them fast."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ising_diffusion.experiments.runner import ResultStore, open_run, run_sweep

from fake_augment import install_fake

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake(monkeypatch):
    from ising_diffusion import GENERATOR_CONFIGS, DDPMConfig

    f = install_fake(monkeypatch)
    monkeypatch.setitem(GENERATOR_CONFIGS, "rbm", DDPMConfig)  # fig5's tiny preset names it; the fake ignores it
    return f



def _entry(name):
    import importlib

    return importlib.import_module(f"ising_diffusion.experiments.{name}").main


def _check_run_folder(name, png, out, summary, capsys, n_seeds=2):
    assert summary and all(r["n_seeds"] == n_seeds for r in summary)
    for f in ("config.json", "results.json", "results.csv", "summary.csv", png):
        assert (out / f).is_file(), f
    rows = json.loads((out / "results.json").read_text())
    assert rows["experiment"] == name and rows["version"] and rows["config"]["n_seeds"] == n_seeds
    assert all(r["mse_train"] > 0 and r["mse_augmented"] > 0 for r in rows["rows"])
    curved = [r for r in rows["rows"] if "stop_epoch_paper" in r]  # (fig4's count panel refits one run's samples)
    assert curved
    for r in curved:  # the fake's MSE curves are mse * (1 + (epoch - 20)^2 / 400), its rules stop at 20 / 30
        assert r["ratio_combined"] == pytest.approx(r["mse_combined"] / r["mse_train"])
        assert r["ratio_augmented"] == pytest.approx(r["mse_augmented"] / r["mse_train"])
        assert (r["stop_epoch_paper"], r["stop_epoch_robust"], r["best_epoch"]) == (20, 30, 20)
        for part in ("augmented", "combined"):
            assert r[f"mse_{part}_at_paper"] == pytest.approx(r[f"mse_{part}"])
            assert r[f"mse_{part}_at_best"] == pytest.approx(r[f"mse_{part}"])
            assert r[f"mse_{part}_at_robust"] == pytest.approx(1.25 * r[f"mse_{part}"])
    text = capsys.readouterr().out
    assert "MSE train only" in text and str(out) in text


# fig2 and fig4 run end to end in the two tests below it (one run each: every run compiles its own programs)
@pytest.mark.parametrize("name,png", [("fig3", "fig3.png"), ("fig5", "fig5.png"), ("main", "main_mse.png")])
def test_entry_point_smoke(name, png, fake, tmp_path, capsys):
    out = tmp_path / name
    summary = _entry(name)(["--preset", "tiny", "--out", str(out), "--no-progress"])
    _check_run_folder(name, png, out, summary, capsys)
    assert all(c["n_seeds"] == 2 for c in fake.calls)


def test_fig4_count_panel_uses_one_generator_per_n(fake, tmp_path, capsys):
    summary = _entry("fig4")(["--preset", "tiny", "--out", str(tmp_path), "--no-progress"])
    _check_run_folder("fig4", "fig4.png", tmp_path, summary, capsys)
    counts = [r for r in summary if r["panel"] == "count"]
    assert [r["n_augmented"] for r in counts] == [32, 64]
    # 2 training-size points + 1 count point (all counts from one generator run with the largest count)
    assert len(fake.calls) == 3 and fake.calls[-1]["n_augmented"] == 64


def test_main_curve_draws_the_curve_rows_of_integer_g_values(fake, tmp_path, monkeypatch, capsys):
    """A config file's g_values=(1,) gave curve rows of point "g=1.0" but a figure filtered on "g=1": main_curve.png
    was empty while curves.csv had data."""
    from ising_diffusion.experiments import plotting

    drawn = []
    monkeypatch.setattr(plotting, "plot_fig2", lambda path, curves, rows, title: drawn.append((curves, rows)))
    spec = tmp_path / "ints.py"
    spec.write_text("import dataclasses\nfrom ising_diffusion.experiments.configs.main import get_config\n"
                    "ints = dataclasses.replace(get_config('tiny'), g_values=(1,))\n")
    out = tmp_path / "run"
    _entry("main")(["--config", f"{spec}:ints", "--out", str(out), "--no-progress"])
    (curves, rows), = drawn
    saved = json.loads((out / "curves.json").read_text())["rows"]
    assert saved and len(curves) == len(saved) and {c["point"] for c in curves} == {"g=1.0"}
    assert len(rows) == 2 and {r["point"] for r in rows} == {"g=1.0"}


def test_resume_skips_finished_points(fake, tmp_path):
    main = _entry("fig3")
    args = ["--preset", "tiny", "--out", str(tmp_path), "--no-progress"]
    first = main(args)
    assert len(fake.calls) == 2  # two g values
    second = main(args)
    assert len(fake.calls) == 2  # nothing rerun
    assert [r["mse_train_mean"] for r in first] == [r["mse_train_mean"] for r in second]
    # drop one point's rows, as if the run had been killed during it: only that point runs again
    data = json.loads((tmp_path / "results.json").read_text())
    data["rows"] = [r for r in data["rows"] if r["point"] != "g=1.5"]
    (tmp_path / "results.json").write_text(json.dumps(data))
    main(args)
    assert len(fake.calls) == 3 and fake.calls[-1]["checkpoint_dir"].endswith("g=1.5/seeds0-2")
    with pytest.raises(SystemExit):  # a different config in the same folder is refused
        main(args + ["--set", "n_train=32"])


def test_seed_batches_get_their_own_checkpoints(fake, tmp_path, capsys):
    summary = _entry("fig2")(["--preset", "tiny", "--out", str(tmp_path), "--no-progress", "--seeds", "3",
                              "--set", "seed_batch=2"])
    _check_run_folder("fig2", "fig2.png", tmp_path, summary, capsys, n_seeds=3)
    dirs = [c["checkpoint_dir"] for c in fake.calls]
    assert [c["n_seeds"] for c in fake.calls] == [2, 1]
    assert dirs[0].endswith("seeds0-2") and dirs[1].endswith("seeds2-3")
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert sorted(r["seed"] for r in rows) == [0, 1, 2]


def test_python_m_entry_point_runs(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-m", "experiments.fig3", "--preset", "tiny", "--print-config"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["n_spins"] == 8


@pytest.mark.slow
def test_main_job_with_the_real_generator(tmp_path):
    """End to end with the real DDPM (tiny network, 4 epochs): about a minute of CPU, mostly compilation."""
    summary = _entry("main")(["--preset", "tiny", "--out", str(tmp_path), "--no-progress"])
    assert summary[0]["n_seeds"] == 2
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert all(r["mse_train"] > 0 and r["mse_augmented"] > 0 and r["stop_epoch"] in (2, 4) for r in rows)
    curves = json.loads((tmp_path / "curves.json").read_text())["rows"]
    assert sorted({c["epoch"] for c in curves}) == [2, 4] and all(c["generated_variance"] > 0 for c in curves)
    assert (tmp_path / "main_curve.png").is_file()


def test_plot_ratio_marks_break_even_and_ticks_at_sweep_values():
    from ising_diffusion.experiments.plotting import plot_ratio, plt

    summary = [{"n_train": m, "ratio_combined_mean": r, "ratio_combined_lo": r - 0.1, "ratio_combined_hi": r + 0.1}
               for m, r in ((100, 0.9), (400, 1.2), (200, 1.0))]
    fig, ax = plt.subplots()
    plot_ratio(ax, summary, "n_train", {"aug+train / train": "ratio_combined"}, xlabel="training samples", logx=True)
    np.testing.assert_allclose(ax.get_xticks(), [100, 200, 400])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "200", "400"]
    (bars, ) = [c for c in ax.containers if c.get_label() == "aug+train / train"]
    np.testing.assert_allclose(bars.lines[0].get_ydata(), [0.9, 1.0, 1.2])  # sorted by x
    (even, ) = [ln for ln in ax.get_lines() if ln.get_label() == "break-even"]
    np.testing.assert_allclose(even.get_ydata(), [1.0, 1.0])
    plt.close(fig)



def test_run_folder_refuses_rows_without_their_config_and_repeated_points(tmp_path):
    """Deleting config.json (what a refusal used to suggest) must not let another config adopt the rows; a point listed
    twice would count its rows twice in every summary; a crash between the two result files leaves no stale CSV."""
    from ising_diffusion.experiments.runner import RunConfigMismatch, ResultStore, open_run, run_sweep

    run = open_run(tmp_path / "r", "fig3", {"n_train": 64}, announce=False)
    store = run.table("results")
    run_sweep([("g=1.0", 1.0)], lambda pid, g: [{"seed": 0, "mse": g}], store, [0])
    (tmp_path / "r" / "config.json").unlink()
    with pytest.raises(RunConfigMismatch, match="no config.json"):
        open_run(tmp_path / "r", "fig3", {"n_train": 32}, announce=False)
    with pytest.raises(ValueError, match=r"sweep points repeat: \['g=0.5'\]"):
        run_sweep([("g=0.5", 0.5), ("g=0.5", 0.5)], lambda pid, g: [{"seed": 0}], store, [0])
    saved = ResultStore.load(tmp_path / "r")
    assert (tmp_path / "r" / "results.csv").read_text().count("\n") == 1 + len(saved.rows)


@pytest.mark.parametrize("argv, match", [
    (["run", "msa", "--preset", "quick", "--set", "augment.n_steps=-5"], "AugmentConfig.n_steps must be"),
    (["run", "map", "--preset", "potts_tiny", "--set", "augment.mix_grid=[-1]"], "mix_grid must be"),
    (["run", "map", "--preset", "potts_tiny", "--set", "generator_configs.ddpm_onehot.n_timesteps=0"],
     "OneHotDDPMConfig.n_timesteps must be"),
    (["run", "msa", "--preset", "quick", "--set", "generator_options.d3pm_categorical.widths=[0]"],
     "CategoricalD3PMConfig.widths must be"),
    (["main", "--preset", "quick", "--set", "generator_config.batch_size=2.5"], "DDPMConfig.batch_size must be"),
])
def test_a_bad_nested_setting_is_refused_before_the_run_folder_is_written(argv, match, tmp_path, capsys):
    """Nested augment / generator settings are built before the run: they used to be refused only at the first
    ``augment`` call, after config.json was written and (msa) every base method had run."""
    from ising_diffusion.cli import main

    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        main(argv + ["--out", str(out)])
    assert e.value.code == 2 and match in capsys.readouterr().err
    assert not out.exists()
