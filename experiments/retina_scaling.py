"""Time and peak memory of each stage on the whole retina recording and planted SK data at the full recording's size
(issue 24, item 2).

    PYTHONPATH=. ISING_DIFFUSION_RETINA=../shared/data/retina nice python experiments/retina_scaling.py \
        --out /work/runs/retina-scaling                     # rerun the same line to resume
    PYTHONPATH=. python experiments/retina_scaling.py --out /work/runs/retina-scaling --table-only

Cases: ``retina40`` / ``retina50`` (``load_retina(n_cells=...)``, 8000 train / 1000 test bins, shuffle key 0) and
``sk160`` / ``sk200`` (a planted SK model, ``truth_params("sk", ., N, g=1)``, Metropolis samples with the library's
defaults, 8000 train / 1000 test, cached in ``data_<case>.npz``). Stages:

* ``erasure``: ``infer(train, "erasure")``;
* ``pl_fixed``: one pseudolikelihood fit at ``l2 = 1e-4`` (the unit the cross-validation repeats: 12 penalties x 5
  folds on a warm-started path, then a refit);
* ``cv_pl``: ``infer(train, "pseudolikelihood", l2="cv")`` (run last: the most expensive stage);
* ``holdout``: ``impute --holdout 14``'s scoring, ``holdout_scores`` (model and independent model, 14 entries hidden in
  each of the 1000 test rows) with the best saved fit (CV, else fixed-l2 pseudolikelihood, else erasure; the row says
  which: the cost does not depend on the values);
* ``reconstruct``: ``reconstruct_missing`` of 14 random hidden cells in each of the 1000 test rows;
* ``augment_ddpm`` / ``augment_d3pm``: one small ``augment`` call (tiny budget: ``n_steps=200, monitor_steps=100``,
  1000 monitor samples, 8000 generated samples; solver pseudolikelihood at a fixed ``l2 = 1e-4``, so that the
  generator's cost is not hidden behind the cross-validation measured in ``cv_pl``; the default solver adds one CV).

Each (stage, case) runs in a fresh subprocess (``--worker``), so its peak resident memory (``ru_maxrss``) is its own:
``rss_base_mb`` after imports and data, ``rss_peak_mb`` at the end, ``rss_delta_mb`` their difference. The stage is
called twice when the first call took under ``--repeat-below`` seconds: ``time_first`` includes compilation,
``time_second`` (NaN when not repeated) does not, ``compile = first - second``. A row per (stage, case) is appended to
``results.csv`` atomically when it finishes; finished rows are skipped on a rerun. ``--table-only`` prints the table
and, per stage, the exponent ``b`` of a least-squares fit ``time ~ N^b`` over the cases that finished (and the same for
the RSS increase, over the cases where it is positive: on the retina, reading the whole recording sets the base peak).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CASES = {"retina40": 40, "retina50": 50, "sk160": 160, "sk200": 200}
STAGES = ("erasure", "reconstruct", "holdout", "pl_fixed", "augment_ddpm", "augment_d3pm", "cv_pl")
N_TRAIN, N_TEST, K_HIDDEN = 8000, 1000, 14


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def _data(out: Path, case: str):
    import jax

    if case.startswith("retina"):
        from ising_diffusion.datasets import load_retina

        d = load_retina(n_cells=CASES[case], n_train=N_TRAIN, n_test=N_TEST)
        return np.asarray(d.train), np.asarray(d.test)
    path = out / f"data_{case}.npz"
    if not path.exists():
        from ising_diffusion.synthetic import data_key, observed_samples, truth_key, truth_params

        key = jax.random.key(0)
        truth = truth_params("sk", truth_key(key), CASES[case], 1.0)
        x = np.asarray(observed_samples(data_key(key), truth, N_TRAIN + N_TEST))
        np.savez(path.with_suffix(".tmp.npz"), x=x)
        os.replace(path.with_suffix(".tmp.npz"), path)
    with np.load(path) as f:
        x = f["x"]
    return x[:N_TRAIN], x[N_TRAIN:]


def _model(out: Path, case: str):
    from ising_diffusion.ising import IsingParams

    for name in ("cv_pl", "pl_fixed", "erasure"):
        path = out / f"params_{case}_{name}.npz"
        if path.exists():
            with np.load(path) as f:
                return name, IsingParams(f["h"], f["J"])
    raise FileNotFoundError(f"no fitted model for {case}: run the erasure stage first")


def worker(out: Path, stage: str, case: str, repeat_below: float) -> dict:
    """Run one stage on one case in this process; returns the row."""
    import jax

    from ising_diffusion import augment, infer
    from ising_diffusion.augment import AugmentConfig
    from ising_diffusion.experiments import retina
    from ising_diffusion.impute import holdout_scores
    from ising_diffusion.reconstruct import reconstruct_missing

    train, test = _data(out, case)
    if stage == "data":  # draws and caches the planted samples, outside any stage's memory
        return {}
    key = jax.random.key(1)
    extra = {}
    if stage in ("erasure", "cv_pl", "pl_fixed"):
        opts = {"erasure": {}, "cv_pl": {"l2": "cv"}, "pl_fixed": {"l2": 1e-4}}[stage]
        method = "erasure" if stage == "erasure" else "pseudolikelihood"

        def call():
            return infer(train, method, **opts)
    elif stage == "holdout":
        extra["model"], params = _model(out, case)
        indep = infer(train, "independent_exact")

        def call():
            return holdout_scores(key, params, indep, test, K_HIDDEN)
    elif stage == "reconstruct":
        extra["model"], params = _model(out, case)
        hidden = retina.random_masks(key, test.shape[0], test.shape[1], K_HIDDEN)

        def call():
            return reconstruct_missing(params, test, hidden)
    else:
        cfg = AugmentConfig(n_steps=200, monitor_steps=100, n_monitor_samples=1000)

        def call():
            return augment(key, train, test, generator=stage.split("_")[1], n_augmented=N_TRAIN, config=cfg,
                           progress=False, solver="pseudolikelihood", solver_options={"l2": 1e-4})
    base = _rss_mb()
    t0 = time.perf_counter()
    result = jax.block_until_ready(call())
    first = time.perf_counter() - t0
    second = math.nan
    if first < repeat_below:
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        second = time.perf_counter() - t0
    peak = _rss_mb()
    if stage in ("erasure", "cv_pl", "pl_fixed"):
        np.savez(out / f"params_{case}_{stage}.npz", h=np.asarray(result.h), J=np.asarray(result.J))
    if stage == "holdout":
        extra.update(accuracy=result.accuracy, accuracy_independent=result.accuracy_independent,
                     cll=result.log_likelihood, cll_independent=result.log_likelihood_independent)
    return dict(stage=stage, case=case, n_cells=CASES[case], n_train=train.shape[0], n_test=test.shape[0],
                time_first=first, time_second=second, compile=first - second, rss_base_mb=base, rss_peak_mb=peak,
                rss_delta_mb=peak - base, load=os.getloadavg()[0], **extra)


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def append_row(path: Path, row: dict) -> None:
    """Rewrite ``results.csv`` with ``row`` added (atomically, :func:`~ising_diffusion.experiments.runner.write_csv`)."""
    from ising_diffusion.experiments.runner import write_csv

    write_csv(path, read_rows(path) + [{k: str(v) for k, v in row.items()}])


def growth_exponent(ns, times) -> float:
    """Least-squares slope of ``log time`` against ``log N`` (NaN with fewer than two distinct N)."""
    ns, times = np.asarray(ns, float), np.asarray(times, float)
    ok = np.isfinite(times) & (times > 0)
    if len(set(ns[ok].tolist())) < 2:
        return math.nan
    return float(np.polyfit(np.log(ns[ok]), np.log(times[ok]), 1)[0])


def table(rows: list[dict]) -> str:
    lines = ["| stage | case | N | first call (s) | second call (s) | peak RSS (MB) | RSS increase (MB) | load |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for stage in STAGES:
        sel = [r for r in rows if r["stage"] == stage]
        for r in sorted(sel, key=lambda r: int(r["n_cells"])):
            lines.append(f"| {stage} | {r['case']} | {r['n_cells']} | {float(r['time_first']):.1f} | "
                         f"{float(r['time_second']):.1f} | {float(r['rss_peak_mb']):.0f} | "
                         f"{float(r['rss_delta_mb']):.0f} | {float(r['load']):.1f} |")
    lines += ["", "| stage | time exponent b (time ~ N^b; steady call if timed) | RSS-increase exponent | cases |",
              "|---|---:|---:|---|"]
    for stage in STAGES:
        sel = [r for r in rows if r["stage"] == stage]
        if not sel:
            continue
        ns, t = _steady(sel)
        lines.append(f"| {stage} | {growth_exponent(ns, t):.2f} | "
                     f"{growth_exponent(ns, [float(r['rss_delta_mb']) for r in sel]):.2f} | "
                     f"{', '.join(r['case'] for r in sel)} |")
    lines += ["", "| stage | time exponent, retina 40 -> 50 | time exponent, SK 160 -> 200 |", "|---|---:|---:|"]
    for stage in STAGES:
        sel = [r for r in rows if r["stage"] == stage]
        if sel:
            b = [growth_exponent(*_steady([r for r in sel if r["case"].startswith(kind)])) for kind in ("retina", "sk")]
            lines.append(f"| {stage} | {b[0]:.2f} | {b[1]:.2f} |")
    return "\n".join(lines)


def _steady(rows: list[dict]) -> tuple[list[int], list[float]]:
    """``(N, time)`` of each row: the second call's time if timed, else the first's."""
    times = [float(r["time_second"]) if math.isfinite(float(r["time_second"])) else float(r["time_first"])
             for r in rows]
    return [int(r["n_cells"]) for r in rows], times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--repeat-below", type=float, default=60.0, help="call a stage twice when the first call took "
                    "less than this many seconds")
    ap.add_argument("--worker", nargs=2, metavar=("STAGE", "CASE"), help=argparse.SUPPRESS)
    ap.add_argument("--table-only", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        print(json.dumps(worker(out, *args.worker, args.repeat_below)))
        return
    path = out / "results.csv"
    if not args.table_only:
        for stage in args.stages.split(","):
            for case in args.cases.split(","):
                if stage not in STAGES or case not in CASES:
                    raise SystemExit(f"unknown stage {stage!r} or case {case!r}: stages {STAGES}, cases {list(CASES)}")
                if any(r["stage"] == stage and r["case"] == case for r in read_rows(path)):
                    continue
                if case.startswith("sk") and not (out / f"data_{case}.npz").exists():
                    subprocess.run([sys.executable, __file__, "--out", str(out), "--worker", "data", case], check=True)
                print(f"[scaling] {stage} on {case} ...", flush=True)
                proc = subprocess.run([sys.executable, __file__, "--out", str(out), "--worker", stage, case,
                                       "--repeat-below", str(args.repeat_below)], capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"[scaling] {stage} on {case} failed:\n{proc.stderr[-2000:]}", flush=True)
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                append_row(path, row)
                print(f"[scaling] {stage} on {case}: {row['time_first']:.1f} s / {row['time_second']:.1f} s, "
                      f"peak {row['rss_peak_mb']:.0f} MB", flush=True)
    print(table(read_rows(path)))


if __name__ == "__main__":
    main()
