"""Fig. 6 of Lim, Lee & Jo (2025): missing-value reconstruction on the salamander retina, training-only vs augmented.

Usage: ``python -m experiments.fig6 --preset quick --out runs/fig6-quick`` (rerun with the same ``--out`` to resume).

For every seed: load the 40 most active cells (shuffled, 8000 train / 1000 test), fit the independent model and each
solver (erasure machine, pseudolikelihood) on the training data, train the diffusion model with the energy-variance
stopping rule (:func:`ising_diffusion.augment`), and fit each solver again on the generated samples ("augmented") and on
generated + training samples ("combined"). Then for every ``k`` and random mask, each scored test pattern hides its own
``k`` random cells; each model fills them with its most probable completion (exact over the ``2^k`` completions) and
scores the true hidden values' conditional log-likelihood. The trivial baseline fills each cell with its more frequent
training state (it has no probabilities). Outputs in the run folder: ``config.json``, ``results.json``/``.csv`` (one
row per seed, k, mask and model), ``summary.csv`` (mean and 95% CI over seeds x masks), ``fig6.png``, and per seed
``seed<S>/models.npz`` (all fitted parameters and the energy-variance curve).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import math
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from configs.fig6 import PRESETS, Fig6Config, get_config
from ising_diffusion.augment import augment
from ising_diffusion.data import atomic_write, save_npz
from ising_diffusion.datasets import load_retina
from ising_diffusion.experiments_lib.entry import apply_overrides
from ising_diffusion.inference import infer
from ising_diffusion.ising import IsingParams
from ising_diffusion.reconstruct import complete_missing, majority_completion, reconstruction_scores

__all__ = ["run_fig6", "fit_models", "random_masks", "evaluate_models", "summarize", "plot_fig6", "main"]

METRICS = ("accuracy", "accuracy_active", "accuracy_silent", "cll_per_entry", "cll_minus_independent")
SWEEP_FIELDS = ("ks", "n_masks", "n_seeds")  # may change between runs in one folder: they only add or drop sweep points
ROW_FIELDS = ("seed", "k", "mask", "model", "n_patterns", "n_hidden", "n_active", "n_silent") + METRICS


def model_names(config: Fig6Config) -> list[str]:
    """Models in table order: baselines first, then each solver on train / augmented / combined data."""
    return ["trivial", "independent"] + [f"{s}_{d}" for s in config.solvers for d in ("train", "augmented", "combined")]


def fit_models(key, train, test, config: Fig6Config, *, checkpoint_dir=None, progress: bool = True):
    """All fitted models of one seed and the diffusion run's energy-variance curve.

    Args:
      key: PRNG key of the diffusion model.
      train, test: ``(M, N)`` and ``(Mt, N)`` spins.
      config: :class:`Fig6Config`.
      checkpoint_dir: the diffusion training's checkpoint folder (resumes an interrupted run).
      progress: progress bars.

    Returns:
      ``(params, info)``: ``params`` maps model name to ``IsingParams`` (no entry for ``"trivial"``); ``info`` holds
      host arrays and numbers: the curve (epochs, generated/train/test variance, loss), stop epochs, eps values.
    """
    t0 = time.perf_counter()
    params = {"independent": infer(train, "independent_exact")}
    res = augment(key, train, test, generator="ddpm", n_augmented=config.n_augmented, config=config.augment,
                  generator_config=config.ddpm, checkpoint_dir=checkpoint_dir, progress=progress)
    samples = res.samples
    both = jnp.concatenate([samples, jnp.asarray(train)], axis=0)
    for solver in config.solvers:
        if solver == "erasure":  # augment fits the erasure machine itself (w_train also drives the stopping rule)
            params.update(erasure_train=res.params_train, erasure_augmented=res.params_augmented,
                          erasure_combined=res.params_combined)
        else:
            opts = {"l2": config.pl_l2}
            params.update(pseudolikelihood_train=infer(train, "pseudolikelihood", **opts),
                          pseudolikelihood_augmented=infer(samples, "pseudolikelihood", **opts),
                          pseudolikelihood_combined=infer(both, "pseudolikelihood", **opts))
    c = res.curve
    info = {"epochs": np.asarray(c.epochs), "generated_variance": np.asarray(c.generated_variance),
            "smoothed_variance": np.asarray(c.smoothed_variance), "loss": np.asarray(c.loss),
            "train_variance": float(c.train_variance), "test_variance": float(c.test_variance),
            "test_variance_low": float(c.test_variance_low), "test_variance_high": float(c.test_variance_high),
            "stop_epoch": int(res.stop_epoch), "stop_epoch_paper": int(res.stop_epoch_paper),
            "stop_epoch_robust": int(res.stop_epoch_robust), "crossed_paper": bool(res.crossed_paper),
            "crossed_robust": bool(res.crossed_robust), "eps_train": res.eps["train"],
            "eps_augmented": res.eps["augmented"], "eps_combined": res.eps["combined"],
            "samples_active_fraction": float(np.mean(np.asarray(samples) > 0)),
            "train_active_fraction": float(np.mean(np.asarray(train) > 0)),
            "fit_seconds": time.perf_counter() - t0}
    return params, info


def random_masks(key, n_patterns: int, n_cells: int, k: int) -> np.ndarray:
    """``(n_patterns, n_cells)`` boolean mask; each row hides its own ``k`` cells, uniform without replacement."""
    u = jax.random.uniform(key, (n_patterns, n_cells))
    order = np.asarray(jnp.argsort(u, axis=1))[:, :k]
    hidden = np.zeros((n_patterns, n_cells), bool)
    np.put_along_axis(hidden, order, True, axis=1)
    return hidden


def evaluate_models(params: dict, train, test, hidden) -> list[dict]:
    """Score the trivial baseline and every model on one mask.

    Returns:
      one dict per model: pooled accuracies over all hidden entries (all, true-active, true-silent), the conditional
      log-likelihood per hidden entry ``mean_rows(log p(s_H | s_V)) / k`` (NaN for the trivial baseline) and its
      difference from the independent model's on the same patterns and mask.
    """
    test = np.asarray(test)
    k = int(hidden[0].sum())
    out = []
    sc = reconstruction_scores(test, majority_completion(train, test, hidden), hidden)
    out.append(dict(model="trivial", **_score_dict(sc), cll_per_entry=float("nan")))
    for name, p in params.items():
        comp = complete_missing(p, test, hidden)
        sc = reconstruction_scores(test, comp.spins, hidden)
        out.append(dict(model=name, **_score_dict(sc), cll_per_entry=float(np.mean(comp.log_likelihood) / k)))
    ref = next(r["cll_per_entry"] for r in out if r["model"] == "independent")
    for r in out:
        r["cll_minus_independent"] = r["cll_per_entry"] - ref
        r["n_patterns"] = int(test.shape[0])
    return out


def _score_dict(sc) -> dict:
    return dict(accuracy=sc.accuracy, accuracy_active=sc.accuracy_active, accuracy_silent=sc.accuracy_silent,
                n_hidden=sc.n_hidden, n_active=sc.n_active, n_silent=sc.n_silent)


def summarize(rows: list[dict], models: list[str]) -> list[dict]:
    """Mean and 95% normal CI half-width (``1.96 sd / sqrt(n)``, over seeds x masks) per ``(k, model)``."""
    out = []
    for k in sorted({r["k"] for r in rows}):
        for m in models:
            sel = [r for r in rows if r["k"] == k and r["model"] == m]
            if not sel:
                continue
            s = {"k": k, "model": m, "n_runs": len(sel)}
            for name in METRICS:
                v = np.asarray([r[name] for r in sel], np.float64)
                v = v[np.isfinite(v)]
                s[name] = float(v.mean()) if v.size else float("nan")
                s[name + "_ci95"] = float(1.96 * v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")
            out.append(s)
    return out


def format_table(summary: list[dict]) -> str:
    """The summary as a fixed-width text table (the console report)."""
    head = (f"{'k':>3} {'model':<28} {'acc':>7} {'acc_act':>8} {'acc_sil':>8} {'cll/entry':>10} "
            f"{'d_cll_vs_indep':>16}")
    lines = [head, "-" * len(head)]
    for s in summary:
        d = s["cll_minus_independent"]
        dci = s["cll_minus_independent_ci95"]
        dtxt = "" if not np.isfinite(d) else f"{d:+.4f}" + ("" if not np.isfinite(dci) else f"±{dci:.4f}")
        cll = "" if not np.isfinite(s["cll_per_entry"]) else f"{s['cll_per_entry']:.4f}"
        lines.append(f"{s['k']:>3} {s['model']:<28} {s['accuracy']:>7.4f} {s['accuracy_active']:>8.4f} "
                     f"{s['accuracy_silent']:>8.4f} {cll:>10} {dtxt:>16}")
    return "\n".join(lines)


def _write_csv(path: Path, rows: list[dict], fields) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write(path, lambda f: f.write(buf.getvalue()), mode="w")


def _config_json(config: Fig6Config) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


def _params_npz(path: Path, params: dict, info: dict) -> None:
    arrays = {}
    for name, p in params.items():
        arrays[f"{name}__h"] = np.asarray(p.h)
        arrays[f"{name}__J"] = np.asarray(p.J)
    for name, v in info.items():
        arrays[f"info__{name}"] = np.asarray(v)
    save_npz(path, **arrays)


def _load_params_npz(path: Path):
    with np.load(path) as f:
        names = sorted({k.split("__")[0] for k in f.files if not k.startswith("info__")})
        params = {n: IsingParams(jnp.asarray(f[f"{n}__h"]), jnp.asarray(f[f"{n}__J"])) for n in names}
        info = {k[len("info__"):]: f[k][()] if f[k].ndim == 0 else f[k] for k in f.files if k.startswith("info__")}
    return params, info


def run_fig6(config: Fig6Config, out, *, progress: bool = True) -> list[dict]:
    """Run (or resume) Fig. 6 into the folder ``out``; returns the summary rows.

    Resuming: a seed whose ``seed<S>/models.npz`` exists is not refitted (an interrupted diffusion training resumes
    from ``seed<S>/ckpt``), and ``(seed, k, mask)`` blocks already in ``results.json`` are skipped. Only the sweep
    fields ``ks``, ``n_masks`` and ``n_seeds`` may differ from the folder's ``config.json`` (new points are run; the
    tables and plot show the current sweep); any other difference is refused.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_json = _config_json(config)
    cfg_path = out / "config.json"
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text())
        changed = sorted(k for k in set(old) | set(cfg_json) if old.get(k) != cfg_json.get(k) and k not in SWEEP_FIELDS)
        if changed:
            raise ValueError(f"{out} holds a fig6 run with a different config (fields {changed}); use another --out "
                             f"(only {', '.join(SWEEP_FIELDS)} may change when resuming)")
    atomic_write(cfg_path, lambda f: f.write(json.dumps(cfg_json, indent=2)), mode="w")
    res_path = out / "results.json"
    rows = json.loads(res_path.read_text())["rows"] if res_path.exists() else []
    done = {(r["seed"], r["k"], r["mask"]) for r in rows}
    models = model_names(config)
    base = jax.random.key(config.seed)
    infos = {}
    for s in range(config.n_seeds):
        seed_key = jax.random.fold_in(base, s)
        data = load_retina(config.data_path, n_cells=config.n_cells, key=jax.random.fold_in(seed_key, 0),
                           n_train=config.n_train, n_test=config.n_test)
        seed_dir = out / f"seed{s}"
        npz = seed_dir / "models.npz"
        if npz.exists():
            params, info = _load_params_npz(npz)
        else:
            print(f"[fig6] seed {s}: fitting models and training the diffusion model", flush=True)
            params, info = fit_models(jax.random.fold_in(seed_key, 1), data.train, data.test, config,
                                      checkpoint_dir=seed_dir / "ckpt", progress=progress)
            _params_npz(npz, params, info)
        infos[s] = info
        params = {m: params[m] for m in models if m in params}
        test = np.asarray(data.test)[: config.n_eval]
        todo = [(k, m) for k in config.ks for m in range(config.n_masks) if (s, k, m) not in done]
        for k, m in tqdm(todo, desc=f"seed {s}: k x masks", disable=not progress):
            t0 = time.perf_counter()
            mkey = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(seed_key, 2), k), m)
            hidden = random_masks(mkey, test.shape[0], config.n_cells, k)
            for r in evaluate_models(params, data.train, test, hidden):
                rows.append(dict(seed=s, k=k, mask=m, seconds=time.perf_counter() - t0, **r))
            done.add((s, k, m))
            atomic_write(res_path, lambda f: f.write(json.dumps({"config": cfg_json, "rows": rows}, indent=1)),
                         mode="w")
    rows = [r for r in rows if r["seed"] < config.n_seeds and r["k"] in config.ks and r["mask"] < config.n_masks]
    rows.sort(key=lambda r: (r["seed"], r["k"], r["mask"], models.index(r["model"])))
    _write_csv(out / "results.csv", rows, ROW_FIELDS + ("seconds",))
    summary = summarize(rows, models)
    _write_csv(out / "summary.csv", summary, ["k", "model", "n_runs"] + [x for m in METRICS for x in (m, m + "_ci95")])
    seeds_json = {str(s): {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in i.items()}
                  for s, i in infos.items()}
    atomic_write(out / "diffusion.json", lambda f: f.write(json.dumps(seeds_json, indent=1, default=float)), mode="w")
    plot_fig6(summary, infos, models, out / "fig6.png")
    return summary


def plot_fig6(summary: list[dict], infos: dict, models: list[str], path) -> None:
    """Four panels: accuracy, accuracy on active hidden entries, log-likelihood gain over the independent model (all
    against k), and the energy-variance curve of each seed's diffusion training."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    style = {"trivial": ("k", "--"), "independent": ("grey", "-")}
    colors = {"erasure": "tab:blue", "pseudolikelihood": "tab:red"}
    dashes = {"train": "-", "augmented": "--", "combined": ":"}
    for m in models:
        sel = [s for s in summary if s["model"] == m]
        if not sel:
            continue
        if m in style:
            c, ls = style[m]
        else:
            solver, d = m.rsplit("_", 1)
            c, ls = colors.get(solver, None), dashes[d]
        ks = [s["k"] for s in sel]
        for ax, name in zip(axes.flat[:3], ("accuracy", "accuracy_active", "cll_minus_independent")):
            y = np.array([s[name] for s in sel])
            e = np.array([s[name + "_ci95"] for s in sel])
            if not np.any(np.isfinite(y)):
                continue
            ax.errorbar(ks, y, yerr=np.where(np.isfinite(e), e, 0), color=c, ls=ls, marker="o", ms=3, capsize=2,
                        label=m)
    axes[0, 0].set(xlabel="hidden cells k", ylabel="accuracy (all hidden entries)", title="(a) reconstruction accuracy")
    axes[0, 1].set(xlabel="hidden cells k", ylabel="accuracy on hidden entries that fired",
                   title="(b) active hidden entries")
    axes[1, 0].axhline(0, color="grey", lw=0.8)
    axes[1, 0].set(xlabel="hidden cells k", ylabel="log p(s_H|s_V)/k minus independent model's (nats)",
                   title="(c) conditional log-likelihood gain over independent")
    axes[0, 0].legend(fontsize=7)
    ax = axes[1, 1]
    for s, info in infos.items():
        ep = np.asarray(info["epochs"])
        line, = ax.plot(ep, np.asarray(info["generated_variance"]), marker=".", label=f"generated, seed {s}")
        ax.axhline(float(info["test_variance"]), color=line.get_color(), ls="--", lw=0.8,
                   label="test" if s == 0 else None)
        ax.axhline(float(info["train_variance"]), color=line.get_color(), ls=":", lw=0.8,
                   label="train" if s == 0 else None)
        ax.axvline(int(info["stop_epoch"]), color=line.get_color(), lw=0.8, alpha=0.6)
    ax.set(xlabel="diffusion training epoch", ylabel="Var E(s; w_train)", yscale="log",
           title="(d) energy variance (vertical: chosen stop)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buf.getvalue()))


def main(argv=None):
    """Command line: ``--preset``, ``--out``, ``--data``, ``--seeds``, ``--set KEY=VALUE`` (dotted for nested)."""
    p = argparse.ArgumentParser(prog="python -m experiments.fig6", description=__doc__.splitlines()[0],
                                epilog="Rerun with the same --out to resume.")
    p.add_argument("--preset", choices=PRESETS, default="quick")
    p.add_argument("--out", default=None, help="run folder (default: runs/fig6-<preset>)")
    p.add_argument("--data", default=None, help="the recording, file or folder (default: ../shared/data/retina/)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (overrides the preset)")
    p.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE",
                   help="override a config field, e.g. --set ks=(2,14) or --set augment.n_epochs=50")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    config = apply_overrides(get_config(args.preset), args.overrides)
    if args.data is not None:
        config = dataclasses.replace(config, data_path=args.data)
    if args.seeds is not None:
        config = dataclasses.replace(config, n_seeds=args.seeds)
    out = Path(args.out or f"runs/fig6-{args.preset}")
    print(f"[fig6] output folder: {out.resolve()}", flush=True)
    summary = run_fig6(config, out, progress=not args.no_progress)
    print(format_table(summary))
    print(f"[fig6] wrote {out.resolve()}/{{results.json,results.csv,summary.csv,diffusion.json,fig6.png}}", flush=True)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
