"""Cross-validated pseudolikelihood: the whole CV path (folds x l2 grid + refit, one compiled call) against ONE fit of
the strongest plain-CPU reference, row-wise SciPy L-BFGS-B.

Run from the repository root::

    PYTHONPATH=. python -m benchmarks.cv                      # N=40, M=4000, 5 folds x default grid, best of 5
    PYTHONPATH=. python -m benchmarks.cv --n 20 --m 1000 --repeats 3
    PYTHONPATH=. python -m benchmarks.cv --joint              # also the old joint SciPy fit (about 10 s a call)
    PYTHONPATH=. python -m benchmarks.cv --iterations         # also L-BFGS iterations of every fit of the CV path

Same data for every implementation: planted SK model (g = 1), Metropolis samples (``benchmarks.inference.make_data``,
cached). Rows: our CV path (``infer(spins, "pseudolikelihood", l2="cv")``), our single fit at ``l2 = 1e-4`` (the
default), and :func:`benchmarks.pl_reference.pseudolikelihood_rows` at the same ``l2``: N independent logistic
regressions, SciPy L-BFGS-B with an analytic vectorised NumPy gradient, once with SciPy's default stopping rule and once
with a tighter one that reaches our gradient norm (``|grad| ~ 1e-5`` on the whole objective). Every repeat times each
row once, one after another (interleaved, so load from other processes hits all alike); the table keeps the best of
``--repeats``; the first call (our compilation) is reported apart. NumPy's BLAS gets one thread (``OPENBLAS_NUM_THREADS``
defaults to 1 here, set before NumPy loads): the reference's small matrix-vector products are several times slower and
far noisier with two threads on two shared cores. The ratio lines are reference time / ours.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads; see the module docstring

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.inference import make_data  # noqa: E402
from benchmarks.pl_reference import grad_norm, pseudolikelihood_joint, pseudolikelihood_rows  # noqa: E402
from ising_diffusion import infer  # noqa: E402
from ising_diffusion.inference import DEFAULT_L2_GRID  # noqa: E402
from ising_diffusion.ising import params_to_flat  # noqa: E402

#: SciPy L-BFGS-B settings of the tighter reference: its full gradient norm matches ours (~1e-5) on the default case.
TIGHT = dict(gtol=1e-6, ftol=1e-12)


def path_iterations(spins, folds: int, grid=DEFAULT_L2_GRID, max_iter: int = 500, tol: float = 1e-5):
    """L-BFGS iterations of every fold fit along the CV path, replayed fit by fit (the compiled path does not return
    them): the same warm starts, the same early stop. Returns ``[(l2, [iterations per fold])]`` in path order."""
    import jax.numpy as jnp

    from ising_diffusion.inference.cv import PATIENCE, fold_weights
    from ising_diffusion.inference.pseudolikelihood import fit_asymmetric, neg_log_pseudolikelihood
    from ising_diffusion.ising import IsingParams, symmetrize

    s = jnp.asarray(spins, jnp.float32)
    n = s.shape[1]
    train, test = fold_weights(s.shape[0], folds)
    fit = jax.jit(lambda w, l2, x: fit_asymmetric(s, w, l2, x, max_iter=max_iter, tol=tol))
    score = jax.jit(lambda p, w: -neg_log_pseudolikelihood(IsingParams(p.h, symmetrize(p.J)), s, w))
    x = [IsingParams(jnp.zeros(n), jnp.zeros((n, n))) for _ in range(folds)]
    out, best, n_worse = [], -np.inf, 0
    for l2 in sorted(grid, reverse=True):
        if PATIENCE is not None and n_worse >= PATIENCE:
            break
        its, scores = [], []
        for f in range(folds):
            x[f], info = fit(train[f], l2, x[f])
            its.append(int(info.n_iter))
            scores.append(float(score(x[f], test[f])))
        out.append((l2, its))
        mean = float(np.mean(scores))
        n_worse = 0 if mean > best else n_worse + 1
        best = max(best, mean)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--m", type=int, default=4000)
    ap.add_argument("--g", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1e-4, help="penalty of the single fits (ours and the references)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--joint", action="store_true", help="also time the joint SciPy fit (one repeat)")
    ap.add_argument("--iterations", action="store_true", help="also count the CV path's L-BFGS iterations")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ising_diffusion_bench")
    args = ap.parse_args(argv)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPUs visible, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    truth, spins = make_data(args.n, args.m, args.g, args.seed, args.cache_dir)
    w_true = np.asarray(params_to_flat(truth))
    s64 = np.asarray(spins, np.float64)
    l2 = args.l2

    cv_call = lambda: infer(spins, "pseudolikelihood", l2="cv", cv_folds=args.folds, return_info=True)  # noqa: E731
    rows = {  # name -> (call, flat estimate of its output)
        f"ours: CV path, {args.folds} folds x {len(DEFAULT_L2_GRID)} l2 + refit": (cv_call, lambda o: params_to_flat(o[0])),
        f"ours: single fit, l2={l2:g}": (lambda: infer(spins, "pseudolikelihood", l2=l2, return_info=True),
                                         lambda o: params_to_flat(o[0])),
        f"SciPy row-wise L-BFGS-B (defaults), l2={l2:g}": (
            lambda: pseudolikelihood_rows(s64, l2, return_info=True), lambda o: o[0]),
        f"SciPy row-wise L-BFGS-B (gtol 1e-6, ftol 1e-12), l2={l2:g}": (
            lambda: pseudolikelihood_rows(s64, l2, return_info=True, **TIGHT), lambda o: o[0]),
    }
    first, best, out = {}, {k: np.inf for k in rows}, {}
    for name, (call, _) in rows.items():  # first calls: our compilation, the references' cold caches
        t0 = time.perf_counter()
        out[name] = jax.block_until_ready(call())
        first[name] = time.perf_counter() - t0
    for _ in range(args.repeats):
        for name, (call, _) in rows.items():
            t0 = time.perf_counter()
            out[name] = jax.block_until_ready(call())
            best[name] = min(best[name], time.perf_counter() - t0)
    if args.joint:
        name = f"SciPy joint L-BFGS-B over N + N^2 (old reference), l2={l2:g}"
        rows[name] = (None, lambda w: w)
        t0 = time.perf_counter()
        out[name] = pseudolikelihood_joint(s64, l2)
        first[name] = best[name] = time.perf_counter() - t0
    load = os.getloadavg()

    names = list(rows)
    cv_name, ours_name, ref_name, tight_name = names[:4]
    flat = {k: np.asarray(rows[k][1](out[k])) for k in names}
    mse = {k: float(np.mean((w_true - flat[k]) ** 2)) for k in names}
    print(f"\nchosen l2 = {float(out[cv_name][1].l2):g}; load average after the timings {load[0]:.2f} {load[1]:.2f}")
    print(f"\n| what | best of {args.repeats} (s) | first call (s) | MSE |")
    print("|---|---|---|---|")
    for k in names:
        print(f"| {k} | {best[k]:.3f} | {first[k]:.2f} | {mse[k]:.2e} |")

    ours_info, (_, ref_info), (_, tight_info) = out[ours_name][1], out[ref_name], out[tight_name]
    print(f"\nours single fit: {int(ours_info.n_iter)} L-BFGS iterations over all N + N^2 parameters, "
          f"|grad| {float(ours_info.grad_norm):.1e} (float32); CV refit {int(out[cv_name][1].fit_info.n_iter)} iterations")
    for k, info in ((ref_name, ref_info), (tight_name, tight_info)):
        print(f"{k.split(',')[0]}: iterations per row mean {info['n_iter'].mean():.1f} max {info['n_iter'].max()} "
              f"(total {info['n_iter'].sum()}, {info['n_fev'].sum()} row evaluations); |grad| of the whole objective "
              f"{grad_norm(s64, info['h'], info['J'], l2):.1e}; max |estimate - ours| "
              f"{np.max(np.abs(flat[k] - flat[ours_name])):.1e}")
    print(f"\nreference (defaults) / ours whole CV path: {best[ref_name] / best[cv_name]:.2f}x")
    print(f"reference (tight) / ours whole CV path:    {best[tight_name] / best[cv_name]:.2f}x")
    print(f"reference (defaults) / ours single fit:    {best[ref_name] / best[ours_name]:.2f}x")
    print(f"reference (tight) / ours single fit:       {best[tight_name] / best[ours_name]:.2f}x")
    if args.joint:
        print(f"old joint reference / ours single fit:     {best[names[-1]] / best[ours_name]:.1f}x")
    if args.iterations:
        path = path_iterations(spins, args.folds)
        total = sum(sum(its) for _, its in path)
        print(f"\nCV path, L-BFGS iterations per fold fit (replayed): {total} in {sum(len(i) for _, i in path)} fits "
              f"+ refit {int(out[cv_name][1].fit_info.n_iter)}")
        for l2_value, its in path:
            print(f"  l2 = {l2_value:g}: {its}")


if __name__ == "__main__":
    sys.exit(main())
