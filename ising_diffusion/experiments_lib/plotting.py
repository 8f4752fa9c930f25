"""Matplotlib helpers for the experiment figures: mean lines with confidence bands/bars, atomic PNG saving."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window (headless CI, GPU boxes)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ising_diffusion.data import atomic_write  # noqa: E402

__all__ = ["plt", "plot_summary", "plot_ratio", "plot_band", "save_figure"]


def plot_summary(ax, summary: Sequence[dict], x: str, series: dict[str, str], *, xlabel: str, ylabel: str,
                 title: str | None = None, logx: bool = False, logy: bool = False, markers: str = "osd^v<>") -> None:
    """Plot mean +- CI (error bars) of several value columns of :func:`runner.summarize` rows against column ``x``.

    Args:
      ax: matplotlib axes.
      summary: rows with ``x`` and ``<value>_mean/_lo/_hi`` columns.
      x: the x column.
      series: legend label -> value column name (without the ``_mean`` suffix).
      xlabel, ylabel, title: axis labels and title.
      logx, logy: log scales.
    """
    rows = sorted(summary, key=lambda r: r[x])
    xs = np.asarray([r[x] for r in rows], float)
    for (label, col), m in zip(series.items(), markers * 4):
        mean = np.asarray([r.get(f"{col}_mean", np.nan) for r in rows], float)
        lo = np.asarray([r.get(f"{col}_lo", np.nan) for r in rows], float)
        hi = np.asarray([r.get(f"{col}_hi", np.nan) for r in rows], float)
        if np.all(np.isnan(mean)):
            continue
        err = np.stack([np.where(np.isnan(lo), 0, mean - lo), np.where(np.isnan(hi), 0, hi - mean)])
        ax.errorbar(xs, mean, yerr=err, marker=m, capsize=3, label=label)
    _finish(ax, xs, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx, logy=logy)


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
      colors: one matplotlib colour per series (to match a neighbouring :func:`plot_summary` panel).
      break_even: draw the dashed line at 1 (once per axes).
    """
    rows = sorted(summary, key=lambda r: r[x])
    xs = np.asarray([r[x] for r in rows], float)
    if break_even:
        ax.axhline(1.0, color="0.4", linestyle="--", linewidth=1, label="break-even")
    colors = list(colors) if colors is not None else [None] * len(series)
    for (label, col), m, c in zip(series.items(), markers * 4, colors):
        mean = np.asarray([r.get(f"{col}_mean", np.nan) for r in rows], float)
        lo = np.asarray([r.get(f"{col}_lo", np.nan) for r in rows], float)
        hi = np.asarray([r.get(f"{col}_hi", np.nan) for r in rows], float)
        if np.all(np.isnan(mean)):
            continue
        err = np.stack([np.where(np.isnan(lo), 0, mean - lo), np.where(np.isnan(hi), 0, hi - mean)])
        ax.errorbar(xs, mean, yerr=err, marker=m, capsize=3, label=label, color=c)
    _finish(ax, xs, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx, logy=False)


def _finish(ax, xs, *, xlabel, ylabel, title, logx, logy):
    from matplotlib.ticker import FuncFormatter, NullFormatter

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


def plot_band(ax, x, values, *, label: str, level: float = 0.95, **kw) -> None:
    """Plot the mean over seeds of ``values`` (``(S, E)``) against ``x`` with a Student-t confidence band."""
    from scipy import stats

    v = np.asarray(values, float)
    if v.ndim == 1:
        v = v[None]
    mean = np.nanmean(v, axis=0)
    line = ax.plot(x, mean, label=label, **kw)[0]
    s = v.shape[0]
    if s > 1:
        half = stats.t.ppf(0.5 + level / 2, s - 1) * np.nanstd(v, axis=0, ddof=1) / np.sqrt(s)
        ax.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.2, linewidth=0)


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return atomic_write(path, lambda f: f.write(buf.getvalue()))
