"""The experiment layer's pieces: run folders, resume, seed batching and sharding, confidence intervals (the entry
points themselves: ``test_entry_points.py``)."""

import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.experiments.configs.fig3 import Fig3Config
from ising_diffusion.experiments.entry import apply_overrides
from ising_diffusion.experiments.extend import grown_fields, grows
from ising_diffusion.experiments.rows import mean_ci, summarize
from ising_diffusion.experiments.runner import (RunConfigMismatch, ResultStore, open_run, run_seeds, run_sweep, seed_keys,
                                              to_jsonable)
from ising_diffusion.experiments.synthetic import SamplerConfig, infer_seeds_batch, mse_seeds, synthetic_task
from ising_diffusion.ising import exact_moments

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------------- runner pieces


def test_mean_ci_student_t():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == pytest.approx(2.0)
    assert hi - m == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)  # t_{0.975, 2} * sd / sqrt(n)
    assert m - lo == pytest.approx(hi - m)
    m, lo, hi = mean_ci([5.0, None, float("nan")])
    assert m == 5.0 and math.isnan(lo) and math.isnan(hi)


def test_summarize_groups_and_orders():
    rows = [{"g": 1.0, "seed": s, "x": float(s)} for s in range(3)] + [{"g": 2.0, "seed": 0, "x": 7.0}]
    out = summarize(rows, ["g"], ["x"])
    assert [r["g"] for r in out] == [1.0, 2.0]
    assert out[0]["n_seeds"] == 3 and out[0]["x_mean"] == pytest.approx(1.0)
    assert out[1]["x_mean"] == 7.0 and math.isnan(out[1]["x_lo"])


def test_summarize_counts_each_seed_once():
    """Rows of one seed listed twice in a group (Fig. 4 gave identical rows for repeated counts) are one seed: they
    neither add to n_seeds nor narrow the interval."""
    rows = [{"g": 1.0, "seed": s, "x": float(s)} for s in (0, 1, 0, 1)]
    out = summarize(rows, ["g"], ["x"])
    single = summarize(rows[:2], ["g"], ["x"])
    assert out[0]["n_seeds"] == 2 and single[0]["n_seeds"] == 2
    assert (out[0]["x_mean"], out[0]["x_lo"], out[0]["x_hi"]) == pytest.approx(
        (single[0]["x_mean"], single[0]["x_lo"], single[0]["x_hi"]))
    twice = summarize([{"g": 1.0, "seed": 0, "x": 1.0}, {"g": 1.0, "seed": 0, "x": 3.0}], ["g"], ["x"])
    assert twice[0]["n_seeds"] == 1 and twice[0]["x_mean"] == 2.0 and math.isnan(twice[0]["x_lo"])


def test_result_store_roundtrip_and_replace(tmp_path):
    st = ResultStore.load(tmp_path, header={"version": "x"})
    st.add([{"point": "a", "seed": 0, "v": 1.0}, {"point": "a", "seed": 1, "v": np.float32(2.0)}])
    st.add([{"point": "a", "seed": 1, "v": 3.0}])  # replaces seed 1
    again = ResultStore.load(tmp_path)
    assert again.is_done("a", [0, 1]) and not again.is_done("a", [0, 1, 2]) and not again.is_done("b", [0])
    assert [r["v"] for r in again.point_rows("a")] == [1.0, 3.0]
    lines = (tmp_path / "results.csv").read_text().splitlines()
    assert lines[0] == "point,seed,v" and len(lines) == 3
    assert json.loads((tmp_path / "results.json").read_text())["version"] == "x"


def test_open_run_refuses_a_different_config(tmp_path):
    cfg = Fig3Config(n_seeds=2)
    run = open_run(tmp_path / "r", "fig3", cfg, announce=False)
    saved = json.loads((run.path / "config.json").read_text())
    assert saved["config"]["n_seeds"] == 2 and saved["version"]
    open_run(tmp_path / "r", "fig3", cfg, announce=False)  # same config: resume is fine
    with pytest.raises(ValueError, match="different config"):
        open_run(tmp_path / "r", "fig3", Fig3Config(n_seeds=3), announce=False)


def test_open_run_extends_only_by_growing_the_named_fields(tmp_path):
    cfg = Fig3Config(n_seeds=2)
    open_run(tmp_path / "r", "fig3", cfg, announce=False, growable=("n_seeds",))
    with pytest.raises(ValueError, match="may only grow n_seeds"):  # shrinking is another run
        open_run(tmp_path / "r", "fig3", Fig3Config(n_seeds=1), announce=False, growable=("n_seeds",))
    with pytest.raises(ValueError, match="different config"):  # growing a field not named
        open_run(tmp_path / "r", "fig3", Fig3Config(n_seeds=3), announce=False)
    run = open_run(tmp_path / "r", "fig3", Fig3Config(n_seeds=5), announce=False, growable=("n_seeds",))
    saved = json.loads((run.path / "config.json").read_text())
    assert saved["config"] == json.loads(json.dumps(to_jsonable(Fig3Config(n_seeds=5))))
    assert [e["from"] for e in saved["extended"]] == [{"n_seeds": 2}] and saved["created"]
    open_run(tmp_path / "r", "fig3", Fig3Config(n_seeds=5), announce=False, growable=("n_seeds",))  # plain resume
    assert len(json.loads((run.path / "config.json").read_text())["extended"]) == 1


@pytest.mark.parametrize("old,new,ok", [(2, 5, True), (5, 2, False), (True, 2, False),
                                        ([50, 100], [100, 50, 200], True), ([50, 100], [50], False),
                                        ("a", "a", True), ("a", "b", False)])
def test_grows_on_json_values(old, new, ok):
    assert grows(old, new) is ok
    assert (grown_fields({"x": old, "y": 1}, {"x": new, "y": 1}, ("x",)) is not None) is ok
    assert grown_fields({"x": old, "y": 1}, {"x": old, "y": 2}, ("x",)) is None


def test_run_seeds_batches_and_pads_like_one_vmap():
    keys = seed_keys(0, range(5))
    x = jnp.arange(5.0)
    f = jax.jit(jax.vmap(lambda k, a: jax.random.normal(k, (3,)) + a))
    full = f(keys, x)
    batched = run_seeds(f, keys, x, seed_batch=2, shard=False)
    assert batched.shape == (5, 3)
    np.testing.assert_allclose(batched, full, rtol=1e-6)
    with pytest.raises(ValueError, match="same leading seed axis"):
        run_seeds(f, keys, jnp.arange(4.0))


def test_run_seeds_joins_seed_batches_of_an_alignment_result():
    """An alignment ``AugmentResult`` (per-seed generator quality, reasons as strings, a per-call timing) joins over
    seed batches into what one call gives (the Potts map with ``seed_batch < n_seeds`` failed: quality was a tuple of
    one record per seed, whose batches of 2 and 1 did not share a tree structure)."""
    from ising_diffusion.augment import AugmentResult
    from ising_diffusion.msa_quality import generator_quality

    seqs = np.random.default_rng(0).integers(0, 3, (3, 3, 20, 5)).astype(np.int32)  # (S, gen/train/test, M, L)

    def call(x):
        x = np.asarray(x)
        quality = jax.tree.map(lambda *q: np.stack(q), *[generator_quality(*s, q=3) for s in x])
        return AugmentResult(samples=x[:, 0], curve=None, stop_epoch=None, stop_epoch_paper=None,
                             stop_epoch_robust=None, crossed_paper=None, crossed_robust=None, best_epoch=None,
                             params_train=None, params_augmented=None, params_combined=None, mse=None, eps={},
                             timing={"total": 1.0}, generator="g", reason=np.array([f"seed {s[0, 0, 0]}" for s in x]),
                             quality=quality)

    whole = call(seqs)
    joined = run_seeds(call, seqs, seed_batch=2, shard=False)
    assert joined.quality.pair_ratio.shape == (3,) and joined.quality.distance_histogram.shape == (3, 6)
    jax.tree.map(np.testing.assert_array_equal, joined, whole)


def test_run_sweep_skips_finished_points(tmp_path):
    st = ResultStore.load(tmp_path)
    calls = []

    def point(pid, v):
        calls.append(pid)
        return [{"seed": s, "v": v * s} for s in range(2)]

    pts = [("p1", 1.0), ("p2", 2.0)]
    run_sweep(pts, point, st, [0, 1], progress=False)
    rows = run_sweep(pts, point, ResultStore.load(tmp_path), [0, 1], progress=False)
    assert calls == ["p1", "p2"] and len(rows) == 4
    run_sweep(pts + [("p3", 3.0)], point, ResultStore.load(tmp_path), [0, 1], progress=False)
    assert calls == ["p1", "p2", "p3"]


def test_apply_overrides_nested_and_errors():
    cfg = apply_overrides(Fig3Config(), ["n_train=200", "g_values=[1, 2]", "sampler.burn_in=5",
                                                 "augment.n_epochs=7", "n_augmented_factor=2"])
    assert cfg.n_train == 200 and cfg.g_values == (1, 2) and cfg.sampler.burn_in == 5
    assert cfg.augment == {"n_epochs": 7} and cfg.n_augmented_factor == 2.0
    with pytest.raises(ValueError, match="no field 'nope'"):
        apply_overrides(cfg, ["nope=1"])
    with pytest.raises(ValueError, match="KEY=VALUE"):
        apply_overrides(cfg, ["n_train"])
    with pytest.raises(ValueError, match="n_seeds"):
        apply_overrides(cfg, ["n_seeds=0"])


def test_synthetic_task_is_paired_and_correct():
    keys = seed_keys(0, range(2))
    small = synthetic_task(keys, 6, 1.0, 100, 20, n_pool=1500)
    big = synthetic_task(keys, 6, 1.0, 1480, 20, n_pool=1500)
    np.testing.assert_array_equal(small.train, big.train[:, :100])  # nested training sets
    np.testing.assert_array_equal(small.test, big.test)
    g2 = synthetic_task(keys, 6, 2.0, 100, 20)
    np.testing.assert_allclose(g2.truth.J, 2.0 * small.truth.J, rtol=1e-5)  # same couplings, scaled
    mean, _ = exact_moments(jax.tree.map(lambda a: a[0], big.truth))
    np.testing.assert_allclose(big.train[0].mean(0), mean, atol=0.12)  # exact samples of the truth
    # Metropolis above exact_max_spins, same call
    mc = synthetic_task(keys, 6, 1.0, 50, 10, sampler=SamplerConfig(exact_max_spins=4, burn_in=20, n_chains=16, thin=2))
    assert mc.train.shape == (2, 50, 6) and set(np.unique(mc.train)) <= {-1.0, 1.0}


def test_infer_seeds_batch_matches_separate_calls():
    keys = seed_keys(1, range(3))
    task = synthetic_task(keys, 6, 1.0, 300, 20)
    batched = infer_seeds_batch(task.train)
    from ising_diffusion.inference import erasure_machine_auto

    for i in range(3):
        single = erasure_machine_auto(task.train[i]).params
        np.testing.assert_allclose(batched.J[i], single.J, atol=1e-5)
    assert np.all(np.asarray(mse_seeds(task.truth, batched)) < 0.2)


def test_infer_batch_trusted_path_equals_validated():
    """``validate=False`` skips only the host-side data check: same numbers, and still a clear error for a bad
    method; the checked path still refuses bad data."""
    from ising_diffusion import infer_batch

    task = synthetic_task(seed_keys(2, range(2)), 5, 1.0, 200, 10)
    a, b = infer_batch(task.train, "pseudolikelihood"), infer_batch(task.train, "pseudolikelihood", validate=False)
    np.testing.assert_allclose(b.J, a.J, atol=1e-6)  # (the erasure machine: test_infer_seeds_batch_matches_...)
    np.testing.assert_allclose(b.h, a.h, atol=1e-6)
    with pytest.raises(ValueError, match="unknown method"):
        infer_batch(task.train, "nonsense", validate=False)
    with pytest.raises(ValueError):
        infer_batch(0.5 * task.train, "pseudolikelihood")


SHARD_SCRIPT = textwrap.dedent("""
    import os, sys
    import jax, numpy as np
    assert jax.device_count() == 4, jax.devices()
    from ising_diffusion.experiments.runner import run_seeds, seed_keys
    from ising_diffusion.experiments.synthetic import synthetic_task, infer_seeds_batch
    keys = seed_keys(0, range(6))  # 6 seeds on 4 devices: padded to 8, then trimmed
    a = synthetic_task(keys, 6, 1.0, 200, 20, shard=True)
    b = synthetic_task(keys, 6, 1.0, 200, 20, shard=False)
    np.testing.assert_array_equal(a.train, b.train)
    pa, pb = infer_seeds_batch(a.train, shard=True), infer_seeds_batch(b.train, shard=False)
    np.testing.assert_allclose(pa.J, pb.J, atol=1e-5)
    out = run_seeds(lambda x: x * 2, np.arange(8.0), shard=True)
    assert len(out.sharding.device_set) == 4, out.sharding
    import warnings
    def warns(x):
        warnings.warn(f"declined for {x.shape[0]} of {x.shape[0]} seed(s)")
        return x
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_seeds(warns, np.arange(6.0), shard=True)  # padded to 8
    msg = str(caught[0].message)
    assert "8 of 8" in msg and "include 2 padding seed(s)" in msg, msg
    print("SHARDED-OK", a.train.shape)
""")


def test_sharded_sweep_equals_unsharded():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu",
               PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", SHARD_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "SHARDED-OK (6, 200, 6)" in res.stdout


SHARD_AUGMENT_SCRIPT = textwrap.dedent("""
    import jax, numpy as np
    assert jax.device_count() == 4, jax.devices()
    from ising_diffusion import AugmentConfig, augment_seeds
    from ising_diffusion.generative.ddpm import DDPMConfig
    from ising_diffusion.experiments.runner import run_seeds, seed_keys
    from ising_diffusion.experiments.synthetic import synthetic_task
    keys = seed_keys(0, range(4))
    task = synthetic_task(keys, 6, 1.0, 64, 16, shard=False)
    cfg = AugmentConfig(n_epochs=4, monitor_every=2, n_monitor_samples=50, n_bootstrap=20)
    gcfg = DDPMConfig(widths=(16, 32), time_embed_dim=8, n_timesteps=50, ddim_steps=5, batch_size=32)
    seen = []
    def call(k, tr, te, truth):
        seen.append(len(tr.sharding.device_set))
        # the erasure machine: this checks sharding, and compiling the cross-validated default on 4 devices is slow
        r = augment_seeds(k, tr, te, config=cfg, generator_config=gcfg, true_params=truth, n_augmented=100,
                          progress=False, solver="erasure")
        seen.append(len(r.samples.sharding.device_set))
        return r
    a = run_seeds(call, keys, task.train, task.test, task.truth, shard=True)
    b = run_seeds(call, keys, task.train, task.test, task.truth, shard=False)
    print(seen)
    assert seen == [4, 4, 1, 1], seen
    np.testing.assert_allclose(a.mse["combined"], b.mse["combined"], rtol=1e-4)
    assert np.mean(np.asarray(a.samples) == np.asarray(b.samples)) > 0.99
    np.testing.assert_array_equal(a.stop_epoch, b.stop_epoch)
    print("SHARDED-AUGMENT-OK", a.samples.shape)
""")


@pytest.mark.slow  # 40-100 s on 2 cores; the default suite must stay well under 15 minutes
def test_sharded_augment_stays_sharded_and_equals_unsharded():
    """augment_seeds validates on the host; the seeds must go back to their devices (not run on device 0)."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu",
               PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", SHARD_AUGMENT_SCRIPT], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "SHARDED-AUGMENT-OK (4, 100, 6)" in res.stdout


def test_open_run_refuses_other_inputs_and_records_them_for_old_folders(tmp_path):
    """An alignment found through $ISING_DIFFUSION_MSA is not pinned by the config: a resume on other data mixed
    rows of two data sets silently. Fingerprints are saved, compared, joined when new names come, and recorded for a
    folder saved before they were."""
    cfg = Fig3Config()
    open_run(tmp_path / "a", "fig3", cfg, announce=False, inputs={"fam": "1"})
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert saved["inputs"] == {"fam": "1"} and saved["devices"] == jax.device_count()
    with pytest.raises(RunConfigMismatch, match="other input data: fam changed"):
        open_run(tmp_path / "a", "fig3", cfg, announce=False, inputs={"fam": "2"})
    open_run(tmp_path / "a", "fig3", cfg, announce=False, inputs={"fam": "1", "other": "3"})
    assert json.loads((tmp_path / "a" / "config.json").read_text())["inputs"] == {"fam": "1", "other": "3"}
    open_run(tmp_path / "b", "fig3", cfg, announce=False)  # an older folder: no fingerprints saved
    open_run(tmp_path / "b", "fig3", cfg, announce=False, inputs={"fam": "1"})
    assert json.loads((tmp_path / "b" / "config.json").read_text())["inputs"] == {"fam": "1"}
    assert "extended" not in json.loads((tmp_path / "b" / "config.json").read_text())


def test_a_run_folder_open_in_another_process_is_refused(tmp_path):
    """Two processes on one folder each rewrote the tables from their own rows: the second lost the first's."""
    held = open_run(tmp_path / "run", "fig3", Fig3Config(), announce=False)  # held while this RunDir lives
    code = textwrap.dedent(f"""
        from ising_diffusion.experiments.configs.fig3 import Fig3Config
        from ising_diffusion.experiments.runner import RunConfigMismatch, open_run
        try:
            open_run({str(tmp_path / "run")!r}, "fig3", Fig3Config(), announce=False)
        except RunConfigMismatch as e:
            print("refused:", e)
        open_run({str(tmp_path / "free")!r}, "fig3", Fig3Config(), announce=False)
        print("free folder opened")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "JAX_PLATFORMS": "cpu"}).stdout
    assert "refused:" in out and "in use by another process" in out and "free folder opened" in out
    assert held.lock is not None


def test_the_run_folder_lock_goes_with_the_run_and_after_a_refusal(tmp_path):
    """The lock was kept for the life of the process, even after its own open was refused: a notebook that had run
    (or failed to run) an experiment blocked every later resume from another process."""
    import gc

    probe = textwrap.dedent(f"""
        from ising_diffusion.experiments.configs.fig3 import Fig3Config
        from ising_diffusion.experiments.runner import RunConfigMismatch, open_run
        try:
            open_run({str(tmp_path / "run")!r}, "fig3", Fig3Config(), announce=False)
            print("opened")
        except RunConfigMismatch as e:
            print("refused:", e)
    """)

    def other_process():
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "JAX_PLATFORMS": "cpu"}).stdout

    run = open_run(tmp_path / "run", "fig3", Fig3Config(), announce=False)
    again = open_run(tmp_path / "run", "fig3", Fig3Config(), announce=False)  # this process: shares the lock
    assert again.lock is run.lock and "in use by another process" in other_process()
    del run, again
    gc.collect()
    with pytest.raises(RunConfigMismatch, match="different config"):
        open_run(tmp_path / "run", "fig3", dataclasses.replace(Fig3Config(), n_seeds=7), announce=False)
    assert "opened" in other_process()  # released after the run, and not kept by the refused open
