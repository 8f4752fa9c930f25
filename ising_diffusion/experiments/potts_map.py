"""The map's planted Potts rows (issue 23, item 5): per (truth, L, q, g, M), q-state generator and seed, cross-validated
pseudolikelihood on the training sequences alone against the fit ``augment`` selects and the fit to training +
generated sequences, in parameter MSE (zero-sum gauge) and in precision of the planted contact graph.

Usage: ``ising-diffusion run map --preset potts_quick --out runs/potts-map``. Outputs in the run folder: ``oracle.csv``
(the fit to ``oracle_factor`` x M fresh samples, per point and seed), ``results.csv`` (one row per point, generator
and seed), ``summary.csv`` (mean and 95% Student-t CI over seeds) and ``potts_map.png``.

Data: seed ``s``'s truth is :func:`~ising_diffusion.potts.potts_sparse_params` with ``fold_in(k, 1)``; its sequences
come from :func:`~ising_diffusion.potts_sampling.potts_gibbs_sample` with one chain per sample (independent samples),
each run ``burn_in`` sweeps from a uniform random start: the held-out set first, the training set after it. Precision
is over the top ``|E|`` pairs (``prec``) and the top ``L/2`` (``prec_L2``) by APC-corrected Frobenius score with every
state kept (``gap_state=None``), against the planted graph's edges, at any separation (``min_separation=1``).
"""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.checkpoint import drop_finished
from ising_diffusion.experiments.configs.potts_map import PottsMapConfig
from ising_diffusion.experiments.rows import format_table, map_ratios, n_augmented, summarize, write_summary
from ising_diffusion.experiments.runner import open_run, run_seeds, run_sweep, seed_keys
from ising_diffusion.experiments.synthetic import generator_keys, make_augment_config
from ising_diffusion.potts import PottsParams, potts_parameter_mse, potts_sparse_params
from ising_diffusion.potts_sampling import potts_gibbs_sample

__all__ = ["PottsTask", "potts_task", "potts_point_id", "true_graph_precision", "fit_cv", "run_potts_map",
           "plot_potts_map"]

BY = ["truth", "length", "q", "g", "n_train", "generator"]
FITS = ("train", "selected", "combined")
VALUES = ("mse_train", "mse_selected", "mse_combined", "mse_oracle", "ratio_selected", "ratio_combined",
          "ratio_oracle", *(f"prec{t}_{p}" for t in ("", "_L2") for p in (*FITS, "oracle")),
          *(f"dprec{t}_{p}" for t in ("", "_L2") for p in ("selected", "combined")), "recommended", "stop_mix",
          "helped", "prec_helped", "prec_L2_lowered", "score_gain", "m_eff_fraction", "quality_pair_ratio",
          "quality_identical", "time_total")
MSE_TABLE = {"MSE train only": "mse_train", "selected/train": "ratio_selected", "combined/train": "ratio_combined",
             "oracle/train": "ratio_oracle", "recommended": "recommended"}
PREC_TABLE = {"prec train": "prec_train", "prec selected": "prec_selected", "prec combined": "prec_combined",
              "prec oracle": "prec_oracle", "L/2 train": "prec_L2_train", "L/2 selected": "prec_L2_selected"}
COUNTS = ("helped", "prec_helped", "prec_L2_lowered", "recommended")


class PottsTask(NamedTuple):
    """Truth and sequences of one sweep point for every seed (leading axis ``S``).

    Attributes:
      truth: ``PottsParams`` with ``h (S, L, q)``, ``J (S, L, L, q, q)`` (zero-sum gauge).
      graph: ``(S, L, L)`` bool planted contact graphs (NumPy).
      train: ``(S, M, L)`` int32 training sequences (NumPy).
      test: ``(S, Mt, L)`` int32 held-out sequences (NumPy).
    """

    truth: PottsParams
    graph: np.ndarray
    train: np.ndarray
    test: np.ndarray


def potts_point_id(point) -> str:
    """The id of a sweep point ``(truth, L, q, g, M)``, e.g. ``"potts_sparse:L=20:q=4:g=1:M=100"``."""
    return "{}:L={}:q={}:g={:g}:M={}".format(*point)


@partial(jax.jit, static_argnames=("n_samples", "burn_in", "stream"))
def _gibbs_seeds(keys, truths, n_samples, burn_in, stream):
    """``(S, n_samples, L)`` independent Gibbs samples of each seed's truth, keyed ``fold_in(k, stream)``."""
    def one(k, p):
        return potts_gibbs_sample(jax.random.fold_in(k, stream), p, n_samples, n_chains=n_samples, burn_in=burn_in,
                                  thin=1).samples

    return jax.vmap(one)(keys, truths)


def potts_task(cfg: PottsMapConfig, point, keys=None) -> PottsTask:
    """The :class:`PottsTask` of one point ``(truth, L, q, g, M)`` exactly as :func:`run_potts_map` builds it
    (``keys``: ``seed_keys(cfg.seed, range(cfg.n_seeds))`` by default)."""
    _, length, q, g, m = point
    keys = seed_keys(cfg.seed, list(range(cfg.n_seeds))) if keys is None else keys
    made = [potts_sparse_params(jax.random.fold_in(k, 1), length, q, degree=cfg.degree, g=g,
                                field_scale=cfg.field_scale) for k in keys]
    truth = jax.tree.map(lambda *a: jnp.stack(a), *[p for p, _ in made])
    n_test = cfg.n_test(m)
    seqs = np.asarray(_gibbs_seeds(keys, truth, n_test + m, int(cfg.burn_in), 2), np.int32)
    return PottsTask(truth, np.stack([gr for _, gr in made]), seqs[:, n_test:], seqs[:, :n_test])


def true_graph_precision(params: PottsParams, graph: np.ndarray) -> dict[str, float]:
    """Precision of the planted graph among a fit's top pairs: ``{"prec": top |E|, "prec_L2": top L/2}``.

    Args:
      params: one fit (``h (L, q)``, ``J (L, L, q, q)``).
      graph: ``(L, L)`` bool planted graph (symmetric).

    Returns:
      the fractions of true edges among the top ``|E|`` and top ``L // 2`` pairs by APC-corrected Frobenius score
      (all states kept, any separation); NaN when the graph has no edge.
    """
    from ising_diffusion.contacts import contact_precision, contact_scores

    graph = np.asarray(graph, bool)
    n_edges = int(np.triu(graph, 1).sum())
    if n_edges == 0:
        return {"prec": float("nan"), "prec_L2": float("nan")}
    scores = contact_scores(params, gap_state=None)
    return {"prec": contact_precision(scores, graph, top=n_edges, min_separation=1),
            "prec_L2": contact_precision(scores, graph, top=max(1, graph.shape[0] // 2), min_separation=1)}


def fit_cv(cfg: PottsMapConfig, seqs: np.ndarray, q: int) -> PottsParams:
    """Weighted Potts pseudolikelihood of ``seqs`` with ``cfg.solver_options`` (``lambda_J`` cross-validated),
    weights at ``cfg.theta``: the oracle's fit (``augment`` fits the same objective inside)."""
    from ising_diffusion.dca import dca
    from ising_diffusion.msa import sequence_weights

    return dca(seqs, sequence_weights(seqs, cfg.theta), method="plm", q=q, gap_state=None, progress=False,
               **cfg.solver_options).params


def augment_seeds(*args, **kwargs):
    """Forward to :func:`ising_diffusion.augment_seeds` (a module attribute, so tests can substitute a fake)."""
    from ising_diffusion import augment_seeds as _augment_seeds

    return _augment_seeds(*args, **kwargs)


def _seed(tree, i):
    return jax.tree.map(lambda a: np.asarray(a)[i], tree)


def run_potts_map(cfg: PottsMapConfig, out: str | Path, *, progress: bool = True) -> list[dict]:
    """The map's planted Potts rows: per (truth, L, q, g, M), q-state generator and seed, the MSE and true-graph
    precision of CV pseudolikelihood on the training sequences, of ``augment``'s selected fit and of the fit to
    training + generated sequences; the oracle fit to fresh samples.

    Args:
      cfg: :class:`PottsMapConfig`; generators not registered as q-state generators are skipped with a warning.
      out: the run folder (reused: resume).
      progress: progress bars.

    Returns:
      the summary rows (per truth, L, q, g, M and generator).
    """
    from ising_diffusion.augment import AugmentationNotRecommendedWarning
    from ising_diffusion.augment.rules import curve_gain
    from ising_diffusion.generative import Q_STATE_GENERATORS, make_generator_config
    from ising_diffusion.msa import effective_count, sequence_weights

    generators = [g for g in cfg.generators if g in Q_STATE_GENERATORS]
    if len(generators) < len(cfg.generators):
        warnings.warn(f"generators {sorted(set(cfg.generators) - set(generators))} are not q-state generators "
                      f"({sorted(Q_STATE_GENERATORS)}); skipped")
    run = open_run(out, "map", cfg)
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    tasks = {}

    def task(point):  # drawn once per point, shared by the oracle and the generators
        if point not in tasks:
            tasks[point] = potts_task(cfg, point, keys)
        return tasks[point]

    batching = dict(shard=cfg.shard, seed_batch=cfg.seed_batch)

    def oracle_point(pid, point):
        tk, n_fresh = task(point), max(4, int(round(cfg.oracle_factor * point[4])))
        fresh = np.asarray(_gibbs_seeds(keys, tk.truth, n_fresh, int(cfg.burn_in), 4), np.int32)
        rows = []
        for i, s in enumerate(seeds):
            fit = fit_cv(cfg, fresh[i], point[2])
            prec = true_graph_precision(fit, tk.graph[i])
            rows.append(dict(zip(BY, point), seed=s, n_oracle=n_fresh,
                             mse_oracle=float(potts_parameter_mse(_seed(tk.truth, i), fit)),
                             prec_oracle=prec["prec"], prec_L2_oracle=prec["prec_L2"]))
        return rows

    oracle = run.table("oracle")  # first: one fit per point and seed, shared by the generators
    run_sweep([(potts_point_id(p), p) for p in cfg.points()], oracle_point, oracle, seeds, progress=progress,
              desc="potts map oracle")
    aug_cfg = make_augment_config(cfg.augment)

    def map_point(pid, gp):
        gen, point = gp
        tk, q, m = task(point), point[2], point[4]
        gen_cfg = make_generator_config(gen, {**cfg.generator_configs.get(gen, {}), "n_states": q})
        ckpt = run.checkpoint_dir(pid)

        def call(k, train, test, truth, batch):
            with warnings.catch_warnings():  # a decline is an outcome here, recorded in the rows
                warnings.simplefilter("ignore", AugmentationNotRecommendedWarning)
                return augment_seeds(k, train, test, generator=gen, n_augmented=n_augmented(cfg, m), config=aug_cfg,
                                     generator_config=gen_cfg, true_params=truth, progress=progress,
                                     checkpoint_dir=str(ckpt / f"seeds{batch[0]}-{batch[1]}"),
                                     solver_options=dict(cfg.solver_options), q=q, theta=cfg.theta)

        res = run_seeds(call, generator_keys(keys), tk.train, tk.test, tk.truth, pass_batch=True, **batching)
        orc = {r["seed"]: r for r in oracle.point_rows(potts_point_id(point))}
        # the best monitored held-out score of a fit with generated sequences over the training fit's (the score rule
        # recommends only a gain beyond score_z standard errors)
        gain = curve_gain(res.curve.score, res.score["train"])
        rows = []
        for i, s in enumerate(seeds):
            row = dict(zip(BY, (*point, gen)), seed=s, n_edges=int(np.triu(tk.graph[i], 1).sum()),
                       n_test=int(tk.test.shape[1]), n_generated=int(np.shape(res.samples)[1]),
                       **{f"mse_{p}": float(np.asarray(res.mse[p])[i]) for p in FITS},
                       mse_oracle=orc[s]["mse_oracle"], recommended=float(np.asarray(res.recommended)[i]),
                       stop_mix=float(np.asarray(res.stop_mix)[i]), solver_l2=float(np.asarray(res.solver_l2)[i]),
                       solver_l2_combined=float(np.asarray(res.solver_l2_combined)[i]),
                       score_train=float(np.asarray(res.score["train"])[i]), score_gain=float(gain[i]),
                       m_eff_fraction=effective_count(sequence_weights(tk.train[i], cfg.theta)) / m,
                       quality_pair_ratio=float(res.quality.pair_ratio[i]),
                       quality_identical=float(res.quality.identical_fraction[i]),
                       **{f"time_{k}": float(np.max(v)) for k, v in res.timing.items()})  # per call, all seeds
            for part in FITS:
                prec = true_graph_precision(_seed(getattr(res, f"params_{part}"), i), tk.graph[i])
                row[f"prec_{part}"], row[f"prec_L2_{part}"] = prec["prec"], prec["prec_L2"]
            row["prec_oracle"], row["prec_L2_oracle"] = orc[s]["prec_oracle"], orc[s]["prec_L2_oracle"]
            map_ratios(row)
            for t in ("", "_L2"):
                for part in ("selected", "combined"):
                    row[f"dprec{t}_{part}"] = row[f"prec{t}_{part}"] - row[f"prec{t}_train"]
            row["prec_helped"] = float(row["dprec_selected"] > 0.0)
            row["prec_L2_lowered"] = float(row["dprec_L2_selected"] < 0.0)
            rows.append(row)
        return rows

    points = [(f"{gen}:{potts_point_id(p)}", (gen, p)) for p in cfg.points() for gen in generators]
    rows = run_sweep(points, map_point, run.table("results"), seeds, progress=progress, desc="potts map")
    for pid, _ in points:  # every point's rows are saved: its generators' checkpoints only served a resume
        drop_finished(run.checkpoint_dir(pid))
    summary = summarize(rows, BY, VALUES)
    for r in summary:  # seeds counted, not averaged: how many helped, how many lost top-L/2 precision
        for c in COUNTS:
            r[f"n_{c}"] = int(round(r[f"{c}_mean"] * r["n_seeds"]))
    write_summary(run, summary)
    plot_potts_map(run.path / "potts_map.png", summary, generators, cfg)
    print(format_table(summary, BY, MSE_TABLE))
    print()
    print(format_table(summary, BY, PREC_TABLE))
    print()
    print("seeds (of n) where the selected fit lowered MSE / raised top-|E| precision / lowered top-L/2 precision "
          "below the training-only fit's; recommended; best held-out score gain of a mix (mean):")
    for r in summary:
        print(f"  {r['generator']} L={r['length']} q={r['q']} g={r['g']:g} M={r['n_train']}: "
              + " / ".join(str(r[f"n_{c}"]) for c in COUNTS) + f" of {r['n_seeds']}; {r['score_gain_mean']:.4g}")
    print(f"[map] figure: {run.path / 'potts_map.png'}")
    return summary


def plot_potts_map(path: Path, summary: list[dict], generators, cfg: PottsMapConfig) -> Path:
    """Two panels per (L, q, g, M) cell: each generator's selected and combined / training-only MSE ratio (left, the
    oracle's in grey) and the top-|E| precision of the planted graph (right, the training-only fit in black)."""
    from ising_diffusion.experiments.plotting import plt, save_figure

    cells = sorted({(r["length"], r["q"], r["g"], r["n_train"]) for r in summary})
    fig, (ax_mse, ax_prec) = plt.subplots(1, 2, figsize=(11, 4.5))
    ref = {c: r for c in cells for r in summary if (r["length"], r["q"], r["g"], r["n_train"]) == c}
    series = ([(g, "selected", dict(color=f"C{k}", label=f"{g} selected")) for k, g in enumerate(generators)]
              + [(g, "combined", dict(color=f"C{k}", mfc="none", alpha=0.6, label=f"{g} combined"))
                 for k, g in enumerate(generators)] + [(None, "oracle", dict(color="0.5", marker="x", label="oracle"))])
    series_prec = [(None, "train", dict(color="k", marker="s", label="training only"))] + series
    for ax, ser, col in ((ax_mse, series, "ratio"), (ax_prec, series_prec, "prec")):
        for j, (gen, part, style) in enumerate(ser):
            rows = {(r["length"], r["q"], r["g"], r["n_train"]): r for r in summary
                    if gen is None or r["generator"] == gen}
            rows = {c: (ref[c] if gen is None else rows.get(c, {})) for c in cells}
            m, lo, hi = (np.array([rows[c].get(f"{col}_{part}_{s}", np.nan) for c in cells], float)
                         for s in ("mean", "lo", "hi"))
            ax.errorbar(np.arange(len(cells)) + 0.6 * (j / max(len(ser) - 1, 1) - 0.5), m, ls="none", capsize=3,
                        yerr=np.stack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)]), **{"marker": "o", **style})
        ax.set_xticks(range(len(cells)), [f"L={n} q={q}\ng={g:g} M={m}" for n, q, g, m in cells])
        ax.grid(alpha=0.3)
    ax_mse.axhline(1.0, color="0.4", ls="--", lw=1)
    ax_mse.set(yscale="log", ylabel="MSE / training-only MSE, paired per seed",
               title=f"planted sparse Potts (degree {cfg.degree:g}), {cfg.n_seeds} seeds")
    ax_prec.set(ylabel="precision of the planted graph (top |E| pairs)", ylim=(0, 1.05))
    ax_prec.legend(fontsize="small")
    return save_figure(fig, path)
