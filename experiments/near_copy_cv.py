"""Why near-copies of the training sequences lower contact precision (docs/msa.md, "absorbing D3PM"): a planted check
of the reading that cross-validation on a set full of near-duplicates chooses too small a coupling penalty.

For PF00014 subsamples of depth 50 (the msa experiment's subsamples and held-out splits, 40 training sequences), make
``copies`` near-copies of every training sequence (one random site changed to another random state, like the masked
D3PM's output at median distance 1) and fit CV pseudolikelihood (the msa experiment's ``plm_cv``) to (a) the training
sequences, (b) training + near-copies; then (c) the fixed-penalty fit to training + near-copies at (a)'s chosen
``lambda_J`` (no cross-validation on the near-duplicates); (d) CV pseudolikelihood on training + near-copies with
grouped folds (``cv_groups=identity_groups(mixed)``: a sequence and its near-copies held out together). Prints one
line per subsample and writes CSV.

    ISING_DIFFUSION_MSA=/work/shared/data/msa PYTHONPATH=. python experiments/near_copy_cv.py --out runs/near-copy-cv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ising_diffusion.experiments.configs.msa import Q, get_config
from ising_diffusion.experiments.msa import fit_row, load_families, subsample_rows
from ising_diffusion.experiments.msa_augment import heldout_split
from ising_diffusion.experiments.runner import write_csv
from ising_diffusion.msa import identity_groups


def near_copies(train: np.ndarray, copies: int, rng: np.random.Generator) -> np.ndarray:
    """``copies`` mutants of each row of ``train``: one random site set to a random other state of ``Q``."""
    out = np.repeat(train, copies, axis=0)
    rows = np.arange(len(out))
    sites = rng.integers(0, train.shape[1], len(out))
    out[rows, sites] = (out[rows, sites] + rng.integers(1, Q, len(out))) % Q
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--subsamples", type=int, default=3)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--copies", type=int, default=10)
    args = ap.parse_args(argv)
    cfg = get_config("quick")  # data_root None: $ISING_DIFFUSION_MSA, else ../shared/data/msa (datasets.msa)
    fam = load_families(cfg)[0]
    cv = cfg.dca_options("plm_cv")
    out = []
    for k in range(args.subsamples):
        seqs = fam.seqs[subsample_rows(fam.seqs.shape[0], args.depth, k, cfg.seed)]
        tr, _ = heldout_split(args.depth, k, cfg.heldout_size(args.depth), cfg.seed)
        train = np.asarray(seqs[tr])
        mixed = np.concatenate([train, near_copies(train, args.copies, np.random.default_rng([k, 7]))])
        a = fit_row(train, fam.contacts, cv, cfg.theta)
        b = fit_row(mixed, fam.contacts, cv, cfg.theta)
        c = fit_row(mixed, fam.contacts, {**cfg.dca_options("plm"), "lambda_J": a["lambda_J"]}, cfg.theta)
        groups = identity_groups(mixed, cfg.theta)
        d = fit_row(mixed, fam.contacts, {**cv, "cv_groups": groups}, cfg.theta)
        row = {"subsample": k, "n_train": len(train), "n_mixed": len(mixed), "lambda_train_cv": a["lambda_J"],
               "lambda_mixed_cv": b["lambda_J"], "top_L2_train_cv": a["top_L2"], "top_L2_mixed_cv": b["top_L2"],
               "top_L2_mixed_fixed": c["top_L2"], "lambda_mixed_grouped_cv": d["lambda_J"],
               "top_L2_mixed_grouped_cv": d["top_L2"], "n_groups_mixed": int(groups.max()) + 1,
               "M_eff_train": a["M_eff"], "M_eff_mixed": b["M_eff"]}
        print(row, flush=True)
        out.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "near_copy_cv.csv", out)


if __name__ == "__main__":
    main()
