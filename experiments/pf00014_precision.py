"""Contact precision of DCA on PF00014: the full alignment and seeded random subsamples, three methods.

Methods (sequence weights at theta 0.8, i.e. plmc ``-t 0.2``):

* ``plm``: pseudolikelihood on plmc's objective at plmc's README lambdas (``penalty="plmc"``, ``symmetric=True``,
  ``lambda_J = lambda_e = 16``, ``lambda_h = 0.01``), at most 100 L-BFGS iterations as plmc's ``-m 100``;
* ``plm_cv``: the same objective with ``lambda_e`` chosen by 5-fold cross-validation (``l2="cv"``, the grid
  ``DEFAULT_LAMBDA_GRIDS["plmc"]``);
* ``mf``: mean-field DCA, pseudocount 0.5.

Subsample ``k`` of size ``n`` is ``default_rng([n, k]).choice(M, n, replace=False)``. Precision: top L/5, L/2, L pairs
at separation >= 5 against ``d < 8`` contacts (L = 53; 464 contacts). Rows are appended to ``--out`` (CSV) so the
sizes can run in separate calls; ``--table`` prints the mean (min-max) table of a CSV::

    ISING_DIFFUSION_MSA=/work/shared/data/msa PYTHONPATH=. python experiments/pf00014_precision.py --sizes 50 100 200
    ISING_DIFFUSION_MSA=/work/shared/data/msa PYTHONPATH=. python experiments/pf00014_precision.py --sizes 1000 full \\
        --methods plm mf
    PYTHONPATH=. python experiments/pf00014_precision.py --table
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ising_diffusion.contacts import DEFAULT_TOPS, contact_precision
from ising_diffusion.datasets.msa import load_msa_family
from ising_diffusion.dca import dca
from ising_diffusion.msa import effective_count, sequence_weights

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures" / "pf00014_precision.csv"
METHODS = {
    "plm": dict(method="plm", penalty="plmc", symmetric=True, lambda_J=16.0, lambda_h=0.01, max_iter=100),
    "plm_cv": dict(method="plm", l2="cv", penalty="plmc", symmetric=True, lambda_h=0.01, max_iter=100),
    "mf": dict(method="mf", pseudocount=0.5),
}
FIELDS = ["size", "subsample", "M", "M_eff", "method", "lambda_e", "L/5", "L/2", "L", "seconds"]


def run(sizes, methods, reps: int, out: Path, root=None) -> None:
    family = load_msa_family("PF00014", root)
    m_all = family.seqs.shape[0]
    new = not out.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new:
            writer.writeheader()
        for size in sizes:
            for k in range(1 if size == "full" else reps):
                rows = np.arange(m_all) if size == "full" else np.sort(
                    np.random.default_rng([int(size), k]).choice(m_all, int(size), replace=False))
                seqs = family.seqs[rows]
                w = np.asarray(sequence_weights(seqs, 0.8))
                for name in methods:
                    opts = dict(METHODS[name])
                    t0 = time.perf_counter()
                    res = dca(seqs, w, q=21, progress=False, **opts)
                    scores = np.asarray(res.scores)
                    seconds = time.perf_counter() - t0
                    prec = contact_precision(scores, family.contacts, top=DEFAULT_TOPS)
                    lam = float(res.info.l2) if name == "plm_cv" else opts.get("lambda_J", float("nan"))
                    writer.writerow({"size": size, "subsample": k, "M": seqs.shape[0],
                                     "M_eff": f"{effective_count(w):.1f}", "method": name, "lambda_e": f"{lam:g}",
                                     **{t: f"{prec[t]:.4f}" for t in DEFAULT_TOPS}, "seconds": f"{seconds:.1f}"})
                    f.flush()
                    print(f"{size:>5} #{k} {name:<7} lambda_e {lam:<6g} " + " ".join(
                        f"{t} {prec[t]:.2f}" for t in DEFAULT_TOPS) + f"  {seconds:.1f} s", flush=True)


def table(path: Path) -> str:
    """Markdown table: per size and method, mean (min-max over subsamples) of each precision."""
    groups = defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            groups[(r["size"], r["method"])].append(r)
    order = sorted(groups, key=lambda sm: (float("inf") if sm[0] == "full" else int(sm[0]), list(METHODS).index(sm[1])))
    lines = ["| M | method | subsamples | M_eff | lambda_e | top L/5 | top L/2 | top L | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for size, method in order:
        rs = groups[(size, method)]

        def cell(key, fmt="{:.2f}"):
            v = np.array([float(r[key]) for r in rs])
            return fmt.format(v.mean()) if len(v) == 1 or v.min() == v.max() else (
                f"{fmt.format(v.mean())} ({fmt.format(v.min())}-{fmt.format(v.max())})")
        lam = "/".join(sorted({r["lambda_e"] for r in rs}, key=float)) if method != "mf" else "-"
        lines.append(f"| {rs[0]['M']} | {method} | {len(rs)} | {cell('M_eff', '{:.0f}')} | {lam} | {cell('L/5')} | "
                     f"{cell('L/2')} | {cell('L')} | {cell('seconds', '{:.0f}')} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["50", "100", "200", "1000", "full"])
    ap.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    ap.add_argument("--reps", type=int, default=3, help="subsamples per size (the full alignment runs once)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--root", default=None)
    ap.add_argument("--table", action="store_true", help="only print the table of --out")
    args = ap.parse_args(argv)
    if not args.table:
        print(f"# load {os.getloadavg()}", flush=True)
        run(args.sizes, args.methods, args.reps, args.out, args.root)
        print(f"# load {os.getloadavg()}", flush=True)
    print(table(args.out))


if __name__ == "__main__":
    main()
