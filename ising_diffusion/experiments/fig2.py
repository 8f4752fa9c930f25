"""Fig. 2 of Lim, Lee & Jo (2025): MSE and energy variance (train / test / generated) against diffusion training epochs, stops marked.

Usage: ``ising-diffusion run fig2 --preset quick --out runs/fig2`` (or ``python -m experiments.fig2 ...`` in a
checkout). Outputs in the run folder: ``results.csv`` (one row per seed), ``curves.csv`` (one row per seed and
monitored epoch), ``summary.csv`` (mean and 95% Student-t CI over seeds) and ``fig2.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ising_diffusion.experiments.configs.fig2 import PRESETS, Fig2Config, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.rows import (SUMMARY_VALUES, TABLE_COLUMNS, curve_rows, format_table, n_augmented,
                                              ratio_columns, result_rows, summarize, write_summary)
from ising_diffusion.experiments.runner import open_run, run_sweep, seed_keys
from ising_diffusion.experiments.synthetic import augment_point, synthetic_task

__all__ = ["run_fig2", "main"]


def run_fig2(cfg: Fig2Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 2: energy-variance stopping curve and MSE against diffusion epochs at one (N, g, training size).

    Args:
      cfg: :class:`Fig2Config`.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (mean and 95% CI over seeds).
    """
    from ising_diffusion.experiments.plotting import plot_fig2

    run = open_run(out, "fig2", cfg)
    store, curves = run.table("results"), run.table("curves")
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    point = f"N={cfg.n_spins},g={cfg.g},M={cfg.n_train}"

    def run_point(pid, _):
        task = synthetic_task(keys, cfg.n_spins, cfg.g, cfg.n_train, cfg.n_test, sampler=cfg.sampler,
                              shard=cfg.shard, seed_batch=cfg.seed_batch)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=n_augmented(cfg, cfg.n_train), progress=progress)
        curves.add(curve_rows(res, seeds, pid))
        rows = result_rows(res, seeds, point=pid, n_spins=cfg.n_spins, g=cfg.g, n_train=cfg.n_train)
        ratio_columns(rows)
        return rows

    rows = run_sweep([(point, None)], run_point, store, seeds, progress=progress, desc="fig2")
    summary = summarize(rows, ["point"], SUMMARY_VALUES)
    write_summary(run, summary)
    plot_fig2(run.path / "fig2.png", [r for r in curves.rows if r["point"] == point], rows,
              f"N={cfg.n_spins}, g={cfg.g}, {cfg.n_train} training samples, {cfg.n_seeds} seeds")
    print(format_table(summary, ["point"], {**TABLE_COLUMNS, "MSE aug @ paper stop": "mse_augmented_at_paper",
                                            "MSE aug @ best epoch": "mse_augmented_at_best"}))
    print(f"[fig2] figure: {run.path / 'fig2.png'}")
    return summary


def main(argv=None):
    """Run Fig. 2 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig2", argv, get_config, run_fig2, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
