"""Cost estimates of an experiment without running it (``ising-diffusion run FIG --preset P --estimate``).

:func:`plan_work` lists the augmentation runs a figure's config asks for (one per sweep point: generator, sizes,
training steps, monitor points, solver fits) and :func:`estimate` prices each from unit costs (one optimiser step,
one generated sample, one data row of a solver fit, one held-out score, a save) measured on small fixed sizes
(:func:`unit_costs`): a generator network once per seed batch (vmapped over the seeds as ``augment`` runs them; at
another ``N`` scaled by the flop counts of its programs), a solver once per ``N``:

``time = compiles + init + steps x step + points x (monitor point + save) + final``

An estimate takes under a minute on a quiet 2-core CPU for every preset with a cost model (docs/experiments.md): it
never runs a paper-size monitor point or fit.
Data generation, plotting and, for Fig. 6, the reconstruction itself are not included.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import jax

from ising_diffusion.experiments.configs.field_checks import held_out_size
from ising_diffusion.experiments.warmup import measure, unit_costs

__all__ = ["ESTIMATED", "PointWork", "plan_work", "measure", "unit_costs", "estimate", "format_estimate"]


@dataclasses.dataclass(frozen=True)
class PointWork:
    """The augmentation work of one sweep point.

    Attributes:
      label: the sweep point.
      generator: registry name.
      generator_config: the resolved generator config.
      augment: the resolved :class:`ising_diffusion.AugmentConfig`.
      n_spins, n_train, n_test, n_augmented: sizes (per seed).
      n_seeds: seeds of the point; ``seed_batch`` of them per call (``None``: all in one call).
      truth: whether the planted truth is known (the monitor then fits the erasure machine twice per point).
      extra_fits: ``(rows, count)`` solver fits per seed outside ``augment`` (Fig. 4's count sweep, Fig. 6's solvers).
      baseline_fits: ``(rows, count)`` fits per seed of the strong baseline (cross-validated pseudolikelihood on the
        training data and on augmented + training data); counted, not timed (a CV path's cost depends on the data).
    """

    label: str
    generator: str
    generator_config: Any
    augment: Any
    n_spins: int
    n_train: int
    n_test: int
    n_augmented: int
    n_seeds: int
    seed_batch: int | None = None
    truth: bool = True
    extra_fits: tuple = ()
    baseline_fits: tuple = ()

    @property
    def batch_size(self) -> int:
        return int(getattr(self.generator_config, "batch_size", 128))

    @property
    def steps_per_point(self) -> int:
        return _steps_per_point(self.augment, self.n_train, self.batch_size)

    @property
    def n_points(self) -> int:
        return _n_points(self.augment, self.n_train, self.batch_size)

    @property
    def n_steps(self) -> int:
        """Optimiser steps per seed."""
        return self.n_points * self.steps_per_point

    @property
    def n_monitor(self) -> int:
        m = self.augment.n_monitor_samples
        return self.n_augmented if m is None else int(m)

    @property
    def monitor_samples(self) -> int:
        """Generated samples per seed over all monitor points."""
        return self.n_points * self.n_monitor

    @property
    def fit_rows(self) -> list[tuple[int, int]]:
        """``(rows, count)`` of every solver fit per seed, as ``augment``'s kernel runs them: ``w_train``; at each
        monitor point one fit per distinct mix size (training + ``r M`` generated samples) and, with the truth, one
        to the generated samples alone (and one to training + all of them if no mix size is that); the two final
        fits; and the extra ones."""
        from ising_diffusion.augment import mix_sizes

        sizes = sorted(set(mix_sizes(self.augment.mix_grid, self.n_train, self.n_monitor)) - {0})
        per_point = [(self.n_train + m, self.n_points) for m in sizes]
        if self.truth:
            per_point.append((self.n_monitor, self.n_points))
            if self.n_monitor not in sizes:
                per_point.append((self.n_train + self.n_monitor, self.n_points))
        rows = [(self.n_train, 1)] + per_point + [(self.n_augmented, 1), (self.n_augmented + self.n_train, 1)]
        return rows + [tuple(e) for e in self.extra_fits]

    @property
    def n_fits(self) -> int:
        """Solver fits per seed."""
        return sum(c for _, c in self.fit_rows)

    @property
    def n_baseline_fits(self) -> int:
        """Strong-baseline (CV) fits per seed."""
        return sum(c for _, c in self.baseline_fits)

    @property
    def calls(self) -> int:
        return 1 if self.seed_batch is None else math.ceil(self.n_seeds / self.seed_batch)

    @property
    def seeds_per_call(self) -> int:
        return self.n_seeds if self.seed_batch is None else min(self.seed_batch, self.n_seeds)


def _schedule(aug, n_train, batch_size) -> tuple[int, int]:
    """``(steps_per_point, n_points)`` of ``aug`` for this training size (a step budget where the config has one)."""
    from ising_diffusion.generative.batching import steps_per_epoch

    spe = steps_per_epoch(n_train, batch_size)
    if hasattr(aug, "schedule"):
        return tuple(int(v) for v in aug.schedule(spe))
    if getattr(aug, "n_steps", None) is not None:
        return int(aug.monitor_steps), int(aug.n_steps) // int(aug.monitor_steps)
    return int(aug.monitor_every) * spe, int(aug.n_epochs) // int(aug.monitor_every)


def _steps_per_point(aug, n_train, batch_size) -> int:
    return _schedule(aug, n_train, batch_size)[0]


def _n_points(aug, n_train, batch_size) -> int:
    return _schedule(aug, n_train, batch_size)[1]


# --------------------------------------------------------------------------------------------------------------------
# what each figure runs


def _resolved(generator: str, overrides: dict):
    from ising_diffusion.generative import GENERATOR_CONFIGS, make_generator_config

    return make_generator_config(generator, overrides) or GENERATOR_CONFIGS[generator]()


def _augment(overrides: dict):
    from ising_diffusion import AugmentConfig
    from ising_diffusion.experiments.synthetic import make_augment_config

    return make_augment_config(overrides) or AugmentConfig()


#: the experiments with a cost model: the augmentation experiments, and ``msa`` (its Potts fits:
#: :mod:`~ising_diffusion.experiments.estimate_potts`)
ESTIMATED = ("fig2", "fig3", "fig4", "fig5", "fig6", "main", "map", "msa")


def plan_work(name: str, cfg) -> list[PointWork]:
    """The sweep points of experiment ``name`` (``fig2`` .. ``fig6``, ``main``, ``map``) under ``cfg``, as
    :class:`PointWork`."""
    if name not in ESTIMATED or name == "msa":
        raise ValueError(f"no augmentation cost model for experiment {name!r} (--estimate covers the augmentation "
                         "experiments; msa: estimate_potts)")
    if name == "fig6":
        return _plan_fig6(cfg)
    aug = _augment(cfg.augment)
    n_aug = lambda m: max(1, int(round(cfg.n_augmented_factor * m)))  # noqa: E731
    common = dict(n_seeds=cfg.n_seeds, seed_batch=cfg.seed_batch, augment=aug)
    # figs 2-5 and main: the strong baseline on each seed's training data and on augmented + training data
    base = lambda m, n_augmented: ((m, 1), (n_augmented + m, 1))  # noqa: E731
    if name in ("fig2", "fig3", "main"):
        gs = (cfg.g,) if name == "fig2" else cfg.g_values
        gen = _resolved(cfg.generator, cfg.generator_config)
        return [PointWork(f"g={g}", cfg.generator, gen, n_spins=cfg.n_spins, n_train=cfg.n_train, n_test=cfg.n_test,
                          n_augmented=n_aug(cfg.n_train), baseline_fits=base(cfg.n_train, n_aug(cfg.n_train)),
                          **common) for g in gs]
    if name == "fig4":
        gen = _resolved(cfg.generator, cfg.generator_config)
        out = [PointWork(f"size:N={n},M={m}", cfg.generator, gen, n_spins=n, n_train=m,
                         n_test=held_out_size(cfg.test_fraction, m),
                         n_augmented=n_aug(m), baseline_fits=base(m, n_aug(m)), **common)
               for n, sizes in cfg.sizes for m in sizes]
        for n, m in cfg.aug_n_train:
            counts = cfg.counts(m)
            extra = tuple((c, 1) for c in counts) + tuple((c + m, 1) for c in counts)
            out.append(PointWork(f"count:N={n},M={m}", cfg.generator, gen, n_spins=n, n_train=m,
                                 n_test=held_out_size(cfg.test_fraction, m),
                                 n_augmented=max(counts), extra_fits=extra, baseline_fits=base(m, max(counts)),
                                 **common))
        return out
    if name == "fig5":
        from ising_diffusion import GENERATOR_CONFIGS

        n_test = max(held_out_size(cfg.test_fraction, m) for m in cfg.n_train_values)
        return [PointWork(f"{g}:M={m}", g, _resolved(g, cfg.generator_configs.get(g, {})), n_spins=cfg.n_spins,
                          n_train=m, n_test=n_test, n_augmented=n_aug(m), baseline_fits=base(m, n_aug(m)), **common)
                for g in cfg.generators if g in GENERATOR_CONFIGS for m in cfg.n_train_values]
    if name == "map":
        return _plan_map(cfg)
    raise ValueError(f"no cost model for experiment {name!r}")


def _plan_map(cfg) -> list[PointWork]:
    if not hasattr(cfg, "truths"):  # the planted Potts rows: their cost is the Potts fits' (as msa's)
        raise ValueError("the map's planted Potts rows (presets potts_*) are priced by estimate_potts_map, not "
                         "plan_work")
    # one augment call per (point, generator) with the map's pseudolikelihood solver; the oracle's one fit per point
    # and seed on oracle_factor x M fresh samples is counted once, with the first generator
    from ising_diffusion import GENERATOR_CONFIGS

    aug = dataclasses.replace(_augment(cfg.augment), solver="pseudolikelihood",
                              solver_options=dict(cfg.solver_options))
    out = []
    for truth, n, g, m in cfg.points():
        n_test = held_out_size(cfg.test_fraction, m)
        n_aug = max(1, int(round(cfg.n_augmented_factor * m)))
        for k, gen in enumerate(x for x in cfg.generators if x in GENERATOR_CONFIGS):
            oracle = ((max(2, int(round(cfg.oracle_factor * m))), 1),) if k == 0 else ()
            out.append(PointWork(f"{gen}:{truth}:N={n},g={g:g},M={m}", gen,
                                 _resolved(gen, cfg.generator_configs.get(gen, {})), aug, n_spins=n, n_train=m,
                                 n_test=n_test, n_augmented=n_aug, n_seeds=cfg.n_seeds, seed_batch=cfg.seed_batch,
                                 extra_fits=oracle))
    return out


def _plan_fig6(cfg) -> list[PointWork]:
    # one seed-batched augmentation of the recording (no truth: the monitor only samples); the erasure machine's
    # fits are inside augment, each other solver is fitted to training, augmented and combined data
    n_aug = cfg.n_augmented if cfg.n_augmented is not None else (
        cfg.augment.n_augmented if cfg.augment.n_augmented is not None else 10 * cfg.n_train)
    extra = []
    for solver in cfg.solvers:
        if solver != "erasure":
            extra += [(cfg.n_train, 1), (n_aug, 1), (n_aug + cfg.n_train, 1)]
    return [PointWork("models", "ddpm", cfg.ddpm, cfg.augment, n_spins=cfg.n_cells, n_train=cfg.n_train,
                      n_test=cfg.n_test, n_augmented=n_aug, n_seeds=cfg.n_seeds, seed_batch=cfg.seed_batch,
                      truth=False, extra_fits=tuple(extra))]


def _key(p: PointWork):
    return (p.generator, p.generator_config, p.augment, p.n_spins, p.n_train, p.n_test, p.n_augmented,
            p.seeds_per_call, p.truth)


def point_seconds(p: PointWork, t: dict) -> dict:
    """Estimated seconds of ``p`` from the warm-up timings ``t`` (:func:`measure`), by part."""
    extra = sum(rows * count for rows, count in p.extra_fits) / max(p.n_train, 1) * t["init"]
    parts = {"init": t["init"], "train": p.n_steps * t["step"], "monitor": p.n_points * (t["monitor"] + t["save"]),
             "final": t["final"] + extra, "compile": t["compile"] / p.calls}  # compiles: once per run
    return {k: v * p.calls for k, v in parts.items()}


def estimate(name: str, cfg, *, measure_fn: Callable[[PointWork], dict] = measure) -> dict:
    """Counts and estimated time of experiment ``name`` under ``cfg`` on the current device (nothing is run but the
    warm-up: one :func:`measure` per distinct generator/size/seed-batch combination).

    Returns:
      ``{"points": [...], "total": {...}, "device": str}``; each point has its counts per seed and in total and its
      estimated seconds by part; ``total`` sums them.
    """
    if name == "msa":
        from ising_diffusion.experiments.estimate_potts import estimate_msa

        return estimate_msa(cfg)
    if name == "map" and not hasattr(cfg, "truths"):  # the planted Potts presets
        from ising_diffusion.experiments.estimate_potts_map import estimate_potts_map

        return estimate_potts_map(cfg)
    work = plan_work(name, cfg)
    cache: dict = {}
    compiled: set = set()
    points = []
    for p in work:
        k = _key(p)
        if k not in cache:
            cache[k] = measure_fn(p)
        secs = point_seconds(p, cache[k])
        # augment keeps its compiled pieces for identical static settings and shapes: pay the compiles once each
        shapes = (k, p.augment, p.n_train, p.n_test, p.n_augmented, p.n_monitor, p.steps_per_point)
        if shapes in compiled:
            secs["compile"] = 0.0
        compiled.add(shapes)
        points.append({"label": p.label, "generator": p.generator, "n_spins": p.n_spins, "n_train": p.n_train,
                       "n_seeds": p.n_seeds, "steps_per_seed": p.n_steps, "monitor_points": p.n_points,
                       "monitor_samples_per_seed": p.monitor_samples, "fits_per_seed": p.n_fits,
                       "steps": p.n_steps * p.n_seeds, "monitor_samples": p.monitor_samples * p.n_seeds,
                       "fits": p.n_fits * p.n_seeds, "baseline_fits": p.n_baseline_fits * p.n_seeds,
                       "seconds": secs, "total_s": sum(secs.values())})
    total = {k: sum(pt[k] for pt in points) for k in ("steps", "monitor_samples", "fits", "baseline_fits", "total_s")}
    total["seconds"] = {k: sum(pt["seconds"][k] for pt in points) for k in points[0]["seconds"]} if points else {}
    total["points"] = len(points)
    dev = jax.devices()[0]
    return {"experiment": name, "points": points, "total": total, "device": f"{dev.platform} ({dev.device_kind}) "
            f"x{len(jax.devices())}", "warmups": len(cache)}


def _hms(s: float) -> str:
    s = int(round(s))
    h, r = divmod(s, 3600)
    m, sec = divmod(r, 60)
    return f"{h} h {m:02d} min" if h else (f"{m} min {sec:02d} s" if m else f"{sec} s")


def _text_table(title: str, head: list[str], rows: list[list[str]]) -> list[str]:
    """``title``, then ``head`` and ``rows`` as left-aligned columns under a dashed rule."""
    lines = [head] + rows
    w = [max(len(r[i]) for r in lines) for i in range(len(head))]
    out = [title] + ["  ".join(c.ljust(x) for c, x in zip(r, w)) for r in lines]
    out.insert(2, "  ".join("-" * x for x in w))
    return out


def _format_potts(est: dict, preset: str | None) -> str:
    """The table of a Potts estimate (``msa``, the map's Potts presets): per point its calls, fits and steps, the
    estimate and the bound."""
    head = ["point", "calls", "seeds/call", "M", "fits/call", "CV fits/call", "steps/call", "est. time", "at most"]
    rows = [[p["label"], str(p["calls"]), str(p["seeds"]), str(p["rows"]), str(p["fits"]), str(p["cv_fits"]),
             str(p["steps"]), _hms(p["total_s"]), _hms(p["bound_s"])] for p in est["points"]]
    out = _text_table(est["experiment"] + (f" --preset {preset}" if preset else "") + f": {len(est['points'])} "
                      f"point(s); estimate on {est['device']} from {est['warmups']} warm-up(s), nothing else run",
                      head, rows)
    parts = ", ".join(f"{k} {_hms(v)}" for k, v in est["seconds"].items())
    its = ", ".join(f"{k}: {v}" for k, v in est["iterations"].items())
    out.append(f"estimated time: {_hms(est['total_s'])} ({parts}), every fit at the iterations of one real fit to "
               f"convergence ({its}; a CV path's warm starts and patience need fewer); at most "
               f"{_hms(est['bound_s'])} (every fit at its iteration cap); excludes mean-field DCA, data loading and "
               "plotting" + (" and sampling the planted data" if est["experiment"] == "map" else ""))
    return "\n".join(out)


def format_estimate(est: dict, preset: str | None = None) -> str:
    """A plain-text table of :func:`estimate`'s counts and times."""
    if "bound_s" in est:  # msa, the map's Potts presets
        return _format_potts(est, preset)
    head = ["point", "gen", "N", "M", "seeds", "steps/seed", "monitor pts", "monitor samples/seed", "fits/seed",
            "est. time"]
    rows = [[p["label"], p["generator"], str(p["n_spins"]), str(p["n_train"]), str(p["n_seeds"]),
             str(p["steps_per_seed"]), str(p["monitor_points"]), str(p["monitor_samples_per_seed"]),
             str(p["fits_per_seed"]), _hms(p["total_s"])] for p in est["points"]]
    out = _text_table(f"{est['experiment']}" + (f" --preset {preset}" if preset else "") + f": "
                      f"{len(est['points'])} sweep point(s); estimate on {est['device']} from {est['warmups']} "
                      "warm-up(s), nothing else run", head, rows)
    t = est["total"]
    out.append(f"total: {t['steps']} training steps, {t['monitor_samples']} monitor samples, {t['fits']} solver "
               f"fits (all seeds)")
    parts = ", ".join(f"{k} {_hms(v)}" for k, v in t["seconds"].items())
    out.append(f"estimated time: {_hms(t['total_s'])} ({parts}); excludes data generation, plotting"
               + (" and the reconstruction" if est["experiment"] == "fig6" else "")
               + (f", and {t['baseline_fits']} cross-validated baseline fits (CV-PLM on the training data and on "
                  "augmented + training data of each seed; not timed: a CV path's cost depends on the data)"
                  if t.get("baseline_fits") else ""))
    return "\n".join(out)
