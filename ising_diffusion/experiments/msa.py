"""Contact precision of DCA on shallow alignments (issue 23, item 4): random subsamples of each protein family.

Usage: ``ising-diffusion run msa --preset quick --out runs/msa`` (families from ``$ISING_DIFFUSION_MSA`` or
``../shared/data/msa``). Outputs in the run folder: ``ceiling.csv`` (the full alignment's fixed-penalty fit, once per
family), ``results.csv`` (one row per family, depth, subsample and method: top-L/5, L/2, L precision, ``M_eff``,
seconds), ``summary.csv`` (mean and 95% t interval over subsamples, paired difference to CV pseudolikelihood, subsamples
helped) and ``msa.png``. Rerunning with the same ``--out`` skips finished rows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ising_diffusion.contacts import DEFAULT_TOPS, contact_precision
from ising_diffusion.datasets.msa import MSAFamily, list_msa_families, load_msa_family
from ising_diffusion.experiments.configs.msa import AUGMENT_PREFIX, PRESETS, MSAConfig, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.msa_summary import TOPS, format_msa, plot_msa, summarize_msa
from ising_diffusion.experiments.rows import write_summary
from ising_diffusion.experiments.runner import open_run, run_sweep

__all__ = ["run_msa", "load_families", "subsample_rows", "fit_row", "check_augment_methods", "main"]

#: the alphabet size of protein alignments (20 amino acids + gap)
Q = 21


def load_families(cfg: MSAConfig) -> list[MSAFamily]:
    """The config's families, loaded, with every depth checked against each alignment.

    Raises:
      ValueError: no family found, or a depth larger than a family's alignment.
      FileNotFoundError: a named family is missing (the message says where to put it).
    """
    names = list(cfg.families) or list_msa_families(cfg.data_root)
    if not names:
        raise ValueError(f"no protein family found under {cfg.data_root or 'the default data folders'}; set "
                         "data_root (--set data_root=PATH) or $ISING_DIFFUSION_MSA to a folder of family folders")
    families = [load_msa_family(n, cfg.data_root) for n in names]
    for fam in families:
        too_deep = [d for d in cfg.depths if d > fam.seqs.shape[0]]
        if too_deep:
            raise ValueError(f"depths {too_deep} exceed family {fam.name}'s alignment of {fam.seqs.shape[0]} "
                             f"sequences; choose depths <= {fam.seqs.shape[0]}")
    return families


def subsample_rows(n_total: int, depth: int, k: int, seed: int = 0) -> np.ndarray:
    """Subsample ``k`` of size ``depth`` of an alignment of ``n_total`` sequences: sorted row indices from
    ``default_rng([seed, depth, k]).choice(n_total, depth, replace=False)`` (the same for every method: paired)."""
    if not 1 <= depth <= n_total:
        raise ValueError(f"depth must be in [1, {n_total}], got {depth}")
    return np.sort(np.random.default_rng([seed, depth, k]).choice(n_total, depth, replace=False))


def fit_row(seqs: np.ndarray, contacts: np.ndarray, options: dict, theta: float) -> dict:
    """Fit one alignment with ``dca(**options)`` and score it against the contact map.

    Returns:
      ``{"n_seqs", "M_eff", "top_L5", "top_L2", "top_L", "lambda_J", "seconds"}``; ``lambda_J`` is the chosen penalty
      with ``l2="cv"``, the fixed one for pseudolikelihood, ``None`` for mean-field DCA; ``seconds`` is the wall time
      of the fit and scores (compilation included).
    """
    from ising_diffusion.dca import dca
    from ising_diffusion.msa import effective_count, sequence_weights

    weights = np.asarray(sequence_weights(seqs, theta))
    opts = dict(options)
    t0 = time.perf_counter()
    res = dca(seqs, weights, q=Q, progress=False, **opts)
    scores = np.asarray(res.scores)
    seconds = time.perf_counter() - t0
    prec = contact_precision(scores, contacts, top=DEFAULT_TOPS)
    if opts.get("l2") == "cv":
        lam = float(res.info.l2)
    else:
        lam = float(opts.get("lambda_J", 0.01)) if opts["method"] == "plm" else None
    return {"n_seqs": int(seqs.shape[0]), "M_eff": float(effective_count(weights)),
            **{col: float(prec[t]) for t, col in TOPS.items()}, "lambda_J": lam, "seconds": float(seconds)}


def check_augment_methods(cfg: MSAConfig) -> None:
    """The hook for ``"augment:<generator>"`` methods, checked before any fit.

    Raises:
      ValueError: a generator that is not a q-state generator (``generative.Q_STATE_GENERATORS``).
      NotImplementedError: any ``augment:`` method: the call of ``augment`` on a subsample (training sequences, a
        held-out split, the Potts solver, CV pseudolikelihood on training + generated) is not written yet.
    """
    gens = cfg.augment_methods()
    if not gens:
        return
    from ising_diffusion.generative import Q_STATE_GENERATORS

    bad = [g for g in gens if g not in Q_STATE_GENERATORS]
    if bad:
        raise ValueError(f"methods {[AUGMENT_PREFIX + g for g in bad]}: not q-state generators; choose from "
                         f"{sorted(Q_STATE_GENERATORS)}")
    raise NotImplementedError(
        f"methods {[AUGMENT_PREFIX + g for g in gens]}: augmentation of alignments is not wired into the msa "
        "experiment yet. ising_diffusion.augment takes q-state sequences (a q-state generator, the Potts solver); "
        "what is missing is its call per subsample here (a held-out split, CV pseudolikelihood on training + "
        "generated sequences, in fit_row's place in run_msa). Remove these methods to run "
        "the others.")


def _pid(family: str, depth: int, method: str) -> str:
    return f"{family}:M={depth}:{method}"


def run_msa(cfg: MSAConfig, out: str | Path, *, progress: bool = True) -> list[dict]:
    """The ``msa`` experiment: per family, depth, subsample and method, contact precision of the fit.

    Every bad setting (unknown family, a depth beyond an alignment, an ``augment:`` method this build cannot run) is
    reported before any fit. Each (family, depth, method) point saves its subsamples' rows as they finish; a rerun in
    the same folder skips the rows it has.

    Args:
      cfg: :class:`MSAConfig`.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (per family, depth and method).
    """
    check_augment_methods(cfg)
    families = load_families(cfg)
    run = open_run(out, "msa", cfg)
    ceiling = run.table("ceiling")
    if cfg.ceiling:
        def ceiling_point(pid, fam):
            row = fit_row(fam.seqs, fam.contacts, cfg.ceiling_dca_options(), cfg.theta)
            return [{"family": fam.name, "L": fam.length, "method": "plm", "seed": 0, **row}]

        run_sweep([(f"{f.name}:full", f) for f in families], ceiling_point, ceiling, [0], progress=progress,
                  desc="msa ceiling (full alignments)")
    results = run.table("results")
    for fam in families:
        for depth in cfg.depths:
            for k in range(cfg.n_seeds):
                rows = subsample_rows(fam.seqs.shape[0], depth, k, cfg.seed)

                def point(pid, method, fam=fam, depth=depth, k=k, rows=rows):
                    row = fit_row(fam.seqs[rows], fam.contacts, cfg.dca_options(method), cfg.theta)
                    return [{"family": fam.name, "L": fam.length, "depth": depth, "subsample": k, "seed": k,
                             "method": method, **row}]

                run_sweep([(_pid(fam.name, depth, m), m) for m in cfg.methods], point, results, [k],
                          progress=progress, desc=f"msa {fam.name} M={depth} #{k}")
    order = {_pid(f.name, d, m): i for i, (f, d, m) in enumerate(
        (f, d, m) for f in families for d in cfg.depths for m in cfg.methods)}
    rows = sorted((r for r in results.rows if r["point"] in order and r["seed"] < cfg.n_seeds),
                  key=lambda r: (order[r["point"]], r["seed"]))
    ceil = [r for r in ceiling.rows if r["family"] in {f.name for f in families}] if cfg.ceiling else []
    summary = summarize_msa(rows)
    write_summary(run, summary)
    plot_msa(run.path / "msa.png", summary, ceil)
    print(format_msa(summary, ceil))
    print(f"[msa] figure: {run.path / 'msa.png'}")
    return summary


def main(argv=None):
    """Run the ``msa`` experiment with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("msa", argv, get_config, run_msa, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
