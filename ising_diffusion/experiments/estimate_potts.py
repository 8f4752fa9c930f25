"""Cost estimate of the ``msa`` experiment (``ising-diffusion run msa --preset P --estimate``): its Potts fits and
``augment`` calls, priced per L-BFGS iteration and per generator step without running any of them (:func:`price`;
the map's Potts presets are priced by it too, :mod:`~ising_diffusion.experiments.estimate_potts_map`).

A weighted pseudolikelihood fit is L-BFGS iterations over the ``Lq x Lq`` couplings; one iteration costs
``a + b rows`` (the couplings' own work, and the fields of every sequence), measured per family length ``L`` at two
small row counts of random sequences (:func:`fit_unit_costs`; once per option set, at the largest ``(L, q)``, and
scaled to the others by their ``(Lq)^2`` and ``L x Lq`` work). How many iterations a fit takes depends on the data:
the estimate fits one real subsample of each family at the smallest depth with the fixed penalty to convergence
(:func:`converged_iterations`, a few seconds) and prices every fit at that count (at most its cap); the **bound**
prices every fit at its iteration cap. A cross-validated fit (``l2="cv"``) is at most ``folds x penalties + 1`` such
fits (the fold fits of a penalty run side by side); its warm starts and patience make it cheaper in practice, so the
estimate is high for CV paths. Compiles: one fit program per row bucket, one CV program per training size, timed
once each. Mean-field DCA (seconds) and data loading are not counted.

``augment:<generator>`` on a subsample: its ``w_train`` CV fit, the generator's steps and samples
(:func:`~ising_diffusion.experiments.warmup.generator_unit_costs` on random sequences), at each monitor point one
fixed-penalty fit per mix size, and at the end two CV fits (generated sequences alone, and with the training ones).
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["fit_unit_costs", "converged_iterations", "augment_work", "plan_msa", "price", "estimate_msa"]

#: the two row counts the per-iteration cost is measured at, and the iterations timed at each
_ROWS, _ITERS = (32, 1024), 8


def _random_alignment(seed: int, rows: int, length: int, q: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, q, (rows, length))


def fit_unit_costs(length: int, q: int, options: dict) -> dict:
    """Seconds per L-BFGS iteration of ``potts_pseudolikelihood`` with ``options`` (penalty, symmetric, memory) at
    length ``L`` and ``q`` states, as ``a + b rows`` from two row counts of random sequences, and the compile time of
    one fit program and of one CV program (``options``' folds and grid).

    Returns:
      ``{"iter_a", "iter_b", "compile_fit", "compile_cv"}``.
    """
    from ising_diffusion.inference.potts_pseudolikelihood import potts_pseudolikelihood, potts_pseudolikelihood_cv

    plain = {k: v for k, v in options.items() if k in ("penalty", "symmetric", "memory_size", "lambda_h")}
    per_iter, compiles = [], []
    for i, rows in enumerate(_ROWS):
        seqs = _random_alignment(i, rows, length, q)
        run = lambda n: potts_pseudolikelihood(seqs, q=q, max_iter=n, tol=1e-30, **plain)  # noqa: E731
        t0 = time.perf_counter()
        run(1)[0].J.block_until_ready()
        first = time.perf_counter() - t0
        times = {}
        for n in (2, 2 + _ITERS):
            t0 = time.perf_counter()
            run(n)[0].J.block_until_ready()
            times[n] = time.perf_counter() - t0
        per_iter.append(max(times[2 + _ITERS] - times[2], 0.0) / _ITERS)
        compiles.append(max(first - times[2], 0.0))
    b = max(per_iter[1] - per_iter[0], 0.0) / (_ROWS[1] - _ROWS[0])
    a = max(per_iter[0] - b * _ROWS[0], 0.0)
    cv = {k: v for k, v in options.items() if k in ("penalty", "symmetric", "memory_size", "lambda_h", "cv_folds",
                                                     "lambda_grid", "cv_rule")}
    seqs = _random_alignment(2, _ROWS[0], length, q)
    t0 = time.perf_counter()
    potts_pseudolikelihood_cv(seqs, q=q, max_iter=1, tol=1e-30, **cv)[0].J.block_until_ready()
    return {"iter_a": a, "iter_b": b, "compile_fit": float(np.mean(compiles)),
            "compile_cv": time.perf_counter() - t0}


def converged_iterations(cfg, family) -> int:
    """L-BFGS iterations of ``plm_cv``'s fixed-penalty fit (its options, ``lambda_J`` at ``plm``'s) on subsample 0
    of ``family`` at the smallest depth of ``cfg``, run to its tolerance or cap."""
    from ising_diffusion.experiments.msa import subsample_rows
    from ising_diffusion.inference.potts_pseudolikelihood import potts_pseudolikelihood
    from ising_diffusion.msa import sequence_weights
    from ising_diffusion.experiments.configs.msa import Q

    depth = min(cfg.depths)
    seqs = family.seqs[subsample_rows(family.seqs.shape[0], depth, 0, cfg.seed)]
    opts = {k: v for k, v in cfg.dca_options("plm_cv").items() if k not in ("method", "l2", "lambda_grid", "cv_folds",
                                                                            "cv_rule")}
    opts.setdefault("lambda_J", cfg.dca_options("plm").get("lambda_J", 0.01))
    _, info = potts_pseudolikelihood(seqs, sequence_weights(seqs, cfg.theta), q=Q, **opts)
    return int(info.n_iter)


def _scaled(u: dict, measured: tuple, to: tuple) -> dict:
    """Unit costs measured at ``(L, q)`` carried to another ``(L, q)``: the per-iteration fixed part scales with the
    couplings, ``(Lq)^2``, the per-row part with ``L x Lq`` (the fields and their gradient); compiles are kept."""
    if measured == to:
        return u
    (l0, q0), (l1, q1) = measured, to
    return {**u, "iter_a": u["iter_a"] * (l1 * q1 / (l0 * q0)) ** 2,
            "iter_b": u["iter_b"] * (l1 * l1 * q1) / (l0 * l0 * q0)}


def _fit_s(u: dict, rows: int, iters: int) -> float:
    return iters * (u["iter_a"] + u["iter_b"] * rows)


def _cv_fits(options: dict) -> int:
    """Fits of one CV path, at most: every penalty's fold fits (side by side) and the refit."""
    from ising_diffusion.inference.potts_pseudolikelihood import DEFAULT_LAMBDA_GRIDS

    grid = options.get("lambda_grid", DEFAULT_LAMBDA_GRIDS[options.get("penalty", "plmdca")])
    return len(grid) * int(options.get("cv_folds", 5)) + 1


def augment_work(aug, generator_config, n_train: int, n_augmented: int, cap: int, *, truth: bool) -> dict:
    """The work of one ``augment`` call with ``AugmentConfig`` ``aug`` on ``n_train`` sequences, per seed: the
    generator's ``steps`` and ``samples``, ``fits`` (``(rows, count, cap)``: one fixed-penalty fit per mix size at
    every monitor point and, with the ``truth`` known, the fit to the monitor samples alone and, if no mix size is
    all of them, to training + all of them) and ``cv`` (``w_train``'s fit and the two final fits)."""
    from ising_diffusion.augment import mix_sizes
    from ising_diffusion.generative.batching import steps_per_epoch

    spp, points = aug.schedule(steps_per_epoch(n_train, int(getattr(generator_config, "batch_size", 128))))
    n_mon = aug.n_monitor_samples or n_augmented
    sizes = sorted(set(mix_sizes(aug.selection.mix_grid, n_train, n_mon)) - {0})
    fits = [(n_train + s, points, cap) for s in sizes]
    if truth:
        fits.append((n_mon, points, cap))
        if n_mon not in sizes:
            fits.append((n_train + n_mon, points, cap))
    return {"steps": spp * points, "samples": points * n_mon + n_augmented, "fits": fits,
            "cv": [(n_train, 1, cap), (n_augmented, 1, cap), (n_augmented + n_train, 1, cap)]}


def plan_msa(cfg, lengths: dict[str, int], distinct: dict[str, int]) -> list[dict]:
    """The fits and ``augment`` calls of the ``msa`` experiment under ``cfg``, per family (``lengths`` and the
    number of ``distinct`` sequences of each full alignment): one entry per (family, depth, method) with
    ``subsamples``, ``rows``, ``fits`` (``(rows, count, iteration cap)`` of the fixed-penalty fits, per subsample),
    ``cv`` (CV fits, likewise) and, for ``augment:`` methods, the generator's ``steps`` and ``samples``."""
    from ising_diffusion.augment import AugmentConfig
    from ising_diffusion.experiments.configs.msa import Q
    from ising_diffusion.generative import make_generator_config

    out = []
    for fam, length in lengths.items():
        if cfg.ceiling:
            o = cfg.ceiling_dca_options()
            out.append({"label": f"{fam}:ceiling", "family": fam, "subsamples": 1, "rows": distinct[fam],
                        "fits": [(distinct[fam], 1, int(o.get("max_iter", 500)))], "cv": [], "options": o})
        for depth in cfg.depths:
            for m in cfg.methods:
                row = {"label": f"{fam}:M={depth}:{m}", "family": fam, "subsamples": cfg.n_seeds, "rows": depth,
                       "fits": [], "cv": []}
                if m in ("plm", "plm_cv"):
                    o = cfg.dca_options(m)
                    it = int(o.get("max_iter", 500))
                    row["options"] = o
                    row["cv" if m == "plm_cv" else "fits"].append((depth, 1, it))
                elif m == "mf":
                    row["options"] = {}
                else:
                    gen = m.split(":", 1)[1]
                    o = cfg.dca_options("plm_cv")
                    aug = AugmentConfig(**cfg.augment)
                    n_train = depth - cfg.heldout_size(depth)
                    gcfg = make_generator_config(gen, {"n_states": Q, **cfg.generator_options.get(gen, {})})
                    row.update(options=o, generator=gen, generator_config=gcfg,
                               **augment_work(aug, gcfg, n_train, aug.n_augmented or 10 * n_train,
                                              int(o.get("max_iter", 500)), truth=False))
                out.append(row)
    return out


def _bucket(rows: int) -> int:
    from ising_diffusion.inference.potts_pseudolikelihood import pad_rows

    return pad_rows(np.zeros((rows, 1), np.int8), np.ones(rows))[0].shape[0]


def _options_key(options: dict) -> tuple:
    keep = ("penalty", "symmetric", "memory_size", "lambda_h", "cv_folds", "lambda_grid", "cv_rule")
    return tuple(sorted((k, v) for k, v in options.items() if k in keep))


def price(items: list[dict], typical: dict, *, fit_costs=fit_unit_costs, generator_costs=None) -> dict:
    """Estimated seconds of Potts work ``items`` (as :func:`plan_msa` makes them, with ``length``, ``q`` and
    ``calls`` x ``seeds``), every fit at ``typical[item["typical"]]`` iterations (at most its cap) and, for the
    bound, at its cap; unit costs measured once per (L, q, options) and generator setting.

    Returns:
      ``{"points", "total_s", "bound_s", "seconds" (by part), "device", "warmups"}``.
    """
    import jax

    if generator_costs is None:
        from ising_diffusion.experiments.warmup import generator_unit_costs as generator_costs
    units, gens, compiled = {}, {}, set()
    largest = {}  # options -> the largest (L, q) of the items: measured there, the others scaled from it
    for w in items:
        o = _options_key(w["options"])
        largest[o] = max(largest.get(o, (0, 0)), (w["length"], w["q"]), key=lambda lq: lq[0] * lq[1])
    points = []
    for w in items:
        ukey = (w["length"], w["q"], _options_key(w["options"]))
        fit_s = bound = compile_s = gen_s = 0.0
        if w["fits"] or w["cv"]:
            ref = (*largest[ukey[2]], ukey[2])
            if ref not in units:
                units[ref] = fit_costs(ref[0], ref[1], dict(ukey[2]))
            u, n_cv = _scaled(units[ref], ref[:2], ukey[:2]), _cv_fits(w["options"])

            def cost(its):  # its(cap) -> iterations of one fit
                return w["seeds"] * (sum(n * _fit_s(u, r, its(cap)) for r, n, cap in w["fits"])
                                     + sum(n * n_cv * _fit_s(u, r, its(cap)) for r, n, cap in w["cv"]))

            fit_s, bound = cost(lambda cap: min(cap, typical[w["typical"]])), cost(lambda cap: cap)
            programs = {("fit", ukey, _bucket(r)) for r, _, _ in w["fits"]} | {("cv", ukey, r) for r, _, _ in w["cv"]}
            compile_s = sum(u["compile_fit" if kind == "fit" else "compile_cv"] for kind, *_ in programs - compiled)
            compiled |= programs
        if "generator" in w:
            gkey = (w["generator"], w["generator_config"], w["length"], w["seeds"], w["q"])
            if gkey not in gens:
                gens[gkey] = generator_costs(w["generator"], w["generator_config"], w["length"], w["seeds"],
                                             n_states=w["q"])
                compile_s += gens[gkey]["compile"]
            gen_s = w["steps"] * gens[gkey]["step"] + w["samples"] * gens[gkey]["sample"]
        secs = {"fits": w["calls"] * fit_s, "generator": w["calls"] * gen_s, "compile": compile_s}
        points.append({"label": w["label"], "calls": w["calls"], "seeds": w["seeds"], "rows": w["rows"],
                       "fits": len(w["fits"]), "cv_fits": len(w["cv"]), "steps": w.get("steps", 0),
                       "seconds": secs, "total_s": sum(secs.values()),
                       "bound_s": sum(secs.values()) + w["calls"] * (bound - fit_s)})
    dev = jax.devices()[0]
    return {"points": points, "total_s": sum(p["total_s"] for p in points),
            "bound_s": sum(p["bound_s"] for p in points),
            "seconds": {k: sum(p["seconds"][k] for p in points) for k in ("fits", "generator", "compile")},
            "device": f"{dev.platform} ({dev.device_kind}) x{len(jax.devices())}", "warmups": len(units) + len(gens)}


def estimate_msa(cfg, *, fit_costs=fit_unit_costs, generator_costs=None, iterations=None) -> dict:
    """Counts and estimated seconds of the ``msa`` experiment under ``cfg`` on this machine (every fit at the
    iterations :func:`converged_iterations` measured; the bound: at its cap); ``fit_costs``, ``generator_costs`` and
    ``iterations`` measure the unit costs and the typical iteration count (tests pass stand-ins).

    Returns:
      :func:`price`'s dict with ``"experiment": "msa"`` and ``"iterations"`` (per family).
    """
    from ising_diffusion.experiments.configs.msa import Q
    from ising_diffusion.experiments.msa import load_families

    families = load_families(cfg)
    lengths = {f.name: int(f.seqs.shape[1]) for f in families}
    distinct = {f.name: int(np.unique(f.seqs, axis=0).shape[0]) for f in families}
    typical = {f.name: (iterations or converged_iterations)(cfg, f) for f in families}
    items = [{**w, "length": lengths[w["family"]], "q": Q, "calls": w["subsamples"], "seeds": 1,
              "typical": w["family"]} for w in plan_msa(cfg, lengths, distinct)]
    est = price(items, typical, fit_costs=fit_costs, generator_costs=generator_costs)
    return {"experiment": "msa", "iterations": typical, **est}
