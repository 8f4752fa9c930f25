"""Fig. 4 of Lim, Lee & Jo (2025): MSE against training size (N = 20, 40, 100) and against the number of augmented samples.

Usage: ``ising-diffusion run fig4 --preset quick --out runs/fig4`` (or ``python -m experiments.fig4 ...`` in a
checkout). Outputs in the run folder: ``results.csv`` (one row per sweep point and seed), ``summary.csv`` (mean and
95% Student-t CI over seeds) and ``fig4.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ising_diffusion.experiments.configs.fig4 import PRESETS, Fig4Config, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.rows import (SUMMARY_VALUES, TABLE_COLUMNS, format_table, n_augmented, n_test,
                                              ratio_columns, result_rows, summarize, value_at, write_summary)
from ising_diffusion.experiments.runner import open_run, run_sweep, seed_keys
from ising_diffusion.experiments.synthetic import augment_point, infer_seeds_batch, mse_seeds, synthetic_task

__all__ = ["run_fig4", "main"]


def run_fig4(cfg: Fig4Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 4: (a-c) MSE against training size per N; (d-f) MSE against the number of augmented samples, alone and
    together with the training data (one generator per N, its first ``count`` samples used for each count).

    Args:
      cfg: :class:`Fig4Config`.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (size panel, then count panel).
    """
    from ising_diffusion.experiments.plotting import plot_mse_vs, plot_summary, plt, save_figure

    run = open_run(out, "fig4", cfg)
    store = run.table("results")
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    pool = {n: max(m + n_test(cfg, m) for m in sizes) for n, sizes in cfg.sizes}
    for n, m in cfg.aug_n_train:
        pool[n] = max(pool.get(n, 0), m + n_test(cfg, m))

    def task_for(n, m):
        # the largest test set of this N, shared by every training size; nested training sets
        n_tst = max(n_test(cfg, mm) for mm in dict(cfg.sizes).get(n, (m,)) + (m,))
        return synthetic_task(keys, n, cfg.g, m, n_tst, n_pool=pool[n] + n_tst, sampler=cfg.sampler,
                              shard=cfg.shard, seed_batch=cfg.seed_batch)

    def size_point(pid, n, m):
        res = augment_point(run, pid, cfg, keys, task_for(n, m), n_augmented=n_augmented(cfg, m), progress=progress)
        return result_rows(res, seeds, point=pid, panel="size", n_spins=n, n_train=m, g=cfg.g)

    def count_point(pid, n, m):
        counts = cfg.counts(m)  # distinct (the config refuses factors that round to one count)
        task = task_for(n, m)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=max(counts), progress=progress)
        mse_train, mse_train_cv = np.asarray(res.mse["train"]), np.asarray(res.mse["train_cv"])
        rows = []
        for c in tqdm(counts, desc="augmented-sample counts", disable=not progress, leave=False):
            aug = jnp.asarray(res.samples)[:, :c]
            p_aug = infer_seeds_batch(aug, shard=cfg.shard, seed_batch=cfg.seed_batch)
            p_comb = infer_seeds_batch(jnp.concatenate([aug, task.train], axis=1), shard=cfg.shard,
                                       seed_batch=cfg.seed_batch)
            m_aug, m_comb = np.asarray(mse_seeds(task.truth, p_aug)), np.asarray(mse_seeds(task.truth, p_comb))
            for i, s in enumerate(seeds):
                rows.append({"point": pid, "part": f"n_aug={c}", "panel": "count", "n_spins": n, "n_train": m,
                             "g": cfg.g, "n_augmented": c, "aug_per_train": c / m, "seed": s,
                             "mse_train": float(mse_train[i]), "mse_train_cv": float(mse_train_cv[i]),
                             "mse_augmented": float(m_aug[i]),
                             "mse_combined": float(m_comb[i]), "stop_epoch": value_at(res.stop_epoch, i)})
        return rows

    def run_point(pid, nm):
        rows = (size_point if pid.startswith("size") else count_point)(pid, *nm)
        ratio_columns(rows)
        return rows

    points = [(f"size:N={n},M={m}", (n, m)) for n, sizes in cfg.sizes for m in sizes]
    points += [(f"count:N={n},M={m}", (n, m)) for n, m in cfg.aug_n_train]
    rows = run_sweep(points, run_point, store, seeds, progress=progress, desc="fig4")
    size_rows = [r for r in rows if r["panel"] == "size"]
    count_rows = [r for r in rows if r["panel"] == "count"]
    summary = (summarize(size_rows, ["panel", "n_spins", "n_train"], SUMMARY_VALUES) +
               summarize(count_rows, ["panel", "n_spins", "n_train", "n_augmented"],
                         SUMMARY_VALUES[:5] + ("mse_train_cv",)))
    write_summary(run, summary)

    ns = [n for n, _ in cfg.sizes]
    n_cols = max(len(ns), len(cfg.aug_n_train))
    fig, axes = plt.subplots(3, n_cols, figsize=(5 * n_cols, 12), squeeze=False)
    for j, n in enumerate(ns):
        plot_mse_vs(axes[:2, j], [s for s in summary if s["panel"] == "size" and s["n_spins"] == n], "n_train",
                    "training samples", f"({'abc'[j % 3]}) N={n}, g={cfg.g}", logx=True)
    for j, (n, m) in enumerate(cfg.aug_n_train):
        plot_summary(axes[2, j], [s for s in summary if s["panel"] == "count" and s["n_spins"] == n],
                     "n_augmented", {"training only": "mse_train", "augmented only": "mse_augmented",
                                     "augmented + training": "mse_combined", "CV-PLM, training only": "mse_train_cv"},
                     colors=("C0", "C1", "C2", "C3"), xlabel="augmented samples", ylabel="MSE of inferred parameters",
                     title=f"({'def'[j % 3]}) N={n}, {m} training samples", logx=True, logy=True)
    for ax in axes.ravel():
        if not ax.has_data():
            ax.set_visible(False)
    save_figure(fig, run.path / "fig4.png")
    print(format_table([s for s in summary if s["panel"] == "size"], ["n_spins", "n_train"], TABLE_COLUMNS))
    print()
    print(format_table([s for s in summary if s["panel"] == "count"], ["n_spins", "n_train", "n_augmented"],
                       {**TABLE_COLUMNS, "aug+train/train": "ratio_combined"}))
    print(f"[fig4] figure: {run.path / 'fig4.png'}")
    return summary


def main(argv=None):
    """Run Fig. 4 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig4", argv, get_config, run_fig4, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
