"""The Potts side of :func:`~ising_diffusion.augment.augment`'s kernel: weighted pseudolikelihood fits and the
held-out score of alignments, as a :class:`~ising_diffusion.augment.solver.DataModel`.

Every fit weights its sequences at identity ``theta`` over the set it is given (plmc's weights,
:func:`ising_diffusion.msa.traced_sequence_weights`): a monitor fit to training + generated sequences reweights their
union, so a generated copy of a training sequence shares that sequence's weight instead of adding its own. The full
fit runs the options as given (``l2="cv"``: ``lambda_J`` cross-validated, the default); the monitor fits reuse the
``lambda_J`` chosen on the training data. The combined fit (training + the final generated sequences,
``params_combined``) cross-validates ``lambda_J`` again, with each generated near-copy held out together with its
training sequence (:func:`parent_folds`): in position folds a copy and its original land on both sides of the split,
and the held-out score rewards weak penalties (on PF00014 with one-site mutants of the training sequences it chose
the grid's smallest ``lambda_J`` and lost a quarter of the top-L/2 precision; docs/msa.md). The held-out terms are
each test sequence's log-pseudolikelihood times ``Mt w_m / sum(w)`` (test weights at ``theta`` over the test set), so
their mean is the weighted mean log-pseudolikelihood and their paired differences give the score rule's z test.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ising_diffusion.augment.solver import DataModel, SolverFits
from ising_diffusion.inference.cv import check_cv_settings
from ising_diffusion.inference.potts_pseudolikelihood import (
    check_pseudolikelihood_options,
    potts_log_pseudolikelihood,
    traced_potts_pseudolikelihood,
    traced_potts_pseudolikelihood_cv,
)
from ising_diffusion.msa import min_identity, traced_sequence_weights
from ising_diffusion.msa_quality import default_block, nearest_rows
from ising_diffusion.potts import potts_energy, potts_parameter_mse

__all__ = ["POTTS_SOLVER", "DEFAULT_POTTS_OPTIONS", "POTTS_OPTIONS", "resolve_potts_solver", "potts_held_out_terms",
           "parent_folds", "potts_model"]

#: The solver name ``augment`` reports for alignments (``dca``'s ``"plm"`` is accepted as the same).
POTTS_SOLVER = "potts_pseudolikelihood"
#: Its default options: ``lambda_J`` by cross-validation of the weighted pseudolikelihood.
DEFAULT_POTTS_OPTIONS = {"l2": "cv"}
#: The options it takes (those of ``dca(method="plm")``).
POTTS_OPTIONS = ("l2", "lambda_h", "lambda_J", "penalty", "symmetric", "max_iter", "tol", "memory_size",
                 "lambda_grid", "cv_folds", "cv_rule")


def resolve_potts_solver(solver: str | None, options: dict | None, *, n_train: int) -> tuple[str, tuple]:
    """The checked Potts solver and its options as sorted ``(name, value)`` pairs.

    Args:
      solver: ``None``, :data:`POTTS_SOLVER` or ``"plm"``.
      options: ``None`` (:data:`DEFAULT_POTTS_OPTIONS`) or a dict of :data:`POTTS_OPTIONS`; ``l2`` is ``"cv"`` or
        absent (then ``lambda_J`` is the penalty).
      n_train: training sequences (``cv_folds`` must not exceed it).

    Raises:
      ValueError: another solver, an unknown option or a bad value (named).
    """
    if solver not in (None, POTTS_SOLVER, "plm"):
        raise ValueError(f"augment on alignments fits a Potts model by weighted pseudolikelihood (solver "
                         f"{POTTS_SOLVER!r} or 'plm'), got solver {solver!r}")
    opts = dict(DEFAULT_POTTS_OPTIONS if options is None else options)
    if "l2" in opts and opts["l2"] is None:  # a command line's "not given"
        del opts["l2"]
    unknown = sorted(set(opts) - set(POTTS_OPTIONS))
    if unknown:
        raise ValueError(f"unknown Potts solver option(s) {', '.join(unknown)}; known: {', '.join(POTTS_OPTIONS)}")
    if opts.get("l2", "cv") != "cv":
        raise ValueError(f"l2 must be 'cv' or left out (then lambda_J is the coupling penalty), got {opts['l2']!r}")
    cv = opts.get("l2") == "cv"
    if cv and "lambda_J" in opts:
        raise ValueError("give l2='cv' (lambda_J cross-validated) or lambda_J, not both")
    if not cv and any(k in opts for k in ("lambda_grid", "cv_folds", "cv_rule")):
        raise ValueError("lambda_grid, cv_folds and cv_rule need l2='cv'")
    check_pseudolikelihood_options(opts.get("penalty", "plmdca"), opts.get("lambda_h", 0.01),
                                   opts.get("lambda_J", 0.01), opts.get("max_iter", 500), opts.get("tol", 1e-4),
                                   opts.get("memory_size", 10), opts.get("symmetric", False))
    if cv:
        check_cv_settings(n_train, opts.get("cv_folds", 5), opts.get("cv_rule", "best"))
        if "lambda_grid" in opts:
            grid = opts["lambda_grid"]
            try:
                opts["lambda_grid"] = tuple(float(g) for g in np.atleast_1d(np.asarray(grid, dtype=object)))
            except (TypeError, ValueError):
                opts["lambda_grid"] = ()
            if not opts["lambda_grid"] or not all(math.isfinite(g) and g >= 0 for g in opts["lambda_grid"]):
                raise ValueError(f"lambda_grid must be a sequence of finite penalties >= 0, got {grid!r}")
    return POTTS_SOLVER, tuple(sorted(opts.items()))


def potts_held_out_terms(params, test, *, theta: float):
    """``(Mt,)`` held-out terms of ``test`` sequences: ``Mt w_m / sum(w)`` times each one's log-pseudolikelihood
    (weights at ``theta`` over the test set); their mean is the weighted mean log-pseudolikelihood."""
    w = traced_sequence_weights(test, theta)
    return test.shape[0] * (w / jnp.sum(w)) * potts_log_pseudolikelihood(params, test)


def parent_folds(generated, train, *, cv_folds: int, theta: float):
    """CV fold of every row of ``generated`` then ``train`` concatenated (traceable): the position split
    (row ``r`` in fold ``r % cv_folds``), except that a generated sequence identical to its nearest training sequence
    at ``>= theta * L`` sites (a copy or near-copy, the sequence weights' neighbour) goes to that sequence's fold.
    With no near-copy this is the position split, row for row.

    Args:
      generated: ``(S, L)`` states; train: ``(M, L)`` states.
      cv_folds, theta: folds, identity threshold.

    Returns:
      ``(S + M,)`` int32 fold indices.
    """
    n_gen, length = generated.shape
    folds = jnp.arange(n_gen + train.shape[0], dtype=jnp.int32) % cv_folds
    distance, parent = nearest_rows(generated, train, min(default_block(train.shape[0]), n_gen))
    near = length - distance >= min_identity(theta, length)
    return folds.at[:n_gen].set(jnp.where(near, folds[n_gen + parent], folds[:n_gen]))


def potts_model(options: tuple, *, q: int, theta: float) -> DataModel:
    """The :class:`~ising_diffusion.augment.solver.DataModel` of alignments over ``q`` states (see the module
    docstring); ``options`` as returned by :func:`resolve_potts_solver`."""
    opts = dict(options)
    cv = opts.pop("l2", None) == "cv"
    plain = {k: v for k, v in opts.items() if k not in ("lambda_grid", "cv_folds", "cv_rule")}

    def full(key, x):
        del key  # the fits are deterministic
        w = traced_sequence_weights(x, theta)
        if cv:
            params, info = traced_potts_pseudolikelihood_cv(x, w, q=q, **opts)
            return params, jnp.asarray(info.l2, jnp.float32), jnp.asarray(jnp.nan, jnp.float32)
        params, _ = traced_potts_pseudolikelihood(x, w, q=q, **plain)
        return params, jnp.asarray(plain.get("lambda_J", 0.01), jnp.float32), jnp.asarray(jnp.nan, jnp.float32)

    def combined(key, generated, train):
        if not cv:
            return full(key, jnp.concatenate([generated, train], axis=0))
        x = jnp.concatenate([generated, train], axis=0)
        fold_of = parent_folds(generated, train, cv_folds=int(opts.get("cv_folds", 5)), theta=theta)
        params, info = traced_potts_pseudolikelihood_cv(x, traced_sequence_weights(x, theta), q=q, fold_of=fold_of,
                                                        **opts)
        return params, jnp.asarray(info.l2, jnp.float32), jnp.asarray(jnp.nan, jnp.float32)

    def fixed(key, x, l2):
        del key
        fit_opts = {k: v for k, v in plain.items() if k != "lambda_J"}
        return traced_potts_pseudolikelihood(x, traced_sequence_weights(x, theta), q=q, lambda_J=l2, **fit_opts)[0]

    def terms(params, test):
        return potts_held_out_terms(params, test, theta=theta)

    return DataModel(SolverFits(full, fixed, combined), terms, potts_energy, potts_parameter_mse)
