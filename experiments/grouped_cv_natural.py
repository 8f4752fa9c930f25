"""Grouped CV folds on natural alignments: how many PF00014 sequences have a near-twin (identity >= theta) in the
``msa`` experiment's subsamples, and, with ``--fit``, whether grouped folds (``cv_groups=identity_groups(seqs)``)
change ``plm_cv``'s penalty and contact precision against position folds on the same subsample (docs/potts.md).

    ISING_DIFFUSION_MSA=/work/shared/data/msa PYTHONPATH=. python experiments/grouped_cv_natural.py \\
        --out runs/grouped-cv-natural [--fit --depths 200,500]

Writes ``groups.csv`` (one row per depth and subsample: sequences, groups, largest group, sequences in groups of two
or more) and, with ``--fit``, ``fits.csv`` (lambda_J and top-L/5, L/2, L of both splits; a subsample whose groups are
all single sequences is not fitted: its grouped split is the position split). Rows already in ``fits.csv`` are kept
(a rerun resumes).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from ising_diffusion.experiments.configs.msa import get_config
from ising_diffusion.experiments.msa import fit_row, load_families, subsample_rows
from ising_diffusion.experiments.runner import write_csv
from ising_diffusion.msa import identity_groups


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--depths", default="50,100,200,500,1000")
    ap.add_argument("--subsamples", type=int, default=5)
    ap.add_argument("--fit", action="store_true")
    args = ap.parse_args(argv)
    cfg = get_config("paper")  # data_root None: $ISING_DIFFUSION_MSA, else ../shared/data/msa (datasets.msa)
    fam = load_families(cfg)[0]
    cv = cfg.dca_options("plm_cv")
    args.out.mkdir(parents=True, exist_ok=True)
    fits_path = args.out / "fits.csv"
    fits = list(csv.DictReader(fits_path.open())) if fits_path.exists() else []
    done = {(int(r["depth"]), int(r["subsample"])) for r in fits}
    stats = []
    for depth in (int(d) for d in args.depths.split(",")):
        for k in range(args.subsamples):
            seqs = np.asarray(fam.seqs[subsample_rows(fam.seqs.shape[0], depth, k, cfg.seed)])
            groups = identity_groups(seqs, cfg.theta)
            sizes = np.bincount(groups)
            row = {"depth": depth, "subsample": k, "n_seqs": len(seqs), "n_groups": sizes.size,
                   "largest_group": int(sizes.max()), "in_groups_of_2_plus": int(sizes[sizes > 1].sum())}
            print(row, flush=True)
            stats.append(row)
            if not args.fit or sizes.size == len(seqs) or (depth, k) in done:
                continue
            a = fit_row(seqs, fam.contacts, cv, cfg.theta)
            b = fit_row(seqs, fam.contacts, {**cv, "cv_groups": groups}, cfg.theta)
            fit = {"depth": depth, "subsample": k, "lambda_position": a["lambda_J"], "lambda_grouped": b["lambda_J"],
                   **{f"{c}_position": a[c] for c in ("top_L5", "top_L2", "top_L")},
                   **{f"{c}_grouped": b[c] for c in ("top_L5", "top_L2", "top_L")}}
            print(fit, flush=True)
            fits.append(fit)
            write_csv(fits_path, fits)
    write_csv(args.out / "groups.csv", stats)


if __name__ == "__main__":
    main()
