"""The warm-up behind ``--estimate``: unit costs of a generator and a solver, measured on small fixed sizes, and a
sweep point's pieces priced from them (:mod:`ising_diffusion.experiments.estimate` sums the pieces)."""

from __future__ import annotations

import math
import tempfile
import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["WARM_STEPS", "SAMPLE_SIZE", "FIT_ROWS", "unit_costs", "generator_unit_costs", "measure"]


def _best(fn, repeats, budget: float = 0.3):
    """The shortest of ``repeats`` timed calls of ``fn``, more (up to 10) while they add up to under ``budget``
    seconds: millisecond pieces vary by 2x from call to call on a CPU."""
    best, spent, n = math.inf, 0.0, 0
    while n < repeats or (spent < budget and n < 10):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best, spent, n = min(best, dt), spent + dt, n + 1
    return best


def _run(f, *args):
    """A call of ``f(*args)`` that waits for its result (for :func:`_best`)."""
    return lambda: jax.block_until_ready(f(*args))


def _first_and_best(fn, repeats=2):
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    best = _best(fn, repeats)
    return max(first - best, 0.0), best


#: Sizes of the warm-up pieces: never the experiment's own (a paper-size monitor point alone can take many minutes),
#: and small, since each piece is timed twice per generator and N (the answer must come in under a minute).
WARM_STEPS, SAMPLE_SIZE, FIT_ROWS = 3, 64, 128


def _compile_all(lowered: dict) -> tuple[dict, dict, float]:
    """Compile every lowered program ahead of time; returns the compiled callables, each program's flop count (XLA's
    cost analysis) and the wall time of the compiles. One after the other: XLA's CPU compiler already keeps both
    cores of a 2-core machine busy (two threads side by side took as long as the two compiles in turn, measured)."""
    t = time.perf_counter()
    flops = {name: _flops(low) for name, low in lowered.items()}
    compiled = {name: low.compile() for name, low in lowered.items()}
    return compiled, flops, time.perf_counter() - t


def _flops(lowered) -> float:
    return float((lowered.cost_analysis() or {}).get("flops", math.nan))


def _flop_scaled(ref: dict, lowered: dict) -> dict:
    """A generator's measured costs ``ref`` carried to the same network at another size: step and sample times
    scaled by the flop counts of its ``lowered`` (not compiled) programs; everything else kept."""
    flops = {k: _flops(low) for k, low in lowered.items()}
    return {**ref, "step": ref["step"] * flops["train"] / ref["flops"]["train"],
            "sample": ref["sample"] * flops["sample"] / ref["flops"]["sample"], "flops": flops}


def _random_spins(seed: int, shape) -> jax.Array:
    """Random +-1 spins of ``shape`` made with NumPy (random data without a compile of its own)."""
    return jnp.asarray(np.random.default_rng(seed).choice(np.float32([-1.0, 1.0]), size=shape))


def _generator_pieces(generator: str, generator_config, n_spins: int, seeds: int, warm_steps: int,
                      sample_size: int, n_states: int | None = None) -> tuple[dict, tuple]:
    """The generator's programs, lowered (each traced once): ``warm_steps`` optimiser steps from a fresh state (the
    init inside the same program, so it needs no compile of its own; it is milliseconds beside the steps) and
    ``sample_size`` samples; on random +-1 spins, or on random sequences over ``n_states`` states."""
    from ising_diffusion.generative import make_generator

    gen = make_generator(generator, generator_config, n_spins)
    keys = jax.random.split(jax.random.key(0), seeds)
    shape = (seeds, FIT_ROWS, n_spins)
    train = (_random_spins(1, shape) if n_states is None
             else jnp.asarray(np.random.default_rng(1).integers(0, n_states, shape), jnp.int32))
    first = jax.jit(jax.vmap(lambda k, x: gen.train(k, gen.init(k, x), x, warm_steps)[0])).lower(keys, train)
    sample = jax.jit(jax.vmap(lambda k, st: gen.sample(k, st, sample_size))).lower(keys, first.out_info)
    return {"train": first, "sample": sample}, (keys, train)


def _solver_pieces(solver: str, options: tuple, n_spins: int, seeds: int, exact: bool, n_test: int,
                   fit_rows: int) -> tuple[dict, tuple]:
    """The solver's programs, lowered: ``fits(full, key, x)``, one seed's full fit (the solver as configured, e.g. a
    cross-validated path) or, with ``full`` false, its fixed-penalty fit (as the monitor runs them), in one program
    (a ``lax.cond``: compiling the two together took 3/4 of compiling them apart, measured); and the held-out terms
    of all seeds (their cost does not depend on the parameters' values, so zeros do)."""
    from ising_diffusion.augment.score import held_out_terms
    from ising_diffusion.augment.solver import solver_fits

    fits = solver_fits(solver, options)
    key = jax.random.key(0)
    rows, test = _random_spins(2, (fit_rows, n_spins)), _random_spins(3, (seeds, max(n_test, 2), n_spins))
    l2 = jnp.float32(0.01)

    def one_fit(full, key, x):
        return jax.lax.cond(full, lambda: fits.full(key, x)[0], lambda: fits.fixed(key, x, l2))

    low = jax.jit(one_fit).lower(True, key, rows)
    params = jax.tree.map(lambda a: jnp.zeros((seeds, *a.shape), a.dtype), low.out_info)
    terms = jax.jit(jax.vmap(lambda p, t: held_out_terms(p, t, exact=exact))).lower(params, test)
    return {"fits": low, "terms": terms}, (key, rows, params, test)


def _generator_costs(c: dict, data: tuple, warm_steps: int, sample_size: int) -> dict:
    from ising_diffusion.checkpoint import Checkpointer

    keys, train = data
    state = jax.block_until_ready(c["train"](keys, train))  # the first call, untimed (the next ones are faster)
    t_train = _best(_run(c["train"], keys, train), 2)
    t_sample = _best(_run(c["sample"], keys, state), 2)
    with tempfile.TemporaryDirectory() as d, Checkpointer(d) as ck:
        counter = iter(range(1, 100))
        c_save, t_save = _first_and_best(lambda: ck.save(next(counter), {"gen": state}), 1)
    return {"step": t_train / warm_steps, "sample": t_sample / sample_size, "save": t_save, "save_compile": c_save}


def _solver_costs(c: dict, data: tuple, seeds: int, fit_rows: int) -> dict:
    """Seconds per row of the two fits, for all ``seeds`` (one seed's time times ``seeds``: ``augment`` runs the seeds
    of a call side by side), and of one held-out score."""
    key, rows, params, test = data
    t_fixed = _best(_run(c["fits"], False, key, rows), 2)
    t_full = _best(_run(c["fits"], True, key, rows), 1)  # the longest piece: one run (compiled ahead)
    t_terms = _best(_run(c["terms"], params, test), 2)
    return {"fixed_row": seeds * t_fixed / fit_rows, "full_row": seeds * t_full / fit_rows, "score": t_terms}


#: measured parts, once per process: generator part by (generator, config, N, seeds, sizes) (and, without N, the
#: first one measured of each network: the reference other N are scaled from), solver part by (solver, options, N,
#: seeds, exact, sizes)
_PARTS: dict = {}


def _gen_key(generator, generator_config, n_spins, seeds, warm_steps=WARM_STEPS, sample_size=SAMPLE_SIZE) -> tuple:
    return ("generator", generator, generator_config, n_spins, seeds, warm_steps, sample_size)


def unit_costs(generator: str, generator_config, n_spins: int, seeds: int, solver: str, options: tuple,
               exact: bool, *, n_test: int = 64, warm_steps: int = WARM_STEPS, sample_size: int = SAMPLE_SIZE,
               fit_rows: int = FIT_ROWS) -> dict:
    """Seconds per unit of work of one generator / solver at ``N = n_spins``, all ``seeds`` vmapped, on random data
    of small fixed sizes (none of them the experiment's): one optimiser step (a ``warm_steps`` chunk), one generated
    sample (``sample_size`` drawn), one data row of a fixed-penalty fit and of a full fit (the solver as configured,
    e.g. cross-validated; ``fit_rows`` rows; timed on one seed and multiplied by ``seeds``: on random data the seeds
    run side by side can cost more, up to 6x at N = 40 with a CV path whose slowest seed sets the pace; the map's
    quick preset, whose 26 calls took 68 minutes in sum (``docs/figures/map_quick_results.csv``), is estimated at 45-68
    minutes on this machine), one held-out score of ``n_test`` samples (``exact``: by enumeration), and a checkpoint
    save of the generator state; ``compile`` is the wall time of compiling the pieces (ahead of time, one after the
    other; split among them by count) plus the first save's overhead.

    Every piece is linear in its unit (a step's batch does not depend on ``M``; sampling, the erasure machine's
    iterations and pseudolikelihood's per-iteration cost are linear in the rows), which is the cost model
    :func:`measure` extrapolates by. Iteration counts of early-stopped solvers (L-BFGS, a CV path) depend on the data:
    the estimate takes them from the small fit (random data, so rather more iterations than real data need). The
    generator part and the solver part are measured once per process each, so settings that share one pay it once;
    the same network (generator, config, seed batch) at another ``N`` is not compiled again: its step and sample
    times are the measured ones scaled by the flop counts of the lowered programs (the input and output layers are
    all that change), and its compile time is taken to be the measured one.
    """
    gen_key = _gen_key(generator, generator_config, n_spins, seeds, warm_steps, sample_size)
    net_key = ("network", generator, generator_config, seeds, warm_steps, sample_size)
    sol_key = ("solver", solver, options, n_spins, seeds, exact, n_test, fit_rows)
    pieces, data = {}, {}
    if gen_key not in _PARTS and net_key in _PARTS:
        # the same network at another N: the measured times scaled by the programs' flops (lowered, not compiled)
        p, _ = _generator_pieces(generator, generator_config, n_spins, seeds, warm_steps, sample_size)
        _PARTS[gen_key] = _flop_scaled(_PARTS[net_key], p)
    if gen_key not in _PARTS:
        p, data["gen"] = _generator_pieces(generator, generator_config, n_spins, seeds, warm_steps, sample_size)
        pieces.update({("gen", k): v for k, v in p.items()})
    if sol_key not in _PARTS:
        p, data["sol"] = _solver_pieces(solver, options, n_spins, seeds, exact, n_test, fit_rows)
        pieces.update({("sol", k): v for k, v in p.items()})
    if pieces:
        c, flops, t_compile = _compile_all(pieces)
        share = t_compile / len(pieces)  # the wall time of the compiles, split by piece count
        if "gen" in data:
            g = _generator_costs({k: f for (part, k), f in c.items() if part == "gen"}, data["gen"], warm_steps,
                                 sample_size)
            g["compile"] = share * sum(part == "gen" for part, _ in c) + g.pop("save_compile")
            g["flops"] = {k: v for (part, k), v in flops.items() if part == "gen"}
            _PARTS[gen_key] = _PARTS[net_key] = g
        if "sol" in data:
            s = _solver_costs({k: f for (part, k), f in c.items() if part == "sol"}, data["sol"], seeds, fit_rows)
            s["compile"] = share * sum(part == "sol" for part, _ in c)
            _PARTS[sol_key] = s
    g, s = _PARTS[gen_key], _PARTS[sol_key]
    return {"step": g["step"], "sample": g["sample"], "fixed_row": s["fixed_row"], "full_row": s["full_row"],
            "score": s["score"], "save": g["save"], "compile": g["compile"] + s["compile"]}


def generator_unit_costs(generator: str, generator_config, n_spins: int, seeds: int, *,
                         n_states: int | None = None) -> dict:
    """Seconds of one optimiser step and one generated sample of a generator, all ``seeds`` vmapped, of a checkpoint
    save, and of compiling its pieces (measured as :func:`unit_costs` measures them, once per process and setting);
    ``n_states``: a q-state generator, trained on random sequences over that many states. The same generator and
    seed batch at another size (``N``, ``q`` or widths) is priced from the first one measured by the flop counts of
    its lowered programs (traced, not compiled), as :func:`unit_costs` does for a network at another ``N``."""
    key = ("q-generator", generator, generator_config, n_spins, seeds, n_states)
    ref_key = ("q-network", generator, seeds, n_states is None)
    if key not in _PARTS:
        pieces, data = _generator_pieces(generator, generator_config, n_spins, seeds, WARM_STEPS, SAMPLE_SIZE,
                                         n_states)
        if ref_key in _PARTS:
            _PARTS[key] = _flop_scaled(_PARTS[ref_key], pieces)
        else:
            c, flops, t_compile = _compile_all(pieces)
            g = _generator_costs(c, data, WARM_STEPS, SAMPLE_SIZE)
            g["compile"] = t_compile + g.pop("save_compile")
            g["flops"] = flops
            _PARTS[key] = _PARTS[ref_key] = g
    return dict(_PARTS[key])


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
