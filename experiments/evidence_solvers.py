"""Which inverse Ising solver gives the best estimate: planted SK models, several seeds, MSE and time per fit.

Settings (N, g, M): (20, 1, 400), (20, 2, 400), (40, 1, 1000), (100, 1, 5000). Data: exact samples by enumeration
for N <= 20, ``metropolis_sample`` (256 chains, burn-in 1000, thin 10) otherwise. Methods: the erasure machine (eps
chosen on the default grid), pseudolikelihood at the default ``l2 = 1e-4``, pseudolikelihood with ``l2="cv"``
(5 folds, default grid), exact maximum likelihood with ``l2="cv"`` (N <= 20 only) and naive mean field.

    PYTHONPATH=. python experiments/evidence_solvers.py --out docs/figures            # resumable
    PYTHONPATH=. python experiments/evidence_solvers.py --out /tmp/ev --seeds 2 --settings 20,1,400

Each (setting, seed, method) is one CSV row (``solvers_evidence.csv`` in ``--out``): parameter MSE against the planted
model, wall seconds of the fit (the first fit of each (setting, method) in a process is run twice and the second,
compiled, time is kept), and the chosen l2 or eps. Rows already in the CSV are skipped, so an interrupted run resumes.
At the end the summary table (median, mean and Student-t 95% interval of the MSE over seeds, median time) is printed
in Markdown and drawn to ``solvers_evidence.png``.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import jax
import numpy as np
import scipy.stats

from ising_diffusion import exact_sample, infer, metropolis_sample, parameter_mse, sk_params

SETTINGS = ((20, 1.0, 400), (20, 2.0, 400), (40, 1.0, 1000), (100, 1.0, 5000))
METHODS = {
    "erasure": ("erasure", {}),
    "plm_l2_1e-4": ("pseudolikelihood", {}),
    "plm_cv": ("pseudolikelihood", {"l2": "cv"}),
    "mle_exact_cv": ("mle_exact", {"l2": "cv"}),
    "mean_field": ("mean_field", {}),
}
FIELDS = ("n", "g", "m", "seed", "method", "mse", "seconds", "chosen")


def _data(n: int, g: float, m: int, seed: int):
    k_truth, k_data = jax.random.split(jax.random.key(10_000 + seed))
    truth = sk_params(k_truth, n, g)
    if n <= 20:
        return truth, exact_sample(k_data, truth, m)
    return truth, metropolis_sample(k_data, truth, m)[0]


def _fit(method: str, spins):
    name, options = METHODS[method]
    params, info = infer(spins, name, return_info=True, **options)
    jax.block_until_ready(params)
    chosen = float(info.l2) if hasattr(info, "l2") else float(info.eps) if hasattr(info, "eps") else float("nan")
    return params, chosen


def _key(row) -> tuple:
    return int(row["n"]), float(row["g"]), int(row["m"]), int(row["seed"]), row["method"]


def run(out: Path, settings, seeds: int, methods) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "solvers_evidence.csv"
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    done = {_key(r) for r in rows}
    new_file = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new_file:
            writer.writeheader()
        for n, g, m in settings:
            warm = set()
            for seed in range(seeds):
                todo = [x for x in methods if (n, g, m, seed, x) not in done and not (x == "mle_exact_cv" and n > 20)]
                if not todo:
                    continue
                truth, spins = _data(n, g, m, seed)
                for method in todo:
                    if method not in warm:  # compile once, untimed
                        _fit(method, spins)
                        warm.add(method)
                    t0 = time.perf_counter()
                    params, chosen = _fit(method, spins)
                    seconds = time.perf_counter() - t0
                    row = dict(n=n, g=g, m=m, seed=seed, method=method, mse=float(parameter_mse(truth, params)),
                               seconds=seconds, chosen=chosen)
                    writer.writerow(row)
                    fh.flush()
                    rows.append({k: str(v) for k, v in row.items()})
                    print(f"N={n} g={g} M={m} seed={seed} {method:14s} MSE={row['mse']:.3e} t={seconds:.2f}s "
                          f"chosen={chosen:g}", flush=True)
    return rows


def summarise(rows, methods):
    """Per (setting, method): seeds, median / mean MSE, Student-t 95% interval of the mean, median seconds."""
    table = []
    settings = sorted({(int(r["n"]), float(r["g"]), int(r["m"])) for r in rows})
    for n, g, m in settings:
        for method in methods:
            sub = [r for r in rows if (int(r["n"]), float(r["g"]), int(r["m"])) == (n, g, m) and r["method"] == method]
            if not sub:
                continue
            mse = np.array([float(r["mse"]) for r in sub])
            k = len(mse)
            half = scipy.stats.t.ppf(0.975, k - 1) * mse.std(ddof=1) / np.sqrt(k) if k > 1 else np.nan
            table.append(dict(n=n, g=g, m=m, method=method, seeds=k, median=np.median(mse), mean=mse.mean(),
                              lo=mse.mean() - half, hi=mse.mean() + half,
                              seconds=np.median([float(r["seconds"]) for r in sub])))
    return table


def plot(table, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = sorted({(r["n"], r["g"], r["m"]) for r in table})
    methods = list(dict.fromkeys(r["method"] for r in table))
    fig, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings), 3.2), squeeze=False)
    for ax, (n, g, m) in zip(axes[0], settings):
        for i, method in enumerate(methods):
            r = next((r for r in table if (r["n"], r["g"], r["m"], r["method"]) == (n, g, m, method)), None)
            if r is None:
                continue
            ax.errorbar([i], [r["mean"]], yerr=[[r["mean"] - max(r["lo"], r["mean"] / 10)], [r["hi"] - r["mean"]]], fmt="o",
                        capsize=3)
            ax.plot([i], [r["median"]], "kx")
        ax.set_xticks(range(len(methods)), methods, rotation=60, ha="right", fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"N={n} g={g:g} M={m}", fontsize=9)
    axes[0][0].set_ylabel("MSE: o mean, 95% CI, x median", fontsize=8)
    fig.suptitle("lower bars clipped at mean/10 (a t-interval can reach below 0)", fontsize=7, y=0.02)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--settings", nargs="+", default=[",".join(f"{x:g}" for x in s) for s in SETTINGS],
                    help="N,g,M triples")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--summary-only", action="store_true", help="only summarise and plot the CSV")
    args = ap.parse_args(argv)
    settings = [(int(a), float(b), int(c)) for a, b, c in (s.split(",") for s in args.settings)]
    if args.summary_only:
        rows = list(csv.DictReader((args.out / "solvers_evidence.csv").open()))
    else:
        rows = run(args.out, settings, args.seeds, args.methods)
    table = summarise(rows, list(METHODS))
    print("\n| N | g | M | method | seeds | median MSE | mean MSE [95% CI] | median time per fit (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['n']} | {r['g']:g} | {r['m']} | {r['method']} | {r['seeds']} | {r['median']:.2e} | "
              f"{r['mean']:.2e} [{r['lo']:.2e}, {r['hi']:.2e}] | {r['seconds']:.3g} |")
    plot(table, args.out / "solvers_evidence.png")


if __name__ == "__main__":
    main()
