"""Evidence for selection by a held-out score (issue 12): which stopping rule gives augmentation that helps?

Planted SK data (N = 20 with exact samples, g in {1, 2}, M in {200, 400}; one N = 40, g = 1, M = 1000 point with
Metropolis samples), test set M / 8, the package defaults at CPU scale (DDPMConfig(), AugmentConfig(): 4000 steps, a
monitor point every 200, DDPM with EMA) and the default solver, with ``n_monitor_samples = n_augmented = 4 M`` so the
monitored "augmented + training" fit at every point is the fit to training + 4M generated samples (the largest
ratio of the score's mix grid). Per (setting, seed) one CSV row:

* ``mse_train``: the solver on the training data only (the reference of every ratio);
* ``mse_train_cv``: cross-validated pseudolikelihood on the training data (``infer(..., l2="cv")``; NaN until that
  option exists);
* ``mse_<rule>`` for rule in paper / robust / last / oracle (the point of lowest monitored augmented + training MSE;
  needs the truth) / score: the augmented + training MSE at the point each rule picks;
* ``mse_score_selected``: the MSE of the score rule's ``params_selected`` (the chosen mix, or the training-only fit
  when augmentation is not recommended), with ``recommended`` and ``stop_mix``.

Summaries: per setting and column, the mean over seeds of the paired per-seed ratio to ``mse_train`` with a 95%
Student-t interval (``summary.csv``, ``ratios.png``). Rows already in ``rows.csv`` are skipped, so an interrupted run
resumes.

    PYTHONPATH=. python experiments/evidence_selection.py --out /tmp/ev_sel                       # the full run
    PYTHONPATH=. python experiments/evidence_selection.py --seeds 2 --settings N20_g1_M400 --out /tmp/ev_sel2
"""

from __future__ import annotations

import argparse
import csv
import os
import time
import warnings

import jax
import numpy as np
from scipy import stats
from tqdm.auto import tqdm

from ising_diffusion import AugmentConfig, augment, exact_sample, infer, parameter_mse, sk_params
from ising_diffusion.augment import AugmentationNotRecommendedWarning
from ising_diffusion.monitor import NoCrossingWarning
from ising_diffusion.sampling import metropolis_sample

SETTINGS = {
    "N20_g1_M200": dict(n=20, g=1.0, m=200),
    "N20_g1_M400": dict(n=20, g=1.0, m=400),
    "N20_g2_M200": dict(n=20, g=2.0, m=200),
    "N20_g2_M400": dict(n=20, g=2.0, m=400),
    "N40_g1_M1000": dict(n=40, g=1.0, m=1000),
}
RULES = ("paper", "robust", "last", "oracle", "score")
COLUMNS = ["setting", "seed", "n", "g", "m", "mse_train", "mse_train_cv"] + [f"mse_{r}" for r in RULES] + [
    "mse_score_selected", "recommended", "stop_mix", "epoch_paper", "epoch_robust", "epoch_oracle", "epoch_score",
    "seconds"]


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated names from " + ", ".join(SETTINGS))
    ap.add_argument("--seed", type=int, default=0, help="master seed")
    ap.add_argument("--out", default="evidence_selection_out")
    ap.add_argument("--no-progress", action="store_true")
    return ap.parse_args(argv)


def draw(key, n, g, m):
    """Truth and ``m + m // 8`` independent samples (exact for N <= 20, else well-mixed Metropolis chains)."""
    k_truth, k_x = jax.random.split(key)
    truth = sk_params(k_truth, n, g)
    total = m + max(2, m // 8)
    if n <= 20:
        x = exact_sample(k_x, truth, total)
    else:
        x = metropolis_sample(k_x, truth, total, n_chains=256, burn_in=2000, thin=20).samples
    return truth, x[:m], x[m:]


def cv_plm_mse(train, truth) -> float:
    try:
        params = infer(train, method="pseudolikelihood", l2="cv")
    except (ValueError, TypeError):  # no cross-validated l2 in this build yet
        return float("nan")
    return float(parameter_mse(truth, params))


def one_row(name, setting, seed, master):
    n, g, m = setting["n"], setting["g"], setting["m"]
    key = jax.random.fold_in(jax.random.fold_in(jax.random.key(master), seed), list(SETTINGS).index(name))
    truth, train, test = draw(key, n, g, m)
    config = AugmentConfig(n_monitor_samples=4 * m)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrossingWarning)
        warnings.simplefilter("ignore", AugmentationNotRecommendedWarning)
        res = augment(jax.random.fold_in(key, 7), train, test, n_augmented=4 * m, config=config, true_params=truth,
                      progress=False)
    seconds = time.perf_counter() - t0
    c = res.curve
    comb = np.asarray(c.mse_combined)
    epochs = np.asarray(c.epochs)
    idx = {"paper": int(np.flatnonzero(epochs == res.stop_epoch_paper)[0]),
           "robust": int(np.flatnonzero(epochs == res.stop_epoch_robust)[0]),
           "last": len(epochs) - 1, "oracle": int(np.argmin(comb)),
           "score": int(np.flatnonzero(epochs == res.stop_epoch)[0])}
    row = dict(setting=name, seed=seed, n=n, g=g, m=m, mse_train=res.mse["train"],
               mse_train_cv=cv_plm_mse(train, truth), mse_score_selected=res.mse["selected"],
               recommended=int(res.recommended), stop_mix=res.stop_mix, seconds=round(seconds, 1))
    for r in RULES:
        row[f"mse_{r}"] = float(comb[idx[r]])
    for r in ("paper", "robust", "oracle", "score"):
        row[f"epoch_{r}"] = float(epochs[idx[r]])
    return row


def read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def summarize(rows):
    """Per setting and column: mean paired ratio to mse_train over seeds, 95% Student-t interval."""
    out = []
    for name in dict.fromkeys(r["setting"] for r in rows):
        sub = [r for r in rows if r["setting"] == name]
        base = np.array([float(r["mse_train"]) for r in sub])
        for col in ["mse_train_cv"] + [f"mse_{r}" for r in RULES] + ["mse_score_selected"]:
            ratio = np.array([float(r[col]) for r in sub]) / base
            ratio = ratio[np.isfinite(ratio)]
            if ratio.size == 0:
                continue
            mean = float(ratio.mean())
            half = float(stats.t.ppf(0.975, ratio.size - 1) * ratio.std(ddof=1) / np.sqrt(ratio.size)) \
                if ratio.size > 1 else float("nan")
            out.append(dict(setting=name, column=col, n_seeds=int(ratio.size), mean_ratio=mean, ci_low=mean - half,
                            ci_high=mean + half, helped=int((ratio < 1).sum())))
    return out


def plot(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = list(dict.fromkeys(s["setting"] for s in summary))
    cols = list(dict.fromkeys(s["column"] for s in summary))
    fig, ax = plt.subplots(figsize=(1.6 * len(cols) + 3, 4))
    width = 0.8 / max(1, len(settings))
    for i, name in enumerate(settings):
        xs, ys, errs = [], [], []
        for j, col in enumerate(cols):
            s = next((s for s in summary if s["setting"] == name and s["column"] == col), None)
            if s is None:
                continue
            xs.append(j + (i - (len(settings) - 1) / 2) * width)
            ys.append(s["mean_ratio"])
            errs.append(0.0 if not np.isfinite(s["ci_high"]) else s["ci_high"] - s["mean_ratio"])
        ax.errorbar(xs, ys, yerr=errs, fmt="o", capsize=3, label=name)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xticks(range(len(cols)), [c.removeprefix("mse_") for c in cols], rotation=30)
    ax.set_ylabel("MSE / training-only MSE (paired, 95% t)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse(argv)
    names = [s for s in args.settings.split(",") if s]
    unknown = [s for s in names if s not in SETTINGS]
    if unknown:
        raise SystemExit(f"unknown settings {unknown}; choose from {list(SETTINGS)}")
    os.makedirs(args.out, exist_ok=True)
    rows_path = os.path.join(args.out, "rows.csv")
    rows = read_rows(rows_path)
    done = {(r["setting"], int(r["seed"])) for r in rows}
    todo = [(name, seed) for name in names for seed in range(args.seeds) if (name, seed) not in done]
    new_file = not os.path.exists(rows_path)
    with open(rows_path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        if new_file:
            writer.writeheader()
        for name, seed in tqdm(todo, desc="settings x seeds", disable=args.no_progress):
            row = one_row(name, SETTINGS[name], seed, args.seed)
            writer.writerow(row)
            f.flush()  # one row per finished (setting, seed): a rerun resumes after it
            rows.append({k: str(v) for k, v in row.items()})
    rows = [r for r in rows if r["setting"] in names]
    summary = summarize(rows)
    with open(os.path.join(args.out, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["setting", "column", "n_seeds", "mean_ratio", "ci_low", "ci_high", "helped"])
        w.writeheader()
        w.writerows(summary)
    if summary:
        plot(summary, os.path.join(args.out, "ratios.png"))
    for s in summary:
        print(f"{s['setting']:>14} {s['column']:>20}: ratio {s['mean_ratio']:.3f} "
              f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]  helped {s['helped']}/{s['n_seeds']}")
    return summary


if __name__ == "__main__":
    main()
