"""The summary, figure and markdown tables of an ``msa`` run folder's complete subsamples (a run stopped before its
end: a subsample counts once every method has its row), as run and with ``augment``'s memorisation rule applied to
the recorded rows (``AugmentConfig.max_identical``: a recommendation whose generated set was more than that fraction
copies of training sequences becomes the declined answer, the ``plm_cv`` row; for rows recorded before the rule).

    PYTHONPATH=. python experiments/msa_partial_summary.py RUN_FOLDER OUT_FOLDER [--max-identical 0.9] [--name NAME]
    PYTHONPATH=. python experiments/msa_partial_summary.py RUN_A RUN_B ... OUT_FOLDER --per-method --name NAME

Writes ``OUT_FOLDER/NAME_summary.csv`` and ``NAME.png`` (``NAME`` default ``msa_augment_quick``). With one run folder
it copies the run's ``results.json``, ``ceiling.json`` and ``config.json`` there (with them in a run folder,
``ising-diffusion run msa`` with the same config resumes the run). With several (slices of one preset run on different
machines or sessions, e.g. ``--set depths=200 --set methods=plm_cv,augment:ddpm_onehot`` on a GPU and the base methods
on a CPU) their configs must agree in everything but the slice (:data:`SLICE_FIELDS`); a row in two folders is kept
from the first one named, and the largest difference of its precisions between the folders is printed (a CPU/GPU
cross-check); the merged rows go to ``NAME_rows.csv``.

``--per-method`` keeps, per subsample with a ``plm_cv`` row, every base method's row and each ``augment:`` method's
pair of rows where both exist (each method's own count of subsamples), instead of only the subsamples that have
every method's row.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from ising_diffusion.experiments.configs.msa import AUGMENT_PREFIX, BASE_METHODS, MIX_SUFFIX
from ising_diffusion.experiments.msa_summary import (REFERENCE, SPLIT_REFERENCE, TOPS, format_msa, plot_msa,
                                                     summarize_msa)
from ising_diffusion.experiments.runner import write_csv


def _rows(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    return data["rows"] if isinstance(data, dict) else data


#: config fields that only choose which rows a run makes: folders that differ in these alone can be merged
SLICE_FIELDS = ("depths", "n_seeds", "methods", "ceiling", "ceiling_options")


def merge_runs(folders: list[Path]) -> tuple[list[dict], list[dict], float]:
    """The rows and ceiling rows of several run folders of one experiment setting, and the largest difference of a
    precision between copies of the same row (0.0 without duplicates). Raises ``ValueError`` when two configs differ
    outside :data:`SLICE_FIELDS`."""
    rows, ceiling, seen, worst = [], [], {}, 0.0
    first = None
    for folder in folders:
        cfg = json.loads((folder / "config.json").read_text())
        setting = {k: v for k, v in cfg["config"].items() if k not in SLICE_FIELDS}
        if first is None:
            first = (folder, cfg["experiment"], setting)
        elif (cfg["experiment"], setting) != first[1:]:
            diff = sorted(k for k in set(setting) | set(first[2]) if setting.get(k) != first[2].get(k))
            raise ValueError(f"{folder} and {first[0]} are runs of different settings ({diff or 'experiment'}); "
                             f"only {SLICE_FIELDS} may differ")
        for r in _rows(folder / "results.json"):
            key = (r["point"], r["seed"])
            if key in seen:
                worst = max(worst, *(abs(r[c] - seen[key][c]) for c in TOPS.values()))
                continue
            seen[key] = r
            rows.append(r)
        if (folder / "ceiling.json").exists():
            known = {(c["family"], c["method"]) for c in ceiling}
            ceiling += [c for c in _rows(folder / "ceiling.json") if (c["family"], c["method"]) not in known]
    return rows, ceiling, worst


def _order(r: dict) -> tuple:
    """Table order: family, depth, the base methods as the experiment lists them, each ``augment:`` method followed
    by its ``:mix`` row, subsample."""
    m, base = r["method"], tuple(BASE_METHODS)
    rank = base.index(m) if m in base else len(base)
    return r["family"], r["depth"], rank, m.removesuffix(MIX_SUFFIX), m.endswith(MIX_SUFFIX), r["subsample"]


def _subsample(r: dict) -> tuple:
    return r["family"], r["depth"], r["subsample"]


def _methods_by_subsample(rows: list[dict]) -> dict:
    """(family, depth, subsample) -> the set of methods with a row there."""
    have: dict = {}
    for r in rows:
        have.setdefault(_subsample(r), set()).add(r["method"])
    return have


def per_method(rows: list[dict]) -> list[dict]:
    """Per subsample with a ``plm_cv`` row: every base method's row, and each ``augment:`` method's two rows where both
    exist."""
    have = _methods_by_subsample(rows)

    def keep(r):
        methods = have[_subsample(r)]
        if REFERENCE not in methods:
            return False
        if not r["method"].startswith(AUGMENT_PREFIX):
            return True
        base = r["method"].removesuffix(MIX_SUFFIX)
        return base in methods and base + MIX_SUFFIX in methods

    return [r for r in rows if keep(r)]


def complete(rows: list[dict]) -> list[dict]:
    """The rows of the subsamples that have every method's row."""
    methods = {r["method"] for r in rows}
    done = {k for k, v in _methods_by_subsample(rows).items() if v == methods}
    return [r for r in rows if _subsample(r) in done]


def with_memorisation_rule(rows: list[dict], max_identical: float) -> tuple[list[dict], int]:
    """``rows`` as the memorisation rule would have left them, and how many recommendations it withdraws (on the
    fraction of copies and near-copies, ``quality_copies``; rows recorded before it on ``quality_identical``)."""
    key = lambda r: (r["family"], r["depth"], r["subsample"], r["method"].removesuffix(":mix"))  # noqa: E731
    withdrawn = {key(r) for r in rows if r["method"].startswith("augment:") and r.get("recommended") == 1
                 and r.get("quality_copies", r["quality_identical"]) > max_identical}
    safe = {(r["family"], r["depth"], r["subsample"]): r for r in rows if r["method"] == "plm_cv"}
    out = []
    for r in rows:
        r = dict(r)
        if key(r) in withdrawn:
            r["recommended"], r["mix"] = 0, 0.0
            r["reason"] = (f"withdrawn by the memorisation rule (more than {max_identical:g} of the generated "
                           f"sequences copy a training one); {r.get('reason', '')}")
            if not r["method"].endswith(":mix"):  # the safe answer, as augment_rows writes it when augment declines
                s = safe[(r["family"], r["depth"], r["subsample"])]
                r.update({c: s[c] for c in ("n_seqs", "M_eff", "top_L5", "top_L2", "top_L", "lambda_J")})
                r["seconds"] = r["seconds"] + s["seconds"]
        out.append(r)
    return out, sum(1 for k in withdrawn if not k[3].endswith(":mix"))


def markdown(summary: list[dict]) -> str:
    """The summary as a markdown table (paired differences with their 95% t interval where n >= 2)."""
    def cell(r, c, d=2):
        m = r.get(f"{c}_mean")
        if m is None or m != m:
            return "-"
        lo, hi = r.get(f"{c}_lo"), r.get(f"{c}_hi")
        if c.startswith("diff") and r["n_subsamples"] >= 2 and lo == lo:
            return f"{m:+.{d}f} [{lo:+.{d}f}, {hi:+.{d}f}]"
        return f"{m:.{d}f}"

    # the split reference's columns only where it ran (tables of earlier runs keep their shape)
    split = any(r.get("helped_split_L2") is not None for r in summary)
    head = "| M | method | subsamples | top L/5 | top L/2 | top L | L/2 - plm_cv (paired) | above / below | "
    if split:
        head += f"L/2 - {SPLIT_REFERENCE} (paired) | above / below | "
    head += "M_eff | recommended | identical | copies | seconds |"
    out = [head, "|" + "---|" * (head.count(" | ") + 1)]
    for r in summary:
        ab = "-" if r["method"] == REFERENCE else f"{r['helped_L2']} / {r['hurt_L2']}"
        line = (f"| {r['depth']} | {r['method']} | {r['n_subsamples']} | {cell(r, 'top_L5')} | {cell(r, 'top_L2')} "
                f"| {cell(r, 'top_L')} | {cell(r, 'diff_L2', 3)} | {ab} | ")
        if split:
            ab = "-" if r["helped_split_L2"] is None else f"{r['helped_split_L2']} / {r['hurt_split_L2']}"
            line += f"{cell(r, 'diff_split_L2', 3)} | {ab} | "
        out.append(line + f"{cell(r, 'M_eff', 1)} | {cell(r, 'recommended')} | {cell(r, 'quality_identical')} | "
                   f"{cell(r, 'quality_copies')} | {cell(r, 'seconds', 0)} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path, nargs="+", help="run folder(s)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--max-identical", type=float, default=0.9)
    ap.add_argument("--name", default="msa_augment_quick", help="stem of the summary CSV and figure")
    ap.add_argument("--per-method", action="store_true",
                    help="each method's subsamples (with a plm_cv row) instead of the subsamples with every method")
    args = ap.parse_args(argv)
    rows, ceiling, worst = merge_runs(args.run)
    rows = sorted((per_method if args.per_method else complete)(rows), key=_order)
    args.out.mkdir(parents=True, exist_ok=True)
    if len(args.run) == 1:
        for name in ("results.json", "ceiling.json", "config.json"):
            if (args.run[0] / name).exists():
                shutil.copyfile(args.run[0] / name, args.out / name)
    else:
        write_csv(args.out / f"{args.name}_rows.csv", rows)
        print(f"{len(args.run)} run folders merged: {len(rows)} rows; rows in several folders differ in precision by "
              f"at most {worst:.3g}")
    summary = summarize_msa(rows)
    write_csv(args.out / f"{args.name}_summary.csv", summary)
    plot_msa(args.out / f"{args.name}.png", summary, ceiling)
    print(format_msa(summary, ceiling))
    print("\nAs run:\n\n" + markdown(summary))
    after, n = with_memorisation_rule(rows, args.max_identical)
    print(f"\nWith max_identical = {args.max_identical:g} ({n} recommendation(s) withdrawn):\n\n"
          + markdown(summarize_msa(after)))


if __name__ == "__main__":
    main()
