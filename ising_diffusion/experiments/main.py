"""The main job: the paper's core result on synthetic SK data, at CPU scale in a few minutes.

Draws SK ground truths and exact samples (N = 20, g = 1), infers the parameters from the training data alone, trains
the diffusion model with the energy-variance stopping rule, generates 10x augmented data, infers again from augmented
and augmented + training data, prints the MSE table (mean and 95% CI over seeds) and saves the Fig. 2/3-style plots.

Usage: ``ising-diffusion main [--preset quick] [--out runs/main]`` (or ``python -m experiments.main`` in a checkout).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ising_diffusion.experiments.configs.main import PRESETS, MainConfig, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.fig3 import g_point, g_sweep
from ising_diffusion.experiments.rows import SUMMARY_VALUES, TABLE_COLUMNS, format_table, summarize, write_summary
from ising_diffusion.experiments.runner import open_run, seed_keys

__all__ = ["run_main", "main"]


def run_main(cfg: MainConfig, out: str | Path, *, progress: bool = True) -> list[dict]:
    """The main job: synthetic SK data, diffusion augmentation with the stopping rule, the MSE table, and a
    two-panel figure (Fig. 2-style curve of the first g; Fig. 3-style MSE per g).

    Args:
      cfg: :class:`MainConfig`.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (mean and 95% CI over seeds, per g).
    """
    from ising_diffusion.experiments.plotting import plot_fig2, plot_mse_bars, plot_mse_vs, plt, save_figure

    t0 = time.perf_counter()
    run = open_run(out, "main", cfg)
    store, curves = run.table("results"), run.table("curves")
    seeds = list(range(cfg.n_seeds))
    rows = g_sweep(run, cfg, store, seeds, seed_keys(cfg.seed, seeds), progress, curves)
    summary = summarize(rows, ["g"], SUMMARY_VALUES)
    write_summary(run, summary)

    first = g_point(cfg.g_values[0])  # the id of the curve rows (g_sweep's), also for g_values=(1,)
    plot_fig2(run.path / "main_curve.png", [r for r in curves.rows if r["point"] == first],
              [r for r in rows if r["point"] == first],
              f"N={cfg.n_spins}, {first}, {cfg.n_train} training samples, {cfg.n_seeds} seeds")
    if len(cfg.g_values) > 1:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        plot_mse_vs(axes, summary, "g", "coupling scale g", f"N={cfg.n_spins}, {cfg.n_train} training samples")
    else:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        plot_mse_bars(ax, summary[0], rows,
                      f"N={cfg.n_spins}, {first}, {cfg.n_train} training samples ({cfg.n_seeds} seeds, 95% CI); "
                      f"solver: {cfg.augment.get('solver', 'library default')}")
    save_figure(fig, run.path / "main_mse.png")
    print()
    print("Inverse Ising MSE (mean [95% CI] over seeds): training data only vs diffusion-augmented data")
    print(format_table(summary, ["g"], {**TABLE_COLUMNS, "aug+train/train": "ratio_combined",
                                        "MSE aug @ best epoch": "mse_augmented_at_best"}))
    print(f"[main] figures: {run.path / 'main_curve.png'}, {run.path / 'main_mse.png'}; "
          f"numbers: {run.path / 'results.csv'} ({time.perf_counter() - t0:.0f} s)")
    return summary


def main(argv=None):
    """Run the main job with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("main", argv, get_config, run_main, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
