"""plmc at its default penalties against our cross-validated pseudolikelihood, on the ``msa`` experiment's own
subsamples (issue 22, item 7: "``l2="cv"`` at least as precise as plmc's default lambdas on the shallow subsamples").

For every ``plm_cv`` row of an ``msa`` results CSV (family, depth ``M``, subsample ``k``), the same rows of the
alignment (:func:`ising_diffusion.experiments.msa.subsample_rows`) are written as FASTA and fitted by plmc (github
debbiemarkslab/plmc, built outside the repository: see ``benchmarks/README.md``) with ``-le 16 -lh 0.01 -t 0.2
-m 100`` (its default penalties, our theta 0.8, the iteration cap of ``benchmarks/plmc.py``); its APC-corrected
Frobenius scores give top-L/5, L/2 and L precision against the same contact map (separation >= 5). The CSV's
``plm_cv`` precisions are paired with plmc's per subsample: mean difference with a 95% t interval and the subsamples
above / below, per depth. Rows are appended to ``--out`` as they finish, so a rerun skips the subsamples done.

    PYTHONPATH=. python experiments/plmc_vs_cv.py --plmc /tmp/plmc-src/bin/plmc \\
        --results docs/figures/msa_quick_results.csv --out docs/figures/plmc_vs_cv.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
from pathlib import Path

import numpy as np
from benchmarks.plmc import precision_at, run_plmc
from ising_diffusion.datasets.msa import load_msa_family
from ising_diffusion.experiments.msa import subsample_rows
from ising_diffusion.experiments.rows import mean_ci
from ising_diffusion.experiments.runner import write_csv
from ising_diffusion.io.alignment import write_alignment

TOPS = {"top_L5": 5, "top_L2": 2, "top_L": 1}


def _cv_rows(path: str) -> list[dict]:
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["method"] == "plm_cv"]


def _interval(d: np.ndarray) -> str:
    mean, low, high = mean_ci(d)
    return f"{mean:+.3f}" if d.size < 2 else f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plmc", default=os.environ.get("PLMC"), required=os.environ.get("PLMC") is None)
    ap.add_argument("--results", default="docs/figures/msa_quick_results.csv")
    ap.add_argument("--out", default="docs/figures/plmc_vs_cv.csv")
    ap.add_argument("--root", default=None, help="family folders (default: $ISING_DIFFUSION_MSA or ../shared)")
    ap.add_argument("--seed", type=int, default=0, help="the msa run's base seed (its config's seed; the CSV's seed "
                    "column is the subsample number)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    done = []
    if Path(args.out).is_file():
        with open(args.out, newline="") as f:
            done = list(csv.DictReader(f))
    have = {(r["family"], r["depth"], r["subsample"]) for r in done}
    families = {}
    rows = list(done)
    for cv in _cv_rows(args.results):
        key = (cv["family"], cv["depth"], cv["subsample"])
        if key in have:
            continue
        fam = families.setdefault(cv["family"], load_msa_family(cv["family"], args.root))
        idx = subsample_rows(fam.seqs.shape[0], int(cv["depth"]), int(cv["subsample"]), args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            fasta = write_alignment(Path(tmp) / "aln.fasta", fam.seqs[idx], [fam.ids[r] for r in idx])
            res = run_plmc(args.plmc, fasta, Path(tmp), theta=0.2, lambda_e=16.0, lambda_h=0.01, iterations=100,
                           threads=args.threads)
        length = fam.length
        row = {"family": cv["family"], "depth": cv["depth"], "subsample": cv["subsample"], "base_seed": args.seed,
               "plmc_seconds": round(res["seconds"], 3), "plmc_neff": round(res["neff"], 2)}
        row.update({f"plmc_{t}": precision_at(res["scores"], fam.contacts, length // div) for t, div in TOPS.items()})
        row.update({f"cv_{t}": float(cv[t]) for t in TOPS})
        row["cv_lambda_J"] = float(cv["lambda_J"])
        rows.append(row)
        write_csv(Path(args.out), rows)  # atomically, after every subsample (a rerun resumes)
        print(f"# {key}: plmc L/2 {row['plmc_top_L2']:.3f}, plm_cv L/2 {float(cv['top_L2']):.3f}", flush=True)

    print("| family | M | subsamples | plmc L/2 | plm_cv L/2 | L/2: plm_cv - plmc (paired, 95% t) | above / below "
          "| L/5 diff | L diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for fam, depth in sorted({(r["family"], int(r["depth"])) for r in rows}):
        sel = [r for r in rows if r["family"] == fam and int(r["depth"]) == depth]
        diff = {t: np.array([float(r[f"cv_{t}"]) - float(r[f"plmc_{t}"]) for r in sel]) for t in TOPS}
        plmc = np.mean([float(r["plmc_top_L2"]) for r in sel])
        cvm = np.mean([float(r["cv_top_L2"]) for r in sel])
        d = diff["top_L2"]
        print(f"| {fam} | {depth} | {len(sel)} | {plmc:.3f} | {cvm:.3f} | {_interval(d)} | {int((d > 0).sum())} / "
              f"{int((d < 0).sum())} | {_interval(diff['top_L5'])} | {_interval(diff['top_L'])} |")


if __name__ == "__main__":
    main()
