"""The ``ising-diffusion`` command line: help texts, argument errors, sample -> infer round trip, run/main dispatch."""

import json

import numpy as np
import pytest

from ising_diffusion import cli
from ising_diffusion.experiments import synthetic

from fake_augment import FakeAugment


def _exit_code(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.mark.parametrize("argv,expect", [
    (["--help"], "augment"),
    (["sample", "--help"], "--n-spins"),
    (["infer", "--help"], "--method"),
    (["augment", "--help"], "--n-augmented"),
    (["run", "--help"], "fig6"),
    (["run", "fig3", "--help"], "--preset"),
    (["main", "--help"], "--out"),
])
def test_help_explains_options(argv, expect, capsys):
    code, out, _ = _exit_code(argv, capsys)
    assert code == 0 and expect in out


@pytest.mark.parametrize("argv,message", [
    ([], "required"),
    (["frobnicate"], "invalid choice"),
    (["run", "fig9"], "invalid choice"),
    (["sample", "--out", "x.npz", "--n-samples", "0"], "positive integer"),
    (["sample", "--out", "x.npz", "--g", "abc"], "positive number"),
    (["sample"], "--out"),
    (["infer", "no_such_file.npz"], "no such file"),
    (["run", "fig3", "--preset", "huge"], "invalid choice"),
    (["run", "fig3", "--set", "n_spins"], "KEY=VALUE"),
    (["run", "fig3", "--set", "bogus=1"], "no field 'bogus'"),
    (["run", "fig3", "--seeds", "0"], "--seeds"),
])
def test_bad_arguments_give_clear_errors(argv, message, capsys):
    code, _, err = _exit_code(argv, capsys)
    assert code == 2 and message in err


def test_sample_then_infer_reports_mse(tmp_path, capsys):
    data = tmp_path / "d.npz"
    assert cli.main(["sample", "--n-spins", "6", "--n-samples", "3000", "--g", "0.5", "--out", str(data)]) == 0
    with np.load(data) as f:
        assert f["spins"].shape == (3000, 6) and f["J"].shape == (6, 6)
    params = tmp_path / "p.npz"
    assert cli.main(["infer", str(data), "--out", str(params)]) == 0
    out = capsys.readouterr().out
    mse = float(out.split("MSE against the truth")[1].split(":")[1].split()[0])
    assert 0 < mse < 0.02  # 3000 exact samples of a weakly coupled model: a good fit
    with np.load(params) as f:
        assert f["h"].shape == (6,) and np.allclose(f["J"], f["J"].T)
    # a params file can be sampled again, and a bad data file is refused clearly
    assert cli.main(["sample", "--params", str(params), "--n-samples", "10", "--out", str(tmp_path / "e.npz")]) == 0
    np.save(tmp_path / "bad.npy", np.full((5, 3), 0.5))
    code, _, err = _exit_code(["infer", str(tmp_path / "bad.npy")], capsys)
    assert code == 2 and "must contain only" in err
    code, _, err = _exit_code(["infer", str(data), "--method", "nonsense"], capsys)
    assert code == 2 and "unknown method" in err


def test_run_dispatches_to_the_figure(tmp_path, monkeypatch, capsys):
    fake = FakeAugment()
    monkeypatch.setattr(synthetic, "augment_seeds", fake)
    assert cli.main(["run", "fig3", "--preset", "tiny", "--out", str(tmp_path), "--no-progress"]) == 0
    assert len(fake.calls) == 2 and (tmp_path / "fig3.png").is_file()
    assert json.loads((tmp_path / "config.json").read_text())["experiment"] == "fig3"
