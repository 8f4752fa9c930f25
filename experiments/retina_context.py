"""40 vs 50 cells on the retina (issue 24, item 2): does fitting all 50 cells reconstruct hidden cells among the 40
most active better than fitting those 40 alone (the other 10 as extra observed context)?

    PYTHONPATH=. ISING_DIFFUSION_RETINA=../shared/data/retina python experiments/retina_context.py \
        --out /work/runs/retina-context

Both models are the cross-validated pseudolikelihood fit (``infer(..., "pseudolikelihood", l2="cv")``) on the same
8000 training bins (``load_retina(n_cells=50)``, shuffle key 0; its first 40 columns are ``load_retina(n_cells=40)``);
``--n-sets`` hidden sets of ``k`` cells among the 40 (seeded), each hidden in all 1000 test bins
(:func:`ising_diffusion.experiments.context_cells.context_comparison`). The fits are saved to ``models.npz`` in the
folder and reused on a rerun. Outputs: ``sets.csv`` (one row per hidden set) and ``summary.csv`` (paired difference,
50 minus 40, with a 95% t interval over the sets and the count of sets where 50 is better).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np

from ising_diffusion.datasets import load_retina
from ising_diffusion.experiments.context_cells import context_comparison, cv_pseudolikelihood
from ising_diffusion.experiments.runner import write_csv
from ising_diffusion.ising import IsingParams


def fitted(path: Path, train, inner):
    """The (50-cell, 40-cell) CV pseudolikelihood fits, from ``path`` when saved there."""
    if path.exists():
        with np.load(path) as f:
            return tuple(IsingParams(f[f"{m}_h"], f[f"{m}_J"]) for m in ("large", "small"))
    t0 = time.perf_counter()
    large = cv_pseudolikelihood(train)
    small = cv_pseudolikelihood(train[:, inner])
    print(f"[context] fits: {time.perf_counter() - t0:.0f} s")
    np.savez(path, large_h=np.asarray(large.h), large_J=np.asarray(large.J), small_h=np.asarray(small.h),
             small_J=np.asarray(small.J))
    return large, small


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--k", type=int, default=14)
    ap.add_argument("--n-sets", type=int, default=10)
    ap.add_argument("--n-inner", type=int, default=40)
    ap.add_argument("--n-cells", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_retina(n_cells=args.n_cells)
    train, test = np.asarray(data.train), np.asarray(data.test)
    inner = np.arange(args.n_inner)  # columns are ordered most active first
    params = fitted(out / "models.npz", train, inner)
    t0 = time.perf_counter()
    res = context_comparison(jax.random.key(args.seed), train, test, inner, k=args.k, n_sets=args.n_sets,
                             params=params)
    print(f"[context] {args.n_sets} sets scored in {time.perf_counter() - t0:.0f} s")
    write_csv(out / "sets.csv", res.rows)
    write_csv(out / "summary.csv", res.summary)
    for s in res.summary:
        print("{score}: {n_cells} minus {n_inner}: {mean:+.5f} [{low:+.5f}, {high:+.5f}]; {n_better}/{n_sets} sets "
              "better; mean {small:.5f} ({n_inner}) vs {large:.5f} ({n_cells})".format(
                  **s, n_cells=args.n_cells, n_inner=args.n_inner))


if __name__ == "__main__":
    main()
