"""Does the copy leak of cross-validation (docs/msa.md, near-copies) hit +-1 spins too? A planted check.

For each truth kind (SK, sparse, Hopfield; N = 20, g 1 and 2, ``--seeds`` seeds), draw M = 200 exact samples and fit
pseudolikelihood with ``l2="cv"`` to (a) the samples, (b) the samples plus ``--copies`` exact copies of each (what a
generator that memorised its training data adds to ``augment``'s combined fit, whose folds are by position for
spins), and (c) the same mixed set at (a)'s chosen ``l2``. Prints one line per data set and writes CSV.

    PYTHONPATH=. python experiments/copy_cv_spins.py --out runs/copy-cv-spins
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import numpy as np

from ising_diffusion import infer
from ising_diffusion.experiments.runner import write_csv
from ising_diffusion.ising import exact_sample, parameter_mse
from ising_diffusion.synthetic import truth_params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--n-train", type=int, default=200)
    args = ap.parse_args(argv)
    rows = []
    for kind in ("sk", "sparse", "hopfield"):
        for g in (1.0, 2.0):
            for seed in range(args.seeds):
                key = jax.random.key(seed)
                truth = truth_params(kind, jax.random.fold_in(key, 1), 20, g)
                x = np.asarray(exact_sample(jax.random.fold_in(key, 2), truth, args.n_train))
                mixed = np.concatenate([np.repeat(x, args.copies, axis=0), x])
                p_a, info_a = infer(x, "pseudolikelihood", l2="cv", return_info=True)
                p_b, info_b = infer(mixed, "pseudolikelihood", l2="cv", return_info=True)
                p_c = infer(mixed, "pseudolikelihood", l2=float(info_a.l2))
                row = {"kind": kind, "g": g, "seed": seed, "n_train": args.n_train, "n_mixed": len(mixed),
                       "l2_train_cv": float(info_a.l2), "l2_mixed_cv": float(info_b.l2),
                       "mse_train_cv": float(parameter_mse(truth, p_a)),
                       "mse_mixed_cv": float(parameter_mse(truth, p_b)),
                       "mse_mixed_fixed": float(parameter_mse(truth, p_c))}
                print(row, flush=True)
                rows.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "copy_cv_spins.csv", rows)
    ratio = np.array([r["mse_mixed_cv"] / r["mse_train_cv"] for r in rows])
    smaller = sum(r["l2_mixed_cv"] < r["l2_train_cv"] for r in rows)
    print(f"CV on the copies chose a smaller l2 on {smaller} of {len(rows)}; MSE ratio mixed-CV / train-CV: median "
          f"{np.median(ratio):.2f}, range {ratio.min():.2f}-{ratio.max():.2f}, above 1 on {(ratio > 1).sum()}")


if __name__ == "__main__":
    main()
