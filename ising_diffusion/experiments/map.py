"""The map (issue 14): where augmentation beats pseudolikelihood on training data, by truth kind, g, M and generator.

Usage: ``ising-diffusion run map --preset quick --out runs/map``. Outputs in the run folder: ``oracle.csv`` (the fit
to ``oracle_factor`` x M fresh samples, per point and seed), ``results.csv`` (one row per point, generator and seed),
``summary.csv`` (mean and 95% Student-t CI over seeds of the MSEs and of the paired per-seed ratios) and ``map.png``.
"""

from __future__ import annotations

import sys
import warnings
from functools import partial
from pathlib import Path

import jax
import numpy as np

from ising_diffusion.experiments.configs.map import CONFIG_TYPES, PRESETS, MapConfig, PottsMapConfig, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.rows import format_table, map_ratios, n_augmented, n_test, summarize, write_summary
from ising_diffusion.experiments.runner import open_run, run_seeds, run_sweep, seed_keys
from ising_diffusion.experiments.synthetic import augment_point, infer_seeds_batch, mse_seeds, synthetic_task
from ising_diffusion.monitor import moment_rms
from ising_diffusion.synthetic import observed_samples

__all__ = ["run_map", "map_task", "point_id", "plot_map", "main"]

BY = ["truth", "n_spins", "g", "n_train", "generator"]
VALUES = ("mse_train", "mse_selected", "mse_combined", "mse_oracle", "ratio_selected", "ratio_combined",
          "ratio_oracle", "recommended", "helped", "moment_rms_first", "moment_rms_second", "moment_rms_train_second")
TABLE = {"MSE train only": "mse_train", "selected/train": "ratio_selected", "combined/train": "ratio_combined",
         "oracle/train": "ratio_oracle", "recommended": "recommended", "pair-moment RMS": "moment_rms_second"}


@partial(jax.jit, static_argnames=("n_samples", "sampler"))
def _fresh(keys, truths, n_samples, sampler):
    """The oracle's fresh samples of each seed's truth, keyed ``fold_in(k, 4)`` (truth 1, data 2, generator 3)."""
    return jax.vmap(lambda k, t: observed_samples(jax.random.fold_in(k, 4), t, n_samples, sampler))(keys, truths)


def map_task(cfg: MapConfig, point, keys=None):
    """The :class:`~ising_diffusion.experiments.synthetic.SyntheticTask` (truths, training and test samples of every
    seed) of one map point ``(truth, N, g, M)``, exactly as :func:`run_map` builds it (``keys``: the run's
    ``seed_keys(cfg.seed, range(cfg.n_seeds))`` by default)."""
    truth, n, g, m = point
    keys = seed_keys(cfg.seed, list(range(cfg.n_seeds))) if keys is None else keys
    return synthetic_task(keys, n, g, m, n_test(cfg, m), sampler=cfg.sampler, truth=truth,
                          truth_options=cfg.truth_options(truth), shard=cfg.shard, seed_batch=cfg.seed_batch)


def point_id(point) -> str:
    """The id of a sweep point ``(truth, N, g, M)`` in the run's tables, e.g. ``"sk:N=20:g=2:M=200"``."""
    return "{}:N={}:g={:g}:M={}".format(*point)


def run_map(cfg: MapConfig | PottsMapConfig, out: str | Path, *, progress: bool = True) -> list[dict]:
    """The map: per (truth, N, g, M) and seed, the MSE of the training-only fit, of the fit ``augment`` recommends
    (``params_selected``, the score rule) and of the combined fit, per generator; the oracle fit to fresh samples;
    the generator's moment RMS against the test set.

    Args:
      cfg: :class:`MapConfig`; generators not registered in this build are skipped with a warning. A
        :class:`PottsMapConfig` (presets ``potts_*``) runs the planted Potts rows instead
        (:func:`~ising_diffusion.experiments.potts_map.run_potts_map`).
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (per truth, N, g, M and generator).
    """
    if isinstance(cfg, PottsMapConfig):  # the planted Potts rows (presets potts_*)
        from ising_diffusion.experiments.potts_map import run_potts_map

        return run_potts_map(cfg, out, progress=progress)
    from ising_diffusion import GENERATOR_CONFIGS
    generators = [g for g in cfg.generators if g in GENERATOR_CONFIGS]
    if len(generators) < len(cfg.generators):
        warnings.warn(f"generators {sorted(set(cfg.generators) - set(generators))} are not registered; skipped")
    run = open_run(out, "map", cfg)
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    batching = dict(shard=cfg.shard, seed_batch=cfg.seed_batch)

    task = partial(map_task, cfg, keys=keys)

    def oracle_point(pid, point):
        truths, n_fresh = task(point).truth, max(2, int(round(cfg.oracle_factor * point[3])))
        fresh = run_seeds(lambda k, t: _fresh(k, t, n_fresh, cfg.sampler), keys, truths, **batching)
        mse = mse_seeds(truths, infer_seeds_batch(fresh, "pseudolikelihood", **batching, **cfg.solver_options))
        return [dict(zip(BY, point), seed=s, n_oracle=n_fresh, mse_oracle=float(mse[i])) for i, s in enumerate(seeds)]

    oracle = run.table("oracle")  # first: one fit per point and seed, shared by the generators
    run_sweep([(point_id(p), p) for p in cfg.points()], oracle_point, oracle, seeds, progress=progress, desc="map oracle")

    def map_point(pid, gp):
        gen, point = gp
        tk = task(point)
        res = augment_point(run, pid, cfg, keys, tk, n_augmented=n_augmented(cfg, point[3]), generator=gen,
                            generator_overrides=cfg.generator_configs.get(gen, {}), progress=progress,
                            solver="pseudolikelihood", solver_options=cfg.solver_options, baseline=False)
        rms, floor = jax.vmap(moment_rms)(res.samples, tk.test), jax.vmap(moment_rms)(tk.train, tk.test)
        orc = {r["seed"]: r["mse_oracle"] for r in oracle.point_rows(point_id(point))}
        rows = []
        for i, s in enumerate(seeds):
            mse = {k: float(v[i]) for k, v in res.mse.items()}
            row = dict(zip(BY, (*point, gen)), seed=s, **{f"mse_{k}": v for k, v in mse.items()},
                       mse_oracle=orc[s], recommended=float(res.recommended[i]), stop_mix=float(res.stop_mix[i]),
                       stop_step=int(res.stop_step[i]), solver_l2=float(res.solver_l2[i]),
                       solver_l2_combined=float(np.asarray(res.solver_l2_combined)[i]),
                       score_train=float(res.score["train"][i]), score_selected=float(res.score["selected"][i]),
                       n_test=int(tk.test.shape[1]),
                       **{f"time_{k}": float(np.max(v)) for k, v in res.timing.items()},  # per call, all seeds
                       **{f"moment_rms{w}_{o}": float(getattr(r, o)[i]) for w, r in (("", rms), ("_train", floor))
                          for o in ("first", "second")})
            map_ratios(row)
            rows.append(row)
        return rows

    points = [(f"{gen}:{point_id(p)}", (gen, p)) for p in cfg.points() for gen in generators]
    rows = run_sweep(points, map_point, run.table("results"), seeds, progress=progress, desc="map")
    summary = summarize(rows, BY, VALUES)
    write_summary(run, summary)
    plot_map(run.path / "map.png", summary, generators, cfg)
    print(format_table(summary, BY, TABLE))
    print(f"[map] figure: {run.path / 'map.png'}")
    return summary


def plot_map(path: Path, summary: list[dict], generators, cfg: MapConfig) -> Path:
    """One panel per truth kind: each generator's selected / training-only MSE ratio (mean and 95% CI over seeds) per
    (N, g, M), hollow markers the combined fit's, grey crosses the oracle's for scale; below 1 augmentation helps."""
    from ising_diffusion.experiments.plotting import plt, save_figure
    truths = list(dict.fromkeys(r["truth"] for r in summary))
    fig, axes = plt.subplots(1, len(truths), figsize=(5 * len(truths), 4.5), squeeze=False, sharey=True)
    series = ([(g, "ratio_selected", dict(color=f"C{k}", label=f"{g} selected")) for k, g in enumerate(generators)]
              + [(g, "ratio_combined", dict(color=f"C{k}", mfc="none", alpha=0.6, label=f"{g} combined"))
                 for k, g in enumerate(generators)]
              + [(generators[0], "ratio_oracle", dict(color="0.5", marker="x", label="oracle, fresh real samples"))])
    for ax, truth in zip(axes[0], truths):
        rows = [r for r in summary if r["truth"] == truth]
        cells = sorted({(r["n_spins"], r["g"], r["n_train"]) for r in rows})
        ax.axhline(1.0, color="0.4", ls="--", lw=1, label="training only")
        for j, (gen, col, style) in enumerate(series):  # side by side within each (N, g, M) cell
            sel = {(r["n_spins"], r["g"], r["n_train"]): r for r in rows if r["generator"] == gen}
            m, lo, hi = (np.array([sel.get(c, {}).get(f"{col}_{q}", np.nan) for c in cells], float)
                         for q in ("mean", "lo", "hi"))
            ax.errorbar(np.arange(len(cells)) + 0.6 * (j / (len(series) - 1) - 0.5), m, ls="none", capsize=3,
                        yerr=np.stack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)]), **{"marker": "o", **style})
        ax.set_xticks(range(len(cells)), [f"g={g:g}\nM={m}" + (f"\nN={n}" if n != cfg.n_spins else "")
                                          for n, g, m in cells])
        ax.set(yscale="log", title=f"{truth} truth (N={cfg.n_spins}, {cfg.n_seeds} seeds)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("MSE / training-only MSE, paired per seed")
    axes[0, -1].legend(fontsize="small")
    return save_figure(fig, path)


def main(argv=None):
    """Run the map with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("map", argv, get_config, run_map, PRESETS, __doc__.splitlines()[0], config_types=CONFIG_TYPES)


if __name__ == "__main__":
    main(sys.argv[1:])
