"""The options each inference method takes, read from the explicit solver tables of
:mod:`ising_diffusion.inference.api` (:data:`SOLVERS`, :data:`CV_SOLVERS`)."""

from __future__ import annotations

import inspect

from ising_diffusion.inference.api import CV_SOLVERS, SOLVERS

__all__ = ["method_options"]


def method_options(method: str) -> dict[str, inspect.Parameter] | None:
    """The keyword options of ``method``, as ``infer(spins, method=method, **options)`` accepts them.

    For methods with a cross-validated penalty (``l2="cv"``), the cross-validation options (``l2_grid``,
    ``cv_folds``, ``cv_rule``) are included.

    Args:
      method: a name of :data:`ising_diffusion.inference.METHODS`.

    Returns:
      option name -> its ``inspect.Parameter`` (``.default`` is the default value), or ``None`` for an unknown method
      or a solver that takes arbitrary keywords (its options cannot be listed).
    """
    solver = SOLVERS.get(method)
    if solver is None:
        return None
    params = dict(inspect.signature(solver).parameters)
    if any(q.kind is q.VAR_KEYWORD for q in params.values()):
        return None
    if method in CV_SOLVERS:
        params.update({k: q for k, q in inspect.signature(CV_SOLVERS[method]).parameters.items() if k not in params})
    return {k: q for k, q in params.items() if k not in ("key", "spins")}
