"""Held-out log-likelihood of the truth and of the training-only CV-PLM fit at one map point (docs/map.md).

    PYTHONPATH=. python experiments/map_scores.py --truth hopfield --g 2 --n-train 800      # quick preset's seeds

Rebuilds the map's task for that point (same config, keys and samples as ``ising-diffusion run map --preset quick``)
and prints per seed: the number of distinct training patterns, the held-out mean log-likelihood per test sample of
the planted truth and of the training-only fit (``held_out_score``, exact for N <= 20, the score ``augment`` selects
on), and that fit's parameter MSE. Set beside ``score_selected`` and ``mse_selected`` in the map's ``results.csv``.
"""

from __future__ import annotations

import argparse

import jax
import numpy as np

from ising_diffusion import infer
from ising_diffusion.augment import held_out_score
from ising_diffusion.experiments.configs.map import get_config
from ising_diffusion.experiments.map import map_task
from ising_diffusion.ising import parameter_mse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--truth", default="hopfield")
    parser.add_argument("--g", type=float, default=2.0)
    parser.add_argument("--n-train", type=int, default=800)
    parser.add_argument("--n-spins", type=int, default=20)
    parser.add_argument("--preset", default="quick")
    args = parser.parse_args(argv)
    cfg = get_config(args.preset)
    task = map_task(cfg, (args.truth, args.n_spins, args.g, args.n_train))
    exact = args.n_spins <= 20
    print("| seed | distinct training patterns | truth | training-only CV-PLM | MSE of that fit |")
    print("|---|---|---|---|---|")
    for s in range(cfg.n_seeds):
        truth = jax.tree.map(lambda a: a[s], task.truth)
        fit = infer(task.train[s], "pseudolikelihood", l2="cv")
        distinct = np.unique(np.asarray(task.train[s]), axis=0).shape[0]
        print(f"| {s} | {distinct} | {float(held_out_score(truth, task.test[s], exact=exact)):.3f} | "
              f"{float(held_out_score(fit, task.test[s], exact=exact)):.3f} | {float(parameter_mse(truth, fit)):.4f} |")


if __name__ == "__main__":
    main()
