"""The warm-up behind ``--estimate``: unit costs of a generator and a solver, measured on small fixed sizes, and a
sweep point's pieces priced from them (:mod:`ising_diffusion.experiments.estimate` sums the pieces)."""

from __future__ import annotations

import math
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["WARM_STEPS", "SAMPLE_SIZE", "FIT_ROWS", "unit_costs", "measure"]


def _best(fn, repeats):
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _first_and_best(fn, repeats=2):
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    best = _best(fn, repeats)
    return max(first - best, 0.0), best


#: Sizes of the warm-up pieces: never the experiment's own (a paper-size monitor point alone can take many minutes),
#: and small, since each piece is timed twice per generator and N (the answer must come in under a minute).
WARM_STEPS, SAMPLE_SIZE, FIT_ROWS = 3, 64, 128


def _compile_all(pieces: dict) -> tuple[dict, float]:
    """Compile every ``name -> (jitted function, args)`` ahead of time, side by side (XLA compiles one program per
    core, outside the GIL); returns the compiled callables and the wall time of the whole compile."""
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, min(len(pieces), os.cpu_count() or 1))) as pool:
        futures = {name: pool.submit(lambda f, a: f.lower(*a).compile(), f, a) for name, (f, a) in pieces.items()}
        compiled = {name: fut.result() for name, fut in futures.items()}
    return compiled, time.perf_counter() - t


def unit_costs(generator: str, generator_config, n_spins: int, seeds: int, solver: str, options: tuple,
               exact: bool, *, n_test: int = 64, warm_steps: int = WARM_STEPS, sample_size: int = SAMPLE_SIZE,
               fit_rows: int = FIT_ROWS) -> dict:
    """Seconds per unit of work of one generator / solver at ``N = n_spins``, all ``seeds`` vmapped, on random data
    of small fixed sizes (none of them the experiment's): one optimiser step (a ``warm_steps`` chunk), one generated
    sample (``sample_size`` drawn), one data row of a fixed-penalty fit and of a full fit (the solver as configured,
    e.g. cross-validated; ``fit_rows`` rows), one held-out score of ``n_test`` samples (``exact``: by enumeration),
    and a checkpoint save of the generator state; ``compile`` is the wall time of compiling the pieces (side by
    side, ahead of time) plus the first save's overhead.

    Every piece is linear in its unit (a step's batch does not depend on ``M``; sampling, the erasure machine's
    iterations and pseudolikelihood's per-iteration cost are linear in the rows), which is the cost model
    :func:`measure` extrapolates by. Iteration counts of early-stopped solvers (L-BFGS, a CV path) depend on the data:
    the estimate takes them from the small fit.
    """
    from ising_diffusion.augment.score import held_out_terms
    from ising_diffusion.augment.solver import solver_fits
    from ising_diffusion.checkpoint import Checkpointer
    from ising_diffusion.generative import make_generator

    s, n = seeds, n_spins
    gen = make_generator(generator, generator_config, n)
    fits = solver_fits(solver, options)
    keys = jax.random.split(jax.random.key(0), s)
    def spins(k, m):  # NumPy: random data without a compile of its own
        return jnp.asarray(np.random.default_rng(k).choice(np.float32([-1.0, 1.0]), size=(s, m, n)))

    train, rows, test = spins(1, max(fit_rows, 2)), spins(2, fit_rows), spins(3, max(n_test, 2))
    init_fn = jax.jit(jax.vmap(gen.init))
    state = jax.eval_shape(init_fn, keys, train)
    l2 = jnp.float32(0.01)
    fixed_fn = jax.jit(jax.vmap(lambda k, x: fits.fixed(k, x, l2)))
    params = jax.eval_shape(fixed_fn, keys, rows)
    c, c_pieces = _compile_all({
        "init": (init_fn, (keys, train)),
        "train": (jax.jit(jax.vmap(lambda k, st, x: gen.train(k, st, x, warm_steps))), (keys, state, train)),
        "sample": (jax.jit(jax.vmap(lambda k, st: gen.sample(k, st, sample_size))), (keys, state)),
        "fixed": (fixed_fn, (keys, rows)),
        "full": (jax.jit(jax.vmap(lambda k, x: fits.full(k, x)[0])), (keys, rows)),
        "terms": (jax.jit(jax.vmap(lambda p, t: held_out_terms(p, t, exact=exact))), (params, test)),
    })
    state = c["init"](keys, train)
    run = lambda f, *a: (lambda: jax.block_until_ready(f(*a)))  # noqa: E731
    t_train = _best(run(c["train"], keys, state, train), 2)
    t_sample = _best(run(c["sample"], keys, state), 2)
    t_fixed = _best(run(c["fixed"], keys, rows), 2)
    t_full = _best(run(c["full"], keys, rows), 2)
    t_terms = _best(run(c["terms"], c["fixed"](keys, rows), test), 2)
    with tempfile.TemporaryDirectory() as d, Checkpointer(d) as ck:
        counter = iter(range(1, 100))
        c_save, t_save = _first_and_best(lambda: ck.save(next(counter), {"gen": state}), 1)
    return {"step": t_train / warm_steps, "sample": t_sample / sample_size, "fixed_row": t_fixed / fit_rows,
            "full_row": t_full / fit_rows, "score": t_terms, "save": t_save, "compile": c_pieces + c_save}


_UNIT_COSTS: dict = {}


def measure(p, *, costs: Callable[..., dict] | None = None) -> dict:
    """Estimated seconds per call of all seeds of ``p``'s pieces, from :func:`unit_costs` (measured once per
    generator, network, ``N``, seed batch and solver; sizes are never the experiment's) scaled by ``p``'s work.

    Returns:
      ``init`` (``w_train``: a full fit to the training data and its score), ``step`` (one optimiser step),
      ``monitor`` (one monitor point: its samples, its fixed-penalty fits by rows, one score per mix ratio),
      ``final`` (the augmented set and the two full fits), ``save`` (a checkpoint), ``compile`` (the warm-up pieces'
      compiles: an approximation of the kernel's), and ``units`` (the unit costs).
    """
    from ising_diffusion.augment import mix_sizes

    solver, options = p.augment.solver_spec.resolve(n_spins=p.n_spins, n_samples=p.n_train)
    exact = p.n_spins <= p.augment.exact_score_max_spins
    args = (p.generator, p.generator_config, p.n_spins, p.seeds_per_call, solver, options, exact)
    if costs is None:
        costs = unit_costs
    if (costs, args) not in _UNIT_COSTS:  # once per process and setting
        _UNIT_COSTS[costs, args] = costs(*args)
    u = _UNIT_COSTS[costs, args]
    sizes = set(mix_sizes(p.augment.mix_grid, p.n_train, p.n_monitor)) - {0}
    # the rows of one monitor point's fits, as PointWork.fit_rows counts them
    point_rows = sum(p.n_train + m for m in sizes) + p.truth * (p.n_monitor + (p.n_monitor not in sizes) *
                                                                 (p.n_train + p.n_monitor))
    n_mix = len(sizes)
    score = u["score"] * max(1.0, p.n_test / 64)  # measured on 64 test samples (exact: the enumeration dominates)
    return {"seeds": p.seeds_per_call, "init": p.n_train * u["full_row"] + score, "step": u["step"],
            "monitor": p.n_monitor * u["sample"] + point_rows * u["fixed_row"] + n_mix * score,
            "final": p.n_augmented * u["sample"] + (2 * p.n_augmented + p.n_train) * u["full_row"],
            "save": u["save"], "compile": u["compile"], "units": u}
