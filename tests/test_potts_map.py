"""The map's planted Potts rows (issue 23, item 5): the task, true-graph precision against planted truths, and the
experiment end to end on the tiny preset with a stand-in ``augment_seeds`` (the real one is run by
``ising-diffusion run map --preset potts_tiny``, minutes of compilation on a CPU; docs/map.md)."""

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np
import pytest

from ising_diffusion import dca
from ising_diffusion.experiments import potts_map
from ising_diffusion.experiments.configs.map import get_config
from ising_diffusion.experiments.configs.potts_map import PottsMapConfig
from ising_diffusion.experiments.map import run_map
from ising_diffusion.experiments.runner import RunConfigMismatch, seed_keys
from ising_diffusion.potts import PottsParams, potts_parameter_mse, potts_sparse_params
from ising_diffusion.potts_sampling import potts_gibbs_sample


def _corr_fit(seqs, q):
    """A cheap stand-in fit: connected pair correlations as couplings (distinct for distinct data)."""
    x = np.eye(q, dtype=np.float64)[np.asarray(seqs)]
    f = x.mean(0)
    c = np.einsum("mia,mjb->ijab", x, x) / x.shape[0] - np.einsum("ia,jb->ijab", f, f)
    c[np.arange(f.shape[0]), np.arange(f.shape[0])] = 0.0
    return PottsParams(np.log(f + 0.01).astype(np.float32), c.astype(np.float32))


class FakeSeedsAugment:
    """``augment_seeds``' stand-in for sequences: uniform random "generated" sequences, :func:`_corr_fit` as every
    fit; it recommends the combined fit for seed 0 only."""

    def __init__(self):
        self.calls = []

    def __call__(self, keys, train, test, *, generator, n_augmented, config, generator_config, true_params, progress,
                 checkpoint_dir, solver_options, q, theta):
        self.calls.append(dict(generator=generator, n_states=generator_config.n_states, q=q, theta=theta,
                               shape=np.shape(train), solver_options=solver_options))
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)  # as the real call: checkpoints in the run folder
        (Path(checkpoint_dir) / "200").touch()
        s, m, length = np.shape(train)
        rng = np.random.default_rng([len(generator), int(np.asarray(jax.random.key_data(keys)).sum() % 2**31)])
        samples = rng.integers(0, q, (s, n_augmented, length))
        stack = lambda ps: jax.tree.map(lambda *a: np.stack(a), *ps)  # noqa: E731
        p_train = stack([_corr_fit(train[i], q) for i in range(s)])
        p_comb = stack([_corr_fit(np.concatenate([samples[i], train[i]]), q) for i in range(s)])
        rec = np.arange(s) == 0
        p_sel = jax.tree.map(lambda a, b: np.where(rec.reshape((-1,) + (1,) * (a.ndim - 1)), a, b), p_comb, p_train)
        mse = {k: np.array([float(potts_parameter_mse(jax.tree.map(lambda a: a[i], true_params),
                                                      jax.tree.map(lambda a: a[i], p))) for i in range(s)])
               for k, p in (("train", p_train), ("combined", p_comb), ("selected", p_sel))}
        n_mix = len(config.selection.mix_grid)  # a made-up held-out score per (seed, point, mix): mixes gain 0.1
        curve = SimpleNamespace(score=np.broadcast_to(np.r_[-1.0, np.full(n_mix - 1, -0.9)], (s, 3, n_mix)))
        return SimpleNamespace(samples=samples, params_train=p_train, params_combined=p_comb, params_selected=p_sel,
                               curve=curve, score={"train": np.full(s, -1.0)},
                               mse=mse, recommended=rec, stop_mix=np.where(rec, 1.0, 0.0), solver_l2=np.full(s, 0.05),
                               solver_l2_combined=np.full(s, 0.02),
                               quality=SimpleNamespace(pair_ratio=np.full(s, 1.5),
                                                       identical_fraction=0.25 * np.arange(s)),
                               timing={"total": 0.01})


@pytest.fixture
def fake(monkeypatch):
    f = FakeSeedsAugment()
    monkeypatch.setattr(potts_map, "augment_seeds", f)
    monkeypatch.setattr(potts_map, "fit_cv", lambda cfg, seqs, q: _corr_fit(seqs, q))
    return f


def _rows(path):
    rows = json.loads(path.read_text())["rows"]
    return [{k: v for k, v in r.items() if not k.startswith("time_")} for r in rows]


def test_tiny_preset_runs_end_to_end_and_resumes_to_identical_rows(fake, tmp_path, capsys):
    cfg = dataclasses.replace(get_config("potts_tiny"), oracle_factor=1.25)  # one Gibbs shape: one compilation
    summary = run_map(cfg, tmp_path)  # the map's entry point dispatches on the config
    assert [c["generator"] for c in fake.calls] == ["d3pm_categorical", "ddpm_onehot"]
    assert all(c["n_states"] == 3 == c["q"] and c["theta"] == 1.0 and c["shape"] == (2, 24, 6) for c in fake.calls)
    assert {r["generator"] for r in summary} == {"d3pm_categorical", "ddpm_onehot"}
    rows = _rows(tmp_path / "results.json")
    assert len(rows) == 4 and (tmp_path / "potts_map.png").is_file() and (tmp_path / "summary.csv").is_file()
    for r in rows:
        for c in ("mse_train", "mse_selected", "mse_combined", "mse_oracle", "prec_train", "prec_selected",
                  "prec_combined", "prec_oracle", "prec_L2_train", "ratio_selected", "ratio_combined"):
            assert np.isfinite(r[c]) and (0 <= r[c] <= 1 if c.startswith("prec") else r[c] > 0), (c, r[c])
        # the stand-in recommends seed 0 only: seed 1's selected fit is the training fit, paired ratio exactly 1
        assert (r["ratio_selected"] == 1.0) == (r["seed"] == 1) and r["recommended"] == (r["seed"] == 0)
        assert r["dprec_selected"] == r["prec_selected"] - r["prec_train"] and np.isclose(r["score_gain"], 0.1)
        assert r["quality_identical"] == 0.25 * r["seed"]  # each seed's own generated set
        assert r["solver_l2"] == 0.05 and r["solver_l2_combined"] == 0.02
    first = {(r["point"], r["seed"]): r for r in rows}
    assert first[("ddpm_onehot:potts_sparse:L=6:q=3:g=1:M=24", 0)]["mse_train"] == \
        first[("d3pm_categorical:potts_sparse:L=6:q=3:g=1:M=24", 0)]["mse_train"]  # paired: same data and fit
    assert "lowered MSE / raised top-|E| precision" in capsys.readouterr().out
    assert not list((tmp_path / "checkpoints").glob("*/*"))  # removed once every point's rows were saved

    # resume: one generator's rows lost; the rerun computes them again, identical, and calls nothing else
    saved = json.loads((tmp_path / "results.json").read_text())
    saved["rows"] = [r for r in saved["rows"] if not r["point"].startswith("ddpm_onehot")]
    (tmp_path / "results.json").write_text(json.dumps(saved))
    run_map(cfg, tmp_path)
    assert [c["generator"] for c in fake.calls[2:]] == ["ddpm_onehot"]
    assert {(r["point"], r["seed"]): r for r in _rows(tmp_path / "results.json")} == first
    with pytest.raises(RunConfigMismatch):
        run_map(dataclasses.replace(cfg, n_seeds=1), tmp_path)


def test_true_graph_precision_recovers_a_planted_graph_from_many_samples():
    """L = 10, q = 3 sparse truth (11 edges): the truth's own couplings rank its edges first; a mean-field fit to
    5,000 independent Gibbs samples ranks all top-L/2 pairs and most top-|E| pairs right (mean-field is biased at
    g = 1); a fit to another truth's samples does not."""
    params, graph = potts_sparse_params(jax.random.key(3), 10, 3, degree=2.0, g=1.0)
    other, _ = potts_sparse_params(jax.random.key(4), 10, 3, degree=2.0, g=1.0)
    assert int(graph.sum()) // 2 == 11
    assert potts_map.true_graph_precision(params, graph) == {"prec": 1.0, "prec_L2": 1.0}
    fits = {}
    for name, p in (("own", params), ("other", other)):
        x = np.asarray(potts_gibbs_sample(jax.random.key(5), p, 5000, n_chains=5000, burn_in=50, thin=1).samples)
        fits[name] = potts_map.true_graph_precision(dca(x, method="mf", q=3, gap_state=None).params, graph)
    assert fits["own"]["prec"] >= 0.8 and fits["own"]["prec_L2"] == 1.0
    assert fits["other"]["prec"] < 0.5 and fits["other"]["prec_L2"] < 0.5
    assert np.isnan(potts_map.true_graph_precision(params, np.zeros_like(graph))["prec"])  # no edge: no precision


def test_potts_task_is_paired_and_drawn_from_the_truth():
    cfg = get_config("potts_tiny")
    keys = seed_keys(cfg.seed, [0, 1])
    a, b = potts_map.potts_task(cfg, ("potts_sparse", 6, 3, 1.0, 24), keys), \
        potts_map.potts_task(cfg, ("potts_sparse", 6, 3, 1.0, 40), keys)
    assert a.train.shape == (2, 24, 6) and a.test.shape == (2, cfg.n_test(24), 6) and a.graph.shape == (2, 6, 6)
    np.testing.assert_array_equal(a.truth.J, b.truth.J)  # the seed's truth does not depend on M
    assert not np.array_equal(a.truth.J[0], a.truth.J[1])  # seeds differ
    want, graph = potts_sparse_params(jax.random.fold_in(keys[1], 1), 6, 3, degree=cfg.degree, g=1.0)
    np.testing.assert_allclose(a.truth.J[1], want.J)
    np.testing.assert_array_equal(a.graph[1], graph)
    assert a.train.min() >= 0 and a.train.max() < 3


@pytest.mark.parametrize("changes,message", [
    (dict(extra_points=(("sk", 20, 4, 1.0, 100),)), "truth must be one of"),
    (dict(lengths=(2,)), "L >= 3"),
    (dict(theta=0.0), "theta"),
    (dict(degree=30.0), "degree"),
    (dict(solver_options={"l2": 0.1}), "l2"),
    (dict(q_values=(4.5,)), r"integers, got \[4.5\]"),  # was cut to q = 4 silently
    (dict(extra_points=(("potts_sparse", 20, 4, 1.0, 100),)), "must be distinct"),  # the grid's first point again
    (dict(extra_points=(("potts_sparse", 20, 4),)), r"\(truth, L, q, g, M\) tuples"),
])
def test_bad_potts_map_configs_raise(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(PottsMapConfig(), **changes)


def test_potts_presets_cover_the_issue_range():
    paper = get_config("potts_paper")
    pts = paper.points()
    assert {p[1] for p in pts} == {20, 50} and {p[2] for p in pts} == {4, 21}
    assert min(p[4] for p in pts) == 100 and max(p[4] for p in pts) == 2000
    quick = get_config("potts_quick")
    assert {p[:4] for p in quick.points()} == {("potts_sparse", 20, 4, 1.0)} and quick.n_seeds >= 3
