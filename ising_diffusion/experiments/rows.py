"""Results of one sweep point as flat rows, summary tables and the console report.

:func:`result_rows` turns a seed-batched ``AugmentResult`` into one row per seed (MSEs, stop epochs, MSE at each
rule's epoch, timings); :func:`curve_rows` the monitored curves into one row per seed and epoch;
:func:`format_table` prints mean [95% CI] per group (Student-t over seeds, :func:`summarize`).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ising_diffusion.experiments.configs.field_checks import held_out_size
from ising_diffusion.experiments.runner import RunDir, write_csv

__all__ = ["MSE_COLUMNS", "SUMMARY_VALUES", "TABLE_COLUMNS", "result_rows", "curve_rows", "ratio_columns",
           "write_summary", "format_table", "n_augmented", "n_test", "map_ratios", "value_at", "mean_ci", "summarize"]

MSE_COLUMNS = ("mse_train", "mse_augmented", "mse_combined")
MSE_PARTS = ("train", "augmented", "combined")  # always in a row; "selected", "train_cv", "combined_cv" when known

def value_at(x, i):
    """Seed ``i``'s value of a batched leaf as a Python scalar (or None)."""
    if x is None:
        return None
    a = np.asarray(x)
    v = a[i] if a.ndim >= 1 else a
    return v.item() if np.ndim(v) == 0 else v


def _curve_at(epochs, values, epoch):
    """The value of a monitored curve at ``epoch`` (nearest monitored epoch), or None."""
    if values is None or epochs is None or epoch is None:
        return None
    epochs, values = np.asarray(epochs), np.asarray(values)
    if epochs.size == 0:
        return None
    return float(values[int(np.argmin(np.abs(epochs - epoch)))])


def _curve_mse(curve) -> dict[str, Any]:
    """The per-epoch MSE curves of a StoppingCurve (augmented alone, augmented + training), as name -> array."""
    out = {}
    for field, name in (("mse", "mse_augmented"), ("mse_combined", "mse_combined")):
        v = getattr(curve, field, None)
        if v is not None and not np.all(np.isnan(np.asarray(v, float))):
            out[name] = v
    return out


def result_rows(result, seeds: Sequence[int], **point_fields) -> list[dict]:
    """One row per seed from a seed-batched ``AugmentResult``: MSEs (train / augmented / combined), stop epochs
    (chosen, paper rule, robust rule, best), the augmented MSE at each rule's epoch and at the best epoch, timings."""
    rows = []
    curve = getattr(result, "curve", None)
    mse_curves = _curve_mse(curve) if curve is not None else {}
    epochs = getattr(curve, "epochs", None) if curve is not None else None
    for i, s in enumerate(seeds):
        row = {**point_fields, "seed": int(s)}
        mse = getattr(result, "mse", None) or {}
        for part in ("train", "augmented", "combined", "selected", "train_cv", "combined_cv"):
            if part in MSE_PARTS or part in mse:
                row[f"mse_{part}"] = value_at(mse.get(part), i)
        for name in ("stop_epoch", "stop_epoch_paper", "stop_epoch_robust", "best_epoch", "crossed_paper",
                     "crossed_robust"):
            row[name] = value_at(getattr(result, name, None), i)
        if row.get("best_epoch") is not None and row["best_epoch"] < 0:
            row["best_epoch"] = None  # no truth, no oracle epoch
        eps = getattr(result, "eps", None) or {}
        for part, v in eps.items():
            row[f"eps_{part}"] = value_at(v, i)
        ep = None if epochs is None else np.asarray(epochs)[i] if np.ndim(epochs) > 1 else np.asarray(epochs)
        for cname, values in mse_curves.items():
            v = np.asarray(values)[i]
            for rule in ("stop_epoch_paper", "stop_epoch_robust", "best_epoch"):
                if row.get(rule) is not None:
                    row[f"{cname}_at_{rule.replace('stop_epoch_', '').replace('_epoch', '')}"] = _curve_at(
                        ep, v, row[rule])
        timing = getattr(result, "timing", None) or {}
        if isinstance(timing, dict):
            for k, v in timing.items():
                if np.ndim(v) == 0 or (np.ndim(v) == 1 and len(np.asarray(v)) == len(seeds)):
                    row[f"time_{k}"] = value_at(v, i) if np.ndim(v) else float(v)
        rows.append(row)
    return rows


CURVE_FIELDS = ("generated_variance", "smoothed_variance", "train_variance", "test_variance", "test_variance_low",
                "test_variance_high", "loss")


def curve_rows(result, seeds: Sequence[int], point: str) -> list[dict]:
    """One row per seed and monitored epoch: generated (raw and smoothed) / train / test energy variance and the
    test band, loss, and the MSE curves. Curve arrays are ``(S, P)`` or per-seed scalars ``(S,)``; epochs ``(P,)``
    or ``(S, P)``."""
    curve = result.curve
    fields = {name: getattr(curve, name, None) for name in CURVE_FIELDS}
    fields.update(_curve_mse(curve))
    fields = {k: np.asarray(v, float) for k, v in fields.items() if v is not None}
    epochs = np.asarray(curve.epochs)
    rows = []
    for i, s in enumerate(seeds):
        ep = epochs[i] if epochs.ndim > 1 else epochs
        for j, e in enumerate(ep):
            row = {"point": point, "seed": int(s), "epoch": int(e)}
            for k, a in fields.items():
                v = a[i] if a.ndim >= 1 else a
                row[k] = float(v[j]) if np.ndim(v) >= 1 else float(v)
            rows.append(row)
    return rows


def n_augmented(cfg, n_train: int) -> int:
    """Augmented samples of a sweep point: ``cfg.n_augmented_factor`` x the training size (at least 1)."""
    return max(1, int(round(cfg.n_augmented_factor * n_train)))


def n_test(cfg, n_train: int) -> int:
    """Held-out test size of a sweep point: ``cfg.test_fraction`` x the training size (at least 1)."""
    return held_out_size(cfg.test_fraction, n_train)


def write_summary(run: RunDir, summary: list[dict], name: str = "summary") -> None:
    """Write ``summary`` as ``<name>.csv`` and ``<name>.json`` (with experiment name and version) into the run."""
    write_csv(run.path / f"{name}.csv", summary)
    run.write_json(f"{name}.json", {"experiment": run.name, "version": run.version, "rows": summary})


def _fmt(m, lo, hi) -> str:
    if m is None or (isinstance(m, float) and math.isnan(m)):
        return "-"
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return f"{m:.4g}"
    return f"{m:.4g} [{lo:.3g}, {hi:.3g}]"


def format_table(summary: Sequence[dict], by: Sequence[str], values: dict[str, str]) -> str:
    """A plain-text table of mean [95% CI] per group: ``values`` maps a header to a value column."""
    header = list(by) + ["seeds"] + list(values)
    lines = [header]
    for r in summary:
        lines.append([str(r[b]) for b in by] + [str(r["n_seeds"])] +
                     [_fmt(r.get(f"{c}_mean"), r.get(f"{c}_lo"), r.get(f"{c}_hi")) for c in values.values()])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def map_ratios(row: dict) -> None:
    """Add the map's paired per-seed ratios to ``row`` in place: ``ratio_{selected,combined,oracle}`` (each fit's
    MSE over ``mse_train``: the seeds' own truths differ a lot, so ratios are taken per seed) and ``helped`` (1.0
    where the selected fit's MSE is below the training-only fit's)."""
    for part in ("selected", "combined", "oracle"):
        row[f"ratio_{part}"] = row[f"mse_{part}"] / row["mse_train"]
    row["helped"] = float(row["ratio_selected"] < 1.0)


def ratio_columns(rows: list[dict]) -> None:
    """Add the paired per-seed ratios in place: ``ratio_augmented`` and ``ratio_combined`` (to ``mse_train``), and,
    where the strong baseline is known, ``ratio_combined_cv`` (its augmented + training fit over its training-only
    fit) and ``ratio_train_cv`` (the baseline over ``mse_train``, the paper's solver on training data)."""
    def ratio(v, t):
        return (v / t) if (v is not None and t) else None

    for r in rows:
        t = r.get("mse_train")
        for part in ("augmented", "combined"):
            r[f"ratio_{part}"] = ratio(r.get(f"mse_{part}"), t)
        if "mse_train_cv" in r:
            r["ratio_combined_cv"] = ratio(r.get("mse_combined_cv"), r["mse_train_cv"])
            r["ratio_train_cv"] = ratio(r["mse_train_cv"], t)


SUMMARY_VALUES = ("mse_train", "mse_augmented", "mse_combined", "ratio_augmented", "ratio_combined",
                  "mse_train_cv", "mse_combined_cv", "ratio_combined_cv", "ratio_train_cv",
                  "mse_augmented_at_paper", "mse_augmented_at_robust", "mse_augmented_at_best",
                  "mse_combined_at_paper", "mse_combined_at_robust", "mse_combined_at_best", "stop_epoch",
                  "best_epoch")
TABLE_COLUMNS = {"MSE train only": "mse_train", "MSE augmented": "mse_augmented",
                 "MSE aug+train": "mse_combined", "aug/train": "ratio_augmented",
                 "CV-PLM train only": "mse_train_cv", "CV-PLM aug+train": "mse_combined_cv"}


# --------------------------------------------------------------------------------------------------------------------
# statistics: one interval rule for every figure (Student-t over seeds)


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a Student-t confidence interval over seeds.

    Args:
      values: 1-D sequence of per-seed numbers (NaN/None dropped).
      level: confidence level.

    Returns:
      ``(mean, low, high)``; with a single value the interval is ``(nan, nan)``.
    """
    from scipy import stats

    x = np.asarray([v for v in values if v is not None], np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def summarize(rows: Sequence[dict], by: Sequence[str], values: Sequence[str], level: float = 0.95) -> list[dict]:
    """Group rows by the columns ``by`` and report, for each column in ``values``, its mean and CI over seeds.

    A seed is counted once: rows of one seed in a group (a point listed twice) are averaged to one value before the
    interval, so they neither add to ``n_seeds`` nor narrow the interval. A row without a ``seed`` counts as its own.

    Returns:
      one dict per group, in first-seen order: the ``by`` columns, ``n_seeds`` (distinct seeds) and ``<value>_mean``,
      ``<value>_lo``, ``<value>_hi`` for each value.
    """
    groups: dict[tuple, dict] = {}
    for i, r in enumerate(rows):
        seeds = groups.setdefault(tuple(r.get(b) for b in by), {})
        seeds.setdefault(r.get("seed", ("row", i)), []).append(r)
    out = []
    for key, seeds in groups.items():
        row = dict(zip(by, key))
        row["n_seeds"] = len(seeds)
        for v in values:
            m, lo, hi = mean_ci([_seed_mean([r.get(v) for r in grp]) for grp in seeds.values()], level)
            row[f"{v}_mean"], row[f"{v}_lo"], row[f"{v}_hi"] = m, lo, hi
        out.append(row)
    return out


def _seed_mean(values: list):
    """One seed's value: the mean of its rows' finite values (``None`` if it has none)."""
    if len(values) == 1:
        return values[0]
    x = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return sum(x) / len(x) if x else None
