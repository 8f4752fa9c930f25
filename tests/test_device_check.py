"""benchmarks/device_check.py: the tiny CPU run writes finite, positive numbers and a complete curve; the budget
planner fits its plan into the budget."""

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _finite_positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.mark.slow  # 40-100 s on 2 cores; the default suite must stay well under 15 minutes
def test_device_check_tiny(tmp_path):
    out = tmp_path / "dc"
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu",
               # the tiny run is all compiles: LLVM's optimisation level 0 halves them and changes no result here
               XLA_FLAGS=(os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip())
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device_check.py"), "--tiny", "--out", str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "jax.devices()" in proc.stdout
    d = json.loads((out / "device_check.json").read_text())
    assert d["environment"]["backend"] == "cpu" and d["environment"]["n_devices"] >= 1
    assert _finite_positive(d["matmul_peak_gflops"]["used"])
    for piece in ("training", "ddim", "ancestral"):
        p = d["pieces"][piece]
        rate = p["steps_per_s"] if piece == "training" else p["samples_per_s"]
        assert _finite_positive(rate) and _finite_positive(p["gflops"]) and _finite_positive(p["fraction_of_peak"])
    plan, f2 = d["plan"], d["fig2"]
    assert plan["n_steps"] == 200 and plan["monitor_steps"] == 50 and plan["n_points"] == 4
    assert _finite_positive(f2["wall_s"]) and _finite_positive(f2["predicted_s"])
    for k in ("train", "augmented", "combined"):
        assert len(f2["mse"][k]) == 2 and all(_finite_positive(v) for v in f2["mse"][k])
    assert all(s in (50, 100, 150, 200) for s in f2["stop_step"] + f2["best_step"])
    assert len(f2["recommended"]) == 2

    with open(out / "curve.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 4  # seeds x monitor points
    assert sorted({int(r["step"]) for r in rows}) == [50, 100, 150, 200]
    for r in rows:
        for k in ("generated_variance", "test_variance", "train_variance", "mse", "mse_combined", "mse_train_only",
                  "loss"):
            assert _finite_positive(float(r[k])), (k, r)
    png = (out / "curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def _pieces(step_s=0.01):
    return {"training": {"steps_per_s": 1 / step_s},
            "kernel": {"init": 1.0, "monitor": 0.5, "final": 2.0, "save": 0.05, "compile": 10.0}}


@pytest.fixture(scope="module")
def dc():
    sys.path.insert(0, str(ROOT))
    import benchmarks.device_check as mod

    return mod


@pytest.mark.parametrize("budget", [60.0, 300.0, 3000.0])
def test_plan_fits_the_budget(dc, budget):
    s = dict(dc._FULL, peak_n=1024, scan_steps=50, ddim_samples=100, ancestral_samples=10)
    p = dc.plan(s, _pieces(), budget, None, None)
    assert p["predicted_s"] <= budget * 1.001 or p["n_steps"] == s["max_steps"]
    assert p["n_steps"] == p["n_points"] * p["monitor_steps"]
    assert 2 <= p["n_points"] <= s["n_points"]
    # a larger budget buys more training (until the cap)
    q = dc.plan(s, _pieces(), budget * 2, None, None)
    assert q["n_steps"] > p["n_steps"] or p["n_steps"] >= s["max_steps"] - p["monitor_steps"]


def test_plan_fixed_steps(dc):
    s = dict(dc._FULL, peak_n=1024, scan_steps=50, ddim_samples=100, ancestral_samples=10)
    p = dc.plan(s, _pieces(), 1.0, 3000, 200)
    assert (p["n_steps"], p["monitor_steps"], p["n_points"]) == (3000, 200, 15)
    assert p["predicted_s"] == pytest.approx(10.0 + 1.0 + 2.0 + 3000 * 0.01 + 15 * 0.55)
    cfg = dc.augment_config(p, s)
    assert (cfg.n_steps, cfg.monitor_steps) == (3000, 200)
