"""Contact precision of DCA on shallow alignments (issue 23, item 4): random subsamples of each protein family.

Usage: ``ising-diffusion run msa --preset quick --out runs/msa`` (families from ``$ISING_DIFFUSION_MSA`` or
``../shared/data/msa``). Outputs in the run folder: ``ceiling.csv`` (the full alignment's fixed-penalty fit, once per
family), ``results.csv`` (one row per family, depth, subsample and method: top-L/5, L/2, L precision, ``M_eff``,
seconds; an ``augment:<generator>`` method writes two rows, see :mod:`~ising_diffusion.experiments.msa_augment`),
``summary.csv`` (mean and 95% t interval over subsamples, paired difference to CV pseudolikelihood on the subsample and,
where ``plm_cv_train`` ran, on ``augment``'s training split; subsamples helped, generator quality), ``msa.png`` and, per
``augment:`` call, its generated sequences in ``generated/`` (:func:`generated_path`).
Rerunning with the same ``--out`` skips finished rows.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ising_diffusion.checkpoint import drop_finished
from ising_diffusion.datasets.msa import MSAFamily, list_msa_families, load_msa_family
from ising_diffusion.experiments.configs.msa import (AUGMENT_PREFIX, BASE_METHODS, GROWABLE, MIX_SUFFIX, PRESETS, Q,
                                                     SPLIT_METHODS, MSAConfig, get_config)
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.msa_augment import augment_rows, heldout_split
from ising_diffusion.experiments.msa_summary import format_msa, plot_msa, precision_columns, summarize_msa
from ising_diffusion.experiments.rows import write_summary
from ising_diffusion.experiments.runner import open_run, run_sweep

__all__ = ["run_msa", "load_families", "subsample_rows", "fit_row", "check_augment_methods", "generated_path", "main"]


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


def family_fingerprints(families: Sequence[MSAFamily]) -> dict[str, str]:
    """``"<name>"`` -> SHA-256 of each family's states and contact map, as the rows use them (the data folder comes
    from ``data_root`` or ``$ISING_DIFFUSION_MSA``, which ``config.json`` does not pin): a resume on other data is
    refused (:func:`~ising_diffusion.experiments.runner.open_run`)."""
    out = {}
    for fam in families:
        digest = hashlib.sha256(np.ascontiguousarray(fam.seqs, np.int8).tobytes())
        digest.update(np.ascontiguousarray(fam.contacts, bool).tobytes())
        out[fam.name] = digest.hexdigest()
    return out


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
    if opts.get("l2") == "cv":
        lam = float(res.info.l2)
    else:
        lam = float(opts.get("lambda_J", 0.01)) if opts["method"] == "plm" else None
    return {"n_seqs": int(seqs.shape[0]), "M_eff": float(effective_count(weights)),
            **precision_columns(scores, contacts), "lambda_J": lam, "seconds": float(seconds)}


def check_augment_methods(cfg: MSAConfig) -> None:
    """The ``"augment:<generator>"`` methods' settings, checked before any fit: each generator (and each key of
    ``generator_options``) is a q-state generator and its ``generator_options`` build its config, ``cfg.augment``
    builds an ``AugmentConfig`` without the bootstrap guard (it draws spins), and ``plm_cv``'s options are the Potts
    solver's.

    Raises:
      ValueError: a generator that is not a q-state generator (``generative.Q_STATE_GENERATORS``), or a bad
        ``augment`` / generator / solver setting (named).
    """
    gens = cfg.augment_methods()
    if not gens:
        return
    from ising_diffusion.augment import AugmentConfig
    from ising_diffusion.augment.potts_solver import resolve_potts_solver
    from ising_diffusion.generative import Q_STATE_GENERATORS, make_generator_config

    bad = [g for g in gens if g not in Q_STATE_GENERATORS]
    if bad:
        raise ValueError(f"methods {[AUGMENT_PREFIX + g for g in bad]}: not q-state generators; choose from "
                         f"{sorted(Q_STATE_GENERATORS)}")
    extra = sorted(set(cfg.generator_options) - Q_STATE_GENERATORS)
    if extra:
        raise ValueError(f"generator_options for {extra}: not q-state generators; choose from "
                         f"{sorted(Q_STATE_GENERATORS)}")
    try:
        config = AugmentConfig(**cfg.augment)
        for g in gens:
            make_generator_config(g, {"n_states": Q, **cfg.generator_options.get(g, {})})
        resolve_potts_solver(None, cfg.augment_solver_options(), n_train=min(cfg.depths) - cfg.heldout_size(
            min(cfg.depths)))
    except TypeError as e:
        raise ValueError(f"augment / generator_options: {e}") from None
    if config.selection.active_guard(alignment=True) == "bootstrap":
        raise ValueError("augment: guard='bootstrap' draws spin replicates from an Ising fit; it does not take "
                         "alignments (use 'none' or 'auto')")


def generated_path(run_dir: str | Path, family: str, depth: int, generator: str, k: int) -> Path:
    """Where an ``augment:<generator>`` call of the run keeps its generated sequences:
    ``<run>/generated/<family>_M<depth>_<generator>_<k>.fasta.gz`` (FASTA, gzip;
    :func:`~ising_diffusion.io.read_alignment` reads it back)."""
    return Path(run_dir) / "generated" / f"{family}_M{depth}_{generator}_{k}.fasta.gz"


def _pid(family: str, depth: int, method: str) -> str:
    return f"{family}:M={depth}:{method}"


def _augment_point(run, results, cfg: MSAConfig, fam: MSAFamily, info: dict, rows, generator: str, progress):
    """The two rows of ``"augment:<generator>"`` on one subsample (:func:`msa_augment.augment_rows`), unless both are
    saved already; ``augment`` checkpoints in the run folder, so an interrupted call resumes (the checkpoints are
    removed once its rows are saved: :func:`~ising_diffusion.checkpoint.drop_finished`)."""
    depth, k = info["depth"], info["subsample"]
    method = AUGMENT_PREFIX + generator
    pids = [_pid(fam.name, depth, m) for m in (method, method + MIX_SUFFIX)]
    if all(results.is_done(p, [k]) for p in pids):
        return

    def safe_row():
        return next(r for r in results.point_rows(_pid(fam.name, depth, "plm_cv")) if r["seed"] == k)

    ckpt = run.checkpoint_dir(f"{pids[0]}#{k}")
    out = augment_rows(fam.seqs[rows], fam.contacts, cfg, generator, depth, k, safe_row, checkpoint_dir=ckpt,
                       progress=progress, generated_path=generated_path(run.path, fam.name, depth, generator, k))
    results.add([{**info, **r, "point": pid} for pid, r in zip(pids, out)])
    drop_finished(ckpt)  # the rows are saved; the call's checkpoints (GBs at paper widths) only served its resume


def run_msa(cfg: MSAConfig, out: str | Path, *, progress: bool = True) -> list[dict]:
    """The ``msa`` experiment: per family, depth, subsample and method, contact precision of the fit.

    Every bad setting (unknown family, a depth beyond an alignment, a bad ``augment:`` method or setting) is reported
    before any fit. Each (family, depth, method) point saves its subsamples' rows as they finish; a rerun in the same
    folder skips the rows it has, and one with more subsamples, depths or methods
    (:data:`~ising_diffusion.experiments.configs.msa.GROWABLE`) adds theirs to the saved ones. Per subsample the
    ``dca`` methods run first, then each ``augment:`` method (two rows,
    :mod:`~ising_diffusion.experiments.msa_augment`).

    Args:
      cfg: :class:`MSAConfig`.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (per family, depth and method).
    """
    import jax

    check_augment_methods(cfg)
    families = load_families(cfg)
    run = open_run(out, "msa", cfg, growable=GROWABLE, inputs=family_fingerprints(families))
    device = jax.devices()[0].device_kind  # rows of one table may come from several machines (resumed, merged)
    ceiling = run.table("ceiling")
    if cfg.ceiling:
        def ceiling_point(pid, fam):
            row = fit_row(fam.seqs, fam.contacts, cfg.ceiling_dca_options(), cfg.theta)
            return [{"family": fam.name, "L": fam.length, "method": "plm", "seed": 0, **row, "device": device}]

        run_sweep([(f"{f.name}:full", f) for f in families], ceiling_point, ceiling, [0], progress=progress,
                  desc="msa ceiling (full alignments)")
    results = run.table("results")
    base = [m for m in cfg.methods if m in BASE_METHODS]  # first: plm_cv's row is the augment: methods' safe answer
    for fam in families:
        for depth in cfg.depths:
            for k in range(cfg.n_seeds):
                rows = subsample_rows(fam.seqs.shape[0], depth, k, cfg.seed)
                info = {"family": fam.name, "L": fam.length, "depth": depth, "subsample": k, "seed": k,
                        "device": device}

                def point(pid, method, fam=fam, rows=rows, info=info):
                    if method in SPLIT_METHODS:  # augment's training split: its held-out sequences left out
                        rows = rows[heldout_split(info["depth"], info["subsample"], cfg.heldout_size(info["depth"]),
                                                  cfg.seed)[0]]
                    row = fit_row(fam.seqs[rows], fam.contacts, cfg.dca_options(method), cfg.theta)
                    return [{**info, "method": method, **row}]

                run_sweep([(_pid(fam.name, depth, m), m) for m in base], point, results, [k],
                          progress=progress, desc=f"msa {fam.name} M={depth} #{k}")
                for gen in cfg.augment_methods():
                    _augment_point(run, results, cfg, fam, info, rows, gen, progress)
    order = {_pid(f.name, d, m): i for i, (f, d, m) in enumerate(
        (f, d, m) for f in families for d in cfg.depths for m in cfg.row_methods())}
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
