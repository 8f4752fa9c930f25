"""Inverse Ising solvers: time and MSE of ours against NumPy/SciPy references and ConIII 3.0.1, on the same data.

Run from the repository root::

    PYTHONPATH=. python -m benchmarks.inference                 # N=20 (M=1000) and N=100 (M=20000)
    PYTHONPATH=. python -m benchmarks.inference --sizes 20      # only the small case
    PYTHONPATH=. python -m benchmarks.inference --eps-check     # erasure machine: chosen eps vs MSE-optimal eps

Times are warm (compiled once first; best of ``--repeats`` runs, every implementation timed once per round, round
robin), on whatever CPU cores JAX and NumPy see. The
pseudolikelihood reference is the row-wise SciPy L-BFGS-B fit (``benchmarks.pl_reference.pseudolikelihood_rows``: N
independent logistic regressions, as ConIII and plmDCA solve it); NumPy's BLAS gets one thread unless
``OPENBLAS_NUM_THREADS`` is set (see ``benchmarks/cv.py``).
ConIII runs in a subprocess of its own virtual environment (``--coniii-python``, default ``/tmp/coniii/bin/python``;
it needs numpy < 2, so it cannot share JAX's environment) on the same data written to a temporary ``.npz``; it is
skipped cleanly when that interpreter or ConIII is missing. N=100 data come from ``metropolis_sample`` and are cached
in ``--cache-dir``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads (benchmarks/cv.py explains why)

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from benchmarks.erasure_reference import erasure_reference
from benchmarks.pl_reference import pseudolikelihood_rows
from ising_diffusion import infer, infer_batch, metropolis_sample
from ising_diffusion.io import load_npz, save_npz
from ising_diffusion.inference.erasure import DEFAULT_EPS_GRID
from ising_diffusion.ising import exact_sample, parameter_mse, params_to_flat, sk_params

OUR_METHODS = ("erasure", "mle_exact", "mle_mcmc", "pseudolikelihood", "mean_field", "tap", "independent",
               "independent_exact")


def make_data(n: int, m: int, g: float, seed: int, cache_dir: Path):
    """Planted SK model and ``m`` samples: exact for N <= 20, Metropolis (cached on disk) otherwise."""
    truth = sk_params(jax.random.key(seed), n, g)
    if n <= 20:
        return truth, np.asarray(exact_sample(jax.random.key(seed + 1), truth, m))
    path = cache_dir / f"sk_n{n}_m{m}_g{g}_seed{seed}.npz"
    if path.exists():
        return truth, load_npz(path, "spins")
    t0 = time.perf_counter()
    spins, rate = metropolis_sample(jax.random.key(seed + 1), truth, m, n_chains=256, burn_in=1000, thin=10)
    spins = np.asarray(spins)
    print(f"  generated N={n} M={m} by Metropolis in {time.perf_counter() - t0:.1f}s (acceptance {float(rate):.2f})")
    save_npz(path, spins=spins)
    return truth, spins


def timed(fn, repeats: int):
    """Warm wall time: one untimed call (compilation), then the best of ``repeats``; returns (result, seconds)."""
    out = jax.block_until_ready(fn())
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return out, best


# ---------------------------------------------------------------- references (NumPy / SciPy)

def erasure_reference_grid(spins: np.ndarray, eps_grid, n_iter: int = 150, alpha: float = 0.1):
    """The published erasure-machine update in plain NumPy, every eps of the grid, eps chosen by max <E>_data."""
    n = spins.shape[1]
    iu = np.triu_indices(n, k=1)
    ops = np.concatenate([spins, spins[:, iu[0]] * spins[:, iu[1]]], axis=1)
    fits = [erasure_reference(spins, eps, alpha, n_iter) for eps in eps_grid]
    mean_energy = [-np.mean(ops @ w) for w in fits]
    return fits[int(np.argmax(mean_energy))]


CONIII_SCRIPT = textwrap.dedent("""
    import sys, time, json, numpy as np
    from coniii.solvers import Pseudo
    spins = np.load(sys.argv[1])["spins"].astype(np.int64)
    repeats = int(sys.argv[3])
    best = float("inf")
    for _ in range(repeats):
        solver = Pseudo(spins, iprint=False)
        t0 = time.perf_counter()
        w = solver.solve()
        best = min(best, time.perf_counter() - t0)
    np.save(sys.argv[2], np.asarray(w, np.float64))
    print(json.dumps({"seconds": best}))
""")


def coniii_pseudo(spins: np.ndarray, python: str, repeats: int):
    """ConIII 3.0.1 ``Pseudo`` in its own interpreter; returns (flat w, seconds) or None when unavailable."""
    if not Path(python).exists():
        print(f"  ConIII skipped: no interpreter at {python}")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data, out, script = (os.path.join(tmp, x) for x in ("data.npz", "w.npy", "run.py"))
        np.savez(data, spins=spins)
        Path(script).write_text(CONIII_SCRIPT)
        proc = subprocess.run([python, script, data, out, str(repeats)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  ConIII skipped: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'failed'}")
            return None
        return np.load(out), json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


# ---------------------------------------------------------------- one benchmark case

def run_case(n: int, m: int, g: float, args) -> list[dict]:
    truth, spins = make_data(n, m, g, args.seed, args.cache_dir)
    w_true = np.asarray(params_to_flat(truth))
    rows = []

    def mse_flat(w):
        return float(np.mean((w_true - np.asarray(w)) ** 2))

    def add(name, impl, w, seconds):
        rows.append(dict(n=n, m=m, method=name, impl=impl, mse=mse_flat(w), seconds=seconds))
        print(f"  N={n} M={m} {name:18s} {impl:22s} MSE={rows[-1]['mse']:.2e}  t={seconds:.3f}s", flush=True)

    # every timed call in one list, timed round-robin (interleaved) so load from other processes hits all alike
    jobs = []  # (method, implementation, call returning a flat estimate, repeats)
    methods = [x for x in args.methods if not (x == "mle_exact" and n > 20)]
    for method in methods:
        opts = dict(key=jax.random.key(args.seed + 2)) if method == "mle_mcmc" else {}
        reps = 1 if method in ("mle_mcmc",) and n > 20 else args.repeats
        jobs.append((method, "ising_diffusion (JAX)",
                     lambda method=method, opts=opts: params_to_flat(infer(spins, method, **opts)), reps))
    s64 = spins.astype(np.float64)
    if not args.skip_reference:
        if n <= 20 or args.full_reference:
            jobs.append(("erasure", "NumPy reference", lambda: erasure_reference_grid(s64, DEFAULT_EPS_GRID),
                         args.repeats if n <= 20 else 1))
        jobs.append(("pseudolikelihood", "SciPy L-BFGS-B row-wise", lambda: pseudolikelihood_rows(s64),
                     args.repeats if n <= 20 else 1))
    results = [jax.block_until_ready(fn()) for _, _, fn, _ in tqdm(jobs, desc=f"first calls N={n}",
                                                                    disable=not args.progress, leave=False)]
    best = [np.inf] * len(jobs)
    for r in range(max(j[3] for j in jobs)):
        for k, (_, _, fn, reps) in enumerate(jobs):
            if r < reps:
                t0 = time.perf_counter()
                results[k] = jax.block_until_ready(fn())
                best[k] = min(best[k], time.perf_counter() - t0)
    for (method, impl, _, _), w, t in zip(jobs, results, best):
        add(method, impl, w, t)

    if args.skip_reference:
        return rows
    if "erasure" in methods and not (n <= 20 or args.full_reference):  # one eps of the grid, timed, then x grid size: same cost for every eps
        t0 = time.perf_counter()
        erasure_reference(s64, 0.7, 0.1, 150)
        t = (time.perf_counter() - t0) * len(DEFAULT_EPS_GRID)
        rows.append(dict(n=n, m=m, method="erasure", impl="NumPy reference (1 eps x6)", mse=float("nan"), seconds=t))
        print(f"  N={n} M={m} erasure            NumPy reference (1 eps x6) t={t:.1f}s (MSE not computed: the "
              "reference ran one eps of the grid)")
    if not args.skip_coniii:
        res = coniii_pseudo(spins, args.coniii_python, args.repeats if n <= 20 else 1)
        if res is not None:
            add("pseudolikelihood", "ConIII 3.0.1 Pseudo", res[0], res[1])
    return rows


def eps_check(args):
    """Chosen eps (largest <E>_data) vs the MSE-optimal eps on the default grid: N=20, g in {0.5,1,2}, M in {400,4000}."""
    n, grid = 20, DEFAULT_EPS_GRID
    lines = []
    for g in (0.5, 1.0, 2.0):
        for m in (400, 4000):
            truths = [sk_params(jax.random.key(1000 + i), n, g) for i in range(args.n_seeds)]
            data = jnp.stack([exact_sample(jax.random.key(i), t, m) for i, t in enumerate(truths)])
            _, info = infer_batch(data, "erasure", eps_grid=grid, return_info=True)
            within, ratio = [], []
            for i, t in enumerate(truths):
                mses = np.array([float(parameter_mse(t, jax.tree.map(lambda x: x[i, k], info.params_grid)))
                                 for k in range(len(grid))])
                c, o = int(np.argmax(np.asarray(info.mean_energy[i]))), int(np.argmin(mses))
                within.append(abs(c - o) <= 1)
                ratio.append(mses[c] / mses[o])
            line = (f"| {g} | {m} | {np.mean(within):.2f} | {np.mean(ratio):.3f} | {np.max(ratio):.3f} |")
            print(line, flush=True)
            lines.append(line)
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 100], help="N values (M = 1000 for N<=20 else 20000)")
    ap.add_argument("--g", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ising_diffusion_bench")
    ap.add_argument("--coniii-python", default="/tmp/coniii/bin/python")
    ap.add_argument("--skip-coniii", action="store_true")
    ap.add_argument("--full-reference", action="store_true", help="run the NumPy erasure grid in full at N=100 too")
    ap.add_argument("--methods", nargs="+", default=list(OUR_METHODS), choices=OUR_METHODS)
    ap.add_argument("--skip-reference", action="store_true", help="time our methods only")
    ap.add_argument("--eps-check", action="store_true")
    ap.add_argument("--n-seeds", type=int, default=10)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--no-progress", dest="progress", action="store_false")
    args = ap.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPUs visible")
    if args.eps_check:
        print("| g | M | fraction within one grid step | mean MSE ratio chosen/optimal | max ratio |")
        print("|---|---|---|---|---|")
        eps_check(args)
        return
    rows = []
    for n in args.sizes:
        rows += run_case(n, 1000 if n <= 20 else 20000, args.g, args)
    print("\n| N | M | method | implementation | MSE | warm time (s) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']} | {r['m']} | {r['method']} | {r['impl']} | {r['mse']:.2e} | {r['seconds']:.3f} |")
    print("\nRatios (reference time / ours):")
    for n in args.sizes:
        sub = [r for r in rows if r["n"] == n]
        ours = {r["method"]: r for r in sub if r["impl"].startswith("ising_diffusion")}
        for r in sub:
            if not r["impl"].startswith("ising_diffusion") and r["method"] in ours:
                o = ours[r["method"]]
                print(f"  N={n} {r['method']}: {r['impl']} {r['seconds']:.3f}s vs ours {o['seconds']:.3f}s -> "
                      f"{r['seconds'] / o['seconds']:.1f}x (MSE {r['mse']:.2e} vs ours {o['mse']:.2e})")
        if "mle_mcmc" in ours and "pseudolikelihood" in ours:
            print(f"  N={n} mle_mcmc MSE {ours['mle_mcmc']['mse']:.2e} vs pseudolikelihood "
                  f"{ours['pseudolikelihood']['mse']:.2e}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
