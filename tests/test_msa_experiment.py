"""The ``msa`` experiment (issue 23, item 4) on the committed PF00014 subsample: rows and files, resume, bad configs.

The fast tests swap the pseudolikelihood fits for mean-field DCA at a method-dependent pseudocount (real fits and
scores, seconds each), so the bookkeeping is tested without the minutes an ``l2="cv"`` path takes on a loaded CPU;
the slow test runs the real tiny preset.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from ising_diffusion.datasets.msa import list_msa_families
from ising_diffusion.experiments import msa as msa_exp
from ising_diffusion.experiments.configs.msa import MSAConfig, get_config
from ising_diffusion.experiments.msa_summary import paired_differences, summarize_msa
from ising_diffusion.experiments.registry import run_experiment

DATA = Path(__file__).resolve().parent / "data" / "msa"
PSEUDOCOUNT = {"plm": 0.3, "plm_cv": 0.5, "mf": 0.7}


@pytest.fixture
def fast_fits(monkeypatch):
    """Every fit becomes mean-field DCA with a pseudocount per method (the real fit_row otherwise)."""
    real = msa_exp.fit_row

    def fake(seqs, contacts, options, theta):
        method = "plm_cv" if options.get("l2") == "cv" else options["method"]
        return real(seqs, contacts, {"method": "mf", "pseudocount": PSEUDOCOUNT[method]}, theta)

    monkeypatch.setattr(msa_exp, "fit_row", fake)


def _tiny(**changes) -> MSAConfig:
    return dataclasses.replace(get_config("tiny"), **changes)


def _rows(out: Path) -> list[dict]:
    rows = json.loads((out / "results.json").read_text())["rows"]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_presets_cover_the_issue():
    paper, quick, tiny = (get_config(p) for p in ("paper", "quick", "tiny"))
    assert paper.depths == (50, 100, 200, 500, 1000) and paper.n_seeds >= 5
    assert {"plm", "plm_cv", "mf"} <= set(paper.methods) and paper.ceiling
    assert quick.n_seeds >= 3 and tiny.families == ("PF00014_sub300",)
    assert list_msa_families(tiny.data_root) == ["PF00014_sub300"]


def test_subsamples_are_seeded_distinct_and_paired():
    a = msa_exp.subsample_rows(300, 50, 0)
    assert np.array_equal(a, msa_exp.subsample_rows(300, 50, 0)) and len(np.unique(a)) == 50
    assert not np.array_equal(a, msa_exp.subsample_rows(300, 50, 1))
    assert np.all(np.diff(a) > 0) and a.max() < 300


def test_msa_tiny_writes_rows_and_resumes_identically(fast_fits, tmp_path, capsys):
    out = tmp_path / "msa"
    args = ["--preset", "tiny", "--out", str(out), "--no-progress"]
    summary = run_experiment("msa", args)
    for f in ("config.json", "ceiling.csv", "results.csv", "summary.csv", "msa.png"):
        assert (out / f).is_file(), f
    first = _rows(out)
    cfg = get_config("tiny")
    assert len(first) == len(cfg.depths) * cfg.n_seeds * len(cfg.methods)
    for r in first:
        assert {"family", "depth", "subsample", "method", "top_L5", "top_L2", "top_L", "M_eff"} <= set(r)
        assert 0.0 <= r["top_L2"] <= 1.0 and 1.0 <= r["M_eff"] <= r["depth"] == r["n_seqs"]
    assert {s["method"] for s in summary} == set(cfg.methods)
    cv = next(s for s in summary if s["method"] == "plm_cv")
    assert cv["helped_L2"] is None and cv["n_subsamples"] == cfg.n_seeds
    # delete one point's rows, rerun: only that point is fitted again, and every row comes back the same
    saved = json.loads((out / "results.json").read_text())
    gone = "PF00014_sub300:M=50:plm"
    saved["rows"] = [r for r in saved["rows"] if r["point"] != gone]
    (out / "results.json").write_text(json.dumps(saved))
    calls = []
    fit = msa_exp.fit_row
    msa_exp.fit_row = lambda *a: calls.append(a[2]) or fit(*a)
    try:
        run_experiment("msa", args)
    finally:
        msa_exp.fit_row = fit
    assert len(calls) == cfg.n_seeds  # the deleted point's subsamples only (ceiling and the rest skipped)
    key = lambda r: (r["point"], r["seed"])  # noqa: E731
    assert sorted(_rows(out), key=key) == sorted(first, key=key)
    assert "ceiling PF00014_sub300" in capsys.readouterr().out


def test_msa_run_extended_with_more_subsamples_equals_a_fresh_run(fast_fits, tmp_path, capsys):
    args = ["--preset", "tiny", "--no-progress", "--out"]
    run_experiment("msa", [*args, str(tmp_path / "a"), "--set", "n_seeds=1"])
    calls = []
    fit = msa_exp.fit_row
    msa_exp.fit_row = lambda *a: calls.append(a[2]) or fit(*a)
    try:
        run_experiment("msa", [*args, str(tmp_path / "a")])  # the tiny preset's 2 subsamples: subsample 1 is new
    finally:
        msa_exp.fit_row = fit
    assert len(calls) == len(get_config("tiny").methods)  # one fit per method, the ceiling and subsample 0 kept
    assert "(n_seeds 1 -> 2)" in capsys.readouterr().out
    run_experiment("msa", [*args, str(tmp_path / "b")])
    key = lambda r: (r["point"], r["seed"])  # noqa: E731
    assert sorted(_rows(tmp_path / "a"), key=key) == sorted(_rows(tmp_path / "b"), key=key)
    with pytest.raises(SystemExit):  # fewer subsamples than saved: another run
        run_experiment("msa", [*args, str(tmp_path / "a"), "--set", "n_seeds=1"])


def test_paired_differences_and_helped_counts():
    rows = [dict(family="f", depth=50, subsample=k, seed=k, method=m, top_L5=p, top_L2=p, top_L=p, M_eff=40.0,
                 lambda_J=None, seconds=1.0)
            for k, (a, b) in enumerate([(0.5, 0.6), (0.7, 0.6), (0.4, 0.6)]) for m, p in (("plm_cv", b), ("mf", a))]
    diffs = [r["diff_L2"] for r in paired_differences(rows) if r["method"] == "mf"]
    assert np.allclose(diffs, [-0.1, 0.1, -0.2])
    mf = next(s for s in summarize_msa(rows) if s["method"] == "mf")
    assert mf["helped_L2"] == 1 and mf["hurt_L2"] == 2 and np.isclose(mf["diff_L2_mean"], -0.2 / 3)
    assert mf["diff_L2_lo"] < mf["diff_L2_mean"] < mf["diff_L2_hi"]
    # a NaN precision (no pair to rank) leaves its subsample unpaired, not a NaN difference in the counts
    rows[1]["top_L2"] = float("nan")  # subsample 0's mf row
    assert [r["diff_L2"] for r in paired_differences(rows) if r["method"] == "mf"][0] is None
    mf = next(s for s in summarize_msa(rows) if s["method"] == "mf")
    assert mf["helped_L2"] == 1 and mf["hurt_L2"] == 1 and np.isclose(mf["diff_L2_mean"], -0.05)


def test_plm_cv_train_fits_plm_cv_on_augments_training_split(fast_fits, tmp_path):
    """The split reference: plm_cv's options on the training part of augment's held-out split (the same split the
    augment: methods draw), its rows paired with plm_cv's; the summary's diff_split columns and counts come from it."""
    from ising_diffusion.experiments.msa_augment import heldout_split

    cfg = _tiny(methods=("plm_cv", "plm_cv_train", "mf"), ceiling=False,
                method_options={"plm_cv": {"cv_folds": 3}})
    assert cfg.dca_options("plm_cv_train") == cfg.dca_options("plm_cv") == {"method": "plm", "l2": "cv", "cv_folds": 3}
    summary = msa_exp.run_msa(cfg, tmp_path / "msa", progress=False)
    rows = _rows(tmp_path / "msa")
    fam = msa_exp.load_families(cfg)[0]
    for k in range(cfg.n_seeds):
        (depth,) = cfg.depths
        sub = msa_exp.subsample_rows(fam.seqs.shape[0], depth, k, cfg.seed)
        train = sub[heldout_split(depth, k, cfg.heldout_size(depth), cfg.seed)[0]]
        want = msa_exp.fit_row(fam.seqs[train], fam.contacts, cfg.dca_options("plm_cv"), cfg.theta)
        got = next(r for r in rows if r["method"] == "plm_cv_train" and r["subsample"] == k)
        assert got["n_seqs"] == depth - cfg.heldout_size(depth) == want["n_seqs"]
        assert {c: got[c] for c in ("M_eff", "top_L5", "top_L2", "top_L")} == \
            {c: want[c] for c in ("M_eff", "top_L5", "top_L2", "top_L")}
    by = {s["method"]: s for s in summary}
    mf = [r for r in paired_differences(rows) if r["method"] == "mf"]
    split = {r["subsample"]: r["top_L2"] for r in rows if r["method"] == "plm_cv_train"}
    assert [r["diff_split_L2"] for r in mf] == [r["top_L2"] - split[r["subsample"]] for r in mf]
    assert by["mf"]["helped_split_L2"] == sum(r["diff_split_L2"] > 0 for r in mf)
    assert by["plm_cv_train"]["helped_split_L2"] is None and by["plm_cv"]["helped_split_L2"] is not None


@pytest.mark.parametrize("changes,match", [
    (dict(methods=("plm", "nonsense")), "unknown method 'nonsense'"),
    (dict(method_options={"plm_cv_train": {"cv_folds": 3}}), r"fit with \['plm_cv'\]'s options"),
    (dict(methods=("plm_cv_train",), depths=(5,)), r"depths \[5\] leave fewer than 3"),
    (dict(depths=(50, 3)), "depths must be distinct integers >= 5"),
    (dict(n_seeds=0), "n_seeds"),
    (dict(theta=1.5), "theta"),
    (dict(method_options={"plmx": {}}), "unknown method"),
])
def test_bad_config_values_are_named(changes, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**changes)


def test_depth_beyond_the_alignment_and_unknown_generator_fail_before_any_fit(tmp_path):
    with pytest.raises(ValueError, match=r"depths \[400\] exceed family PF00014_sub300's alignment of 300"):
        msa_exp.run_msa(_tiny(depths=(50, 400)), tmp_path / "a", progress=False)
    with pytest.raises(ValueError, match="not q-state generators"):
        msa_exp.run_msa(_tiny(methods=("plm_cv", "augment:ddpm")), tmp_path / "b", progress=False)
    with pytest.raises(ValueError, match="no protein family found"):
        msa_exp.run_msa(_tiny(families=(), data_root=str(tmp_path)), tmp_path / "d", progress=False)
    assert not (tmp_path / "a").exists()


def test_command_line_rejects_an_unknown_method(capsys):
    with pytest.raises(SystemExit):
        run_experiment("msa", ["--preset", "tiny", "--set", "methods=plm,bogus", "--print-config"])
    assert "unknown method 'bogus'" in capsys.readouterr().err
    assert get_config("tiny").methods == ("plm", "plm_cv", "mf")


@pytest.mark.slow
def test_msa_tiny_real_fits(tmp_path):
    summary = run_experiment("msa", ["--preset", "tiny", "--out", str(tmp_path / "msa"), "--no-progress"])
    assert {s["method"] for s in summary} == {"plm", "plm_cv", "mf"}
    assert all(0.0 <= s["top_L2_mean"] <= 1.0 for s in summary)


def test_partial_summary_keeps_complete_subsamples_and_applies_the_memorisation_rule():
    from experiments.msa_partial_summary import complete, with_memorisation_rule

    def row(k, method, l2, **extra):
        return {"family": "F", "depth": 50, "subsample": k, "method": method, "top_L5": l2, "top_L2": l2,
                "top_L": l2, "n_seqs": 50, "M_eff": 48.0, "lambda_J": 0.1, "seconds": 2.0, **extra}

    aug = dict(recommended=1, mix=2.0, reason="planted", seconds=30.0)
    rows = [row(0, "plm_cv", 0.8), row(0, "augment:g", 0.9, quality_identical=1.0, **aug),
            row(0, "augment:g:mix", 0.7, quality_identical=1.0, **aug),
            row(1, "plm_cv", 0.6), row(1, "augment:g", 0.5, quality_identical=0.2, **aug),
            row(1, "augment:g:mix", 0.4, quality_identical=0.2, **aug),
            row(2, "plm_cv", 0.7)]  # subsample 2 unfinished: dropped
    kept = complete(rows)
    assert {r["subsample"] for r in kept} == {0, 1}
    after, n = with_memorisation_rule(kept, 0.9)
    assert n == 1
    by = {(r["subsample"], r["method"]): r for r in after}
    assert by[0, "augment:g"]["top_L2"] == 0.8 and by[0, "augment:g"]["recommended"] == 0  # plm_cv's answer
    assert by[0, "augment:g"]["seconds"] == 32.0 and by[0, "augment:g:mix"]["seconds"] == 30.0  # + plm_cv's fit
    assert by[0, "augment:g"]["reason"].startswith("withdrawn by the memorisation rule (more than 0.9")
    assert by[0, "augment:g:mix"]["top_L2"] == 0.7 and by[0, "augment:g:mix"]["recommended"] == 0
    assert by[1, "augment:g"]["top_L2"] == 0.5 and by[1, "augment:g"]["recommended"] == 1  # novel enough: kept


def test_partial_summary_merges_slices_of_one_setting_and_keeps_each_methods_subsamples(tmp_path):
    from experiments.msa_partial_summary import merge_runs, per_method

    def row(k, method, l2, depth=200):
        return {"family": "F", "depth": depth, "subsample": k, "seed": k, "method": method, "top_L5": l2,
                "top_L2": l2, "top_L": l2, "point": f"F:M={depth}:{method}"}

    def folder(name, cfg, rows):
        d = tmp_path / name
        d.mkdir()
        (d / "config.json").write_text(json.dumps({"experiment": "msa", "config": cfg}))
        (d / "results.json").write_text(json.dumps({"rows": rows}))
        return d

    setting = {"theta": 0.8, "augment": {"n_steps": 4000}}
    gpu = folder("gpu", {**setting, "depths": [200], "methods": ["plm_cv", "augment:g"]},
                 [row(0, "plm_cv", 0.96), row(0, "augment:g", 0.96), row(0, "augment:g:mix", 0.58),
                  row(1, "plm_cv", 0.92), row(1, "augment:g", 0.92)])  # subsample 1's :mix row missing
    cpu = folder("cpu", {**setting, "depths": [50, 200], "methods": ["plm", "plm_cv"]},
                 [row(0, "plm_cv", 0.90), row(0, "plm", 0.80), row(1, "plm_cv", 0.92), row(2, "plm", 0.7)])
    rows, ceiling, worst = merge_runs([gpu, cpu])
    assert ceiling == [] and worst == pytest.approx(0.06)  # subsample 0's plm_cv differs by 0.96 - 0.90
    assert next(r for r in rows if r["point"] == "F:M=200:plm_cv" and r["seed"] == 0)["top_L2"] == 0.96  # first kept
    kept = {(r["subsample"], r["method"]) for r in per_method(rows)}
    assert kept == {(0, "plm_cv"), (0, "augment:g"), (0, "augment:g:mix"), (0, "plm"), (1, "plm_cv")}
    other = folder("other", {**setting, "theta": 0.7, "depths": [200]}, [])
    with pytest.raises(ValueError, match="theta"):
        merge_runs([gpu, other])


def test_partial_summary_table_shows_the_split_reference_only_where_it_ran():
    from experiments.msa_partial_summary import markdown

    def row(k, method, l2):
        return {"family": "F", "depth": 50, "subsample": k, "seed": k, "method": method, "top_L5": l2, "top_L2": l2,
                "top_L": l2, "M_eff": 40.0, "lambda_J": None, "seconds": 1.0}

    base = [row(k, m, p) for k, ps in enumerate([(0.8, 0.5), (0.7, 0.6)]) for m, p in zip(("plm_cv", "g:mix"), ps)]
    old = markdown(summarize_msa(base)).splitlines()
    assert "plm_cv_train" not in old[0] and all(ln.count("|") == old[0].count("|") for ln in old)
    split = [row(0, "plm_cv_train", 0.4), row(1, "plm_cv_train", 0.6)]
    new = markdown(summarize_msa(base + split)).splitlines()
    assert "L/2 - plm_cv_train (paired) | above / below" in new[0]
    assert all(ln.count("|") == new[0].count("|") for ln in new)
    mix = next(ln for ln in new if "| g:mix |" in ln)
    assert "+0.050 [" in mix and "| 1 / 0 |" in mix  # mixes 0.5, 0.6 against split 0.4, 0.6: mean +0.05, 1 above
