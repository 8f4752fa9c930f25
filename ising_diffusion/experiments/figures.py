"""The paper's synthetic-data figures (METHODS.md section 6) and the main job, as library functions.

Each ``run_figX(config, out, progress=True)`` opens (or resumes) a run folder, runs every sweep point not yet done
with all seeds as one batched ``augment_seeds`` call (seed axis sharded over devices when several are visible),
writes ``results.json``/``results.csv`` (one row per sweep point and seed; config and package version in
``config.json`` and in the JSON header), ``summary.csv`` (mean and 95% CI over seeds) and the figure PNGs, and
returns the summary rows. The entry points in ``experiments/`` only parse arguments and call these.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.experiments_lib.runner import (
    RunDir,
    ResultStore,
    _write_csv,
    open_run,
    run_seeds,
    run_sweep,
    seed_keys,
    summarize,
)
from ising_diffusion.experiments_lib.synthetic import (
    SamplerConfig,
    SyntheticTask,
    generator_key,
    infer_seeds,
    mse_seeds,
    synthetic_task,
)

__all__ = [
    "ExperimentConfig",
    "Fig2Config",
    "Fig3Config",
    "Fig4Config",
    "Fig5Config",
    "MainConfig",
    "run_fig2",
    "run_fig3",
    "run_fig4",
    "run_fig5",
    "run_main",
    "augment_point",
    "result_rows",
    "format_table",
]

MSE_COLUMNS = ("mse_train", "mse_augmented", "mse_combined")


# --------------------------------------------------------------------------------------------------------------------
# configs (defaults = the `quick` scale; presets live in configs/figX.py)


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Settings every synthetic experiment shares.

    Attributes:
      seed: base seed; seed index ``s`` uses key ``fold_in(key(seed), s)`` for truth, data and generator.
      n_seeds: seeds per sweep point (run as one vmapped computation).
      seed_batch: at most this many seeds per call (memory bound); ``None``: all together.
      shard: shard seeds over devices (``None``: when more than one device is visible).
      sampler: how observed samples are drawn (exact for small N, Metropolis otherwise).
      generator: ``"ddpm"`` (the paper's), or a baseline (``"rbm"``, ``"vae"``, ``"gan"``).
      n_augmented_factor: augmented samples = this x training size (METHODS.md default 10).
      augment: overrides of :class:`ising_diffusion.AugmentConfig` fields (e.g. ``{"n_epochs": 200}``).
      generator_config: overrides of the generator's config fields (e.g. DDPM's).
    """

    seed: int = 0
    n_seeds: int = 3
    seed_batch: int | None = None
    shard: bool | None = None
    sampler: SamplerConfig = SamplerConfig()
    generator: str = "ddpm"
    n_augmented_factor: float = 10.0
    augment: dict = dataclasses.field(default_factory=dict)
    generator_config: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.n_seeds < 1:
            raise ValueError(f"n_seeds must be >= 1, got {self.n_seeds}")
        if self.n_augmented_factor <= 0:
            raise ValueError(f"n_augmented_factor must be > 0, got {self.n_augmented_factor}")


@dataclasses.dataclass(frozen=True)
class Fig2Config(ExperimentConfig):
    """Fig. 2: MSE and energy variances against diffusion epochs at one (N, g, training size)."""

    n_spins: int = 20
    g: float = 1.0
    n_train: int = 400
    n_test: int = 50


@dataclasses.dataclass(frozen=True)
class Fig3Config(ExperimentConfig):
    """Fig. 3: training-only vs augmented MSE against g."""

    n_spins: int = 20
    g_values: tuple = (0.5, 1.0, 1.5, 2.0)
    n_train: int = 400
    n_test: int = 50


@dataclasses.dataclass(frozen=True)
class Fig4Config(ExperimentConfig):
    """Fig. 4: (a-c) MSE against training size for each N; (d-f) against the number of augmented samples.

    Attributes:
      sizes: ``(N, (n_train, ...))`` pairs for panels (a-c).
      aug_n_train: ``(N, n_train)`` pairs: the training size of panels (d-f) per N.
      aug_counts: numbers of augmented samples for panels (d-f), as multiples of that training size.
      test_fraction: held-out test size as a fraction of the training size (METHODS.md: one eighth).
    """

    g: float = 1.0
    sizes: tuple = ((20, (100, 200, 400, 800)), (40, (1000, 2000)))
    aug_n_train: tuple = ((20, 400),)
    aug_counts: tuple = (0.5, 1.0, 2.0, 5.0, 10.0)
    test_fraction: float = 0.125


@dataclasses.dataclass(frozen=True)
class Fig5Config(ExperimentConfig):
    """Fig. 5: generators compared (diffusion, RBM, VAE, optional GAN) against training size."""

    n_spins: int = 40
    g: float = 1.0
    n_train_values: tuple = (1000, 2000, 4000)
    test_fraction: float = 0.125
    generators: tuple = ("ddpm", "rbm", "vae")
    generator_configs: dict = dataclasses.field(default_factory=dict)  # name -> overrides


@dataclasses.dataclass(frozen=True)
class MainConfig(ExperimentConfig):
    """The main job: the paper's core result (Figs. 2-3 style) on synthetic SK data at CPU scale."""

    n_spins: int = 20
    g_values: tuple = (1.0,)
    n_train: int = 400
    n_test: int = 50


# --------------------------------------------------------------------------------------------------------------------
# augmentation of one sweep point


def augment_seeds(*args, **kwargs):
    """Forward to :func:`ising_diffusion.augment_seeds` (a module attribute, so tests can substitute a fake)."""
    from ising_diffusion import augment_seeds as _augment_seeds

    return _augment_seeds(*args, **kwargs)


def make_augment_config(overrides: dict):
    """:class:`ising_diffusion.AugmentConfig` with ``overrides``, or ``None`` (the package default) if empty."""
    if not overrides:
        return None
    from ising_diffusion import AugmentConfig

    try:
        return AugmentConfig(**overrides)
    except TypeError as e:
        names = [f.name for f in dataclasses.fields(AugmentConfig)]
        raise ValueError(f"bad augment override {overrides}: {e}; AugmentConfig fields: {', '.join(names)}") from e


def make_generator_config(name: str, overrides: dict):
    """The config of generator ``name`` (``ising_diffusion.GENERATOR_CONFIGS[name]``) with ``overrides``, or
    ``None`` (its defaults) if there are none."""
    from ising_diffusion import GENERATOR_CONFIGS

    if not overrides:
        return None
    if name not in GENERATOR_CONFIGS:
        raise ValueError(f"unknown generator {name!r}; registered: {sorted(GENERATOR_CONFIGS)}")
    cls = GENERATOR_CONFIGS[name]
    try:
        return cls(**overrides)
    except TypeError as e:
        names = [f.name for f in dataclasses.fields(cls)]
        raise ValueError(f"bad {name} config override {overrides}: {e}; {cls.__name__} fields: "
                         f"{', '.join(names)}") from e


def augment_point(run: RunDir, point_id: str, cfg: ExperimentConfig, keys, task: SyntheticTask, *,
                  n_augmented: int | None, generator: str | None = None, generator_overrides: dict | None = None,
                  progress: bool = True):
    """Augment every seed's training set of one sweep point in one ``augment_seeds`` call.

    The seed axis is batched (``cfg.seed_batch``) and sharded (``cfg.shard``) by :func:`run_seeds`; each seed batch
    checkpoints its generator under ``<run>/checkpoints/<point_id>/seeds<a>-<b>`` so a killed run resumes there.

    Returns:
      the ``AugmentResult`` with a leading seed axis.
    """
    generator = generator or cfg.generator
    overrides = cfg.generator_config if generator_overrides is None else generator_overrides
    aug_cfg = make_augment_config(cfg.augment)
    gen_cfg = make_generator_config(generator, overrides)
    ckpt = run.checkpoint_dir(point_id)
    gkeys = jax.vmap(generator_key)(keys)

    def call(k, train, test, truth, batch):
        return augment_seeds(k, train, test, generator=generator, n_augmented=n_augmented, config=aug_cfg,
                             generator_config=gen_cfg, true_params=truth,
                             checkpoint_dir=str(ckpt / f"seeds{batch[0]}-{batch[1]}"), progress=progress)

    return run_seeds(call, gkeys, task.train, task.test, task.truth, shard=cfg.shard, seed_batch=cfg.seed_batch,
                     pass_batch=True)


def _at(x, i):
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
        for part in ("train", "augmented", "combined"):
            row[f"mse_{part}"] = _at(mse.get(part), i)
        for name in ("stop_epoch", "stop_epoch_paper", "stop_epoch_robust", "best_epoch", "crossed_paper",
                     "crossed_robust"):
            row[name] = _at(getattr(result, name, None), i)
        if row.get("best_epoch") is not None and row["best_epoch"] < 0:
            row["best_epoch"] = None  # no truth, no oracle epoch
        eps = getattr(result, "eps", None) or {}
        for part, v in eps.items():
            row[f"eps_{part}"] = _at(v, i)
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
                    row[f"time_{k}"] = _at(v, i) if np.ndim(v) else float(v)
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


def _n_augmented(cfg: ExperimentConfig, n_train: int) -> int:
    return max(1, int(round(cfg.n_augmented_factor * n_train)))


def _write_summary(run: RunDir, summary: list[dict], name: str = "summary") -> None:
    _write_csv(run.path / f"{name}.csv", summary)
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


def _ratio_columns(rows: list[dict]) -> None:
    for r in rows:
        t = r.get("mse_train")
        for part in ("augmented", "combined"):
            v = r.get(f"mse_{part}")
            r[f"ratio_{part}"] = (v / t) if (v is not None and t) else None


SUMMARY_VALUES = ("mse_train", "mse_augmented", "mse_combined", "ratio_augmented", "ratio_combined",
                  "mse_augmented_at_paper", "mse_augmented_at_robust", "mse_augmented_at_best",
                  "mse_combined_at_paper", "mse_combined_at_robust", "mse_combined_at_best", "stop_epoch",
                  "best_epoch")
TABLE_COLUMNS = {"MSE train only": "mse_train", "MSE augmented": "mse_augmented",
                 "MSE aug+train": "mse_combined", "aug/train": "ratio_augmented"}


# --------------------------------------------------------------------------------------------------------------------
# Fig. 2


def _fig2_plot(run: RunDir, curves: list[dict], rows: list[dict], title: str, path: str = "fig2.png") -> Path:
    """Fig. 2 over several seeds, each seed normalised by its own reference so that seeds can share one axis.

    Top: MSE of augmented (and augmented + training) data over the training-only MSE of the same seed. Bottom:
    generated energy variance over the same seed's test variance (the stopping rule fires where it reaches 1). Thin
    lines are seeds, thick lines their mean; vertical lines mark each seed's stops. The raw curves are in
    ``curves.csv``.
    """
    from ising_diffusion.experiments_lib.plotting import plt, save_figure

    seeds = sorted({r["seed"] for r in curves})
    epochs = sorted({r["epoch"] for r in curves})
    x = np.asarray(epochs, float)

    def grid(col):
        g = np.full((len(seeds), len(epochs)), np.nan)
        for r in curves:
            if r.get(col) is not None:
                g[seeds.index(r["seed"]), epochs.index(r["epoch"])] = r[col]
        return g

    def lines(ax, values, color, label):
        for v in values:
            ax.plot(x, v, color=color, lw=0.8, alpha=0.35)
        ax.plot(x, np.nanmean(values, 0), color=color, lw=2, label=label)

    train_mse = {r["seed"]: r.get("mse_train") for r in rows}
    ref = np.asarray([train_mse.get(s) or np.nan for s in seeds], float)[:, None]
    mse_cols = [c for c in ("mse_augmented", "mse_combined") if any(r.get(c) is not None for r in curves)]
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 7.5), sharex=True)
    ax = axes[0]
    if mse_cols and np.all(np.isfinite(ref)):
        for c, color in zip(mse_cols, ("tab:blue", "tab:orange")):
            lines(ax, grid(c) / ref, color, {"mse_augmented": "augmented", "mse_combined": "augmented + training"}[c]
                  + " (seeds thin, mean thick)")
        ax.axhline(1.0, color="k", ls="--", label="training only")
        ax.set_ylabel("MSE / training-only MSE of the same seed")
    else:  # no planted truth: show the training loss instead
        lines(ax, grid("loss"), "tab:blue", "training loss")
        ax.set_ylabel("training loss")
    ax.set_title(title)
    ax = axes[1]
    test = grid("test_variance")
    lines(ax, grid("generated_variance") / test, "tab:blue", "generated")
    if any(r.get("smoothed_variance") is not None for r in curves):
        ax.plot(x, np.nanmean(grid("smoothed_variance") / test, 0), color="tab:orange", lw=1.2,
                label="generated, smoothed (robust rule; mean)")
    ax.axhline(1.0, color="tab:red", ls=":", label="test, held out")
    ax.plot(x, np.nanmean(grid("train_variance") / test, 0), ls="--", color="tab:green", label="training (mean)")
    if any(r.get("test_variance_low") is not None for r in curves):
        lo, hi = np.nanmean(grid("test_variance_low") / test, 0), np.nanmean(grid("test_variance_high") / test, 0)
        ax.fill_between(x, lo, hi, color="tab:red", alpha=0.1, label="test bootstrap band (mean)")
    ax.set_ylabel("energy variance / test variance, E(s; w_train)")
    ax.set_xlabel("diffusion training epoch")
    for a in axes:
        for rule, style in (("stop_epoch_paper", dict(color="tab:red", ls="-.")),
                            ("stop_epoch_robust", dict(color="tab:purple", ls="--")),
                            ("best_epoch", dict(color="tab:green", ls=":"))):
            vals = [r.get(rule) for r in rows if r.get(rule) is not None]
            for k, v in enumerate(vals):
                a.axvline(v, alpha=0.6, lw=1, **style,
                          label={"stop_epoch_paper": "stop (paper rule)", "stop_epoch_robust": "stop (robust rule)",
                                 "best_epoch": "lowest MSE (oracle)"}[rule] if k == 0 and a is axes[0] else None)
        a.grid(alpha=0.3)
        a.legend(fontsize="small")
    return save_figure(fig, run.path / path)


def run_fig2(cfg: Fig2Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 2: energy-variance stopping curve and MSE against diffusion epochs (see module docstring)."""
    run = open_run(out, "fig2", cfg)
    store, curves = run.table("results"), run.table("curves")
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    point = f"N={cfg.n_spins},g={cfg.g},M={cfg.n_train}"

    def run_point(pid, _):
        task = synthetic_task(keys, cfg.n_spins, cfg.g, cfg.n_train, cfg.n_test, sampler=cfg.sampler,
                              shard=cfg.shard, seed_batch=cfg.seed_batch)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=_n_augmented(cfg, cfg.n_train), progress=progress)
        curves.add(curve_rows(res, seeds, pid))
        rows = result_rows(res, seeds, point=pid, n_spins=cfg.n_spins, g=cfg.g, n_train=cfg.n_train)
        _ratio_columns(rows)
        return rows

    rows = run_sweep([(point, None)], run_point, store, seeds, progress=progress, desc="fig2")
    summary = summarize(rows, ["point"], SUMMARY_VALUES)
    _write_summary(run, summary)
    _fig2_plot(run, [r for r in curves.rows if r["point"] == point], rows,
               f"N={cfg.n_spins}, g={cfg.g}, {cfg.n_train} training samples, {cfg.n_seeds} seeds")
    print(format_table(summary, ["point"], {**TABLE_COLUMNS, "MSE aug @ paper stop": "mse_augmented_at_paper",
                                            "MSE aug @ best epoch": "mse_augmented_at_best"}))
    print(f"[fig2] figure: {run.path / 'fig2.png'}")
    return summary


# --------------------------------------------------------------------------------------------------------------------
# Fig. 3 and the main job


def _g_sweep(run: RunDir, cfg, store: ResultStore, seeds, keys, progress: bool, curves: ResultStore | None = None):
    def run_point(pid, g):
        task = synthetic_task(keys, cfg.n_spins, g, cfg.n_train, cfg.n_test, sampler=cfg.sampler, shard=cfg.shard,
                              seed_batch=cfg.seed_batch)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=_n_augmented(cfg, cfg.n_train), progress=progress)
        if curves is not None:
            curves.add(curve_rows(res, seeds, pid))
        rows = result_rows(res, seeds, point=pid, n_spins=cfg.n_spins, g=float(g), n_train=cfg.n_train)
        _ratio_columns(rows)
        return rows

    points = [(f"g={g}", float(g)) for g in cfg.g_values]
    return run_sweep(points, run_point, store, seeds, progress=progress, desc=run.name)


def _mse_vs_plot(axes, summary, x, xlabel, title, logx=False):
    """MSE (mean +- CI over seeds) on ``axes[0]``; the paired per-seed ratios to training only on ``axes[1]``."""
    from ising_diffusion.experiments_lib.plotting import plot_ratio, plot_summary

    plot_summary(axes[0], summary, x, {"training only": "mse_train", "augmented": "mse_augmented",
                                       "augmented + training": "mse_combined"},
                 xlabel=xlabel, ylabel="MSE of inferred parameters", title=title, logx=logx, logy=True)
    plot_ratio(axes[1], summary, x, {"augmented / training only": "ratio_augmented",
                                     "(augmented + training) / training only": "ratio_combined"},
               xlabel=xlabel, title="paired ratio per seed (below 1: helps)", logx=logx,
               colors=("C1", "C2"))


def run_fig3(cfg: Fig3Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 3: training-only vs augmented (and augmented + training) MSE against g, stopping rule applied."""
    from ising_diffusion.experiments_lib.plotting import plt, save_figure

    run = open_run(out, "fig3", cfg)
    store = run.table("results")
    seeds = list(range(cfg.n_seeds))
    rows = _g_sweep(run, cfg, store, seeds, seed_keys(cfg.seed, seeds), progress)
    summary = summarize(rows, ["g"], SUMMARY_VALUES)
    _write_summary(run, summary)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    _mse_vs_plot(axes, summary, "g", "coupling scale g",
                 f"N={cfg.n_spins}, {cfg.n_train} training samples, {cfg.n_seeds} seeds")
    save_figure(fig, run.path / "fig3.png")
    print(format_table(summary, ["g"], TABLE_COLUMNS))
    print(f"[fig3] figure: {run.path / 'fig3.png'}")
    return summary


def run_main(cfg: MainConfig, out: str | Path, *, progress: bool = True) -> list[dict]:
    """The main job: synthetic SK data, diffusion augmentation with the stopping rule, the MSE table, and a
    two-panel figure (Fig. 2-style curve of the first g; Fig. 3-style MSE per g)."""
    from ising_diffusion.experiments_lib.plotting import plt, save_figure

    t0 = time.perf_counter()
    run = open_run(out, "main", cfg)
    store, curves = run.table("results"), run.table("curves")
    seeds = list(range(cfg.n_seeds))
    rows = _g_sweep(run, cfg, store, seeds, seed_keys(cfg.seed, seeds), progress, curves)
    summary = summarize(rows, ["g"], SUMMARY_VALUES)
    _write_summary(run, summary)

    first = f"g={cfg.g_values[0]}"
    _fig2_plot(run, [r for r in curves.rows if r["point"] == first], [r for r in rows if r["point"] == first],
               f"N={cfg.n_spins}, {first}, {cfg.n_train} training samples, {cfg.n_seeds} seeds", "main_curve.png")
    if len(cfg.g_values) > 1:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        _mse_vs_plot(axes, summary, "g", "coupling scale g", f"N={cfg.n_spins}, {cfg.n_train} training samples")
    else:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        labels = ["training only", "augmented", "augmented + training"]
        s = summary[0]
        means = [s[f"{c}_mean"] for c in MSE_COLUMNS]
        errs = [[m - s[f"{c}_lo"] if not math.isnan(s[f"{c}_lo"]) else 0 for m, c in zip(means, MSE_COLUMNS)],
                [s[f"{c}_hi"] - m if not math.isnan(s[f"{c}_hi"]) else 0 for m, c in zip(means, MSE_COLUMNS)]]
        ax.bar(labels, means, yerr=errs, capsize=5, color=["0.6", "tab:blue", "tab:orange"])
        for k, c in enumerate(MSE_COLUMNS):
            ax.scatter([k] * len(rows), [r[c] for r in rows], color="k", s=10, zorder=3,
                       label="per seed" if k == 0 else None)
        ax.set_ylabel("MSE of inferred parameters")
        ax.set_title(f"N={cfg.n_spins}, {first}, {cfg.n_train} training samples ({cfg.n_seeds} seeds, 95% CI)")
        ax.legend(fontsize="small")
    save_figure(fig, run.path / "main_mse.png")
    print()
    print("Inverse Ising MSE (mean [95% CI] over seeds): training data only vs diffusion-augmented data")
    print(format_table(summary, ["g"], {**TABLE_COLUMNS, "aug+train/train": "ratio_combined",
                                        "MSE aug @ best epoch": "mse_augmented_at_best"}))
    print(f"[main] figures: {run.path / 'main_curve.png'}, {run.path / 'main_mse.png'}; "
          f"numbers: {run.path / 'results.csv'} ({time.perf_counter() - t0:.0f} s)")
    return summary


# --------------------------------------------------------------------------------------------------------------------
# Fig. 4


def _n_test(cfg, n_train: int) -> int:
    return max(1, int(round(cfg.test_fraction * n_train)))


def run_fig4(cfg: Fig4Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 4: (a-c) MSE against training size per N; (d-f) MSE against the number of augmented samples, alone and
    together with the training data (one generator per N, its first ``count`` samples used for each count)."""
    from ising_diffusion.experiments_lib.plotting import plot_summary, plt, save_figure

    run = open_run(out, "fig4", cfg)
    store = run.table("results")
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    pool = {n: max(m + _n_test(cfg, m) for m in sizes) for n, sizes in cfg.sizes}
    for n, m in cfg.aug_n_train:
        pool[n] = max(pool.get(n, 0), m + _n_test(cfg, m))

    def task_for(n, m):
        # the largest test set of this N, shared by every training size; nested training sets
        n_test = max(_n_test(cfg, mm) for mm in dict(cfg.sizes).get(n, (m,)) + (m,))
        return synthetic_task(keys, n, cfg.g, m, n_test, n_pool=pool[n] + n_test, sampler=cfg.sampler,
                              shard=cfg.shard, seed_batch=cfg.seed_batch)

    def size_point(pid, nm):
        n, m = nm
        task = task_for(n, m)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=_n_augmented(cfg, m), progress=progress)
        rows = result_rows(res, seeds, point=pid, panel="size", n_spins=n, n_train=m, g=cfg.g)
        _ratio_columns(rows)
        return rows

    def count_point(pid, nm):
        n, m = nm
        counts = [max(1, int(round(c * m))) for c in cfg.aug_counts]
        task = task_for(n, m)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=max(counts), progress=progress)
        mse_train = np.asarray(res.mse["train"])
        rows = []
        for c in tqdm_counts(counts, progress):
            aug = jnp.asarray(res.samples)[:, :c]
            p_aug = infer_seeds(aug, shard=cfg.shard, seed_batch=cfg.seed_batch)
            p_comb = infer_seeds(jnp.concatenate([aug, task.train], axis=1), shard=cfg.shard,
                                 seed_batch=cfg.seed_batch)
            m_aug, m_comb = np.asarray(mse_seeds(task.truth, p_aug)), np.asarray(mse_seeds(task.truth, p_comb))
            for i, s in enumerate(seeds):
                rows.append({"point": pid, "part": f"n_aug={c}", "panel": "count", "n_spins": n, "n_train": m,
                             "g": cfg.g, "n_augmented": c, "aug_per_train": c / m, "seed": s,
                             "mse_train": float(mse_train[i]), "mse_augmented": float(m_aug[i]),
                             "mse_combined": float(m_comb[i]), "stop_epoch": _at(res.stop_epoch, i)})
        _ratio_columns(rows)
        return rows

    points = [(f"size:N={n},M={m}", (n, m)) for n, sizes in cfg.sizes for m in sizes]
    points += [(f"count:N={n},M={m}", (n, m)) for n, m in cfg.aug_n_train]
    rows = run_sweep(points, lambda pid, p: (size_point if pid.startswith("size") else count_point)(pid, p),
                     store, seeds, progress=progress, desc="fig4")
    size_rows = [r for r in rows if r["panel"] == "size"]
    count_rows = [r for r in rows if r["panel"] == "count"]
    summary = (summarize(size_rows, ["panel", "n_spins", "n_train"], SUMMARY_VALUES) +
               summarize(count_rows, ["panel", "n_spins", "n_train", "n_augmented"], SUMMARY_VALUES[:5]))
    _write_summary(run, summary)

    ns = [n for n, _ in cfg.sizes]
    n_cols = max(len(ns), len(cfg.aug_n_train))
    fig, axes = plt.subplots(3, n_cols, figsize=(5 * n_cols, 12), squeeze=False)
    for j, n in enumerate(ns):
        _mse_vs_plot(axes[:2, j], [s for s in summary if s["panel"] == "size" and s["n_spins"] == n], "n_train",
                     "training samples", f"({'abc'[j % 3]}) N={n}, g={cfg.g}", logx=True)
    for j, (n, m) in enumerate(cfg.aug_n_train):
        plot_summary(axes[2, j], [s for s in summary if s["panel"] == "count" and s["n_spins"] == n],
                     "n_augmented", {"training only": "mse_train", "augmented only": "mse_augmented",
                                     "augmented + training": "mse_combined"},
                     xlabel="augmented samples", ylabel="MSE of inferred parameters",
                     title=f"({'def'[j % 3]}) N={n}, {m} training samples", logx=True, logy=True)
    for ax in axes.ravel():
        if not ax.has_data():
            ax.set_visible(False)
    save_figure(fig, run.path / "fig4.png")
    print(format_table([s for s in summary if s["panel"] == "size"], ["n_spins", "n_train"], TABLE_COLUMNS))
    print()
    print(format_table([s for s in summary if s["panel"] == "count"], ["n_spins", "n_train", "n_augmented"],
                       {k: v for k, v in TABLE_COLUMNS.items()} | {"aug+train/train": "ratio_combined"}))
    print(f"[fig4] figure: {run.path / 'fig4.png'}")
    return summary


def tqdm_counts(counts, progress):
    from tqdm.auto import tqdm

    return tqdm(counts, desc="augmented-sample counts", disable=not progress, leave=False)


# --------------------------------------------------------------------------------------------------------------------
# Fig. 5


def run_fig5(cfg: Fig5Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Fig. 5: diffusion vs RBM vs VAE (vs GAN) as the generator, MSE against training size at one N."""
    from ising_diffusion.experiments_lib.plotting import plt, save_figure

    from ising_diffusion import GENERATOR_CONFIGS

    generators = tuple(g for g in cfg.generators if g in GENERATOR_CONFIGS)
    if len(generators) < len(cfg.generators):
        warnings.warn(f"generators {[g for g in cfg.generators if g not in generators]} are not registered in this "
                      f"build (registered: {sorted(GENERATOR_CONFIGS)}); fig5 runs without them")
    if not generators:
        raise ValueError(f"none of the generators {cfg.generators} is registered")
    run = open_run(out, "fig5", cfg)
    store = run.table("results")
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)
    n_test = max(_n_test(cfg, m) for m in cfg.n_train_values)
    n_pool = max(cfg.n_train_values) + n_test

    def run_point(pid, gm):
        gen, m = gm
        task = synthetic_task(keys, cfg.n_spins, cfg.g, m, n_test, n_pool=n_pool, sampler=cfg.sampler,
                              shard=cfg.shard, seed_batch=cfg.seed_batch)
        res = augment_point(run, pid, cfg, keys, task, n_augmented=_n_augmented(cfg, m), generator=gen,
                            generator_overrides=cfg.generator_configs.get(gen, {}), progress=progress)
        rows = result_rows(res, seeds, point=pid, generator=gen, n_spins=cfg.n_spins, n_train=m, g=cfg.g)
        _ratio_columns(rows)
        return rows

    points = [(f"{gen}:M={m}", (gen, m)) for gen in generators for m in cfg.n_train_values]
    rows = run_sweep(points, run_point, store, seeds, progress=progress, desc="fig5")
    summary = summarize(rows, ["generator", "n_train"], SUMMARY_VALUES)
    _write_summary(run, summary)

    fig, (ax, ax_ratio) = plt.subplots(1, 2, figsize=(13, 4.5))
    from ising_diffusion.experiments_lib.plotting import plot_ratio, plot_summary

    first = [s for s in summary if s["generator"] == generators[0]]
    plot_summary(ax, first, "n_train", {"training only": "mse_train"}, xlabel="training samples",
                 ylabel="MSE of inferred parameters", logx=True, logy=True)
    for k, gen in enumerate(generators):
        rows_gen, markers = [s for s in summary if s["generator"] == gen], "sd^v<>o"[k:] + "o"
        plot_summary(ax, rows_gen, "n_train", {f"{gen.upper()} augmented": "mse_augmented"},
                     xlabel="training samples", ylabel="MSE of inferred parameters", logx=True, logy=True,
                     markers=markers)
        plot_ratio(ax_ratio, rows_gen, "n_train", {f"{gen.upper()} augmented": "ratio_augmented"},
                   xlabel="training samples", title="augmented / training only, paired per seed (below 1: helps)",
                   logx=True, markers=markers, colors=(f"C{k + 1}",), break_even=k == 0)
    ax.set_title(f"N={cfg.n_spins}, g={cfg.g}, {cfg.n_seeds} seeds: generators compared")
    save_figure(fig, run.path / "fig5.png")
    print(format_table(summary, ["generator", "n_train"], TABLE_COLUMNS))
    print(f"[fig5] figure: {run.path / 'fig5.png'}")
    return summary
