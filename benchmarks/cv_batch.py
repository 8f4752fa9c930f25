"""Cross-validated fits of several data sets in one call: ``infer_batch`` (one data set after another, ``lax.map``)
against a ``vmap`` of the same CV core and against a Python loop of ``infer`` calls.

Run from the repository root::

    PYTHONPATH=. python -m benchmarks.cv_batch                 # B = 6 planted SK data sets, N = 20, g = 2, M = 2000
    PYTHONPATH=. python -m benchmarks.cv_batch --skip-vmap     # without the (slow) vmapped variant

Data: ``B`` planted SK models (``sk_params``) with ``M`` exact samples each. Times are wall seconds including
compilation (``first``) and warm (``best`` of ``--repeats``). The vmapped variant runs every data set's early-stopped
penalty path and L-BFGS loops in lock-step to the slowest data set, which is why ``infer_batch`` maps instead.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion import exact_sample, infer, infer_batch, sk_params
from ising_diffusion.inference.cv import pseudolikelihood_cv


def _time(fn, repeats: int) -> tuple[float, float, object]:
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return first, best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--b", type=int, default=6)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--g", type=float, default=2.0)
    ap.add_argument("--m", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--skip-vmap", action="store_true")
    args = ap.parse_args(argv)
    keys = jax.random.split(jax.random.key(0), args.b)
    truths = [sk_params(k, args.n, args.g) for k in keys]
    x = jnp.stack([exact_sample(jax.random.fold_in(k, 1), t, args.m) for k, t in zip(keys, truths)])

    rows = {"infer_batch (lax.map)": lambda: infer_batch(x, "pseudolikelihood", l2="cv"),
            "loop of infer": lambda: [infer(xi, "pseudolikelihood", l2="cv") for xi in x]}
    if not args.skip_vmap:
        vmapped = jax.jit(jax.vmap(partial(pseudolikelihood_cv)))
        rows["vmap of the CV core"] = lambda: vmapped(x)[0]
    print(f"B={args.b} data sets, N={args.n}, g={args.g}, M={args.m}; wall seconds")
    print(f"{'variant':24s} {'first (compile)':>16s} {'best warm':>10s}")
    results = {}
    for name, fn in rows.items():
        first, best, out = _time(fn, args.repeats)
        results[name] = out
        print(f"{name:24s} {first:16.2f} {best:10.2f}", flush=True)
    ref = results["infer_batch (lax.map)"]
    for name, out in results.items():
        j = jnp.stack([o.J for o in out]) if isinstance(out, list) else out.J
        print(f"max |J - J_infer_batch| {name}: {float(jnp.max(jnp.abs(j - ref.J))):.2e}")


if __name__ == "__main__":
    main()
