"""The library calls behind the command line: one NAME=VALUE syntax (solver options and config overrides), solver
options read from inference's table, config files passed by path, parameter files, the holdout split."""

import dataclasses
import inspect
import json
from pathlib import Path

import jax
import numpy as np
import pytest

import ising_diffusion
from ising_diffusion import cli
from ising_diffusion.experiments import registry, synthetic
from ising_diffusion.experiments.config_file import load_config_file, split_config_spec
from ising_diffusion.experiments.configs import get_config as package_config
from ising_diffusion.experiments.configs.fig3 import Fig3Config
from ising_diffusion.experiments.entry import apply_overrides
from ising_diffusion.impute import default_fit_rows, holdout_split
from ising_diffusion.inference import METHODS, SOLVERS, method_options
from ising_diffusion.io import has_params, load_params, save_params
from ising_diffusion.options import coerce_value, parse_assignment, parse_options, parse_value
from ising_diffusion.spins import split_rows

from fake_augment import install_fake

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text,value", [
    ("3", 3), ("0.5", 0.5), ("1e-3", 1e-3), ("true", True), ("False", False), ("none", None), ("cv", "cv"),
    ("0.4,0.5,0.6", (0.4, 0.5, 0.6)), ("(20, 40)", (20, 40)), ("[1, 2]", [1, 2]), ("'a b'", "a b"), ("inf", np.inf),
])
def test_one_value_syntax(text, value):
    assert parse_value(text) == value


def test_set_and_option_read_values_alike():
    """The same text gives the same value through --option (typed by a solver's default) and --set (by a field)."""
    opt = parse_options("erasure", ["eps_grid=0.5,1"])["eps_grid"]
    cfg = apply_overrides(Fig3Config(), ["g_values=0.5,1"])
    assert opt == cfg.g_values == (0.5, 1.0) and all(isinstance(v, float) for v in opt + cfg.g_values)
    assert apply_overrides(Fig3Config(), ["n_augmented_factor=2"]).n_augmented_factor == 2.0
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_assignment("n_train")
    with pytest.raises(ValueError, match="expected an integer"):
        coerce_value(1.5, 10, where="--option max_iter=1.5")
    assert coerce_value(1.5, 10, strict=False) == 1.5  # a config validates its own fields
    # the word none is None (it clears an optional setting, e.g. msa's data_root); the guard takes None for its word
    # "none" (the help of `augment` offers --set guard=none, which failed with "got None")
    assert apply_overrides(ising_diffusion.AugmentConfig(), ["guard=none"]).guard == "none"
    assert apply_overrides(package_config("msa", "tiny"), ["data_root=none"]).data_root is None


def test_method_options_come_from_the_solver_table():
    assert set(METHODS) == set(SOLVERS)
    for method, solver in SOLVERS.items():
        want = {k for k in inspect.signature(solver).parameters if k not in ("key", "spins")}
        assert want <= set(method_options(method)), method
    assert {"l2_grid", "cv_folds", "cv_rule"} <= set(method_options("pseudolikelihood"))
    assert "l2_grid" not in method_options("erasure") and method_options("nonsense") is None
    with pytest.raises(ValueError, match="has no option 'l2'"):
        parse_options("erasure", ["l2=0.1"])
    assert parse_options("pseudolikelihood", ["l2=cv", "cv_folds=3"]) == {"l2": "cv", "cv_folds": 3}


def test_registry_is_the_one_list_of_experiments():
    from ising_diffusion.experiments.configs import EXPERIMENTS

    assert EXPERIMENTS == tuple(registry.EXPERIMENTS) and "main" not in registry.FIGURES
    assert set(cli.build_parser().subcommands["run"]._actions[-2].choices) == set(registry.FIGURES)
    for name in registry.EXPERIMENTS:
        assert callable(registry.experiment_module(name).main)
        assert (ROOT / "configs" / f"{name}.py").is_file()


@pytest.mark.parametrize("name", list(registry.EXPERIMENTS))
def test_top_level_config_files_agree_with_the_package_presets(name):
    import importlib

    presets = importlib.import_module(f"ising_diffusion.experiments.configs.{name}").PRESETS
    assert {"quick", "paper", "tiny"} <= set(presets)
    assert registry.PRESETS[name] == presets  # the command line reads its arguments from the registry's copy
    for preset in presets:
        assert load_config_file(f"{ROOT}/configs/{name}.py:{preset}") == package_config(name, preset)


def test_a_config_file_passed_by_path_runs(tmp_path, monkeypatch, capsys):
    fake = install_fake(monkeypatch)
    mine = tmp_path / "my_fig3.py"  # a user's copy with a preset of its own
    mine.write_text((ROOT / "configs" / "fig3.py").read_text() + "\nsmall = dataclasses.replace(tiny, n_seeds=1)\n")
    out = tmp_path / "run"
    assert cli.main(["run", "fig3", "--config", f"{mine}:small", "--out", str(out), "--no-progress"]) == 0
    stored = json.loads((out / "config.json").read_text())
    assert stored["experiment"] == "fig3" and stored["config"]["n_seeds"] == 1
    assert len(fake.calls) == 2 and fake.calls[0]["n_seeds"] == 1  # one call per g of the tiny preset, one seed


@pytest.mark.parametrize("spec,message", [
    ("no/such/file.py:tiny", "no such config file"),
    ("configs/README.md", "Python file"),
    ("configs/fig3.py:huge", "no preset 'huge'"),
    ("configs/fig3.py", "say which preset"),
    ("configs/fig4.py:tiny", "gives a Fig4Config; this experiment needs a Fig3Config"),
])
def test_bad_config_file_or_name_is_a_clear_usage_error(spec, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as e:
        cli.main(["run", "fig3", "--config", spec, "--print-config"])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_config_file_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("paper = 1 / 0\n")
    with pytest.raises(ValueError, match="broken.py failed to load: ZeroDivisionError"):
        load_config_file(str(broken))
    assert split_config_spec("a/b.py:paper") == (Path("a/b.py"), "paper")
    assert split_config_spec("a/b.py") == (Path("a/b.py"), None)


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_params_files_round_trip_and_refuse_bad_ones(tmp_path, ext):
    params = ising_diffusion.sk_params(jax.random.key(0), 5, 1.0)
    path = save_params(tmp_path / f"p.{ext}", params, method="erasure", options={"eps": 0.5})
    back = load_params(path)
    np.testing.assert_array_equal(back.h, np.asarray(params.h, np.float32))
    np.testing.assert_array_equal(back.J, np.asarray(params.J, np.float32))
    assert has_params(path) == (ext == "npz")
    bad = params.J.at[0, 1].add(1.0)
    save_params(tmp_path / f"asym.{ext}", ising_diffusion.IsingParams(params.h, bad))
    with pytest.raises(ValueError, match="symmetric"):
        load_params(tmp_path / f"asym.{ext}")
    save_params(tmp_path / f"shape.{ext}", ising_diffusion.IsingParams(params.h[:4], params.J))
    with pytest.raises(ValueError, match=r"h of shape \(N,\)"):
        load_params(tmp_path / f"shape.{ext}")


def test_holdout_split_is_a_reproducible_partition_of_the_complete_rows():
    spins = np.arange(40, dtype=np.float32).reshape(20, 2)
    mask = np.zeros((20, 2), bool)
    mask[::4, 1] = True  # rows 0, 4, 8, 12, 16 are incomplete
    train, test = holdout_split(jax.random.key(1), spins, mask, 0.2)
    assert (len(train), len(test)) == (12, 3)
    rows = sorted(np.concatenate([train, test])[:, 0].tolist())
    assert rows == sorted(spins[~mask.any(axis=1), 0].tolist())
    again = holdout_split(jax.random.key(1), spins, mask, 0.2)
    np.testing.assert_array_equal(again[1], test)
    tr, te = split_rows(jax.random.key(1), np.flatnonzero(~mask.any(axis=1)), 0.2)
    np.testing.assert_array_equal(spins[te], test)
    with pytest.raises(ValueError, match="complete rows"):
        holdout_split(jax.random.key(1), spins[:3], mask[:3], 0.2)  # 2 complete rows: none to test
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        holdout_split(jax.random.key(1), spins, mask, 1.5)


def test_default_fit_rows_rule():
    mask = np.zeros((100, 10), bool)
    assert default_fit_rows(mask) == "complete"
    mask[:21, 0] = True  # 79% complete
    assert default_fit_rows(mask) == "all"
    assert default_fit_rows(np.zeros((40, 10), bool)) == "all"  # fewer than max(50, 2N) complete rows


def test_every_command_takes_the_common_flags():
    subs = cli.build_parser().subcommands
    for name in ("sample", "infer", "augment", "impute"):
        flags = {s for a in subs[name]._actions for s in a.option_strings}
        assert {"--seed", "--no-progress"} <= flags, name
    from ising_diffusion.experiments.entry import figure_parser

    flags = {s for a in figure_parser("fig3", "", ("tiny",))._actions for s in a.option_strings}
    assert {"--seed", "--no-progress", "--config", "--preset"} <= flags
