"""Cross-validated pseudolikelihood on near-degenerate data: rank-2 Hopfield truths at g = 2 (docs/inference.md).

    PYTHONPATH=. python experiments/cv_degenerate.py            # 6 seeds, N = 20, M in (200, 800), about 2 minutes

Per seed (truth and exact samples keyed by ``truth_key`` / ``data_key`` of ``key(seed)``; not the map's data): the
number of distinct training patterns, the penalty CV chose, and the parameter MSE of the CV fit, of the unpenalised fit
(``l2 = 0``, what CV chose before saturated scores were excluded) and of the erasure machine.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

from ising_diffusion import infer
from ising_diffusion.ising import exact_sample, parameter_mse
from ising_diffusion.synthetic import data_key, truth_key, truth_params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 800])
    parser.add_argument("--g", type=float, default=2.0)
    args = parser.parse_args(argv)
    print("| M | seed | distinct patterns | CV l2 | MSE CV-PLM | MSE l2 = 0 | MSE erasure |")
    print("|---|---|---|---|---|---|---|")
    for m in args.sizes:
        for seed in range(args.seeds):
            key = jax.random.key(seed)
            truth = truth_params("hopfield", truth_key(key), 20, args.g)
            spins = exact_sample(data_key(key), truth, m)
            params, info = infer(spins, "pseudolikelihood", l2="cv", return_info=True)
            mses = [float(parameter_mse(truth, p)) for p in
                    (params, infer(spins, "pseudolikelihood", l2=0.0), infer(spins, "erasure"))]
            distinct = np.unique(np.asarray(spins), axis=0).shape[0]
            print(f"| {m} | {seed} | {distinct} | {float(info.l2):g} | " + " | ".join(f"{x:.3g}" for x in mses) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
