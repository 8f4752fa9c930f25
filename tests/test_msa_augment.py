"""The ``augment:<generator>`` methods of the ``msa`` experiment (issue 23, item 4) on the committed PF00014 subsample.

The fast tests replace ``augment`` by :class:`FakeSequenceAugment` (a useless generator: uniform random sequences, and
pair correlations as every fit; it declines or recommends as told) and the experiment's pseudolikelihood fits by
mean-field DCA (``fast_fits`` of ``test_msa_experiment``), so the wiring (split, rows, safe answer, resume, summary) is
tested in seconds. The slow test calls the real ``augment`` with a 2-fold, one-penalty CV and a few optimiser steps.
"""

import dataclasses
import importlib
import json
import os
from types import SimpleNamespace

import jax
import numpy as np
import pytest

from ising_diffusion.checkpoint import KEEP_CHECKPOINTS_ENV
from ising_diffusion.contacts import contact_scores
from ising_diffusion.experiments import msa as msa_exp
from ising_diffusion.experiments.configs.msa import MSAConfig, get_config
from ising_diffusion.experiments.msa_augment import QUALITY_COLUMNS, heldout_split
from ising_diffusion.experiments.msa_summary import precision_columns, summarize_msa
from ising_diffusion.io import read_alignment
from ising_diffusion.augment.score import mix_sizes
from ising_diffusion.augment.sequences import SequenceData, sequence_quality
from ising_diffusion.potts import PottsParams

from test_msa_experiment import fast_fits  # noqa: F401  (a fixture)

GENS = ("d3pm_categorical", "ddpm_onehot")
augment_pkg = importlib.import_module("ising_diffusion.augment")  # the package (its parent's attribute is the function)


def _mf(seqs, theta):
    """A cheap stand-in fit: connected correlations as couplings (distinct for distinct data, no matrix inverse)."""
    del theta
    x = np.eye(21, dtype=np.float64)[np.asarray(seqs)]  # (M, L, q)
    f = x.mean(0)
    c = np.einsum("mia,mjb->ijab", x, x) / x.shape[0] - np.einsum("ia,jb->ijab", f, f)
    c[np.arange(f.shape[0]), np.arange(f.shape[0])] = 0.0
    return PottsParams(np.log(f + 0.01).astype(np.float32), c.astype(np.float32))


class FakeSequenceAugment:
    """``augment``'s stand-in for alignments: its "generator" draws uniform random sequences (seeded by the key),
    every fit is :func:`_mf` (pair correlations), and it recommends the first nonzero mix when ``recommend`` (else
    declines)."""

    def __init__(self, recommend: bool):
        self.recommend, self.calls = recommend, []

    def __call__(self, key, train, test, *, generator, config, generator_config, checkpoint_dir, progress,
                 solver_options, q, theta):
        self.calls.append(dict(key=np.asarray(jax.random.key_data(key)), train=train, test=test, generator=generator,
                               solver_options=solver_options, n_states=generator_config.n_states,
                               checkpoint_dir=checkpoint_dir))
        os.makedirs(checkpoint_dir, exist_ok=True)  # as the real call: its checkpoints in the run folder
        open(os.path.join(checkpoint_dir, "200"), "w").close()
        m, length = train.shape
        n_aug = config.n_augmented or 10 * m
        samples = np.random.default_rng(self.calls[-1]["key"]).integers(0, q, (n_aug, length)).astype(np.int8)
        self.calls[-1]["samples"] = samples
        grid = config.selection.mix_grid
        sizes = mix_sizes(grid, m, config.n_monitor_samples or n_aug)
        p_train = _mf(train, theta)
        gain = 0.1 if self.recommend else -0.05  # the best monitored score of a mix, over the training fit's
        combined = _mf(np.concatenate([samples, train]), theta)
        by_score = config.stopping == "score"  # the other rules select the fit to training + every sample
        selected = ((_mf(np.concatenate([train, samples[:sizes[1]]]), theta) if by_score else combined)
                    if self.recommend else p_train)
        stop_mix = (grid[1] if by_score else n_aug / m) if self.recommend else 0.0
        scores = np.array([[-1.0] + [-1.2] * (len(grid) - 1), [-1.0] + [gain - 1.0] * (len(grid) - 1)])  # (P, R)
        return SimpleNamespace(
            samples=samples, params_selected=selected, params_combined=combined,
            recommended=self.recommend, stop_mix=stop_mix, solver_l2=0.05,
            solver_l2_combined=0.002,
            reason="planted: recommended" if self.recommend else "planted: no gain on held-out data",
            score={"train": -1.0, "selected": gain - 1.0 if self.recommend else -np.inf}, timing={"total": 0.01},
            curve=SimpleNamespace(mix_sizes=np.asarray(sizes), score=scores),
            quality=sequence_quality(samples, train, test, SequenceData(q, theta)))


def _cfg(**changes) -> MSAConfig:
    methods = ("plm_cv",) + tuple(f"augment:{g}" for g in GENS)
    return dataclasses.replace(get_config("tiny"), **{"methods": methods, "ceiling": False, **changes})


def _rows(out) -> list[dict]:
    rows = json.loads((out / "results.json").read_text())["rows"]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def _train_of(cfg: MSAConfig, k: int) -> np.ndarray:
    """The training part of subsample ``k`` of the committed family at the config's first depth."""
    fam = msa_exp.load_families(cfg)[0]
    depth = cfg.depths[0]
    rows = msa_exp.subsample_rows(fam.seqs.shape[0], depth, k, cfg.seed)
    return fam.seqs[rows][heldout_split(depth, k, cfg.heldout_size(depth), cfg.seed)[0]]


def _by(rows, method, k):
    return next(r for r in rows if r["method"] == method and r["subsample"] == k)


def test_heldout_split_is_seeded_and_a_partition():
    tr, te = heldout_split(50, 0, 10)
    assert len(te) == 10 and len(tr) == 40 and np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(50))
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(te) > 0)
    assert np.array_equal(te, heldout_split(50, 0, 10)[1]) and not np.array_equal(te, heldout_split(50, 1, 10)[1])
    cfg = get_config("tiny")
    assert cfg.heldout_size(50) == 10 and cfg.heldout_size(12) == 4  # 20%, at least 4
    with pytest.raises(ValueError, match="at least 2"):
        heldout_split(5, 0, 4)


def test_declined_augment_row_is_the_plm_cv_row_and_resumes(fast_fits, monkeypatch, tmp_path):  # noqa: F811
    fake = FakeSequenceAugment(recommend=False)
    monkeypatch.setattr(augment_pkg, "augment", fake)
    cfg, out = _cfg(), tmp_path / "msa"
    summary = msa_exp.run_msa(cfg, out, progress=False)
    rows = _rows(out)
    assert len(rows) == cfg.n_seeds * (1 + 2 * len(GENS)) and len(fake.calls) == cfg.n_seeds * len(GENS)
    assert {r["device"] for r in rows} == {jax.devices()[0].device_kind}  # provenance of every row
    for k in range(cfg.n_seeds):
        cv = _by(rows, "plm_cv", k)
        for g in GENS:
            ans, mix = _by(rows, f"augment:{g}", k), _by(rows, f"augment:{g}:mix", k)
            # (a) declined: the safe answer, plm_cv on the whole subsample, exactly
            for col in ("top_L5", "top_L2", "top_L", "n_seqs", "M_eff", "lambda_J"):
                assert ans[col] == cv[col], (g, k, col)
            assert ans["recommended"] == 0 and ans["mix"] == 0.0 and ans["n_seqs"] == 50
            assert ans["score_gain"] == mix["score_gain"] == pytest.approx(-0.05)
            assert ans["reason"] == mix["reason"] == "planted: no gain on held-out data"  # augment's own sentence
            # (b) the mix row: the fit to training + every generated sequence, with the quality columns
            assert mix["n_train"] == 40 and mix["n_heldout"] == 10 and mix["n_seqs"] == 40 + mix["n_generated"] == 80
            assert set(QUALITY_COLUMNS) <= set(mix) and set(QUALITY_COLUMNS) <= set(ans)
            # uniform noise is further from the held-out sequences than the training set is, and copies none of it
            assert mix["quality_single_ratio"] > 1 and mix["quality_pair_ratio"] > 1
            assert mix["quality_identical"] == 0.0 and mix["quality_median_distance"] > 40
            assert mix["quality_copies"] <= 0.05  # no nearer a training sequence than held-out natural ones
            assert 0.0 <= mix["top_L2"] <= 1.0
    # one split and one key per subsample, the same for both generators (paired); the solver gets plm_cv's options
    first, second = fake.calls[0], fake.calls[1]
    assert first["generator"] != second["generator"] and np.array_equal(first["key"], second["key"])
    assert np.array_equal(first["train"], second["train"]) and not np.array_equal(first["key"], fake.calls[2]["key"])
    assert first["solver_options"] == {"l2": "cv", "max_iter": 50, "cv_folds": 3, "lambda_grid": (1e-3, 1e-2, 0.1)}
    assert first["n_states"] == 21
    s = {x["method"]: x for x in summary}
    assert set(s) == set(cfg.row_methods()) and s["augment:d3pm_categorical"]["diff_L2_mean"] == 0.0
    assert s["augment:ddpm_onehot:mix"]["quality_pair_ratio_mean"] > 1 and s["augment:ddpm_onehot"]["helped_L2"] == 0
    # every call's generated sequences are kept in the run folder, readable as an alignment, state for state
    for call in fake.calls:
        k = next(k for k in range(cfg.n_seeds) if np.array_equal(call["train"], _train_of(cfg, k)))
        path = msa_exp.generated_path(out, cfg.families[0], cfg.depths[0], call["generator"], k)
        assert np.array_equal(read_alignment(path).seqs, call["samples"]), path
    assert len(list((out / "generated").iterdir())) == len(fake.calls)
    # (c) resume: drop one mix row; only that subsample's call runs again and every row comes back the same
    saved = json.loads((out / "results.json").read_text())
    saved["rows"] = [r for r in saved["rows"] if not (r["method"] == "augment:ddpm_onehot:mix" and r["seed"] == 1)]
    (out / "results.json").write_text(json.dumps(saved))
    fake.calls.clear()
    msa_exp.run_msa(cfg, out, progress=False)
    assert [c["generator"] for c in fake.calls] == ["ddpm_onehot"]
    key = lambda r: (r["point"], r["seed"])  # noqa: E731
    assert sorted(_rows(out), key=key) == sorted(rows, key=key)


@pytest.mark.parametrize("keep", [False, True])
def test_a_finished_calls_checkpoints_are_removed_once_its_rows_are_saved(fast_fits, monkeypatch,  # noqa: F811
                                                                         tmp_path, keep):
    """They only serve to resume the call (GBs at paper widths); ISING_DIFFUSION_KEEP_CHECKPOINTS keeps them."""
    fake = FakeSequenceAugment(recommend=False)
    monkeypatch.setattr(augment_pkg, "augment", fake)
    if keep:
        monkeypatch.setenv(KEEP_CHECKPOINTS_ENV, "1")
    msa_exp.run_msa(_cfg(n_seeds=1), tmp_path / "msa", progress=False)
    dirs = [c["checkpoint_dir"] for c in fake.calls]
    assert len(dirs) == len(GENS) and all(str(d).startswith(str(tmp_path / "msa")) for d in dirs)
    assert all(os.path.isdir(d) == keep for d in dirs)
    assert len(_rows(tmp_path / "msa")) == 1 + 2 * len(GENS)


def test_recommended_augment_row_scores_the_selected_fit(fast_fits, monkeypatch, tmp_path):  # noqa: F811
    fake = FakeSequenceAugment(recommend=True)
    monkeypatch.setattr(augment_pkg, "augment", fake)
    cfg = _cfg(methods=("plm_cv", "augment:d3pm_categorical"), n_seeds=1)
    msa_exp.run_msa(cfg, tmp_path / "msa", progress=False)
    rows = _rows(tmp_path / "msa")
    ans = _by(rows, "augment:d3pm_categorical", 0)
    call = fake.calls[0]
    selected = _mf(np.concatenate([call["train"], np.random.default_rng(call["key"]).integers(0, 21, (40, 53))]),
                   cfg.theta)
    fam = msa_exp.load_families(cfg)[0]
    want = precision_columns(contact_scores(selected, gap_state=0), fam.contacts)
    assert {c: ans[c] for c in want} == want
    assert ans["recommended"] == 1 and ans["mix"] == 1.0 and ans["n_seqs"] == 80 and ans["lambda_J"] == 0.05
    # the :mix row reports its own penalty, cross-validated on training + generated sequences
    assert _by(rows, "augment:d3pm_categorical:mix", 0)["lambda_J"] == 0.002
    assert ans["score_gain"] == pytest.approx(0.1) and ans["reason"] == "planted: recommended"


def test_recommended_row_of_a_variance_rule_is_the_combined_fit(fast_fits, monkeypatch, tmp_path):  # noqa: F811
    """With ``stopping="robust"`` augment's selected fit is params_combined (training + every generated sequence):
    the answer row reports that fit's size, M_eff and penalty, the :mix row's."""
    fake = FakeSequenceAugment(recommend=True)
    monkeypatch.setattr(augment_pkg, "augment", fake)
    base = _cfg().augment
    cfg = _cfg(methods=("plm_cv", "augment:d3pm_categorical"), n_seeds=1, augment={**base, "stopping": "robust"})
    msa_exp.run_msa(cfg, tmp_path / "msa", progress=False)
    rows = _rows(tmp_path / "msa")
    ans, mix = _by(rows, "augment:d3pm_categorical", 0), _by(rows, "augment:d3pm_categorical:mix", 0)
    for col in ("n_seqs", "M_eff", "top_L5", "top_L2", "top_L", "lambda_J"):
        assert ans[col] == mix[col], col
    assert ans["recommended"] == 1 and ans["n_seqs"] == 40 + ans["n_generated"] and ans["lambda_J"] == 0.002
    assert ans["mix"] == ans["n_generated"] / 40


@pytest.mark.parametrize("changes,match", [
    (dict(methods=("mf", "augment:d3pm_categorical")), "need 'plm_cv'"),
    (dict(methods=("plm_cv", "augment:d3pm_categorical"), depths=(6,)), r"depths \[6\] leave fewer than 3"),
    (dict(heldout_fraction=0.6), "heldout_fraction"),
    (dict(augment=[1]), "augment must be a dict"),
])
def test_bad_augment_settings_are_named(changes, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(get_config("tiny"), **changes)


@pytest.mark.parametrize("changes,match", [
    (dict(methods=("plm_cv", "augment:ddpm")), "not q-state generators"),
    (dict(augment={"n_stepz": 3}), "n_stepz"),
    (dict(augment={"guard": "bootstrap"}), "bootstrap"),
    (dict(generator_options={"d3pm_categorical": {"nonsense": 1}}), "nonsense"),
    (dict(generator_options={"ddpm": {}}), "generator_options for"),
])
def test_bad_augment_settings_fail_before_any_fit(changes, match, tmp_path):
    cfg = dataclasses.replace(get_config("tiny"), **{"methods": ("plm_cv", "augment:d3pm_categorical"), **changes})
    with pytest.raises(ValueError, match=match):
        msa_exp.run_msa(cfg, tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_presets_run_augment_in_the_paper_preset():
    paper, quick = get_config("paper"), get_config("quick")
    assert {"augment:d3pm_categorical", "augment:ddpm_onehot"} <= set(paper.methods)
    assert "augment:d3pm_categorical:mix" in paper.row_methods() and quick.augment and paper.augment


def test_summary_counts_augment_rows():
    rows = [dict(family="f", depth=50, subsample=k, seed=k, method=m, top_L5=p, top_L2=p, top_L=p, M_eff=40.0,
                 lambda_J=None, seconds=1.0, **({} if m == "plm_cv" else {"recommended": int(p > 0.6),
                                                                           "quality_pair_ratio": 1.5}))
            for k, (a, b) in enumerate([(0.7, 0.6), (0.6, 0.6), (0.5, 0.6)])
            for m, p in (("plm_cv", b), ("augment:g", a), ("augment:g:mix", a))]
    s = {x["method"]: x for x in summarize_msa(rows)}
    assert s["augment:g"]["helped_L2"] == 1 and s["augment:g"]["hurt_L2"] == 1
    assert np.isclose(s["augment:g"]["recommended_mean"], 1 / 3)
    assert s["augment:g:mix"]["quality_pair_ratio_mean"] == 1.5
    assert np.isnan(s["plm_cv"]["recommended_mean"])


@pytest.mark.slow  # the real augment on the committed subsample: a CV fit, a categorical D3PM, a few steps
def test_msa_augment_real_call(tmp_path):
    cv = {"max_iter": 20, "cv_folds": 2, "lambda_grid": (0.01,)}
    cfg = dataclasses.replace(get_config("tiny"), depths=(20,), n_seeds=1, ceiling=False,
                              methods=("plm_cv", "augment:d3pm_categorical"), method_options={"plm_cv": cv})
    summary = msa_exp.run_msa(cfg, tmp_path / "msa", progress=False)
    assert {x["method"] for x in summary} == {"plm_cv", "augment:d3pm_categorical", "augment:d3pm_categorical:mix"}
    rows = _rows(tmp_path / "msa")
    ans, mix, cvrow = (_by(rows, m, 0) for m in ("augment:d3pm_categorical", "augment:d3pm_categorical:mix", "plm_cv"))
    assert mix["n_train"] == 16 and mix["n_heldout"] == 4 and mix["n_seqs"] == 16 + 40
    assert all(np.isfinite(mix[c]) for c in QUALITY_COLUMNS) and 0.0 <= mix["top_L2"] <= 1.0
    assert np.isfinite(mix["score_gain"]) and (mix["score_gain"] > 0 or not ans["recommended"])
    if not ans["recommended"]:
        assert all(ans[c] == cvrow[c] for c in ("top_L5", "top_L2", "top_L"))
