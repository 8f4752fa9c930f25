"""Potts pseudolikelihood against plmc (the C reference, github debbiemarkslab/plmc) on PF00014 (issue 22, item 7).

Build plmc outside the repository (never vendored) and pass the binary::

    git -C <plmc clone> archive HEAD | tar -x -C /tmp/plmc-src && make -C /tmp/plmc-src all-openmp
    PYTHONPATH=. python -m benchmarks.plmc --plmc /tmp/plmc-src/bin/plmc            # full, 1000, 200; best of 3
    PYTHONPATH=. python -m benchmarks.plmc --plmc /tmp/plmc-src/bin/plmc --sizes 200 --repeats 1

Without ``--plmc`` (or with a path that does not exist) the plmc rows are skipped with a message. The family is read
with :func:`ising_diffusion.datasets.msa.load_msa_family` (``--root`` or ``ISING_DIFFUSION_MSA``, default
``../shared/data/msa``). For each size (the full alignment, and seeded random subsamples without replacement) the
alignment is written as FASTA to a temporary folder and plmc runs as::

    plmc -c couplings.txt --save-weights weights.txt -le 16 -lh 0.01 -t 0.2 -m 100 -n 2 aln.fasta

Wall time is the whole process (weights + fit + output), best of ``--repeats``. Contact precision: top L/5, L/2 and L
pairs at sequence separation >= 5 by plmc's APC-corrected Frobenius scores, against ``d < 8`` contacts.

Weights: plmc's saved weights and its printed ``Effective number of samples`` are compared with
:func:`ising_diffusion.msa.sequence_weights` at ``theta = 1 - t`` (plmc's ``-t`` is a divergence) for ``t`` in
``--weight-thetas`` (default 0.2 and 0.8; the extra ``t`` runs plmc with ``-m 1`` since only its weights are used).

Ours: :func:`ours` runs ``ising_diffusion.dca`` on plmc's objective at the same lambdas, theta, iteration cap and
L-BFGS memory (``--memory``, default 6: plmc calls libLBFGS with its default ``m = 6``; the library's own default is
10) (weights + fit + scores per call; first call with compilation reported apart, warm best of ``--repeats``);
:func:`ours_cv` runs ``l2="cv"`` on the sizes of ``--cv-sizes``. Threads: run with
``XLA_FLAGS="--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2" OMP_NUM_THREADS=2``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ising_diffusion.datasets.msa import load_msa_family
from ising_diffusion.io.alignment import write_alignment
from ising_diffusion.msa import effective_count, sequence_weights

_NEFF = re.compile(r"Effective number of samples:\s*([0-9.eE+-]+)")


def run_plmc(plmc: str, fasta: Path, out: Path, *, theta: float, lambda_e: float, lambda_h: float, iterations: int,
             threads: int) -> dict:
    """Run plmc once; return wall seconds, its N_eff, its weights ``(M,)`` and scores ``(L, L)`` (0 on the diagonal)."""
    couplings, weights = out / "couplings.txt", out / "weights.txt"
    cmd = [plmc, "-c", str(couplings), "--save-weights", str(weights), "-le", str(lambda_e), "-lh", str(lambda_h),
           "-t", str(theta), "-m", str(iterations), "-n", str(threads), str(fasta)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"plmc failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    neff = _NEFF.search(proc.stderr)
    table = np.loadtxt(couplings, usecols=(0, 2, 5), ndmin=2)
    length = int(table[:, 1].max())
    scores = np.zeros((length, length))
    i, j = table[:, 0].astype(int) - 1, table[:, 1].astype(int) - 1
    scores[i, j] = scores[j, i] = table[:, 2]
    return {"seconds": seconds, "neff": float(neff.group(1)) if neff else float("nan"),
            "weights": np.loadtxt(weights, ndmin=1), "scores": scores, "command": " ".join(cmd)}


def precision_at(scores: np.ndarray, contacts: np.ndarray, top: int, min_separation: int = 5) -> float:
    """Fraction of contacts among the ``top`` highest-scoring pairs ``i < j`` with ``j - i >= min_separation``."""
    i, j = np.triu_indices(scores.shape[0], k=min_separation)
    order = np.argsort(-scores[i, j], kind="stable")[:top]
    return float(contacts[i[order], j[order]].mean())


def ours(seqs: np.ndarray, theta: float, lambdas: dict, *, iterations: int, repeats: int, memory: int) -> dict:
    """Our pseudolikelihood DCA on plmc's objective (``penalty="plmc"``, ``symmetric=True``, equal lambdas).

    Each timed call does what the plmc process does: sequence weights at ``theta`` and the fit, at most
    ``iterations`` L-BFGS iterations (plmc's ``-m``), then the scores. The first call (compilation included) is
    reported apart; the warm time is the best of ``repeats`` further calls.

    Returns:
      ``{"scores": (L, L), "scores_gap": (L, L), "first_s", "warm_s", "n_iter"}``; ``scores_gap`` are the same fit's
      scores with the gap state kept in the norms, as plmc scores its blocks (ours leave it out, as plmDCA).
    """
    from ising_diffusion.contacts import contact_scores
    from ising_diffusion.dca import dca

    def once():
        w = sequence_weights(seqs, theta)
        res = dca(seqs, weights=w, method="plm", penalty="plmc", symmetric=True, lambda_J=lambdas["lambda_e"],
                  lambda_h=lambdas["lambda_h"], max_iter=iterations, memory_size=memory, progress=False)
        return np.asarray(res.scores), int(res.info.n_iter), res.params

    t0 = time.perf_counter()
    scores, n_iter, params = once()
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scores, n_iter, params = once()
        warm.append(time.perf_counter() - t0)
    return {"scores": scores, "scores_gap": np.asarray(contact_scores(params, gap_state=None)), "first_s": first,
            "warm_s": min(warm), "n_iter": n_iter}


def ours_cv(seqs: np.ndarray, theta: float, lambda_h: float, iterations: int) -> dict:
    """``l2="cv"`` on plmc's objective (``lambda_e`` from ``DEFAULT_LAMBDA_GRIDS["plmc"]``, 5 folds); one timed call.

    Returns:
      ``{"scores": (L, L), "seconds", "lambda_e"}``.
    """
    from ising_diffusion.dca import dca

    t0 = time.perf_counter()
    res = dca(seqs, weights=sequence_weights(seqs, theta), method="plm", l2="cv", penalty="plmc", symmetric=True,
              lambda_h=lambda_h, max_iter=iterations)
    scores = np.asarray(res.scores)
    return {"scores": scores, "seconds": time.perf_counter() - t0, "lambda_e": float(res.info.l2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plmc", default=os.environ.get("PLMC"), help="path to the plmc binary (env PLMC)")
    ap.add_argument("--family", default="PF00014")
    ap.add_argument("--root", default=None)
    ap.add_argument("--sizes", nargs="+", default=["full", "1000", "200"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--memory", type=int, default=6,
                    help="our L-BFGS memory (default 6: plmc's, libLBFGS's default m; the library's default is 10)")
    ap.add_argument("--lambda-e", type=float, default=16.0)
    ap.add_argument("--lambda-h", type=float, default=0.01)
    ap.add_argument("--theta", type=float, default=0.2, help="plmc -t (divergence); ours uses 1 - t")
    ap.add_argument("--weight-thetas", type=float, nargs="*", default=[0.2, 0.8])
    ap.add_argument("--cv-sizes", nargs="*", default=["200"], help="sizes that also get an l2=cv fit")
    ap.add_argument("--no-ours", action="store_true", help="plmc rows only")
    args = ap.parse_args(argv)

    have_plmc = args.plmc is not None and Path(args.plmc).is_file() and os.access(args.plmc, os.X_OK)
    if not have_plmc:
        print(f"# plmc skipped: no executable at --plmc {args.plmc!r} (build it with `make all-openmp`, see above)")
    family = load_msa_family(args.family, args.root)
    length = family.length
    rng = np.random.default_rng(args.seed)
    print(f"# {args.family}: M = {family.seqs.shape[0]}, L = {length}, "
          f"{int(np.triu(family.contacts, 5).sum())} contacts at separation >= 5; load {os.getloadavg()}")
    lambdas = {"lambda_e": args.lambda_e, "lambda_h": args.lambda_h}
    tops = {"L/5": length // 5, "L/2": length // 2, "L": length}
    rows, weight_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            m_all = family.seqs.shape[0]
            rows_idx = np.arange(m_all) if size == "full" else np.sort(rng.choice(m_all, int(size), replace=False))
            seqs = family.seqs[rows_idx]
            folder = Path(tmp) / f"m{seqs.shape[0]}"
            fasta = write_alignment(folder / "aln.fasta", seqs, [family.ids[r] for r in rows_idx])
            for t in args.weight_thetas:
                w_ours = np.asarray(sequence_weights(seqs, 1.0 - t), np.float64)
                entry = {"M": seqs.shape[0], "t": t, "ours_neff": effective_count(w_ours)}
                if have_plmc:
                    iters = args.iterations if t == args.theta else 1
                    res = run_plmc(args.plmc, fasta, folder, theta=t, iterations=iters, threads=args.threads,
                                   lambda_e=args.lambda_e, lambda_h=args.lambda_h)
                    entry.update(plmc_neff=res["neff"], max_diff=float(np.abs(res["weights"] - w_ours).max()))
                weight_rows.append(entry)
            w = np.asarray(sequence_weights(seqs, 1.0 - args.theta))
            row = {"M": seqs.shape[0], "neff": effective_count(w)}
            if have_plmc:
                runs = [run_plmc(args.plmc, fasta, folder, theta=args.theta, iterations=args.iterations,
                                 threads=args.threads, **lambdas) for _ in range(args.repeats)]
                best = min(runs, key=lambda r: r["seconds"])
                row["plmc_s"] = best["seconds"]
                row["plmc"] = {k: precision_at(best["scores"], family.contacts, n) for k, n in tops.items()}
                row["command"] = best["command"].replace(tmp, "$TMP")
            if not args.no_ours:
                got = ours(seqs, 1.0 - args.theta, lambdas, iterations=args.iterations, repeats=args.repeats,
                           memory=args.memory)
                row.update(ours_s=got["warm_s"], ours_first=got["first_s"], ours_iter=got["n_iter"])
                row["ours"] = {k: precision_at(got["scores"], family.contacts, n) for k, n in tops.items()}
                row["ours_gap"] = {k: precision_at(got["scores_gap"], family.contacts, n) for k, n in tops.items()}
                if size in args.cv_sizes:
                    cv = ours_cv(seqs, 1.0 - args.theta, args.lambda_h, args.iterations)
                    row.update(cv_s=cv["seconds"], cv_lambda=cv["lambda_e"])
                    row["cv"] = {k: precision_at(cv["scores"], family.contacts, n) for k, n in tops.items()}
            rows.append(row)
            shown = {k: v for k, v in row.items() if k != "command"}
            print(f"# done M = {seqs.shape[0]}: {shown}", file=sys.stderr, flush=True)

    print(f"\n| M | M_eff (theta {1 - args.theta:.1f}) | plmc s (best of {args.repeats}, {args.threads} threads) "
          f"| plmc L/5 | L/2 | L | ours first s | ours warm s (best of {args.repeats}, L-BFGS memory {args.memory}) "
          "| ours iterations | ours / plmc (warm s) "
          "| ours L/5 | L/2 | L | ours, gap kept as plmc: L/5 | L/2 | L |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p = [f"{r['plmc'][k]:.2f}" for k in tops] if "plmc" in r else ["-"] * 3
        o = [f"{r[s][k]:.2f}" for s in ("ours", "ours_gap") for k in tops] if "ours" in r else ["-"] * 6
        ps = f"{r['plmc_s']:.2f}" if "plmc_s" in r else "-"
        os_ = [f"{r['ours_first']:.2f}", f"{r['ours_s']:.2f}", str(r["ours_iter"])] if "ours_s" in r else ["-"] * 3
        os_.append(f"{r['ours_s'] / r['plmc_s']:.2f}" if "ours_s" in r and "plmc_s" in r else "-")
        print(f"| {r['M']} | {r['neff']:.1f} | {ps} | {' | '.join(p)} | {' | '.join(os_)} | {' | '.join(o)} |")
    if any("cv" in r for r in rows):
        print("\n| M | plmc L/5 | L/2 | L (lambda_e 16) | ours l2=cv lambda_e | cv s | cv L/5 | L/2 | L |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            if "cv" in r:
                p = [f"{r['plmc'][k]:.2f}" for k in tops] if "plmc" in r else ["-"] * 3
                c = [f"{r['cv'][k]:.2f}" for k in tops]
                print(f"| {r['M']} | {' | '.join(p)} | {r['cv_lambda']:g} | {r['cv_s']:.1f} | {' | '.join(c)} |")
    print("\n| M | plmc -t | ours theta | plmc N_eff | ours M_eff | max abs weight difference | agree |")
    print("|---|---|---|---|---|---|---|")
    for r in weight_rows:
        pn = f"{r['plmc_neff']:.1f}" if "plmc_neff" in r else "-"
        md = f"{r['max_diff']:.1e}" if "max_diff" in r else "-"
        # plmc prints N_eff to 0.1 and saves weights to 16 digits; ours are float32
        agree = "-" if "max_diff" not in r else (
            "yes" if r["max_diff"] < 1e-6 and abs(r["plmc_neff"] - r["ours_neff"]) <= 0.051 else "NO")
        print(f"| {r['M']} | {r['t']} | {1 - r['t']:.1f} | {pn} | {r['ours_neff']:.1f} | {md} | {agree} |")
    if rows and "command" in rows[0]:
        print(f"\nplmc command: {rows[0]['command']}")
    print(f"# load at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
