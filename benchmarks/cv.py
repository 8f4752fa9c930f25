"""Cross-validated pseudolikelihood: the whole CV path (folds x l2 grid, one compiled call) against ONE SciPy fit.

Run from the repository root::

    PYTHONPATH=. python -m benchmarks.cv                      # N=40, M=4000, 5 folds x 12 l2 values, best of 5
    PYTHONPATH=. python -m benchmarks.cv --n 20 --m 1000 --repeats 3

Same data for every implementation: planted SK model (g = 1), Metropolis samples (``benchmarks.inference.make_data``,
cached). Rows: our CV path (``infer(spins, "pseudolikelihood", l2="cv")``: all folds and penalties plus the refit),
our single fit at the default ``l2 = 1e-4``, and the SciPy L-BFGS-B fit of the same objective (vectorised NumPy with
analytic gradient, ``benchmarks.inference.pseudolikelihood_scipy``). Times are warm wall times, best of ``--repeats``,
compile time reported apart (the first call). The ratio lines are SciPy time / ours.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks.inference import make_data, pseudolikelihood_scipy, timed
from ising_diffusion import infer
from ising_diffusion.inference import DEFAULT_L2_GRID
from ising_diffusion.ising import params_to_flat


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--m", type=int, default=4000)
    ap.add_argument("--g", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ising_diffusion_bench")
    args = ap.parse_args(argv)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPUs visible, "
          f"load average {os.getloadavg()[0]:.1f}")
    truth, spins = make_data(args.n, args.m, args.g, args.seed, args.cache_dir)
    w_true = np.asarray(params_to_flat(truth))
    grid = DEFAULT_L2_GRID
    rows = []

    def run(name, fn, flat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        first = time.perf_counter() - t0
        out, best = timed(fn, args.repeats)
        mse = float(np.mean((w_true - np.asarray(flat(out))) ** 2))
        rows.append((name, best, first, mse))
        print(f"  {name:48s} best {best:8.3f}s  first call {first:8.2f}s  MSE {mse:.2e}", flush=True)
        return out

    out = run(f"ours: CV path, {args.folds} folds x {len(grid)} l2 + refit",
              lambda: infer(spins, "pseudolikelihood", l2="cv", cv_folds=args.folds, return_info=True),
              lambda o: params_to_flat(o[0]))
    print(f"    chosen l2 = {float(out[1].l2):g}")
    run("ours: single fit, l2=1e-4", lambda: infer(spins, "pseudolikelihood"), params_to_flat)
    run(f"ours: single fit, l2={float(out[1].l2):g}", lambda: infer(spins, "pseudolikelihood", l2=float(out[1].l2)),
        params_to_flat)
    s64 = np.asarray(spins, np.float64)
    run("SciPy L-BFGS-B: single fit, l2=1e-4", lambda: pseudolikelihood_scipy(s64), lambda w: w)
    cv, single, scipy_t = rows[0][1], rows[1][1], rows[3][1]
    print(f"\n| what | best of {args.repeats} (s) | first call (s) | MSE |")
    print("|---|---|---|---|")
    for name, best, first, mse in rows:
        print(f"| {name} | {best:.3f} | {first:.2f} | {mse:.2e} |")
    print(f"\nSciPy single fit / ours whole CV path: {scipy_t / cv:.2f}x")
    print(f"SciPy single fit / ours single fit:    {scipy_t / single:.1f}x")
    print(f"MSE against the planted parameters: CV {rows[0][3]:.2e} vs default l2 {rows[1][3]:.2e}")


if __name__ == "__main__":
    sys.exit(main())
