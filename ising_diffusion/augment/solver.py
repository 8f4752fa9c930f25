"""The solver adapter of :func:`~ising_diffusion.augment.augment`'s kernel: one ``infer`` method as two pure fits.

The kernel fits the solver many times (``w_train``, one fit per mix ratio at every monitor point, the final fits).
The full fit runs the method as configured (``l2="cv"`` cross-validates the penalty); the monitor fits reuse the
penalty chosen on the training data, so a cross-validated solver costs one cross-validation, not one per fit.

:class:`DataModel` bundles what the kernel needs to know about the kind of data: the two fits, the per-test-sample
held-out terms, the energy (for the variance rules) and the parameter MSE. :func:`ising_model` is the one for +-1
spins; :func:`ising_diffusion.augment.potts_solver.potts_model` the one for alignments.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax.numpy as jnp

from ising_diffusion.augment.score import held_out_terms
from ising_diffusion.inference import CV_METHODS, CV_OPTIONS, METHODS
from ising_diffusion.ising import energy, parameter_mse

__all__ = ["SolverFits", "solver_fits", "DataModel", "ising_model"]


class SolverFits(NamedTuple):
    """``full(key, x) -> (params, l2, eps)`` with the options as given (``l2`` the penalty used: the
    cross-validated one for ``l2="cv"``, NaN if the method has none; ``eps`` the erasure machine's chosen eps, NaN
    for other methods) and ``fixed(key, x, l2) -> params`` with ``l2`` a (traced) number, for the cheap monitor
    fits. ``combined(key, generated, train) -> (params, l2, eps)``: the full fit to generated + training samples
    (``None``: ``full`` of the two concatenated, generated first; alignments group each near-copy with its
    training sequence in the CV folds, :func:`~ising_diffusion.augment.potts_solver.parent_folds`)."""

    full: Callable
    fixed: Callable
    combined: Callable | None = None

    def fit_combined(self, key, generated, train):
        """``combined`` if given, else ``full`` of ``generated`` then ``train`` concatenated."""
        if self.combined is not None:
            return self.combined(key, generated, train)
        return self.full(key, jnp.concatenate([generated, train], axis=0))


def solver_fits(solver: str, options: tuple) -> SolverFits:
    """The two fits of ``infer`` method ``solver`` with ``options`` (``(name, value)`` pairs, already checked by
    :func:`ising_diffusion.inference.resolve_solver`); both are pure and jit/vmap-able."""
    opts = dict(options)
    cross_validate = opts.get("l2") == "cv"
    # the plain core's options: without the cross-validation settings, whose grid only the CV core reads
    plain = {k: v for k, v in opts.items() if k not in CV_OPTIONS and not (cross_validate and k == "l2")}
    has_l2 = "l2" in opts

    def full(key, x):
        if cross_validate:
            cv_opts = {k: v for k, v in opts.items() if k != "l2"}
            params, info = CV_METHODS[solver](key, x, **cv_opts)
            l2 = info.l2
        else:
            params, info = METHODS[solver](key, x, **opts)
            l2 = opts.get("l2", jnp.nan)
        eps = getattr(info, "eps", jnp.nan) if solver == "erasure" else jnp.nan
        return params, jnp.asarray(l2, jnp.float32), jnp.asarray(eps, jnp.float32)

    def fixed(key, x, l2):
        o = dict(plain)
        if has_l2:
            o["l2"] = l2
        return METHODS[solver](key, x, **o)[0]

    return SolverFits(full, fixed)


class DataModel(NamedTuple):
    """The data kind as the kernel sees it (all pure and traceable).

    Attributes:
      fits: :class:`SolverFits` of the solver.
      terms: ``terms(params, test) -> (Mt,)`` per-test-sample held-out terms; their mean is the held-out score and
        their paired differences feed the score rule's z test.
      energy: ``energy(params, x) -> (M,)`` (the monitored energy variance and the variance rules).
      parameter_mse: ``parameter_mse(truth, params) -> scalar``.
    """

    fits: SolverFits
    terms: Callable
    energy: Callable
    parameter_mse: Callable


def ising_model(solver: str, options: tuple, *, exact: bool) -> DataModel:
    """The :class:`DataModel` of +-1 spins: ``infer`` method ``solver`` with ``options``; the held-out terms are exact
    log-likelihoods (``exact``) or log-pseudolikelihoods."""
    return DataModel(solver_fits(solver, options), functools.partial(held_out_terms, exact=exact), energy,
                     parameter_mse)
