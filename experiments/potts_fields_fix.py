"""How much the Potts pseudolikelihood field fix (commit 9e0822f) moves the planted-truth MSE of the map's
training-only fit: potts_quick's points (L = 20, q = 4, g = 1, M 100 / 400, seeds 0-2), the map's own data and CV fit
(``potts_map.fit_cv``), fitted once with the fix and once with the symmetrise-then-gauge conversion it replaced.

    PYTHONPATH=$PWD python experiments/potts_fields_fix.py            # both, in two processes
    PYTHONPATH=$PWD python experiments/potts_fields_fix.py --old      # one side (what the parent runs)

The old conversion is patched in before anything compiles, in its own process (jit caches the first one it traces).
Prints per point and seed the MSE of h, of J (upper triangle) and of all parameters against the truth.
"""

import argparse
import json
import subprocess
import sys


def measure(old: bool) -> list[dict]:
    import jax
    import numpy as np

    from ising_diffusion.inference import potts_objective, potts_pseudolikelihood as ppl
    from ising_diffusion.potts import PottsParams, symmetrize_couplings, zero_sum_gauge

    if old:
        def old_to_params(x):
            length, q = x.h.shape
            J = jax.numpy.transpose(x.W.reshape(length, q, length, q), (2, 0, 3, 1))
            return zero_sum_gauge(PottsParams(x.h, symmetrize_couplings(J)))

        ppl.to_params = old_to_params
        ppl.field_gauge = lambda x: x
        potts_objective.to_params = old_to_params

    from ising_diffusion.experiments import potts_map
    from ising_diffusion.experiments.configs.map import get_config
    from ising_diffusion.experiments.runner import seed_keys

    cfg = get_config("potts_quick")
    keys = seed_keys(cfg.seed, range(cfg.n_seeds))
    rows = []
    for point in cfg.points():
        task = potts_map.potts_task(cfg, point, keys)
        for i in range(cfg.n_seeds):
            fit = potts_map.fit_cv(cfg, np.asarray(task.train[i]), point[2])
            truth = jax.tree.map(lambda a: np.asarray(a[i]), task.truth)
            mse_h = float(np.mean((np.asarray(fit.h) - truth.h) ** 2))
            iu = np.triu_indices(point[1], 1)
            mse_j = float(np.mean((np.asarray(fit.J)[iu] - truth.J[iu]) ** 2))
            rows.append(dict(L=point[1], q=point[2], M=point[4], seed=i, mse_h=mse_h, mse_J=mse_j,
                             mse=float(potts_map.potts_parameter_mse(truth, fit))))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", action="store_true", help="only the replaced conversion (one process)")
    ap.add_argument("--new", action="store_true", help="only the fixed conversion (one process)")
    args = ap.parse_args()
    if args.old or args.new:
        print(json.dumps(measure(args.old)))
        return
    sides = {s: json.loads(subprocess.run([sys.executable, __file__, f"--{s}"], check=True, capture_output=True,
                                          text=True).stdout.strip().splitlines()[-1]) for s in ("old", "new")}
    print("| L | q | M | seed | MSE h old | MSE h new | MSE J old | MSE J new | MSE old | MSE new |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for o, n in zip(sides["old"], sides["new"]):
        print(f"| {o['L']} | {o['q']} | {o['M']} | {o['seed']} | {o['mse_h']:.4f} | {n['mse_h']:.4f} | "
              f"{o['mse_J']:.5f} | {n['mse_J']:.5f} | {o['mse']:.5f} | {n['mse']:.5f} |")


if __name__ == "__main__":
    main()
