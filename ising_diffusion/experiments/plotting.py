"""Matplotlib helpers for the experiment figures: means with confidence bars, paired ratios, the Fig. 2 stopping
curves, the MSE bars of the main job, atomic PNG saving."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window (headless CI, GPU boxes)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

from ising_diffusion.io.atomic import atomic_write  # noqa: E402

__all__ = ["plt", "plot_summary", "plot_ratio", "plot_mse_vs", "plot_mse_bars", "plot_fig2", "plot_fig6", "save_figure"]


def plot_summary(ax, summary: Sequence[dict], x: str, series: dict[str, str], *, xlabel: str, ylabel: str,
                 title: str | None = None, logx: bool = False, logy: bool = False, markers: str = "osd^v<>",
                 colors: Sequence[str] | None = None, linestyle: str = "-") -> None:
    """Plot mean +- CI (error bars) of several value columns of :func:`runner.summarize` rows against column ``x``.

    Args:
      ax: matplotlib axes.
      summary: rows with ``x`` and ``<value>_mean/_lo/_hi`` columns.
      x: the x column.
      series: legend label -> value column name (without the ``_mean`` suffix).
      xlabel, ylabel, title: axis labels and title.
      logx, logy: log scales.
      colors: one matplotlib colour per series (default: the axes' colour cycle).
      linestyle: the lines' style (e.g. ``"--"`` for a second solver in a generator's colour).
    """
    rows = sorted(summary, key=lambda r: r[x])
    xs = np.asarray([r[x] for r in rows], float)
    colors = list(colors) if colors is not None else [None] * len(series)
    for (label, col), m, c in zip(series.items(), markers * 4, colors):
        mean = np.asarray([r.get(f"{col}_mean", np.nan) for r in rows], float)
        lo = np.asarray([r.get(f"{col}_lo", np.nan) for r in rows], float)
        hi = np.asarray([r.get(f"{col}_hi", np.nan) for r in rows], float)
        if np.all(np.isnan(mean)):
            continue
        err = np.stack([np.where(np.isnan(lo), 0, mean - lo), np.where(np.isnan(hi), 0, hi - mean)])
        ax.errorbar(xs, mean, yerr=err, marker=m, capsize=3, label=label, color=c, linestyle=linestyle)

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if logx:
        ax.set_xscale("log")
        # ticks at the sweep's own x values, written plainly (log axes otherwise crowd "2x10^2 3x10^2 ...")
        ax.set_xticks(np.unique(xs))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)


def plot_ratio(ax, summary: Sequence[dict], x: str, series: dict[str, str], *, xlabel: str,
               ylabel: str = "MSE ratio to training only", title: str | None = None, logx: bool = False,
               markers: str = "sd^v<>o", colors: Sequence[str] | None = None, break_even: bool = True) -> None:
    """Plot paired per-seed MSE ratios (mean +- CI over seeds) against ``x``, with the break-even line at 1.

    The absolute MSE varies far more between seeds (each has its own planted model) than between methods on one
    seed, so the intervals of :func:`plot_summary` overlap even where every seed gains; the ratio, taken within each
    seed first, is the comparison the claim is about.

    Args:
      ax: matplotlib axes.
      summary: rows with ``x`` and ``<ratio>_mean/_lo/_hi`` columns (e.g. ``ratio_combined``).
      series: legend label -> ratio column name (without the ``_mean`` suffix).
      xlabel, ylabel, title, logx: as in :func:`plot_summary`.
      colors: as in :func:`plot_summary` (to match a neighbouring panel).
      break_even: draw the dashed line at 1 (once per axes).
    """
    if break_even:
        ax.axhline(1.0, color="0.4", linestyle="--", linewidth=1, label="break-even")
    plot_summary(ax, summary, x, series, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx, markers=markers,
                 colors=colors)


def plot_mse_vs(axes, summary, x: str, xlabel: str, title: str, logx: bool = False) -> None:
    """MSE (mean +- CI over seeds) on ``axes[0]``; the paired per-seed ratios to training only on ``axes[1]``."""
    plot_summary(axes[0], summary, x, {"training only": "mse_train", "augmented": "mse_augmented",
                                       "augmented + training": "mse_combined",
                                       "CV-PLM, training only": "mse_train_cv",
                                       "CV-PLM, augmented + training": "mse_combined_cv"},
                 xlabel=xlabel, ylabel="MSE of inferred parameters", title=title, logx=logx, logy=True,
                 colors=("C0", "C1", "C2", "C3", "C4"))
    plot_ratio(axes[1], summary, x, {"augmented / training only": "ratio_augmented",
                                     "(augmented + training) / training only": "ratio_combined",
                                     "CV-PLM: (augmented + training) / training only": "ratio_combined_cv"},
               xlabel=xlabel, title="paired ratio per seed (below 1: helps)", logx=logx,
               colors=("C1", "C2", "C4"))


def plot_mse_bars(ax, summary_row: dict, rows: Sequence[dict], title: str) -> None:
    """One sweep point's MSEs (training only / augmented / augmented + training, and the cross-validated
    pseudolikelihood baseline on training only and on augmented + training where known) as bars with 95% CIs and the
    per-seed values as dots."""
    s = summary_row
    cols = ("mse_train", "mse_augmented", "mse_combined", "mse_train_cv", "mse_combined_cv")
    labels = ["solver,\ntraining only", "solver,\naugmented", "solver,\naug. + training", "CV-PLM,\ntraining only",
              "CV-PLM,\naug. + training"]
    keep = [k for k, c in enumerate(cols) if not np.isnan(s.get(f"{c}_mean", np.nan))]
    cols, labels = tuple(cols[k] for k in keep), [labels[k] for k in keep]
    means = [s[f"{c}_mean"] for c in cols]
    errs = [[m - s[f"{c}_lo"] if not np.isnan(s[f"{c}_lo"]) else 0 for m, c in zip(means, cols)],
            [s[f"{c}_hi"] - m if not np.isnan(s[f"{c}_hi"]) else 0 for m, c in zip(means, cols)]]
    ax.bar(labels, means, yerr=errs, capsize=5,
           color=[["0.6", "tab:blue", "tab:orange", "tab:red", "tab:purple"][k] for k in keep])
    for k, c in enumerate(cols):
        ax.scatter([k] * len(rows), [r[c] for r in rows], color="k", s=10, zorder=3,
                   label="per seed" if k == 0 else None)
    ax.set_ylabel("MSE of inferred parameters")
    ax.set_title(title)
    ax.legend(fontsize="small")


def plot_fig2(path: str | Path, curves: list[dict], rows: list[dict], title: str) -> Path:
    """Fig. 2 over several seeds, each seed normalised by its own reference so that seeds can share one axis.

    Top: MSE of augmented (and augmented + training) data over the training-only MSE of the same seed. Bottom:
    generated energy variance over the same seed's test variance (the stopping rule fires where it reaches 1). Thin
    lines are seeds, thick lines their mean; vertical lines mark each seed's stops. The raw curves are in
    ``curves.csv``.

    Args:
      path: the PNG file.
      curves: :func:`rows.curve_rows` rows of one sweep point.
      rows: its :func:`rows.result_rows` (for the training-only reference and the stop epochs).
      title: the top panel's title.

    Returns:
      ``path``.
    """
    seeds = sorted({r["seed"] for r in curves})
    epochs = sorted({r["epoch"] for r in curves})
    x = np.asarray(epochs, float)

    def grid(col):
        g = np.full((len(seeds), len(epochs)), np.nan)
        for r in curves:
            if r.get(col) is not None:
                g[seeds.index(r["seed"]), epochs.index(r["epoch"])] = r[col]
        return g

    def lines(ax, values, color, label):
        for v in values:
            ax.plot(x, v, color=color, lw=0.8, alpha=0.35)
        ax.plot(x, np.nanmean(values, 0), color=color, lw=2, label=label)

    train_mse = {r["seed"]: r.get("mse_train") for r in rows}
    ref = np.asarray([train_mse.get(s) or np.nan for s in seeds], float)[:, None]
    mse_cols = [c for c in ("mse_augmented", "mse_combined") if any(r.get(c) is not None for r in curves)]
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 7.5), sharex=True)
    ax = axes[0]
    if mse_cols and np.all(np.isfinite(ref)):
        for c, color in zip(mse_cols, ("tab:blue", "tab:orange")):
            lines(ax, grid(c) / ref, color, {"mse_augmented": "augmented", "mse_combined": "augmented + training"}[c]
                  + " (seeds thin, mean thick)")
        ax.axhline(1.0, color="k", ls="--", label="training only")
        ax.set_ylabel("MSE / training-only MSE of the same seed")
    else:  # no planted truth: show the training loss instead
        lines(ax, grid("loss"), "tab:blue", "training loss")
        ax.set_ylabel("training loss")
    ax.set_title(title)
    ax = axes[1]
    test = grid("test_variance")
    lines(ax, grid("generated_variance") / test, "tab:blue", "generated")
    if any(r.get("smoothed_variance") is not None for r in curves):
        ax.plot(x, np.nanmean(grid("smoothed_variance") / test, 0), color="tab:orange", lw=1.2,
                label="generated, smoothed (robust rule; mean)")
    ax.axhline(1.0, color="tab:red", ls=":", label="test, held out")
    ax.plot(x, np.nanmean(grid("train_variance") / test, 0), ls="--", color="tab:green", label="training (mean)")
    if any(r.get("test_variance_low") is not None for r in curves):
        lo, hi = np.nanmean(grid("test_variance_low") / test, 0), np.nanmean(grid("test_variance_high") / test, 0)
        ax.fill_between(x, lo, hi, color="tab:red", alpha=0.1, label="test bootstrap band (mean)")
    ax.set_ylabel("energy variance / test variance, E(s; w_train)")
    ax.set_xlabel("diffusion training epoch")
    for a in axes:
        for rule, style in (("stop_epoch_paper", dict(color="tab:red", ls="-.")),
                            ("stop_epoch_robust", dict(color="tab:purple", ls="--")),
                            ("best_epoch", dict(color="tab:green", ls=":"))):
            vals = [r.get(rule) for r in rows if r.get(rule) is not None]
            for k, v in enumerate(vals):
                a.axvline(v, alpha=0.6, lw=1, **style,
                          label={"stop_epoch_paper": "stop (paper rule)", "stop_epoch_robust": "stop (robust rule)",
                                 "best_epoch": "lowest MSE (oracle)"}[rule] if k == 0 and a is axes[0] else None)
        a.grid(alpha=0.3)
        a.legend(fontsize="small")
    return save_figure(fig, path)


def plot_fig6(path: str | Path, summary: Sequence[dict], curves: Sequence[dict], models: Sequence[str]) -> Path:
    """Fig. 6 in four panels: accuracy, accuracy on active hidden entries, log-likelihood gain over the independent
    model (all against k, mean and 95% CI over seeds), and each seed's energy-variance curve.

    Args:
      path: the PNG file.
      summary: :func:`rows.summarize` rows by ``k`` and ``model``.
      curves: :func:`rows.curve_rows` rows of the diffusion training (one per seed and monitored epoch).
      models: model names in legend order.

    Returns:
      ``path``.
    """
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    style = {"trivial": ("k", "--"), "independent": ("grey", "-")}
    colors = {"erasure": "tab:blue", "pseudolikelihood": "tab:red", "pseudolikelihood_cv": "tab:purple"}
    dashes = {"train": "-", "augmented": "--", "combined": ":"}
    for m in models:
        sel = sorted((s for s in summary if s["model"] == m), key=lambda s: s["k"])
        if not sel:
            continue
        solver, _, part = m.rpartition("_")
        c, ls = style.get(m, (colors.get(solver), dashes.get(part, "-")))
        ks = [s["k"] for s in sel]
        for ax, name in zip(axes.flat[:3], ("accuracy", "accuracy_active", "cll_minus_independent")):
            y, lo, hi = (np.array([s.get(f"{name}_{q}", np.nan) for s in sel], float) for q in ("mean", "lo", "hi"))
            if not np.any(np.isfinite(y)):
                continue
            err = np.stack([np.where(np.isfinite(lo), y - lo, 0), np.where(np.isfinite(hi), hi - y, 0)])
            ax.errorbar(ks, y, yerr=err, color=c, ls=ls, marker="o", ms=3, capsize=2, label=m)
    axes[0, 0].set(xlabel="hidden cells k", ylabel="accuracy (all hidden entries)", title="(a) reconstruction accuracy")
    axes[0, 1].set(xlabel="hidden cells k", ylabel="accuracy on hidden entries that fired",
                   title="(b) active hidden entries")
    axes[1, 0].axhline(0, color="grey", lw=0.8)
    axes[1, 0].set(xlabel="hidden cells k", ylabel="log p(s_H|s_V)/k minus independent model's (nats)",
                   title="(c) conditional log-likelihood gain over independent")
    axes[0, 0].legend(fontsize=7)
    ax = axes[1, 1]
    for s in sorted({r["seed"] for r in curves}):
        rows = sorted((r for r in curves if r["seed"] == s), key=lambda r: r["epoch"])
        line, = ax.plot([r["epoch"] for r in rows], [r["generated_variance"] for r in rows], marker=".",
                        label=f"generated, seed {s}")
        ax.axhline(rows[0]["test_variance"], color=line.get_color(), ls="--", lw=0.8, label="test" if s == 0 else None)
        ax.axhline(rows[0]["train_variance"], color=line.get_color(), ls=":", lw=0.8,
                   label="train" if s == 0 else None)
    ax.set(xlabel="diffusion training epoch", ylabel="Var E(s; w_train)", yscale="log",
           title="(d) energy variance during diffusion training")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
