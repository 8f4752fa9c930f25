"""The map of issue 14: the truth dispatcher, the presets, and the experiment end to end with a fake generator."""

import csv
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.experiments import synthetic
from ising_diffusion.experiments.configs.map import MapConfig, get_config
from ising_diffusion.ising import hopfield_params, sk_params, sparse_params
from ising_diffusion.synthetic import TRUTH_KINDS, truth_key, truth_params

from fake_augment import install_fake


@pytest.fixture
def fake(monkeypatch):
    f = install_fake(monkeypatch)
    return f


def _columns(path):
    with open(path) as f:
        return next(csv.reader(f))


def test_truth_params_gives_each_kind_its_structure():
    key, n, g = jax.random.key(3), 40, 1.5
    off = ~np.eye(n, dtype=bool)
    for kind in TRUTH_KINDS:
        p = truth_params(kind, key, n, g)
        J = np.asarray(p.J)
        assert p.h.shape == (n,) and J.shape == (n, n)
        np.testing.assert_array_equal(J, J.T)
        assert np.all(np.diag(J) == 0)
    sk = np.asarray(truth_params("sk", key, n, g).J)
    assert np.all(sk[off] != 0)  # dense
    np.testing.assert_array_equal(sk, sk_params(key, n, g).J)
    sparse = np.asarray(truth_params("sparse", key, n, g, degree=3.0).J)
    degrees = (sparse != 0).sum(1)
    assert 2.0 < degrees.mean() < 4.0 and (sparse[off] == 0).mean() > 0.8  # about 3 of 39 neighbours
    np.testing.assert_array_equal(sparse, sparse_params(key, n, 3.0, g).J)
    hop = np.asarray(truth_params("hopfield", key, n, g, n_patterns=2).J)
    assert np.linalg.matrix_rank(hop + g * np.sqrt(2 / n) * np.eye(n), tol=1e-4) == 2  # low rank
    np.testing.assert_array_equal(hop, hopfield_params(key, n, 2, g).J)
    with pytest.raises(ValueError, match="unknown truth kind"):
        truth_params("gaussian", key, n, g)


def test_synthetic_task_takes_the_truth_kind():
    keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(0), s))(jnp.arange(2, dtype=jnp.uint32))
    task = synthetic.synthetic_task(keys, 8, 1.0, 16, 4, truth="hopfield", truth_options={"n_patterns": 1})
    want = truth_params("hopfield", truth_key(keys[1]), 8, 1.0, n_patterns=1)
    np.testing.assert_allclose(task.truth.J[1], want.J, rtol=1e-6)
    assert task.train.shape == (2, 16, 8) and task.test.shape == (2, 4, 8)
    with pytest.raises(ValueError, match="unknown truth kind"):
        synthetic.synthetic_task(keys, 8, 1.0, 16, 4, truth="gaussian")


def test_presets_cover_the_issue():
    quick, paper = get_config("quick"), get_config("paper")
    assert quick.n_seeds >= 6 and set(quick.generators) == {"ddpm", "d3pm"}
    grid = {(t, 20, g, m) for t in TRUTH_KINDS for g in (1.0, 2.0) for m in (200, 800)}
    assert set(quick.points()) == grid | {("sk", 40, 1.0, 1000)}
    assert paper.n_seeds >= 10 and set(paper.generators) == {"ddpm", "d3pm", "rbm"}
    with pytest.raises(ValueError, match="truth kinds"):
        MapConfig(truths=("sk", "gaussian"))


def test_map_tiny_runs_writes_tables_and_resumes(fake, tmp_path, capsys):
    from ising_diffusion.cli import main as cli_main

    out = tmp_path / "map"
    args = ["run", "map", "--preset", "tiny", "--out", str(out), "--no-progress"]
    cli_main(args)
    cfg = get_config("tiny")
    n_points, n_gen = len(cfg.points()), len(cfg.generators)
    assert len(fake.calls) == n_points * n_gen
    assert {c["generator"] for c in fake.calls} == set(cfg.generators)
    for f in ("config.json", "oracle.csv", "results.csv", "summary.csv", "map.png"):
        assert (out / f).is_file(), f
    want = {"truth", "n_spins", "g", "n_train", "generator", "seed", "mse_train", "mse_selected", "mse_combined",
            "mse_oracle", "ratio_selected", "ratio_combined", "ratio_oracle", "recommended", "moment_rms_first",
            "moment_rms_second", "score_train", "score_selected", "n_test"}
    assert want <= set(_columns(out / "results.csv"))
    assert {"n_seeds", "ratio_selected_mean", "ratio_selected_lo", "ratio_selected_hi", "ratio_oracle_mean",
            "mse_oracle_mean"} <= set(_columns(out / "summary.csv"))
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert len(rows) == n_points * n_gen * cfg.n_seeds
    for r in rows:
        assert r["ratio_selected"] == pytest.approx(r["mse_selected"] / r["mse_train"])
        assert r["mse_oracle"] > 0 and 0 <= r["moment_rms_second"] < 2
        assert r["solver_l2"] == 0.01 and r["solver_l2_combined"] == 0.001  # the stand-in's penalties, per row
        assert r["score_train"] == -1.0 and r["n_test"] == int(round(cfg.test_fraction * r["n_train"]))
    oracle = json.loads((out / "oracle.json").read_text())["rows"]
    assert len(oracle) == n_points * cfg.n_seeds and all(r["n_oracle"] == 10 * 32 for r in oracle)
    by_seed = {(r["truth"], r["n_spins"], r["seed"]): r["mse_oracle"] for r in rows if r["generator"] == "ddpm"}
    assert all(by_seed[(r["truth"], r["n_spins"], r["seed"])] == r["mse_oracle"] for r in rows)  # shared
    assert "selected/train" in capsys.readouterr().out
    first = (out / "summary.csv").read_text()

    cli_main(args)  # resume: nothing recomputed
    assert len(fake.calls) == n_points * n_gen and (out / "summary.csv").read_text() == first
    data = json.loads((out / "results.json").read_text())
    data["rows"] = [r for r in data["rows"] if not (r["truth"] == "sparse" and r["generator"] == "d3pm")]
    (out / "results.json").write_text(json.dumps(data))
    cli_main(args)  # a point killed half-way: only it runs again
    assert len(fake.calls) == n_points * n_gen + 1 and fake.calls[-1]["generator"] == "d3pm"
