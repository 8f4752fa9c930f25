"""Retina loader: both MATLAB layouts on small synthetic files, paths, clear errors, the real file if present."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.io

from ising_diffusion.datasets import retina
from ising_diffusion.datasets.retina import (
    RETINA_ENV_VAR,
    find_retina_file,
    load_retina,
    load_retina_binary,
    select_active_cells,
)


def _synthetic_binary(n_bins=300, n_cells=6, seed=0):
    rng = np.random.default_rng(seed)
    rates = np.array([0.05, 0.4, 0.1, 0.3, 0.02, 0.2])[:n_cells]
    return (rng.random((n_bins, n_cells)) < rates[None, :]).astype(np.uint8)


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(RETINA_ENV_VAR, raising=False)


def test_data_layout(tmp_path, no_env):
    binary = _synthetic_binary()
    file = tmp_path / "salamander_retina_50neurons_20ms.mat"
    scipy.io.savemat(file, {"data": binary})
    got, path = load_retina_binary(file)
    np.testing.assert_array_equal(got, binary)
    assert path == file
    cells, rates = select_active_cells(binary, 3)
    np.testing.assert_array_equal(cells, np.argsort(-binary.mean(0), kind="stable")[:3])
    assert np.all(np.diff(rates) <= 0)

    data = load_retina(tmp_path, n_cells=3, key=jax.random.key(1), n_train=None, n_test=40)  # folder path
    assert data.train.shape == (260, 3) and data.test.shape == (40, 3)
    np.testing.assert_array_equal(data.cells, cells)
    np.testing.assert_allclose(data.rates, rates)
    both = np.concatenate([np.asarray(data.train), np.asarray(data.test)])
    assert set(np.unique(both)) == {-1.0, 1.0}
    # A shuffle of all bins: the same multiset of rows as the selected columns, mapped s = 2x - 1.
    expect = 2.0 * binary[:, cells] - 1.0
    np.testing.assert_array_equal(np.unique(both, axis=0, return_counts=True)[1],
                                  np.unique(expect, axis=0, return_counts=True)[1])
    np.testing.assert_allclose(both.mean(0), expect.mean(0), atol=1e-6)
    again = load_retina(file, n_cells=3, key=jax.random.key(1), n_train=None, n_test=40)
    np.testing.assert_array_equal(np.asarray(again.test), np.asarray(data.test))
    other = load_retina(file, n_cells=3, key=jax.random.key(2), n_train=None, n_test=40)
    assert not np.array_equal(np.asarray(other.test), np.asarray(data.test))


def test_bint_layout_matches_data_layout(tmp_path, no_env):
    n_rep, n_cells, n_time = 4, 6, 25
    binary = _synthetic_binary(n_rep * n_time, n_cells, seed=3)
    bint = binary.reshape(n_rep, n_time, n_cells).transpose(0, 2, 1)  # repeats x cells x time
    bint = bint * np.random.default_rng(4).integers(1, 3, size=bint.shape)  # spike counts > 1 binarise to 1
    file = tmp_path / "bint_fishmovie32_100.mat"
    scipy.io.savemat(file, {"bint": bint.astype(np.float64)})
    got, _ = load_retina_binary(file)
    np.testing.assert_array_equal(got, binary)  # repeat-major rows, the 50-cell file's order
    data = load_retina(file, n_cells=2, n_train=80, n_test=20)
    assert data.train.shape == (80, 2) and data.test.shape == (20, 2)


def test_folder_preference_and_env_var(tmp_path, monkeypatch):
    scipy.io.savemat(tmp_path / "bint_fishmovie32_100.mat", {"bint": np.zeros((1, 2, 3))})
    assert find_retina_file(tmp_path).name == "bint_fishmovie32_100.mat"
    scipy.io.savemat(tmp_path / "salamander_retina_50neurons_20ms.mat", {"data": np.zeros((3, 2))})
    assert find_retina_file(tmp_path).name == "salamander_retina_50neurons_20ms.mat"
    monkeypatch.setenv(RETINA_ENV_VAR, str(tmp_path / "bint_fishmovie32_100.mat"))
    assert find_retina_file().name == "bint_fishmovie32_100.mat"
    assert find_retina_file(tmp_path).name == "salamander_retina_50neurons_20ms.mat"  # an explicit path wins


def test_missing_file_says_where_to_get_it(tmp_path, monkeypatch, no_env):
    with pytest.raises(FileNotFoundError, match="record 61"):
        load_retina(tmp_path / "nope.mat")
    with pytest.raises(FileNotFoundError, match="record 61"):
        find_retina_file(tmp_path)  # a folder without the file
    monkeypatch.setattr(retina, "_REPO_ROOT", tmp_path / "a" / "b")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        find_retina_file()


def test_bad_files(tmp_path, no_env):
    scipy.io.savemat(tmp_path / "x.mat", {"spikes": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="neither a 'data'"):
        load_retina_binary(tmp_path / "x.mat")
    scipy.io.savemat(tmp_path / "y.mat", {"bint": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="3-D"):
        load_retina_binary(tmp_path / "y.mat")
    scipy.io.savemat(tmp_path / "z.mat", {"data": -np.ones((3, 2))})
    with pytest.raises(ValueError, match="non-negative integers"):
        load_retina_binary(tmp_path / "z.mat")
    (tmp_path / "w.mat").write_bytes(b"not a mat file")
    with pytest.raises(ValueError, match="cannot read"):
        load_retina_binary(tmp_path / "w.mat")
    scipy.io.savemat(tmp_path / "v.mat", {"data": _synthetic_binary(50)})
    with pytest.raises(ValueError, match="n_cells"):
        load_retina(tmp_path / "v.mat", n_cells=7)
    with pytest.raises(ValueError, match="cannot take"):
        load_retina(tmp_path / "v.mat", n_cells=2, n_train=45, n_test=10)


def _real_file():
    try:
        return find_retina_file()
    except FileNotFoundError:
        return None


@pytest.mark.skipif(_real_file() is None, reason="retina recording not present (see ising_diffusion.datasets.retina)")
def test_real_recording():
    binary, _ = load_retina_binary(_real_file())
    assert binary.shape[0] == 297 * 953 and binary.shape[1] in (50, 160)
    data = load_retina(n_cells=40)
    assert data.train.shape == (8000, 40) and data.test.shape == (1000, 40)
    # The README's figures: the 40 most active cells fire in 1.3% to 16% of bins; 39% of bins are silent in all 40.
    assert 0.012 < data.rates.min() < data.rates.max() < 0.17
    silent = np.mean(np.all(binary[:, data.cells] == 0, axis=1))
    assert 0.36 < silent < 0.42
    np.testing.assert_allclose(np.asarray(data.train).mean(0), 2 * data.rates - 1, atol=0.03)


# --- Fig. 6 (ising_diffusion.experiments.fig6 and .retina); the full tiny run with the real diffusion model is slow


def test_fig6_masks_scores_and_summary(tmp_path):
    from ising_diffusion import IsingParams, exact_sample, sk_params
    from ising_diffusion.experiments import retina as fig6_parts
    from ising_diffusion.experiments.plotting import plot_fig6
    from ising_diffusion.experiments.rows import format_table, summarize

    masks = fig6_parts.random_masks(jax.random.key(0), 50, 7, 3)
    assert masks.dtype == bool and np.all(masks.sum(1) == 3)
    assert not np.array_equal(masks, fig6_parts.random_masks(jax.random.key(1), 50, 7, 3))
    params = sk_params(jax.random.key(2), 7, g=2.0)
    train = exact_sample(jax.random.key(3), params, 500)
    test = exact_sample(jax.random.key(4), params, 50)
    indep = IsingParams(jnp.arctanh(jnp.clip(train.mean(0), -0.99, 0.99)), jnp.zeros((7, 7)))
    rows = fig6_parts.evaluate_models({"independent": indep, "erasure_train": params}, train, test, masks)
    by = {r["model"]: r for r in rows}
    assert set(by) == {"trivial", "independent", "erasure_train"}
    assert np.isnan(by["trivial"]["cll_per_entry"]) and by["independent"]["cll_minus_independent"] == 0.0
    assert by["erasure_train"]["cll_per_entry"] < 0 and by["erasure_train"]["n_hidden"] == 150
    # the true model scores its own samples better than the independent model
    assert by["erasure_train"]["cll_minus_independent"] > 0
    models = ["trivial", "independent", "erasure_train"]
    # two seeds x two masks; seed 1 scores 0.1 higher: masks average within a seed, the interval is over seeds
    all_rows = [dict(r, seed=s, k=3, mask=m, accuracy=r["accuracy"] + 0.1 * s) for s in range(2) for m in range(2)
                for r in rows]
    means = fig6_parts.mask_means(all_rows, models)
    assert len(means) == 6 and all(r["n_masks"] == 2 for r in means)
    summary = summarize(means, ["k", "model"], fig6_parts.METRICS)
    assert [s["model"] for s in summary] == models
    s = summary[2]
    assert s["n_seeds"] == 2 and np.isclose(s["accuracy_mean"], by["erasure_train"]["accuracy"] + 0.05)
    # Student-t with 1 degree of freedom: half-width 12.706 * sd / sqrt(2) = 12.706 * 0.05
    np.testing.assert_allclose(s["accuracy_hi"] - s["accuracy_mean"], 12.706 * 0.05, rtol=1e-3)
    assert "erasure_train" in format_table(summary, ["k", "model"], {"acc": "accuracy"})
    curves = [{"seed": 0, "epoch": e, "generated_variance": v, "train_variance": 2.5, "test_variance": 2.2}
              for e, v in ((2, 3.0), (4, 2.0))]
    plot_fig6(tmp_path / "f.png", summary, curves, models)
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_fig6_config_validation():
    from ising_diffusion.experiments.configs.fig6 import Fig6Config, get_config

    assert 14 in get_config("quick").ks and get_config("paper").n_eval is None
    with pytest.raises(ValueError, match="ks"):
        Fig6Config(ks=(21,))
    with pytest.raises(ValueError, match="solvers"):
        Fig6Config(solvers=("tap",))
    with pytest.raises(ValueError, match="preset"):
        get_config("huge")


def test_fig6_print_config(capsys):
    from ising_diffusion import cli

    import json

    # the CLI hands fig6 its options; --print-config prints and returns before any work (the file need not exist)
    assert cli.main(["run", "fig6", "--preset", "tiny", "--data", "some/file.mat", "--set", "n_masks=3",
                     "--print-config"]) == 0

    cfg = json.loads(capsys.readouterr().out)
    assert cfg["n_masks"] == 3 and cfg["data_path"] == "some/file.mat" and cfg["ks"] == [2, 4]


def _fig6_args(tmp_path, seeds=2):
    rng = np.random.default_rng(0)
    x = (rng.random((400, 8)) < np.linspace(0.05, 0.4, 8)[None, :]).astype(np.uint8)
    scipy.io.savemat(tmp_path / "r.mat", {"data": x})
    return ["--preset", "tiny", "--data", str(tmp_path / "r.mat"), "--out", str(tmp_path / "run"), "--no-progress",
            "--seeds", str(seeds)]


def test_fig6_tiny_on_the_common_runner(tmp_path, no_env, monkeypatch):
    """Fig. 6 with a stand-in generator (the real one is the slow test below): one batched augmentation for all
    seeds, the common run folder (results.csv, summary.csv with Student-t intervals over seeds) and resume."""
    import json

    from fake_augment import install_fake
    from ising_diffusion.experiments import fig6, synthetic

    fake = install_fake(monkeypatch)
    args = _fig6_args(tmp_path) + ["--set", "solvers=('erasure',)"]  # pseudolikelihood: in the slow test
    summary = fig6.main(args)
    assert len(fake.calls) == 1 and fake.calls[0]["n_seeds"] == 2  # seeds batched like figs 2-5
    assert {s["k"] for s in summary} == {2, 4} and len(summary) == 2 * 5 and all(s["n_seeds"] == 2 for s in summary)
    run = tmp_path / "run"
    for name in ("config.json", "results.json", "results.csv", "summary.csv", "curves.csv", "diffusion.csv",
                 "models.npz", "fig6.png"):
        assert (run / name).is_file(), name
    rows = json.loads((run / "results.json").read_text())["rows"]
    assert len(rows) == 2 * 2 * 2 * 5  # k x seeds x masks x models
    assert json.loads((run / "config.json").read_text())["experiment"] == "fig6"
    header = (run / "summary.csv").read_text().splitlines()[0].split(",")
    assert {"accuracy_mean", "accuracy_lo", "accuracy_hi", "n_seeds"} <= set(header)
    again = fig6.main(args)  # resumes: nothing refitted or rescored, same numbers
    assert len(fake.calls) == 1
    assert [s["accuracy_mean"] for s in again] == [s["accuracy_mean"] for s in summary]
    data = json.loads((run / "results.json").read_text())  # as if killed during k=4: only k=4 is scored again
    data["rows"] = [r for r in data["rows"] if r["k"] != 4]
    (run / "results.json").write_text(json.dumps(data))
    third = fig6.main(args)
    assert len(fake.calls) == 1  # the fitted models are reused from models.npz
    assert [s["accuracy_mean"] for s in third] == [s["accuracy_mean"] for s in summary]
    with pytest.raises(SystemExit):  # a different config in the same folder is refused
        fig6.main(args + ["--set", "n_eval=10"])


@pytest.mark.slow
def test_fig6_tiny_run_and_resume(tmp_path, no_env):
    from ising_diffusion.experiments import fig6

    args = _fig6_args(tmp_path, seeds=1)
    summary = fig6.main(args)
    assert {s["k"] for s in summary} == {2, 4} and len(summary) == 2 * 8
    for name in ("results.json", "results.csv", "summary.csv", "diffusion.csv", "fig6.png", "models.npz"):
        assert (tmp_path / "run" / name).exists(), name
    again = fig6.main(args)  # resumes: nothing recomputed, same numbers
    assert [s["accuracy_mean"] for s in again] == [s["accuracy_mean"] for s in summary]
