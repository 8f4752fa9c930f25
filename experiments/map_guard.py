"""The map's points with and without the parametric bootstrap guard (issue 24, item 1).

    PYTHONPATH=. nice python experiments/map_guard.py --out /work/runs/map-guard            # Hopfield first
    PYTHONPATH=. python experiments/map_guard.py --out /work/runs/map-guard --table-only     # the tables so far

Each (point, generator) of the map's quick preset (``ising_diffusion/experiments/configs/map.py``: truths SK, sparse,
Hopfield; g 1, 2; M 200, 800; N = 20; 6 seeds; DDPM and D3PM; the same truths, data, keys and generator settings as
``ising-diffusion run map --preset quick``) is one ``augment_seeds`` call with ``Selection(guard="bootstrap")``: the
score rule's recommendation before the guard is the old rule, the result after it the new one, so both come from the
same trained generators. Rerunning with the same ``--out`` resumes (finished points are skipped; a killed point
resumes from its checkpoints, the replicates' too). Outputs: ``results.csv`` (one row per point, generator and
seed: recommended old / new, MSE ratio to the training-only fit old / new, the replicates' ratios, time) and
``guard_table.md`` (per truth kind, recommendations and harmful ones, MSE up by more than 5%, old rule against new).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import defaultdict
from pathlib import Path

import numpy as np

from ising_diffusion.experiments.configs.map import get_config
from ising_diffusion.experiments.map import map_task, point_id
from ising_diffusion.experiments.rows import n_augmented
from ising_diffusion.experiments.runner import ResultStore, open_run, run_sweep, seed_keys
from ising_diffusion.augment import Selection
from ising_diffusion.augment.guard import guard_decision
from ising_diffusion.experiments.synthetic import augment_point

HARM = 1.05  # a recommendation is harmful when it raises the MSE by more than 5% (issue 24)
TRUTH_ORDER = ("hopfield", "sk", "sparse")


def guard_config(n_replicates: int, truths=TRUTH_ORDER, n_seeds: int | None = None, preset: str = "quick"):
    """The map config with the guard switched on, points of ``truths`` only (the N = 20 grid, no extra point)."""
    cfg = get_config(preset)
    return dataclasses.replace(cfg, truths=tuple(truths), extra_points=(), n_seeds=n_seeds or cfg.n_seeds,
                               augment={**cfg.augment, "guard": "bootstrap", "n_replicates": n_replicates})


def point_rows(run, cfg, keys, gen, point, progress):
    """One (point, generator): the real run, the guard on every recommended seed, a row per seed."""
    tk = map_task(cfg, point, keys=keys)
    pid = f"{gen}:{point_id(point)}"
    res = augment_point(run, pid, cfg, keys, tk, n_augmented=n_augmented(cfg, point[3]), generator=gen,
                        generator_overrides=cfg.generator_configs.get(gen, {}), progress=progress,
                        solver="pseudolikelihood", solver_options=cfg.solver_options, baseline=False)
    g, rows = res.guard, []
    for s in range(len(res.recommended)):
        train = float(res.mse["train"][s])
        rows.append(dict(truth=point[0], n_spins=point[1], g=point[2], n_train=point[3], generator=gen, seed=s,
                         mse_train=train, recommended_old=float(g["recommended_before"][s]),
                         recommended_new=float(res.recommended[s]),
                         ratio_old=float(g["mse_selected_before"][s]) / train,
                         ratio_new=float(res.mse["selected"][s]) / train,
                         guard_ratios=" ".join(f"{r:.4g}" for r in g["ratios"][s] if np.isfinite(r)),
                         guard_upper=float(g["upper"][s]), guard_worst=float(g["worst"][s]),
                         stop_mix_new=float(res.stop_mix[s]),
                         time_total=float(np.max(res.timing["total"])), time_guard=float(g["time"])))
    return rows


def rows_from_map(path, have) -> list[dict]:
    """Rows for the (point, generator) pairs of the map's results (``map_quick_results.csv``) that this run did not
    repeat, when the score rule recommended on none of their seeds: the guard only checks recommendations, so there
    the new rule returns what the old one did (ratio 1, the training-only fit). Pairs with a recommendation must
    be run (ValueError)."""
    import csv

    key = lambda r: (r["truth"], int(r["n_spins"]), float(r["g"]), int(r["n_train"]), r["generator"])  # noqa: E731
    done = {key(r) for r in have}
    out = []
    for r in csv.DictReader(open(path)):
        if key(r) in done or int(r["n_spins"]) != 20:
            continue
        if float(r["recommended"]) > 0:
            raise ValueError(f"{key(r)} seed {r['seed']}: the old rule recommended here; run this point")
        out.append(dict(truth=r["truth"], n_spins=int(r["n_spins"]), g=float(r["g"]), n_train=int(r["n_train"]),
                        generator=r["generator"], seed=int(r["seed"]), mse_train=float(r["mse_train"]),
                        recommended_old=0.0, recommended_new=0.0, ratio_old=1.0, ratio_new=1.0, guard_ratios="",
                        guard_upper=float("nan"), guard_worst=float("nan"), stop_mix_new=0.0,
                        time_total=float(r["time_total"]), time_guard=0.0))
    return out


def redecide(rows, level: float, max_rise: float) -> list[dict]:
    """The rows as the guard with ``level`` and ``max_rise`` would have decided them, from the replicates' MSE ratios
    each row stores (the replicates do not depend on the decision rule): a kept recommendation returns the score rule's
    fit (``ratio_new = ratio_old``), a declined one the training-only fit (ratio 1)."""
    out = []
    for r in rows:
        r = dict(r)
        reps = [float(x) for x in str(r.get("guard_ratios") or "").split()]
        if float(r["recommended_old"]) > 0 and len(reps) >= 2:
            keep = bool(guard_decision(np.asarray([reps]), np.ones((1, len(reps))), level=level,
                                       max_rise=max_rise).keep[0])
            r["recommended_new"], r["ratio_new"] = float(keep), float(r["ratio_old"]) if keep else 1.0
        out.append(r)
    return out


def operating_table(rows, levels=(0.55, 0.75, 0.9, 0.95), max_rises=(0.05, 0.1, 0.25, 1.0)) -> str:
    """The guard's decisions on the same replicates for a grid of (level, max_rise): recommendations kept, helpful
    (ratio < 1) and harmful (ratio > 1.05) among them, out of the old rule's."""
    old = [r for r in rows if float(r["recommended_old"]) > 0]
    n_help, n_harm = sum(float(r["ratio_old"]) < 1 for r in old), sum(float(r["ratio_old"]) > HARM for r in old)
    out = [f"Old rule: {len(old)} recommendations, {n_help} helpful, {n_harm} harmful.", "",
           "| guard_level | guard_max_rise | kept | helpful kept | harmful kept |", "|---|---|---|---|---|"]
    for level in levels:
        for rise in max_rises:
            new = [r for r in redecide(old, level, rise) if float(r["recommended_new"]) > 0]
            out.append(f"| {level:g} | {rise:g} | {len(new)} | {sum(float(r['ratio_new']) < 1 for r in new)} | "
                       f"{sum(float(r['ratio_new']) > HARM for r in new)} |")
    return "\n".join(out)


def summary_table(rows) -> str:
    """Per truth kind: seeds, recommendations and harmful ones (ratio > 1.05), helpful ones (ratio < 1), old rule
    against new, and the time with the guard."""
    by = defaultdict(list)
    for r in rows:
        by[(r["truth"], r["generator"])].append(r)
        by[(r["truth"], "all")].append(r)
    out = ["| truth | generator | (point, seed) cases | recommended old | harmful old | helped old | recommended new | "
           "harmful new | helped new | largest ratio new | time per call with guard (s) | guard time (s) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (truth, gen), rs in sorted(by.items(), key=lambda kv: (TRUTH_ORDER.index(kv[0][0]), kv[0][1] == "all",
                                                              kv[0][1])):
        f = lambda k: np.asarray([float(r[k]) for r in rs])  # noqa: E731
        rec_o, rec_n, ro, rn = f("recommended_old") > 0, f("recommended_new") > 0, f("ratio_old"), f("ratio_new")
        calls = {(r["n_train"], r["g"], r["generator"]): (float(r["time_total"]), float(r["time_guard"])) for r in rs}
        t = np.asarray(list(calls.values()))
        out.append(f"| {truth} | {gen} | {len(rs)} | {rec_o.sum()} | {(rec_o & (ro > HARM)).sum()} | "
                   f"{(rec_o & (ro < 1)).sum()} | {rec_n.sum()} | {(rec_n & (rn > HARM)).sum()} | "
                   f"{(rec_n & (rn < 1)).sum()} | {rn.max():.3g} | {t[:, 0].mean():.0f} | {t[:, 1].mean():.0f} |")
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--truths", default=",".join(TRUTH_ORDER), help="comma-separated, in the order to run")
    p.add_argument("--generators", default="ddpm,d3pm")
    p.add_argument("--replicates", type=int, default=4)
    p.add_argument("--seeds", type=int, default=None, help="seeds per point (default: the preset's 6)")
    p.add_argument("--preset", default="quick", help="the map preset (tiny: a smoke test)")
    p.add_argument("--only", default=None,
                   help="comma-separated substrings: run only the (point, generator) ids containing one of them "
                        "(ids look like 'd3pm:sk:N=20:g=2:M=200')")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--with-map", default=None, metavar="CSV",
                   help="with --table-only: add the map's rows (docs/figures/map_quick_results.csv) of the pairs not "
                        "run here where the old rule recommended nothing (the guard cannot change them)")
    p.add_argument("--level", type=float, default=Selection.guard_level,
                   help="with --table-only: decide with this guard_level from the stored replicates (default: the "
                        "library's)")
    p.add_argument("--max-rise", type=float, default=Selection.guard_max_rise,
                   help="with --table-only: decide with this guard_max_rise (default: the library's)")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    if a.table_only:
        rows = ResultStore.load(a.out).rows
        if a.with_map:
            rows = list(rows) + rows_from_map(a.with_map, rows)
        rows = redecide(rows, a.level, a.max_rise)
        Path(a.out, "guard_operating.md").write_text(operating_table(rows) + "\n")
        print(operating_table(rows), end="\n\n")
    else:
        truths = a.truths.split(",")
        cfg = guard_config(a.replicates, truths, a.seeds, a.preset)
        run = open_run(a.out, "map_guard", cfg)
        seeds = list(range(cfg.n_seeds))
        keys = seed_keys(cfg.seed, seeds)
        points = [(f"{gen}:{point_id(pt)}", (gen, pt)) for pt in cfg.points()
                  for gen in a.generators.split(",")]
        if a.only:
            points = [(pid, gp) for pid, gp in points if any(o in pid for o in a.only.split(","))]
        rows = run_sweep(points, lambda pid, gp: point_rows(run, cfg, keys, gp[0], gp[1], not a.no_progress),
                         run.table("results"), seeds, progress=not a.no_progress, desc="map guard")
    table = summary_table(rows)
    Path(a.out, "guard_table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
