"""Fig. 5 of Lim, Lee & Jo (2025): diffusion vs RBM vs VAE (vs GAN) as the augmenting generator, against training size (N = 40).

Usage: ``ising-diffusion run fig5 --preset quick --out runs/fig5`` (or ``python -m experiments.fig5 ...`` in a
checkout). Outputs in the run folder: ``results.csv`` (one row per generator, training size and seed),
``summary.csv`` (mean and 95% Student-t CI over seeds) and ``fig5.png``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from ising_diffusion.experiments.configs.fig5 import PRESETS, Fig5Config, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.rows import (SUMMARY_VALUES, TABLE_COLUMNS, format_table, n_augmented, n_test,
                                              ratio_columns, result_rows, summarize, write_summary)
from ising_diffusion.experiments.runner import open_run, run_sweep, seed_keys
from ising_diffusion.experiments.synthetic import augment_point, synthetic_task

__all__ = ["run_fig5", "main"]


def run_fig5(cfg: Fig5Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 5: diffusion vs RBM vs VAE (vs GAN) as the generator, MSE against training size at one N.

    Args:
      cfg: :class:`Fig5Config`; generators not registered in this build are skipped with a warning.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (per generator and training size).
    """
    from ising_diffusion import GENERATOR_CONFIGS
    from ising_diffusion.experiments.plotting import plot_ratio, plot_summary, plt, save_figure

    generators = tuple(g for g in cfg.generators if g in GENERATOR_CONFIGS)
    if len(generators) < len(cfg.generators):
        warnings.warn(f"generators {[g for g in cfg.generators if g not in generators]} are not registered in this "
                      f"build (registered: {sorted(GENERATOR_CONFIGS)}); fig5 runs without them")
    if not generators:
        raise ValueError(f"none of the generators {cfg.generators} is registered")
    run = open_run(out, "fig5", cfg)
    store = run.table("results")
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    n_tst = max(n_test(cfg, m) for m in cfg.n_train_values)
    n_pool = max(cfg.n_train_values) + n_tst

    def run_point(pid, gm):
        gen, m = gm
        task = synthetic_task(keys, cfg.n_spins, cfg.g, m, n_tst, n_pool=n_pool, sampler=cfg.sampler,
                              shard=cfg.shard, seed_batch=cfg.seed_batch)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=n_augmented(cfg, m), generator=gen,
                            generator_overrides=cfg.generator_configs.get(gen, {}), progress=progress)
        rows = result_rows(res, seeds, point=pid, generator=gen, n_spins=cfg.n_spins, n_train=m, g=cfg.g)
        ratio_columns(rows)
        return rows

    points = [(f"{gen}:M={m}", (gen, m)) for gen in generators for m in cfg.n_train_values]
    rows = run_sweep(points, run_point, store, seeds, progress=progress, desc="fig5")
    summary = summarize(rows, ["generator", "n_train"], SUMMARY_VALUES)
    write_summary(run, summary)

    fig, (ax, ax_ratio) = plt.subplots(1, 2, figsize=(13, 4.5))
    first = [s for s in summary if s["generator"] == generators[0]]
    plot_summary(ax, first, "n_train", {"training only": "mse_train", "CV-PLM, training only": "mse_train_cv"},
                 colors=("C0", "0.3"), xlabel="training samples",
                 ylabel="MSE of inferred parameters", logx=True, logy=True)
    for k, gen in enumerate(generators):
        rows_gen, markers = [s for s in summary if s["generator"] == gen], "sd^v<>o"[k:] + "o"
        for series, style in (({f"{gen.upper()} augmented": "mse_augmented"}, "-"),
                              ({f"CV-PLM, {gen.upper()} aug + train": "mse_combined_cv"}, "--")):
            plot_summary(ax, rows_gen, "n_train", series, xlabel="training samples",
                         ylabel="MSE of inferred parameters", logx=True, logy=True, markers=markers,
                         colors=(f"C{k + 1}",), linestyle=style)
        plot_ratio(ax_ratio, rows_gen, "n_train", {f"{gen.upper()} augmented": "ratio_augmented"},
                   xlabel="training samples", title="augmented / training only, paired per seed (below 1: helps)",
                   logx=True, markers=markers, colors=(f"C{k + 1}",), break_even=k == 0)
    ax.set_title(f"N={cfg.n_spins}, g={cfg.g}, {cfg.n_seeds} seeds: generators compared (solid: erasure machine)")
    save_figure(fig, run.path / "fig5.png")
    print(format_table(summary, ["generator", "n_train"], TABLE_COLUMNS))
    print(f"[fig5] figure: {run.path / 'fig5.png'}")
    return summary


def main(argv=None):
    """Run Fig. 5 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig5", argv, get_config, run_fig5, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
