"""The ``augment:<generator>`` methods of the ``msa`` experiment: :func:`ising_diffusion.augment.augment` on one
subsample, and its two rows.

The subsample is split once, seeded and the same for every generator: :func:`heldout_split` holds out
``MSAConfig.heldout_size(M)`` sequences (20% by default, at least 4) and ``augment`` trains the q-state generator on
the rest, fits the Potts model by weighted pseudolikelihood with ``plm_cv``'s options (``lambda_J`` cross-validated on
the training sequences) and scores every fit by the weighted pseudo-log-likelihood of the held-out sequences.

* ``augment:<generator>``: the fit a user of ``augment`` gets. When ``augment`` recommends augmentation, the selected
  fit (training + the chosen mix of generated sequences, ``result.params_selected``; with a stopping rule other than
  ``"score"`` in ``cfg.augment``, training + all generated sequences); when it declines, the safe answer:
  the ``plm_cv`` fit on the *whole* subsample (the same row's numbers, copied), so declining never costs the held-out
  sequences.
* ``augment:<generator>:mix``: CV pseudolikelihood on training + all generated sequences (``result.params_combined``,
  ``lambda_J`` cross-validated again over that set and reported in the row), whatever ``augment`` decided.

Both rows carry ``recommended`` (0/1), ``mix`` (the chosen ratio of generated to training sequences, 0 when declined),
the split's sizes, ``score_gain`` (the best monitored held-out score of a fit with generated sequences minus the
training fit's; the score rule recommends only a gain beyond ``score_z`` standard errors), ``reason`` (``augment``'s
sentence saying why it recommended or declined) and the generator's quality (:func:`quality_columns`).
"""

from __future__ import annotations

import time

import numpy as np

from ising_diffusion.experiments.configs.msa import MIX_SUFFIX, Q, MSAConfig
from ising_diffusion.experiments.msa_summary import TOPS, precision_columns

__all__ = ["QUALITY_COLUMNS", "heldout_split", "quality_columns", "augment_rows"]

#: the generator-quality columns of an ``augment:`` row (``GeneratorQuality`` field, or field and quantile index)
QUALITY_COLUMNS = {"quality_single_ratio": "single_ratio", "quality_pair_ratio": "pair_ratio",
                   "quality_identical": "identical_fraction", "quality_heldout_identical": "heldout_identical_fraction",
                   "quality_copies": "copy_fraction",
                   "quality_median_distance": ("distance_quantiles", 0.5),
                   "quality_heldout_median_distance": ("heldout_distance_quantiles", 0.5)}


def heldout_split(depth: int, k: int, n_heldout: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out positions ``(0 .. depth-1)`` of subsample ``k``: ``n_heldout`` of them from
    ``default_rng([seed, depth, k, 1]).permutation(depth)`` (its own stream: not the subsample's draw), both sorted.

    Raises:
      ValueError: fewer than 2 sequences on either side.
    """
    if not 2 <= n_heldout <= depth - 2:
        raise ValueError(f"n_heldout must leave at least 2 sequences on each side of {depth}, got {n_heldout}")
    perm = np.random.default_rng([seed, depth, k, 1]).permutation(depth)
    return np.sort(perm[n_heldout:]), np.sort(perm[:n_heldout])


def quality_columns(quality) -> dict:
    """The scalar columns :data:`QUALITY_COLUMNS` of a :class:`~ising_diffusion.msa_quality.GeneratorQuality`: the
    single-site and pair RMS ratios (1.0 = as close to the held-out set as the training set is), the fractions
    identical to a training sequence, the fraction of copies and near-copies (``copy_fraction``; rows recorded before
    2026-12-05 lack it), and the median Hamming distances to the nearest training sequence."""
    from ising_diffusion.msa_quality import QUANTILE_LEVELS

    out = {}
    for col, field in QUALITY_COLUMNS.items():
        if isinstance(field, tuple):
            name, level = field
            out[col] = float(np.asarray(getattr(quality, name))[QUANTILE_LEVELS.index(level)])
        else:
            out[col] = float(getattr(quality, field))
    return out


def augment_rows(seqs: np.ndarray, contacts: np.ndarray, cfg: MSAConfig, generator: str, depth: int, k: int,
                 safe_row, *, checkpoint_dir=None, progress: bool = False, generated_path=None) -> list[dict]:
    """Run ``augment`` on one subsample and return its two rows (see the module docstring).

    Args:
      seqs: ``(M, L)`` the subsample's sequences (states of ``PROTEIN_ALPHABET``, gap 0).
      contacts: ``(L, L)`` bool contact map.
      cfg: the experiment's config (``augment``, ``generator_options``, ``heldout_fraction``, ``seed``, ``theta``).
      generator: a q-state generator name.
      depth, k: the subsample's depth and index: the split's seed and the ``augment`` key,
        ``fold_in(fold_in(key(cfg.seed), depth), k)`` (the same split and key for every generator: paired).
      safe_row: ``safe_row() -> dict``: the ``plm_cv`` row of the whole subsample (``fit_row``'s columns), called only
        when ``augment`` declines.
      checkpoint_dir: ``augment``'s checkpoints (an interrupted call resumes there).
      progress: ``augment``'s progress bar.
      generated_path: if given, the generated sequences (all of them, ``n_generated``: the ``:mix`` row's) are written
        there as FASTA (gzip-compressed for ``.gz``; ids ``gen1 ...``), atomically, before the rows are returned, so
        a later refit needs no retraining.

    Returns:
      ``[row, mix_row]`` with ``"method"`` set (the caller adds the family, depth and subsample).
    """
    import warnings

    import jax

    from ising_diffusion.augment import AugmentConfig, AugmentationNotRecommendedWarning, augment
    from ising_diffusion.augment.rules import curve_gain
    from ising_diffusion.contacts import contact_scores
    from ising_diffusion.generative import make_generator_config
    from ising_diffusion.msa import effective_count, sequence_weights

    if seqs.shape[0] != depth:
        raise ValueError(f"seqs has {seqs.shape[0]} sequences, not depth={depth}")
    key = jax.random.fold_in(jax.random.fold_in(jax.random.key(cfg.seed), depth), k)
    tr, te = heldout_split(depth, k, cfg.heldout_size(depth), cfg.seed)
    train, test = seqs[tr], seqs[te]
    config = AugmentConfig(**cfg.augment)
    gen_config = make_generator_config(generator, {"n_states": Q, **cfg.generator_options.get(generator, {})})
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # a decline is an outcome here, recorded in the rows
        warnings.simplefilter("ignore", AugmentationNotRecommendedWarning)
        res = augment(key, train, test, generator=generator, config=config, generator_config=gen_config,
                      checkpoint_dir=checkpoint_dir, progress=progress, solver_options=cfg.augment_solver_options(),
                      q=Q, theta=cfg.theta)
    samples = np.asarray(res.samples)
    if generated_path is not None:
        from ising_diffusion.io.alignment import write_alignment

        write_alignment(generated_path, samples, ids=[f"gen{i + 1}" for i in range(samples.shape[0])])
    train_w = np.asarray(sequence_weights(train, cfg.theta))
    mix_w = np.asarray(sequence_weights(np.concatenate([samples, train]), cfg.theta))
    seconds = time.perf_counter() - t0  # the call and the weights (compilation included)
    recommended = bool(res.recommended)
    grid = np.asarray(config.selection.mix_grid)
    # the best monitored fit with generated sequences against the training fit (res.score["selected"] is -inf
    # when no fit cleared the score rule's margin)
    best_gain = float(curve_gain(res.curve.score, res.score["train"]))
    common = {"recommended": int(recommended), "mix": float(res.stop_mix), "n_train": int(train.shape[0]),
              "n_heldout": int(test.shape[0]), "n_generated": int(samples.shape[0]),
              "score_gain": best_gain, "reason": str(res.reason), **quality_columns(res.quality)}

    def scored(params) -> dict:
        return precision_columns(contact_scores(params, gap_state=0), contacts)

    if recommended and config.stopping == "score":
        n_gen = int(np.asarray(res.curve.mix_sizes)[list(grid).index(float(res.stop_mix))])
        # M_eff: the training sequences' (the generated ones of the selected fit are not returned)
        answer = {"n_seqs": int(train.shape[0]) + n_gen, "M_eff": effective_count(train_w),
                  **scored(res.params_selected), "lambda_J": float(res.solver_l2), "seconds": seconds}
    elif recommended:  # the other stopping rules select params_combined: training + every generated sequence
        answer = {"n_seqs": int(train.shape[0] + samples.shape[0]), "M_eff": effective_count(mix_w),
                  **scored(res.params_selected), "lambda_J": float(res.solver_l2_combined), "seconds": seconds}
    else:
        safe = safe_row()
        answer = {c: safe[c] for c in ("n_seqs", "M_eff", *TOPS.values(), "lambda_J")}
        answer["seconds"] = seconds + float(safe["seconds"])
    name = f"augment:{generator}"
    mix = {"n_seqs": int(train.shape[0] + samples.shape[0]), "M_eff": effective_count(mix_w),
           **scored(res.params_combined), "lambda_J": float(res.solver_l2_combined), "seconds": seconds}
    return [{"method": name, **answer, **common}, {"method": name + MIX_SUFFIX, **mix, **common}]
