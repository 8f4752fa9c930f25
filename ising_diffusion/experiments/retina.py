"""The pieces of Fig. 6 (missing-value reconstruction on the salamander retina, METHODS.md section 6): the models of
all seeds fitted in one seed-batched augmentation, random masks, and the scores of one mask.

Models, in table order (:func:`model_names`): the trivial baseline (each hidden cell filled with its more frequent
training state), the independent model, and each solver (erasure machine, pseudolikelihood) fitted on the training
data (``_train``), the generated samples (``_augmented``) and both (``_combined``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.io.npz import save_npz
from ising_diffusion.experiments import synthetic
from ising_diffusion.experiments.configs.fig6 import Fig6Config
from ising_diffusion.experiments.runner import RunDir, run_seeds
from ising_diffusion.inference import infer_batch
from ising_diffusion.ising import IsingParams
from ising_diffusion.reconstruct import complete_missing, majority_completion, reconstruction_scores

__all__ = ["METRICS", "model_names", "fit_models", "save_models", "load_models", "random_masks", "evaluate_models", "mask_means"]

METRICS = ("accuracy", "accuracy_active", "accuracy_silent", "cll_per_entry", "cll_minus_independent")


def model_names(config: Fig6Config) -> list[str]:
    """Models in table order: baselines first, then each solver on train / augmented / combined data."""
    return ["trivial", "independent"] + [f"{s}_{d}" for s in config.solvers for d in ("train", "augmented", "combined")]


def fit_models(run: RunDir, keys, train, test, config: Fig6Config, *, progress: bool = True):
    """Every seed's fitted models, from one seed-batched diffusion augmentation (energy-variance stopping rule).

    Args:
      run: the run folder (generator checkpoints under ``checkpoints/models/``; resumable).
      keys: ``(S,)`` generator keys.
      train, test: ``(S, M, N)`` and ``(S, Mt, N)`` spins (already validated by the loader).
      config: :class:`Fig6Config`.
      progress: progress bars.

    Returns:
      ``(params, result)``: ``params`` maps model name to ``IsingParams`` with a leading ``(S,)`` axis (no entry for
      ``"trivial"``); ``result`` is the seed-batched ``AugmentResult``.
    """
    ckpt = run.checkpoint_dir("models")

    def call(k, tr, te, batch):
        return synthetic.augment_seeds(k, tr, te, generator="ddpm", n_augmented=config.n_augmented,
                                       config=config.augment, generator_config=config.ddpm,
                                       checkpoint_dir=str(ckpt / f"seeds{batch[0]}-{batch[1]}"), progress=progress,
                                       validate=False)

    res = run_seeds(call, keys, train, test, shard=config.shard, seed_batch=config.seed_batch, pass_batch=True)
    batch = dict(shard=config.shard, seed_batch=config.seed_batch)
    params = {"independent": run_seeds(lambda x: infer_batch(x, "independent_exact", validate=False), train, **batch)}
    samples = jnp.asarray(res.samples)
    data = {"train": train, "augmented": samples, "combined": jnp.concatenate([samples, train], axis=1)}
    for solver in config.solvers:
        if solver == "erasure":  # augment fits the erasure machine itself (w_train also drives the stopping rule)
            params.update(erasure_train=res.params_train, erasure_augmented=res.params_augmented,
                          erasure_combined=res.params_combined)
        else:  # "pseudolikelihood" at the fixed config.pl_l2, "pseudolikelihood_cv" with a cross-validated l2
            l2 = "cv" if solver == "pseudolikelihood_cv" else config.pl_l2
            for part, x in data.items():
                params[f"{solver}_{part}"] = synthetic.infer_seeds_batch(x, "pseudolikelihood", l2=l2, **batch)
    return params, res


def save_models(path, params: dict) -> None:
    """Save seed-batched ``IsingParams`` by model name to an ``.npz`` (``<model>__h``, ``<model>__J``)."""
    save_npz(path, **{f"{n}__{f}": np.asarray(getattr(p, f)) for n, p in params.items() for f in ("h", "J")})


def load_models(path) -> dict:
    """The models saved by :func:`save_models`."""
    with np.load(path) as f:
        names = sorted({k.split("__")[0] for k in f.files})
        return {n: IsingParams(jnp.asarray(f[f"{n}__h"]), jnp.asarray(f[f"{n}__J"])) for n in names}


def random_masks(key, n_patterns: int, n_cells: int, k: int) -> np.ndarray:
    """``(n_patterns, n_cells)`` boolean mask; each row hides its own ``k`` cells, uniform without replacement."""
    u = jax.random.uniform(key, (n_patterns, n_cells))
    order = np.asarray(jnp.argsort(u, axis=1))[:, :k]
    hidden = np.zeros((n_patterns, n_cells), bool)
    np.put_along_axis(hidden, order, True, axis=1)
    return hidden


def evaluate_models(params: dict, train, test, hidden) -> list[dict]:
    """Score the trivial baseline and every model on one mask.

    Args:
      params: model name -> ``IsingParams`` of one seed (must include ``"independent"``).
      train: ``(M, N)`` training spins (the trivial baseline's frequencies).
      test: ``(P, N)`` scored test patterns.
      hidden: ``(P, N)`` boolean mask, ``k`` hidden cells per row.

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


def mask_means(rows: list[dict], models: list[str]) -> list[dict]:
    """Average the masks of each ``(k, model, seed)``: the masks are repeats within one seed, so the interval over
    seeds (:func:`rows.summarize`) is the one the figures 2-5 use. Ordered by ``k``, model, seed."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["k"], models.index(r["model"]), r["seed"]), []).append(r)
    out = []
    for (k, m, s), grp in sorted(groups.items()):
        row = {"k": k, "model": models[m], "seed": s, "n_masks": len(grp)}
        for name in METRICS:
            v = np.asarray([g[name] if g[name] is not None else np.nan for g in grp], np.float64)
            row[name] = float(np.mean(v)) if np.any(np.isfinite(v)) else None
        out.append(row)
    return out
