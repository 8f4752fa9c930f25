"""The main job's monitor interval, the piece that bounds its cold run time (README, "cold start"): compile times of
the kernel's ``init`` and ``step`` and the run time of one step (three seeds, 160 optimiser steps, 1,000 DDIM-20
samples, the erasure fits of every mix ratio), and of two independent steps in one compiled program (does a second
core take the second one?), with the machine's float32 matmul throughput measured in the same process (this shared
machine's speed drifts, so a cold run time is read beside it). Built from the public kernel pieces with the main job's
quick settings.

Run from the repository root (compare cores with ``taskset -c 0``; cache off so compile times are real):

    ISING_DIFFUSION_NO_CACHE=1 PYTHONPATH=. python benchmarks/main_step.py
    ISING_DIFFUSION_NO_CACHE=1 PYTHONPATH=. taskset -c 0 python benchmarks/main_step.py
    ISING_DIFFUSION_NO_CACHE=1 PYTHONPATH=. python benchmarks/main_step.py --mix-grid 0,4   # fewer monitor-fit shapes
"""

from __future__ import annotations

import argparse
import os
import time

import ising_diffusion as idf  # first: it sets the XLA CPU flags before JAX starts
import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.ddpm import matmul_peak
from ising_diffusion.augment import build_kernel, seed_batched
from ising_diffusion.experiments.configs import main as main_configs
from ising_diffusion.experiments.synthetic import make_augment_config


def _best(fn, repeats: int = 3) -> float:
    jax.block_until_ready(fn())
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mix-grid", default=None, help="comma-separated mix ratios (default: the preset's)")
    args = ap.parse_args(argv)
    cfg = main_configs.get_config("quick")
    overrides = {} if args.mix_grid is None else {"mix_grid": tuple(float(r) for r in args.mix_grid.split(","))}
    aug = make_augment_config({**cfg.augment, **overrides})
    gen_cfg = idf.GENERATOR_CONFIGS["ddpm"](**cfg.generator_config)
    n, m, s = cfg.n_spins, cfg.n_train, cfg.n_seeds
    truth = idf.sk_params(jax.random.key(0), n, cfg.g_values[0])
    train = jnp.stack([idf.exact_sample(jax.random.key(i), truth, m) for i in range(s)])
    test = jnp.stack([idf.exact_sample(jax.random.key(100 + i), truth, cfg.n_test) for i in range(s)])
    truths = jax.tree.map(lambda x: jnp.stack([x] * s), truth)
    keys = jnp.stack([jax.random.key(i) for i in range(s)])
    _, steps_per_point, _ = aug.budget.plan(m, gen_cfg.batch_size)
    solver, options = aug.solver_spec.resolve(n_spins=n, n_samples=m, solver=None, solver_options=None)
    n_mon = aug.n_monitor_samples
    kernel = build_kernel(idf.make_generator("ddpm", gen_cfg, n), solver=solver, solver_options=options, config=aug,
                          steps_per_point=steps_per_point, n_monitor=n_mon, n_augmented=10 * m, m_train=m, n_spins=n)
    fns = seed_batched(kernel, options)

    t = time.perf_counter()
    init = fns.init.lower(keys, train, test, truths).compile()
    t_init = time.perf_counter() - t
    t = time.perf_counter()
    step = fns.step.lower(keys, jax.eval_shape(fns.init, keys, train, test, truths)).compile()
    t_step = time.perf_counter() - t
    state = init(keys, train, test, truths)
    two = jax.jit(lambda a, b: (jax.vmap(kernel.step)(keys, a), jax.vmap(kernel.step)(keys, b)))
    one_s = _best(lambda: step(keys, state))
    two_s = _best(lambda: two(state, state))
    print(f"main quick: N={n}, M={m}, {s} seeds, {steps_per_point} optimiser steps and {n_mon} samples per interval, "
          f"solver {solver}, mix grid {aug.selection.mix_grid}; {len(os.sched_getaffinity(0))} core(s) visible")
    print(f"compile: init {t_init:.2f} s, step {t_step:.2f} s")
    print(f"one step {one_s:.3f} s; two independent steps in one program {two_s:.3f} s ({two_s / one_s:.2f}x)")
    print(f"machine: float32 matmul {matmul_peak():.0f} GFLOP/s (1024^3 chain, best of 20; benchmarks/ddpm.py)")


if __name__ == "__main__":
    main()
