"""Does the Potts CV path's early stop (patience 2) choose what the full path chooses? (issue 22/23 follow-up)

On the retina's 50 cells the Ising held-out score had two peaks and the path's early stop chose the wrong one
(docs/inference.md, "Two peaks"); the Ising path now fits every penalty. The Potts path keeps ``patience=2`` because
its fits are the costly ones. This script fits the same data both ways and reports the chosen ``lambda_J``, the
held-out score of each penalty on the full path and its local maxima:

    PYTHONPATH=. nice python experiments/potts_cv_peaks.py --out /work/runs/potts-cv-peaks            # planted
    PYTHONPATH=. nice python experiments/potts_cv_peaks.py --out /work/runs/potts-cv-peaks --msa 50 100  # + PF00014

Planted data: the map's ``potts_quick`` points (L = 20, q = 4, g = 1, M 100 and 400, 3 seeds; the same truths and
training sequences as ``ising-diffusion run map --preset potts_quick``), weights at theta 1.0 as there. PF00014
(``--msa``): the sequences of the ``msa`` experiment's subsamples ``default_rng([0, M, k])``, k = 0, 1, 2, weights at
theta 0.8, in draw order (the experiment sorts them, ``msa.subsample_rows``; the CV folds follow the row order, so
the chosen penalties here need not equal the ``plm_cv`` rows' on the same subsample).
Rows (``results.csv`` in ``--out``, rewritten atomically per data set, so a rerun resumes): data set, chosen
``lambda_J`` with patience 2 and with the full path, the full path's scores per penalty, the number of local maxima.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import jax
import numpy as np

from ising_diffusion.experiments.configs.potts_map import get_potts_config
from ising_diffusion.experiments.potts_map import potts_task
from ising_diffusion.experiments.runner import write_csv
from ising_diffusion.inference.potts_pseudolikelihood import POTTS_PATIENCE, potts_pseudolikelihood_cv
from ising_diffusion.msa import sequence_weights

def local_maxima(scores) -> int:
    """Local maxima of a score over the grid (finite entries only; a plateau counts once)."""
    s = np.asarray([x for x in scores if np.isfinite(x)])
    if s.size == 0:
        return 0
    padded = np.concatenate([[-np.inf], s, [-np.inf]])
    return int(sum(padded[i] > padded[i - 1] and padded[i] >= padded[i + 1] for i in range(1, s.size + 1)))


def compare(name: str, seqs: np.ndarray, q: int, theta: float) -> dict:
    """Fit ``seqs`` with the default patience and with the full path; one row."""
    w = np.asarray(sequence_weights(seqs, theta))
    out = {}
    for label, patience in (("patience", POTTS_PATIENCE), ("full", None)):
        t0 = time.perf_counter()
        _, info = jax.block_until_ready(potts_pseudolikelihood_cv(seqs, w, q=q, patience=patience))
        out[label] = (info, time.perf_counter() - t0)
    (ip, tp), (ifull, tf) = out["patience"], out["full"]
    scores = np.asarray(ifull.score_mean, np.float64)
    return dict(data=name, l2_patience=float(ip.l2), l2_full=float(ifull.l2), same=float(ip.l2) == float(ifull.l2),
                n_local_maxima=local_maxima(scores), score_best_patience=float(np.max(ip.score_mean)),
                score_best_full=float(np.max(scores)), grid=" ".join(f"{g:g}" for g in np.asarray(ifull.l2_grid)),
                scores_full=" ".join(f"{s:.5f}" for s in scores), time_patience=round(tp, 1), time_full=round(tf, 1))


def datasets(msa_depths):
    """(name, sequences, q, theta) of every data set, planted first."""
    cfg = get_potts_config("potts_quick")
    for point in cfg.points():
        tk = potts_task(cfg, point)
        for s in range(cfg.n_seeds):
            yield f"potts:L={point[1]}:q={point[2]}:M={point[4]}:seed={s}", tk.train[s], point[2], cfg.theta
    if msa_depths:
        from ising_diffusion.datasets.msa import load_msa_family
        fam = load_msa_family("PF00014")
        seqs = np.asarray(fam.seqs)
        for m in msa_depths:
            for k in range(3):
                pick = np.random.default_rng([0, m, k]).choice(seqs.shape[0], m, replace=False)
                yield f"PF00014:M={m}:k={k}", seqs[pick], 21, 0.8


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--msa", type=int, nargs="*", default=[], help="PF00014 subsample depths (slow: minutes each)")
    a = p.parse_args(argv)
    path = Path(a.out, "results.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    if path.exists():
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    done = {r["data"] for r in rows}
    for name, seqs, q, theta in datasets(a.msa):
        if name in done:
            continue
        row = compare(name, seqs, q, theta)
        rows.append(row)
        write_csv(path, rows)  # atomically, the finished rows kept
        print(f"{name}: l2 patience {row['l2_patience']:g}, full {row['l2_full']:g}, local maxima "
              f"{row['n_local_maxima']}, {row['time_patience']} s / {row['time_full']} s", flush=True)
    print(f"[potts_cv_peaks] {sum(str(r['same']) == 'True' for r in rows)} of {len(rows)} data sets: same lambda_J; "
          f"{sum(int(r['n_local_maxima']) > 1 for r in rows)} with more than one local maximum. Rows: {path}")


if __name__ == "__main__":
    main()
