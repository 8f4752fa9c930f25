"""The ``msa`` experiment's precision columns and summary (mean, 95% t interval, paired differences to CV
pseudolikelihood, subsamples helped, the ``augment:`` rows' recommendations and generator quality), its console table
and its figure (top-L/2 precision against depth, one line per method, the ceiling)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ising_diffusion.experiments.rows import format_table, summarize

__all__ = ["BY", "TOPS", "REFERENCE", "SPLIT_REFERENCE", "VALUES", "AUGMENT_VALUES", "TABLE", "precision_columns",
           "paired_differences", "summarize_msa", "format_msa", "plot_msa"]

BY = ["family", "depth", "method"]
#: the precision columns of a row: top L/5, L/2 and L pairs at separation >= 5
TOPS = {"L/5": "top_L5", "L/2": "top_L2", "L": "top_L"}
#: the method every other one is compared with, subsample by subsample
REFERENCE = "plm_cv"
#: the same fit on ``augment``'s training split (the held-out sequences left out): the reference that isolates what
#: the generated sequences of an ``augment:<generator>:mix`` row add (``diff_split_*`` columns, where it ran)
SPLIT_REFERENCE = "plm_cv_train"
#: the columns only ``augment:`` rows have (their means are ``None`` / NaN for the other methods): the share of
#: subsamples where ``augment`` recommended augmentation, the chosen mix, the held-out score gain, generator quality
AUGMENT_VALUES = ("recommended", "mix", "score_gain", "quality_single_ratio", "quality_pair_ratio", "quality_identical",
                  "quality_heldout_identical", "quality_copies", "quality_median_distance",
                  "quality_heldout_median_distance")
VALUES = ("top_L5", "top_L2", "top_L", "diff_L5", "diff_L2", "diff_L", "diff_split_L5", "diff_split_L2",
          "diff_split_L", "M_eff", "lambda_J", "seconds", *AUGMENT_VALUES)
TABLE = {"top L/5": "top_L5", "top L/2": "top_L2", "top L": "top_L", "L/2 - plm_cv": "diff_L2",
         "L/2 - plm_cv_train": "diff_split_L2", "M_eff": "M_eff",
         "seconds": "seconds", "recommended": "recommended", "pair ratio": "quality_pair_ratio"}


def precision_columns(scores, contacts) -> dict:
    """``{"top_L5", "top_L2", "top_L"}``: ``contacts.contact_precision`` of the ``(L, L)`` contact scores against the
    ``(L, L)`` bool contact map (top L/5, L/2, L pairs at separation >= 5), as host floats."""
    from ising_diffusion.contacts import contact_precision

    prec = contact_precision(np.asarray(scores), contacts, top=tuple(TOPS))
    return {col: float(prec[t]) for t, col in TOPS.items()}


def paired_differences(rows: Sequence[dict], reference: str = REFERENCE,
                       split_reference: str = SPLIT_REFERENCE) -> list[dict]:
    """Copies of ``rows`` with ``diff_L5``, ``diff_L2``, ``diff_L``: the row's precision minus ``reference``'s on the
    same family, depth and subsample, and ``diff_split_*`` the same against ``split_reference`` (``None`` for the
    reference itself, where it is missing or where either precision is NaN)."""
    out = [dict(r) for r in rows]
    for name, prefix in ((reference, "diff"), (split_reference, "diff_split")):
        ref = {(r["family"], r["depth"], r["subsample"]): r for r in rows if r["method"] == name}
        for r in out:
            other = ref.get((r["family"], r["depth"], r["subsample"]))
            for col in TOPS.values():
                d = None if other is None or r["method"] == name else r[col] - other[col]
                r[prefix + col[3:]] = d if d is None or np.isfinite(d) else None  # NaN (no pair to rank): unpaired
    return out


def summarize_msa(rows: Sequence[dict], reference: str = REFERENCE) -> list[dict]:
    """Per (family, depth, method): mean and 95% Student-t interval over subsamples of each precision, of the paired
    difference to ``reference``, of ``M_eff``, the chosen ``lambda_J`` and the seconds; ``helped_L2`` / ``hurt_L2``
    count the subsamples where top-L/2 precision is above / below the reference's, ``helped_split_L2`` /
    ``hurt_split_L2`` the same against :data:`SPLIT_REFERENCE` (``None`` where it did not run)."""
    paired = paired_differences(rows, reference)
    summary = summarize(paired, BY, VALUES)
    for s in summary:
        grp = [r for r in paired if all(r[b] == s[b] for b in BY)]
        s["n_subsamples"] = s.pop("n_seeds")
        for col, tag in (("diff_L2", ""), ("diff_split_L2", "_split")):
            diffs = [r[col] for r in grp if r[col] is not None]
            s[f"helped{tag}_L2"] = sum(d > 0 for d in diffs) if diffs else None
            s[f"hurt{tag}_L2"] = sum(d < 0 for d in diffs) if diffs else None
    return summary


def format_msa(summary: Sequence[dict], ceiling: Sequence[dict]) -> str:
    """The console report: the summary table, the helped counts, the ``augment:`` rows' generator quality and the
    ceilings."""
    table = format_table([{**s, "n_seeds": s["n_subsamples"]} for s in summary], BY, TABLE)
    helped = [f"{s['family']} M={s['depth']} {s['method']}: top L/2 above {REFERENCE} on {s['helped_L2']}, below on "
              f"{s['hurt_L2']} of {s['n_subsamples']} subsamples" for s in summary if s["helped_L2"] is not None]
    helped += [f"{s['family']} M={s['depth']} {s['method']}: recommended on {s['recommended_mean']:.2f} of subsamples; "
               f"generated vs held-out over training vs held-out RMS: single-site {s['quality_single_ratio_mean']:.3f}"
               f", pairs {s['quality_pair_ratio_mean']:.3f}; identical to a training sequence "
               f"{s['quality_identical_mean']:.3f} (held-out {s['quality_heldout_identical_mean']:.3f}); median "
               f"distance to the nearest {s['quality_median_distance_mean']:.1f} (held-out "
               f"{s['quality_heldout_median_distance_mean']:.1f}), means over subsamples"
               for s in summary if not np.isnan(s["quality_pair_ratio_mean"]) and s["method"].endswith(":mix")]
    ceil = [f"ceiling {c['family']} (full alignment, M = {c['n_seqs']}, M_eff = {c['M_eff']:.0f}, {c['method']}): "
            + ", ".join(f"top {t} {c[col]:.3f}" for t, col in TOPS.items()) for c in ceiling]
    return "\n".join([table, *helped, *ceil])


def plot_msa(path: Path, summary: Sequence[dict], ceiling: Sequence[dict], column: str = "top_L2") -> Path:
    """One panel per family: ``column`` (mean and 95% interval over subsamples) against depth, one line per method,
    the full alignment's fit as a horizontal line (intervals drawn clipped to [0, 1])."""
    from ising_diffusion.experiments.plotting import plt, save_figure

    families = list(dict.fromkeys(s["family"] for s in summary))
    fig, axes = plt.subplots(1, len(families), figsize=(5.5 * len(families), 4.2), squeeze=False, sharey=True)
    label = next((t for t, c in TOPS.items() if c == column), column)
    for ax, fam in zip(axes[0], families):
        rows = [s for s in summary if s["family"] == fam]
        methods = list(dict.fromkeys(s["method"] for s in rows))
        for k, m in enumerate(methods):
            pts = sorted((s for s in rows if s["method"] == m), key=lambda s: s["depth"])
            x = np.array([s["depth"] for s in pts], float)
            y, lo, hi = (np.array([s[f"{column}_{q}"] for s in pts], float) for q in ("mean", "lo", "hi"))
            lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)  # a precision's t interval can leave [0, 1]
            ax.errorbar(x * (1 + 0.03 * (k - (len(methods) - 1) / 2)), y, capsize=3, marker="o", color=f"C{k}",
                        yerr=np.stack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)]), label=m)
        for c in ceiling:
            if c["family"] == fam:
                ax.axhline(c[column], color="0.3", ls="--", lw=1,
                           label=f"full alignment ({c['method']}, M = {c['n_seqs']})")
        counts = sorted({s["n_subsamples"] for s in rows}) or [0]
        n = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"  # merged slices differ per method
        depths = sorted({s["depth"] for s in rows})
        ax.set(xscale="log", xlabel="alignment depth M (random subsample)", title=f"{fam} ({n} subsamples per point)",
               ylim=(0.0, 1.02))
        ax.set_xticks(depths, [str(d) for d in depths])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(f"contact precision, top {label} (|i - j| >= 5)")
    axes[0, -1].legend(fontsize="small")
    return save_figure(fig, path)
