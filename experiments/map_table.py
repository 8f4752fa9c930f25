"""The map's results as the Markdown table of docs/map.md.

    PYTHONPATH=. python experiments/map_table.py runs/map-quick          # reads <run>/results.csv

One row per (truth, N, g, M, generator): the mean training-only MSE (CV pseudolikelihood), and the paired per-seed
ratios to it, mean [95% Student-t interval over seeds] (seeds below 1): what ``augment`` selected (the training-only
fit unless the held-out score recommended a mix), the combined fit (training + all generated samples), the oracle
(10x fresh real samples); the seeds where augmentation was recommended; the pair-moment RMS of the generated samples
against the held-out set, next to the training set's own (the sampling-noise floor).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

KEY = ("truth", "n_spins", "g", "n_train", "generator")
TRUTHS, GENERATORS = ("sk", "sparse", "hopfield"), ("ddpm", "d3pm", "rbm")


def _order(key):
    """The config's point order: N, then truth kind, g, M, generator (rows resumed out of order are sorted back)."""
    truth, n, g, m, gen = key
    return (int(n), TRUTHS.index(truth) if truth in TRUTHS else len(TRUTHS), float(g), int(m),
            GENERATORS.index(gen) if gen in GENERATORS else len(GENERATORS), gen)


def ci(values) -> str:
    x = np.asarray(values, float)
    m = x.mean()
    h = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.nan
    return f"{m:.2f} [{m - h:.2f}, {m + h:.2f}] ({int(np.sum(x < 1))}/{len(x)})"


def table(rows) -> str:
    groups = defaultdict(list)
    for r in rows:
        groups[tuple(r[k] for k in KEY)].append(r)
    out = ["| truth | N | g | M | generator | train-only MSE | selected / train | combined / train | oracle / train | "
           "recommended | pair-moment RMS (generated; training) |", "|" + "---|" * 11]
    for key, grp in sorted(groups.items(), key=lambda kv: _order(kv[0])):
        col = lambda c: [float(r[c]) for r in grp]  # noqa: E731
        rec = int(sum(col("recommended")))
        out.append(f"| {key[0]} | {key[1]} | {float(key[2]):g} | {key[3]} | {key[4]} | {np.mean(col('mse_train')):.4f} "
                   f"| {ci(col('ratio_selected'))} | {ci(col('ratio_combined'))} | {ci(col('ratio_oracle'))} | "
                   f"{rec}/{len(grp)} | {np.mean(col('moment_rms_second')):.3f}; "
                   f"{np.mean(col('moment_rms_train_second')):.3f} |")
    return "\n".join(out)


def recommendations(rows) -> str:
    """Per (truth, g): the seeds where the score rule recommended augmentation, how many of them lowered the MSE,
    the largest ratio, and the held-out gain per test sample of the recommended fits (runs with ``score_*`` columns)."""
    out = ["| truth | g | recommended | lowered the MSE (DDPM; D3PM) | largest selected / train | held-out gain per test "
           "sample (nats) |", "|" + "---|" * 6]
    rec = [r for r in rows if float(r["recommended"]) > 0]
    for truth in TRUTHS:
        for g in sorted({float(r["g"]) for r in rec if r["truth"] == truth}):
            grp = [r for r in rec if r["truth"] == truth and float(r["g"]) == g]
            better = {gen: sum(float(r["ratio_selected"]) < 1 for r in grp if r["generator"] == gen)
                      for gen in ("ddpm", "d3pm")}
            count = {gen: sum(r["generator"] == gen for r in grp) for gen in ("ddpm", "d3pm")}
            gains = [float(r["score_selected"]) - float(r["score_train"]) for r in grp if r.get("score_train")]
            span = f"{min(gains):.2g} - {max(gains):.2g}" if gains else "-"
            out.append(f"| {truth} | {g:g} | {len(grp)} of {sum(r['truth'] == truth and float(r['g']) == g for r in rows)} "
                       f"| {sum(better.values())} ({better['ddpm']} of {count['ddpm']}; {better['d3pm']} of "
                       f"{count['d3pm']}) | {max(float(r['ratio_selected']) for r in grp):.2f} | {span} |")
    return "\n".join(out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit(__doc__)
    with (Path(argv[0]) / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    print(table(rows))
    print()
    print(recommendations(rows))


if __name__ == "__main__":
    main()
