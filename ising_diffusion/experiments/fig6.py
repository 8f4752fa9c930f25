"""Fig. 6 of Lim, Lee & Jo (2025): missing-value reconstruction on the salamander retina, training-only vs augmented.

Usage: ``ising-diffusion run fig6 --preset quick --out runs/fig6-quick`` (or ``python -m experiments.fig6 ...`` in a
checkout; ``--data PATH`` names the recording). Every seed loads the most active cells with its own shuffle and
train/test split; all seeds then train their diffusion models in one seed-batched ``augment_seeds`` call (energy-
variance stopping rule) and each solver is fitted on training, generated and generated + training samples
(:mod:`ising_diffusion.experiments.retina`). For every ``k`` (one sweep point) and random mask, each scored test
pattern hides its own ``k`` random cells; each model fills them with its most probable completion (exact over the
``2^k`` completions) and scores the true hidden values' conditional log-likelihood. Outputs in the run folder:
``results.csv`` (one row per k, seed, mask and model), ``summary.csv`` (masks averaged within a seed, then mean and
95% Student-t CI over seeds, as figs 2-5), ``diffusion.csv`` (stop epochs per seed), ``curves.csv``, ``models.npz``
and ``fig6.png``. Rerunning with the same ``--out`` resumes: finished ``k`` are skipped and the fitted models reused.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.datasets import load_retina
from ising_diffusion.datasets.retina import find_retina_file
from ising_diffusion.experiments import retina
from ising_diffusion.experiments.configs.fig6 import PRESETS, Fig6Config, get_config
from ising_diffusion.experiments.entry import figure_main
from ising_diffusion.experiments.rows import curve_rows, format_table, result_rows, summarize, write_summary
from ising_diffusion.experiments.runner import open_run, run_sweep, seed_keys

__all__ = ["run_fig6", "main"]

TABLE = {"acc": "accuracy", "acc active": "accuracy_active", "acc silent": "accuracy_silent",
         "cll/entry": "cll_per_entry", "cll - indep": "cll_minus_independent"}


def run_fig6(cfg: Fig6Config, out: str | Path, *, progress: bool = True) -> list[dict]:
    """Run (or resume) Fig. 6 into the run folder ``out``.

    Args:
      cfg: :class:`Fig6Config`.
      out: the run folder (reused: resume; a different config is refused).
      progress: progress bars.

    Returns:
      the summary rows by ``k`` and model (mean and 95% CI over seeds of the per-seed mask averages).
    """
    from ising_diffusion.experiments.plotting import plot_fig6

    run = open_run(out, "fig6", cfg, inputs=_recording_fingerprint(cfg.data_path))
    store, curves, diffusion = run.table("results"), run.table("curves"), run.table("diffusion")
    seeds = list(range(cfg.n_seeds))
    keys = seed_keys(cfg.seed, seeds)  # seed s: data fold_in(., 0), generator fold_in(., 1), masks fold_in(., 2)
    models = retina.model_names(cfg)
    state: dict = {}

    def data():
        if "train" not in state:
            sets = [load_retina(cfg.data_path, n_cells=cfg.n_cells, key=jax.random.fold_in(k, 0), n_train=cfg.n_train,
                                n_test=cfg.n_test) for k in keys]
            state["train"] = jnp.stack([jnp.asarray(d.train) for d in sets])
            state["test"] = jnp.stack([jnp.asarray(d.test) for d in sets])
        return state["train"], state["test"]

    def fitted():
        if "params" not in state:
            path = run.path / "models.npz"
            if path.exists():
                state["params"] = retina.load_models(path)
            else:
                train, test = data()
                gkeys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
                params, res = retina.fit_models(run, gkeys, train, test, cfg, progress=progress)
                curves.add(curve_rows(res, seeds, "models"))
                diffusion.add(result_rows(res, seeds, point="models"))
                retina.save_models(path, params)
                state["params"] = retina.load_models(path)  # the saved numbers, so a resumed run scores the same
        return state["params"]

    def run_point(pid, k):
        params = fitted()
        train, test = data()
        rows = []
        for i, s in enumerate(seeds):
            p = {m: jax.tree.map(lambda x: x[i], params[m]) for m in models if m in params}
            test_s = np.asarray(test[i])[: cfg.n_eval]
            for mask in range(cfg.n_masks):
                mkey = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(keys[i], 2), k), mask)
                hidden = retina.random_masks(mkey, test_s.shape[0], cfg.n_cells, k)
                rows += [dict(point=pid, k=k, seed=s, mask=mask, **r)
                         for r in retina.evaluate_models(p, np.asarray(train[i]), test_s, hidden)]
        return rows

    rows = run_sweep([(f"k={k}", k) for k in cfg.ks], run_point, store, seeds, progress=progress, desc="fig6")
    summary = summarize(retina.mask_means(rows, models), ["k", "model"], retina.METRICS)
    write_summary(run, summary)
    plot_fig6(run.path / "fig6.png", summary, curves.rows, models)
    print(format_table(summary, ["k", "model"], TABLE))
    print(f"[fig6] figure: {run.path / 'fig6.png'}; numbers: {run.path / 'results.csv'}, {run.path / 'summary.csv'}")
    return summary


def _recording_fingerprint(path) -> dict[str, str] | None:
    """``{"retina": SHA-256 of the recording file}``, or ``None`` where there is none (a finished run re-plotted
    without its data): a resume on another recording is refused (:func:`open_run`)."""
    try:
        file = find_retina_file(path)
    except FileNotFoundError:
        return None
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"retina": digest.hexdigest()}


def main(argv=None):
    """Run Fig. 6 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig6", argv, get_config, run_fig6, PRESETS, __doc__.splitlines()[0], data_option=True)


if __name__ == "__main__":
    main(sys.argv[1:])
