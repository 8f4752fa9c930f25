"""Sequence weights (``ising_diffusion.msa.sequence_weights``, theta = 0.8) on PF00014 and on a 100,000-row alignment.

    PYTHONPATH=. python -m benchmarks.msa_weights                 # PF00014 (13,600 x 53) and 100,000 x 53; ~2 min
    PYTHONPATH=. python -m benchmarks.msa_weights --sizes 13600

Size 13,600 is PF00014 itself; larger sizes draw rows of PF00014 with replacement (numpy ``default_rng(0)``) and
mutate 5% of the entries to random states, so that duplicates do not make the count trivial. First call (compile +
run) and warm time (best of ``--repeats``), M_eff, and the process's peak resident memory after the size.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from ising_diffusion.datasets.msa import load_msa_family
from ising_diffusion.msa import effective_count, sequence_weights


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[13_600, 100_000])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--root", default=None)
    args = ap.parse_args(argv)
    family = load_msa_family("PF00014", args.root)
    rng = np.random.default_rng(0)
    print(f"# load {os.getloadavg()}")
    print("| M | L | first call s | warm s | M_eff | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for m in args.sizes:
        seqs = family.seqs
        if m != seqs.shape[0]:
            seqs = seqs[rng.integers(0, seqs.shape[0], m)]
            seqs = np.where(rng.random(seqs.shape) < 0.05, rng.integers(0, 21, seqs.shape), seqs).astype(np.int8)
        t0 = time.perf_counter()
        w = sequence_weights(seqs, 0.8).block_until_ready()
        first = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            sequence_weights(seqs, 0.8).block_until_ready()
            warm.append(time.perf_counter() - t0)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {m} | {seqs.shape[1]} | {first:.2f} | {min(warm):.2f} | {effective_count(w):.1f} | {rss:.0f} |",
              flush=True)
    print(f"# load {os.getloadavg()}")


if __name__ == "__main__":
    main()
