"""Matplotlib helpers for the experiment figures: means with confidence bars, paired ratios, atomic PNG saving."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window (headless CI, GPU boxes)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

from ising_diffusion.data import atomic_write  # noqa: E402

__all__ = ["plt", "plot_summary", "plot_ratio", "save_figure"]


def plot_summary(ax, summary: Sequence[dict], x: str, series: dict[str, str], *, xlabel: str, ylabel: str,
                 title: str | None = None, logx: bool = False, logy: bool = False, markers: str = "osd^v<>",
                 colors: Sequence[str] | None = None) -> None:
    """Plot mean +- CI (error bars) of several value columns of :func:`runner.summarize` rows against column ``x``.

    Args:
      ax: matplotlib axes.
      summary: rows with ``x`` and ``<value>_mean/_lo/_hi`` columns.
      x: the x column.
      series: legend label -> value column name (without the ``_mean`` suffix).
      xlabel, ylabel, title: axis labels and title.
      logx, logy: log scales.
      colors: one matplotlib colour per series (default: the axes' colour cycle).
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
        ax.errorbar(xs, mean, yerr=err, marker=m, capsize=3, label=label, color=c)

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


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
