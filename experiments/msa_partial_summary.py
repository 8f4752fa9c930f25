"""The summary, figure and markdown tables of an ``msa`` run folder's complete subsamples (a run stopped before its
end: a subsample counts once every method has its row), as run and with ``augment``'s memorisation rule applied to
the recorded rows (``AugmentConfig.max_identical``: a recommendation whose generated set was more than that fraction
copies of training sequences becomes the declined answer, the ``plm_cv`` row; for rows recorded before the rule).

    PYTHONPATH=. python experiments/msa_partial_summary.py RUN_FOLDER OUT_FOLDER [--max-identical 0.9] [--name NAME]

Writes ``OUT_FOLDER/NAME_summary.csv`` and ``NAME.png`` (``NAME`` default ``msa_augment_quick``) and copies the run's
``results.json``, ``ceiling.json`` and ``config.json`` there (with them in a run folder, ``ising-diffusion run msa``
with the same config resumes the run).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from ising_diffusion.experiments.msa_summary import format_msa, plot_msa, summarize_msa
from ising_diffusion.experiments.runner import write_csv


def _rows(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    return data["rows"] if isinstance(data, dict) else data


def complete(rows: list[dict]) -> list[dict]:
    """The rows of the subsamples that have every method's row."""
    methods = {r["method"] for r in rows}
    have: dict = {}
    for r in rows:
        have.setdefault((r["family"], r["depth"], r["subsample"]), set()).add(r["method"])
    done = {k for k, v in have.items() if v == methods}
    return [r for r in rows if (r["family"], r["depth"], r["subsample"]) in done]


def with_memorisation_rule(rows: list[dict], max_identical: float) -> tuple[list[dict], int]:
    """``rows`` as the memorisation rule would have left them, and how many recommendations it withdraws."""
    key = lambda r: (r["family"], r["depth"], r["subsample"], r["method"].removesuffix(":mix"))  # noqa: E731
    withdrawn = {key(r) for r in rows if r["method"].startswith("augment:") and r.get("recommended") == 1
                 and r["quality_identical"] > max_identical}
    safe = {(r["family"], r["depth"], r["subsample"]): r for r in rows if r["method"] == "plm_cv"}
    out = []
    for r in rows:
        r = dict(r)
        if key(r) in withdrawn:
            r["recommended"], r["mix"] = 0, 0.0
            if not r["method"].endswith(":mix"):
                s = safe[(r["family"], r["depth"], r["subsample"])]
                r.update({c: s[c] for c in ("n_seqs", "M_eff", "top_L5", "top_L2", "top_L", "lambda_J")})
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

    out = ["| M | method | subsamples | top L/5 | top L/2 | top L | L/2 - plm_cv (paired) | above / below | M_eff | "
           "recommended | identical | seconds |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary:
        ab = "-" if r["method"] == "plm_cv" else f"{r['helped_L2']} / {r['hurt_L2']}"
        out.append(f"| {r['depth']} | {r['method']} | {r['n_subsamples']} | {cell(r, 'top_L5')} | {cell(r, 'top_L2')} "
                   f"| {cell(r, 'top_L')} | {cell(r, 'diff_L2', 3)} | {ab} | {cell(r, 'M_eff', 1)} | "
                   f"{cell(r, 'recommended')} | {cell(r, 'quality_identical')} | {cell(r, 'seconds', 0)} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--max-identical", type=float, default=0.9)
    ap.add_argument("--name", default="msa_augment_quick", help="stem of the summary CSV and figure")
    args = ap.parse_args(argv)
    rows, ceiling = complete(_rows(args.run / "results.json")), _rows(args.run / "ceiling.json")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("results.json", "ceiling.json", "config.json"):
        shutil.copyfile(args.run / name, args.out / name)
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
