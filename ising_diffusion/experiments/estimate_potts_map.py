"""Cost estimate of the map's planted Potts presets (``ising-diffusion run map --preset potts_quick --estimate``),
priced as :mod:`~ising_diffusion.experiments.estimate_potts` prices the ``msa`` experiment.

Per point ``(truth, L, q, g, M)``: the oracle's CV fit to ``oracle_factor x M`` fresh sequences, once per seed; per
q-state generator one ``augment_seeds`` call per seed batch (the seeds side by side): its ``w_train`` CV fit, the
generator's steps and samples, at each monitor point a fixed-penalty fit per mix size plus, with the truth known,
the fit to the generated sequences alone, and at the end two CV fits. Typical iteration counts come from one real
fixed-penalty fit to planted sequences at the first point (:func:`planted_iterations`); the Gibbs sampling of the
data is not counted.
"""

from __future__ import annotations


__all__ = ["plan_potts_map", "planted_iterations", "estimate_potts_map"]


def plan_potts_map(cfg) -> list[dict]:
    """The Potts work of ``cfg`` (a ``PottsMapConfig``) as :func:`~ising_diffusion.experiments.estimate_potts.price`
    items: one oracle item per point, one ``augment`` item per point and q-state generator."""
    from ising_diffusion.augment import AugmentConfig
    from ising_diffusion.experiments.estimate_potts import augment_work
    from ising_diffusion.experiments.potts_map import potts_point_id
    from ising_diffusion.experiments.rows import n_augmented
    from ising_diffusion.experiments.synthetic import make_augment_config
    from ising_diffusion.generative import Q_STATE_GENERATORS, make_generator_config

    aug = make_augment_config(cfg.augment) or AugmentConfig()
    opts = dict(cfg.solver_options)
    cap = int(opts.get("max_iter", 500))
    seeds = cfg.n_seeds if cfg.seed_batch is None else min(cfg.seed_batch, cfg.n_seeds)
    # full batches of `seeds`, then one call with the rest (its own compiled shape): 5 seeds in batches of 2 are
    # 2 + 2 + 1, not 3 x 2
    batches = [(cfg.n_seeds // seeds, seeds)] + ([(1, cfg.n_seeds % seeds)] if cfg.n_seeds % seeds else [])
    items = []
    for point in cfg.points():
        _, length, q, _, m = point
        pid = potts_point_id(point)
        n_fresh = max(4, int(round(cfg.oracle_factor * m)))
        common = {"length": length, "q": q, "options": opts, "typical": "planted"}
        items.append({"label": f"oracle:{pid}", "calls": cfg.n_seeds, "seeds": 1, "rows": n_fresh, "fits": [],
                      "cv": [(n_fresh, 1, cap)], **common})
        for gen in (g for g in cfg.generators if g in Q_STATE_GENERATORS):
            gcfg = make_generator_config(gen, {**cfg.generator_configs.get(gen, {}), "n_states": q})
            work = augment_work(aug, gcfg, m, n_augmented(cfg, m), cap, truth=True)
            for k, (calls, size) in enumerate(batches):
                label = f"{gen}:{pid}" + ("" if k == 0 else f" (last {size} seed{'s' * (size > 1)})")
                items.append({"label": label, "calls": calls, "seeds": size, "rows": m, "generator": gen,
                              "generator_config": gcfg, **work, **common})
    return items


def planted_iterations(cfg) -> int:
    """L-BFGS iterations of a fixed-penalty fit (the solver's options, ``lambda_J`` 0.01) to the first seed's training
    sequences at the first point of ``cfg``, run to its tolerance or cap."""
    import numpy as np

    from ising_diffusion.experiments.potts_map import potts_task
    from ising_diffusion.inference.potts_pseudolikelihood import potts_pseudolikelihood
    from ising_diffusion.msa import sequence_weights

    point = cfg.points()[0]
    train = np.asarray(potts_task(cfg, point).train[0])
    opts = {k: v for k, v in cfg.solver_options.items() if k in ("penalty", "symmetric", "max_iter", "tol",
                                                                 "memory_size", "lambda_h")}
    _, info = potts_pseudolikelihood(train, sequence_weights(train, cfg.theta), q=point[2], **opts)
    return int(info.n_iter)


def estimate_potts_map(cfg, *, fit_costs=None, generator_costs=None, iterations=None) -> dict:
    """Counts and estimated seconds of the map's Potts preset ``cfg`` on this machine (stand-ins as for
    :func:`~ising_diffusion.experiments.estimate_potts.estimate_msa`).

    Returns:
      the ``price`` dict with ``"experiment": "map"`` and ``"iterations"``.
    """
    from ising_diffusion.experiments.estimate_potts import fit_unit_costs, price

    typical = {"planted": (iterations or planted_iterations)(cfg)}
    est = price(plan_potts_map(cfg), typical, fit_costs=fit_costs or fit_unit_costs,
                generator_costs=generator_costs)
    return {"experiment": "map", "iterations": typical, **est}
