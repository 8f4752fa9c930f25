"""The ``ising-diffusion`` command line: help texts, argument errors, sample -> infer round trip, run/main dispatch."""

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np
import pytest

import ising_diffusion
from ising_diffusion import cli
from ising_diffusion.io import load_params, read_spin_file, save_spins
from ising_diffusion.experiments import synthetic
from ising_diffusion.impute import completion_marginals
from ising_diffusion.reconstruct import complete_missing

from fake_augment import install_fake


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
    (["augment", "--help"], "--write-unrecommended"),
    (["impute", "--help"], "--holdout"),
    (["infer", "--help"], "--option"),
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
    assert cli.main(["sample", "--params", str(params), "--n-samples", "4000", "--out", str(tmp_path / "e.npz")]) == 0
    with np.load(params) as p, np.load(tmp_path / "e.npz") as e:  # the file's model, not a fresh truth
        np.testing.assert_array_equal(e["J"], p["J"])
        np.testing.assert_array_equal(e["h"], p["h"])
        mean, _ = ising_diffusion.exact_moments(ising_diffusion.IsingParams(p["h"], p["J"]))
        np.testing.assert_allclose(e["spins"].mean(0), mean, atol=5 / np.sqrt(4000))  # 5 standard errors at most
    np.save(tmp_path / "bad.npy", np.full((5, 3), 0.5))
    code, _, err = _exit_code(["infer", str(tmp_path / "bad.npy")], capsys)
    assert code == 2 and "row 1, column 1: value 0.5" in err
    code, _, err = _exit_code(["infer", str(data), "--method", "nonsense"], capsys)
    assert code == 2 and "unknown method" in err


def test_run_dispatches_to_the_figure(tmp_path, monkeypatch, capsys):
    fake = install_fake(monkeypatch)
    assert cli.main(["run", "fig3", "--preset", "tiny", "--out", str(tmp_path), "--no-progress"]) == 0
    assert len(fake.calls) == 2 and (tmp_path / "fig3.png").is_file()
    assert json.loads((tmp_path / "config.json").read_text())["experiment"] == "fig3"


ANSWERS = Path(__file__).parent / "data" / "answers.txt"  # tests/data/make_answers.py; planted model beside it


def _planted_csv(tmp_path, m=400, n=6):
    params = ising_diffusion.sk_params(jax.random.key(5), n, 0.8)
    spins = np.asarray(ising_diffusion.exact_sample(jax.random.key(6), params, m))
    path = save_spins(tmp_path / "d.csv", spins, columns=[f"q{i}" for i in range(n)])
    return path, spins


def test_infer_options_pass_through(tmp_path, capsys):
    path, spins = _planted_csv(tmp_path)
    out = tmp_path / "p.json"
    assert cli.main(["infer", str(path), "--method", "pseudolikelihood", "--option", "l2=0.01", "--option",
                     "max_iter=300", "--out", str(out)]) == 0
    want = ising_diffusion.infer(spins, method="pseudolikelihood", l2=0.01, max_iter=300)
    stored = json.loads(out.read_text())
    assert stored["method"] == "pseudolikelihood" and stored["options"] == {"l2": 0.01, "max_iter": 300}
    np.testing.assert_allclose(stored["J"], want.J, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(stored["h"], want.h, rtol=1e-6, atol=1e-7)
    # tuples, and a .json params file is accepted wherever params are read
    assert cli.main(["infer", str(path), "--option", "eps_grid=0.5,0.6", "--truth", str(out)]) == 0
    assert "eps_grid=(0.5, 0.6)" in capsys.readouterr().out


def test_infer_cross_validated_options_pass_through(tmp_path):
    path, spins = _planted_csv(tmp_path)
    out = tmp_path / "p.json"
    assert cli.main(["infer", str(path), "--method", "pseudolikelihood", "--option", "l2=cv", "--option",
                     "cv_folds=3", "--option", "l2_grid=0.001,0.01,0.1", "--out", str(out)]) == 0
    want = ising_diffusion.infer(spins, method="pseudolikelihood", l2="cv", cv_folds=3, l2_grid=(0.001, 0.01, 0.1))
    stored = json.loads(out.read_text())
    np.testing.assert_allclose(stored["J"], want.J, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("option,message", [
    ("bogus=1", "has no option 'bogus'"),
    ("max_iter=1.5", "max_iter=1.5: expected an integer"),
    ("l2=1,2", "l2=1,2: expected a number"),
    ("l2", "expects NAME=VALUE"),
    ("l2=-1", "l2 must be a number >= 0"),
])
def test_bad_option_is_a_usage_error(tmp_path, capsys, option, message):
    path, _ = _planted_csv(tmp_path, m=20)
    code, _, err = _exit_code(["infer", str(path), "--method", "pseudolikelihood", "--option", option], capsys)
    assert code == 2 and message in err


def _fake_augment(calls, recommended):
    def fake(key, train, test, **kwargs):
        calls.append(kwargs)
        n = train.shape[1]
        fit = [ising_diffusion.IsingParams(np.full(n, v, np.float32), np.zeros((n, n), np.float32))
               for v in (0.1, 0.2, 0.3)]
        return SimpleNamespace(samples=np.ones((5, n), np.float32), stop_epoch=40, stop_step=160,
                               solver=kwargs.get("solver") or "pseudolikelihood", params_train=fit[0],
                               params_augmented=fit[1], params_combined=fit[2],
                               params_selected=fit[2] if recommended else fit[0],
                               selected="combined" if recommended else "train", recommended=recommended,
                               reason="the energy variance never crossed" if not recommended else "crossed at 40",
                               mse=None)

    return fake


@pytest.mark.parametrize("recommended", [True, False])
def test_augment_passes_solver_and_reports_the_selection(tmp_path, monkeypatch, capsys, recommended):
    path, _ = _planted_csv(tmp_path, m=40)
    calls = []
    monkeypatch.setattr(ising_diffusion, "augment", _fake_augment(calls, recommended))
    out = tmp_path / "aug.npz"
    argv = ["augment", str(path), "--out", str(out), "--solver", "erasure", "--option", "eps_grid=0.4,0.5",
            "--no-progress"]
    assert cli.main(argv) == 0
    assert calls[0]["solver"] == "erasure" and calls[0]["solver_options"] == {"eps_grid": (0.4, 0.5)}
    text = capsys.readouterr().out
    with np.load(out) as f:
        assert str(f["selected"]) == ("combined" if recommended else "train")
        np.testing.assert_allclose(f["h"], 0.3 if recommended else 0.1)
        assert ("samples" in f) == recommended
    if recommended:
        assert "selected: combined parameters from the model of optimiser step 160 (crossed at 40)" in text
    else:
        assert "not recommended: the energy variance never crossed" in text and "--write-unrecommended" in text
        assert cli.main(argv + ["--write-unrecommended"]) == 0
        with np.load(out) as f:
            assert "samples" in f and str(f["selected"]) == "train"
    code, _, err = _exit_code(["augment", str(path), "--out", str(out), "--solver", "pseudolikelihood", "--option",
                               "eps_grid=0.4"], capsys)
    assert code == 2 and "has no option 'eps_grid'" in err


def test_impute_with_the_true_model_is_the_exact_completion(tmp_path, capsys):
    data = tmp_path / "answers.txt"
    shutil.copy(ANSWERS, data)
    truth = ANSWERS.with_name("answers_truth.npz")
    out = tmp_path / "filled.txt"
    assert cli.main(["impute", str(data), "--params", str(truth), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    given = read_spin_file(data)
    assert f"filled {int(given.mask.sum())} entries in {int(given.mask.any(1).sum())} rows" in text
    filled = read_spin_file(out)
    assert filled.encoding == "binary" and not filled.mask.any()  # written as 0/1 text, like the input
    with np.load(truth) as f:
        params = ising_diffusion.IsingParams(f["h"], f["J"])
    want = complete_missing(params, given.spins, given.mask).spins
    np.testing.assert_array_equal(filled.spins, want)
    prob = np.loadtxt(tmp_path / "filled_prob.txt")
    np.testing.assert_allclose(prob, completion_marginals(params, given.spins, given.mask), atol=1e-6)


def test_impute_fits_and_scores_a_holdout(tmp_path, capsys):
    src = read_spin_file(ANSWERS)
    data = tmp_path / "answers.csv"  # the same data as CSV with a header and an index column: both kept
    save_spins(data, src.spins, src.mask, encoding="binary", columns=["id"] + [f"q{i}" for i in range(12)],
               index=[f"s{i}" for i in range(300)])
    out = tmp_path / "filled.csv"
    assert cli.main(["impute", str(data), "--index-col", "--out", str(out), "--option", "l2=0.01", "--holdout", "2",
                     "--save-params", str(tmp_path / "fit.npz")]) == 0
    text = capsys.readouterr().out
    n_complete = int((~src.mask.any(1)).sum())
    assert f"fitting pseudolikelihood, l2=0.01 on the {n_complete} complete rows" in text
    acc = [float(line.split("accuracy ")[1].split(",")[0]) for line in text.splitlines() if "accuracy" in line]
    assert len(acc) == 2 and acc[0] > acc[1]  # a planted pairwise model beats independent spins
    filled = read_spin_file(out, index_col=True)
    assert filled.columns[0] == "id" and filled.index[:2] == ("s0", "s1") and not filled.mask.any()
    with np.load(tmp_path / "fit.npz") as f:
        params = ising_diffusion.IsingParams(f["h"], f["J"])
    np.testing.assert_array_equal(filled.spins, complete_missing(params, src.spins, src.mask).spins)
    np.testing.assert_array_equal(np.where(src.mask, 0, filled.spins), np.where(src.mask, 0, src.spins))
    # all rows, the gaps treated as hidden: the fill is the exact completion under that fit
    assert cli.main(["impute", str(data), "--index-col", "--out", str(out), "--option", "l2=0.01", "--fit-rows",
                     "all", "--save-params", str(tmp_path / "em.json")]) == 0
    assert f"on all {len(src.spins)} rows ({n_complete} complete)" in capsys.readouterr().out
    params = load_params(tmp_path / "em.json")
    np.testing.assert_array_equal(read_spin_file(out, index_col=True).spins,
                                  complete_missing(params, src.spins, src.mask).spins)


def test_reader_options_reach_every_command(tmp_path, capsys):
    path = tmp_path / "d.dat"
    path.write_text("label\ta\tb\nx\t1\t0\ny\t0\t0\nz\t1\t1\n")
    argv = ["infer", str(path), "--method", "independent_exact", "--delimiter", "tab", "--index-col"]
    assert cli.main(argv + ["--out", str(tmp_path / "p.npz")]) == 0
    with np.load(tmp_path / "p.npz") as f:  # binary detected: columns 0/1 -> m = (1/3, -1/3)
        np.testing.assert_allclose(f["h"], np.arctanh([1 / 3, -1 / 3]), rtol=1e-5)
    code, _, err = _exit_code(argv + ["--encoding", "spins"], capsys)
    assert code == 2 and "row 1 (line 2), column 3: value 0" in err and "--encoding binary" in err
    code, _, err = _exit_code(["infer", str(ANSWERS)], capsys)
    assert code == 2 and f"{int(read_spin_file(ANSWERS).mask.sum())} missing entries" in err and "impute" in err
