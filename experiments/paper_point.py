"""The paper's core point at the paper's own settings, one seed at a time, resumable (issue 24, item 3).

N = 20, g = 1, 400 training + 50 test samples, the paper's network (widths 128/256/512, Adam at 1e-4, batch 128, no
EMA), 50,000 optimiser steps with a monitor point every 1,000, the paper's energy-variance stopping rule and the
erasure machine (the ``paper`` preset of the main job), beside the strong baseline (CV pseudolikelihood on the
training data alone and on augmented + training data).

Each seed is its own run of the main job (``--seed b --seeds 1``, so seed ``b`` uses key ``fold_in(key(b), 0)``) in
``<out>/seed<b>``: its rows land as soon as it finishes, and a killed seed resumes from its last generator checkpoint.
After every seed the finished rows are pooled into ``<out>/paper_point.csv`` and ``<out>/paper_point_summary.csv``
(mean and 95% t interval over seeds; ratios paired per seed) and ``<out>/paper_point.png``::

    python experiments/paper_point.py --out runs/paper-point --seeds 5     # run or resume; hours on 2 CPU cores
    python experiments/paper_point.py --out runs/paper-point --summary     # pool what has finished, print the table
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from ising_diffusion.experiments.configs.paper import PAPER_BATCH_SIZE
from ising_diffusion.experiments.rows import format_table, summarize
from ising_diffusion.experiments.runner import write_csv

#: the columns pooled over seeds (per-seed values in results.csv of each run).
VALUES = {"EM train only": "mse_train", "EM augmented": "mse_augmented", "EM aug+train": "mse_combined",
          "EM aug+train / train": "ratio_combined", "CV-PLM train only": "mse_train_cv",
          "CV-PLM aug+train": "mse_combined_cv", "CV-PLM aug+train / train": "ratio_combined_cv",
          "EM aug+train / CV-PLM train": "ratio_em_aug_vs_cv", "stop (optimiser step)": "stop_step",
          "hours": "hours"}


def run_seed(out: Path, seed: int, progress: bool, preset: str = "paper") -> None:
    from ising_diffusion.experiments.main import main as main_job

    main_job(["--preset", preset, "--set", "g_values=[1.0]", "--seeds", "1", "--seed", str(seed),
              "--out", str(out / f"seed{seed}")] + ([] if progress else ["--no-progress"]))


def finished_rows(out: Path) -> list[dict]:
    """The rows of every finished seed (``<out>/seed<b>/results.json``), with the paired ratios added."""
    rows = []
    for path in sorted(out.glob("seed*/results.json"), key=lambda p: int(p.parent.name[4:])):
        for r in json.loads(path.read_text())["rows"]:
            steps_per_epoch = math.ceil(r["n_train"] / PAPER_BATCH_SIZE)  # the stop is recorded in epochs
            r = dict(r, seed=int(path.parent.name[4:]), hours=r["time_total"] / 3600,
                     stop_step=r["stop_epoch"] * steps_per_epoch)
            r["ratio_em_aug_vs_cv"] = r["mse_combined"] / r["mse_train_cv"]
            rows.append(r)
    return rows


#: the four fits of the figure: (column, label)
FITS = (("mse_train", "erasure, train only"), ("mse_combined", "erasure, aug + train"),
        ("mse_train_cv", "CV-PLM, train only"), ("mse_combined_cv", "CV-PLM, aug + train"))


def plot(rows: list[dict], path: Path) -> None:
    """Each seed's parameter MSE for the four fits (one line per seed), the paper's comparison in the first two."""
    from ising_diffusion.experiments.plotting import plt, save_figure

    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = np.arange(len(FITS))
    for r in rows:
        ax.plot(x, [r[c] for c, _ in FITS], "o-", alpha=0.7, label=f"seed {r['seed']}")
    ax.set_xticks(x, [label for _, label in FITS])
    ax.set_yscale("log")
    ax.set_ylabel("parameter MSE")
    ax.set_title(f"paper settings: N=20, g=1, M=400, 50,000 steps ({len(rows)} seeds)")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def pool(out: Path) -> str:
    """Pool the finished seeds into ``paper_point.csv`` / ``paper_point_summary.csv``; return the printed table."""
    rows = finished_rows(out)
    if not rows:
        return "no seed has finished yet"
    write_csv(out / "paper_point.csv", [{k: r[k] for k in ["seed", "g", *VALUES.values(), "crossed_paper"]}
                                        for r in rows])
    plot(rows, out / "paper_point.png")
    summary = summarize(rows, ["g"], list(VALUES.values()))
    counts = {name: f"{sum(r[col] < 1 for r in rows)} of {len(rows)}"
              for name, col in (("EM aug+train better than EM train", "ratio_combined"),
                                ("CV-PLM aug+train better than CV-PLM train", "ratio_combined_cv"),
                                ("EM aug+train better than CV-PLM train", "ratio_em_aug_vs_cv"))}
    write_csv(out / "paper_point_summary.csv", [summary[0] | counts])
    return (format_table(summary, ["g"], VALUES) + "\nseeds where the ratio is below 1: "
            + "; ".join(f"{k}: {v}" for k, v in counts.items()))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/paper-point", help="run folder (reuse it to resume)")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..S-1, run one after another")
    p.add_argument("--summary", action="store_true", help="only pool the finished seeds and print the table")
    p.add_argument("--preset", default="paper", help="the main job's preset (tiny: a seconds-long smoke test)")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    out = Path(a.out)
    if not a.summary:
        for seed in range(a.seeds):
            if (out / f"seed{seed}" / "results.csv").exists():
                continue
            run_seed(out, seed, not a.no_progress, a.preset)
            print(pool(out), flush=True)
    print(pool(out))


if __name__ == "__main__":
    main(sys.argv[1:])
