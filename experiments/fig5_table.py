"""Fig. 5's results as the Markdown table of docs/experiments.md.

    PYTHONPATH=. python experiments/fig5_table.py runs/fig5-quick          # reads <run>/results.csv

One row per (generator, training size): the erasure machine's training-only MSE (mean over seeds), its paired per-seed
ratios augmented / training and augmented + training / training, mean [95% Student-t interval over seeds] (seeds
below 1); the strong baseline, CV-PLM on training only (mean) and on augmented + training (mean, and its paired ratio
to CV-PLM training only); the seeds where CV-PLM on training alone beat the augmented erasure fit; the stop epochs.
Then per seed the augmented / training ratios, and how often each generator's augmented set was the best.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from experiments.map_table import ci  # mean [95% t interval] (seeds below 1)

ORDER = ("ddpm", "rbm", "vae", "gan")


def main(run: str) -> None:
    rows = list(csv.DictReader(open(Path(run) / "results.csv")))
    keys = sorted({(r["generator"], int(r["n_train"])) for r in rows}, key=lambda k: (ORDER.index(k[0]), k[1]))
    print("| generator | M | erasure, train only | erasure aug / train | erasure aug + train / train | **CV-PLM, train "
          "only** | CV-PLM aug + train (ratio to CV-PLM train) | CV-PLM train < erasure aug + train | stop epochs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for gen, m in keys:
        rs = sorted((r for r in rows if r["generator"] == gen and int(r["n_train"]) == m), key=lambda r: int(r["seed"]))

        def f(k):
            return np.array([float(r[k]) for r in rs])

        print(f"| {gen.upper()} | {m} | {f('mse_train').mean():.4f} | {ci(f('mse_augmented') / f('mse_train'))} | "
              f"{ci(f('mse_combined') / f('mse_train'))} | **{f('mse_train_cv').mean():.4f}** | "
              f"{f('mse_combined_cv').mean():.4f} ({ci(f('mse_combined_cv') / f('mse_train_cv'))}) | "
              f"{int(np.sum(f('mse_train_cv') < f('mse_combined')))}/{len(rs)} | "
              f"{', '.join(str(int(float(r['stop_epoch']))) for r in rs)} |")
    aug = {(r["generator"], int(r["n_train"]), int(r["seed"])): float(r["mse_augmented"]) / float(r["mse_train"])
           for r in rows}
    gens = sorted({k[0] for k in aug}, key=ORDER.index)
    for gen in gens:
        per_seed = " ".join(f"{v:.2f}" for k, v in sorted(aug.items()) if k[0] == gen)
        best = sum(aug[k] <= min(aug[(g, k[1], k[2])] for g in gens) for k in aug if k[0] == gen)
        print(f"{gen}: aug / train per (M, seed) {per_seed}; best generator on {best} of {len(per_seed.split())}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/fig5-quick")
