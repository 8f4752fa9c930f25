"""Fig. 3 of Lim, Lee & Jo (2025): MSE from training data only vs from augmented data, against the coupling scale g.

Usage: ``ising-diffusion run fig3 --preset quick --out runs/fig3`` (or ``python -m experiments.fig3 ...`` in a
checkout). Outputs in the run folder: ``results.csv`` (one row per g and seed), ``summary.csv`` (mean and 95%
Student-t CI over seeds) and ``fig3.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ising_diffusion.experiments.configs.fig3 import PRESETS, Fig3Config, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.rows import (SUMMARY_VALUES, TABLE_COLUMNS, curve_rows, format_table, n_augmented,
                                              ratio_columns, result_rows, summarize, write_summary)
from ising_diffusion.experiments.runner import ResultStore, RunDir, open_run, run_sweep, seed_keys
from ising_diffusion.experiments.synthetic import augment_point, synthetic_task

__all__ = ["run_fig3", "g_sweep", "g_point", "main"]


def g_point(g) -> str:
    """The sweep point id of coupling scale ``g``: ``"g=1.0"`` for ``1`` and ``1.0`` alike."""
    return f"g={float(g)}"


def g_sweep(run: RunDir, cfg, store: ResultStore, seeds, keys, progress: bool,
            curves: ResultStore | None = None) -> list[dict]:
    """Run (or resume) one sweep point per ``cfg.g_values`` (Fig. 3 and the main job); returns the result rows."""
    def run_point(pid, g):
        task = synthetic_task(keys, cfg.n_spins, g, cfg.n_train, cfg.n_test, sampler=cfg.sampler, shard=cfg.shard,
                              seed_batch=cfg.seed_batch)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=n_augmented(cfg, cfg.n_train), progress=progress)
        if curves is not None:
            curves.add(curve_rows(res, seeds, pid))
        rows = result_rows(res, seeds, point=pid, n_spins=cfg.n_spins, g=float(g), n_train=cfg.n_train)
        ratio_columns(rows)
        return rows

    points = [(g_point(g), float(g)) for g in cfg.g_values]
    return run_sweep(points, run_point, store, seeds, progress=progress, desc=run.name)


def run_fig3(cfg: Fig3Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 3: training-only vs augmented (and augmented + training) MSE against g, stopping rule applied.

    Args:
      cfg: :class:`Fig3Config`.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (mean and 95% CI over seeds, per g).
    """
    from ising_diffusion.experiments.plotting import plot_mse_vs, plt, save_figure

    run = open_run(out, "fig3", cfg)
    store = run.table("results")
    seeds = list(range(cfg.n_seeds))
    rows = g_sweep(run, cfg, store, seeds, seed_keys(cfg.seed, seeds), progress)
    summary = summarize(rows, ["g"], SUMMARY_VALUES)
    write_summary(run, summary)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    plot_mse_vs(axes, summary, "g", "coupling scale g",
                f"N={cfg.n_spins}, {cfg.n_train} training samples, {cfg.n_seeds} seeds")
    save_figure(fig, run.path / "fig3.png")
    print(format_table(summary, ["g"], TABLE_COLUMNS))
    print(f"[fig3] figure: {run.path / 'fig3.png'}")
    return summary


def main(argv=None):
    """Run Fig. 3 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig3", argv, get_config, run_fig3, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
