"""Direct coupling analysis in one call: ``dca(seqs, weights, method=...) -> DCAResult(params, scores, info)``.

The library call behind the CLI's ``dca`` command: validate the alignment once, fit a Potts model by pseudolikelihood
(``"plm"``, plmDCA; ``l2="cv"`` picks the coupling penalty by cross-validation) or mean-field DCA (``"mf"``), and score
the pairs by APC-corrected Frobenius norms (``contacts.contact_scores``). See ``docs/potts.md``.
"""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

from jaxtyping import Array, Float, Int

from ising_diffusion.checks import is_real
from ising_diffusion.contacts import contact_scores
from ising_diffusion.inference.mean_field_dca import mean_field_dca
from ising_diffusion.inference.potts_pseudolikelihood import (check_pseudolikelihood_cv_options,
                                                              check_pseudolikelihood_options, potts_pseudolikelihood,
                                                              potts_pseudolikelihood_cv)
from ising_diffusion.potts import PottsParams, check_sequences

__all__ = ["DCAResult", "DCA_METHODS", "check_dca_options", "dca", "dca_option_defaults"]

#: ``"plm"``: pseudolikelihood (plmDCA); ``"mf"``: mean-field DCA.
DCA_METHODS = ("plm", "mf")
#: Fits with at least this many sequence-column cells show a progress bar by default.
_PROGRESS_CELLS = 200_000
#: the options of each fit: mean field, plm at a fixed ``lambda_J``, plm with ``l2="cv"``
_MF_OPTIONS = {"pseudocount"}
_PLM_OPTIONS = {"lambda_h", "lambda_J", "penalty", "symmetric", "max_iter", "tol", "memory_size"}
_PLM_CV_OPTIONS = {"lambda_h", "penalty", "lambda_grid", "cv_folds", "cv_rule", "symmetric", "max_iter", "tol",
                   "memory_size", "cv_groups", "patience"}


class DCAResult(NamedTuple):
    """Result of :func:`dca`.

    Attributes:
      params: fitted ``PottsParams`` in the zero-sum gauge.
      scores: ``(L, L)`` APC-corrected Frobenius contact scores (symmetric, zero diagonal).
      info: the method's diagnostics (``OptimInfo``, ``CVInfo`` for ``l2="cv"``, or ``MeanFieldInfo``).
    """

    params: PottsParams
    scores: Float[Array, "L L"]
    info: Any


def dca(seqs: Int[Array, "M L"], weights: Float[Array, " M"] | None = None, method: str = "plm",
        q: int | None = None, *, gap_state: int | None = 0, progress: bool | None = None, **options) -> DCAResult:
    """Fit a Potts model to an alignment and score its column pairs.

    Args:
      seqs: ``(M, L)`` integer states in ``[0, q)`` (``io.alignment.read_alignment(...).seqs``).
      weights: ``(M,)`` nonnegative sequence weights (``msa.sequence_weights``); ``None``: all ones.
      method: ``"plm"`` or ``"mf"``.
      q: number of states (21 for ``PROTEIN_ALPHABET``); ``None``: ``max(seqs) + 1``.
      gap_state: state left out of the scores (0 = gap); ``None`` keeps all.
      progress: show a progress bar for ``"plm"`` (default: on for alignments of ``M L >= 200,000`` cells).
      **options: passed to the method: for ``"plm"`` ``lambda_h``, ``lambda_J``, ``penalty`` (``"plmdca"`` or
        ``"plmc"``), ``symmetric``, ``max_iter``, ``tol``, and ``l2="cv"`` with ``lambda_grid``, ``cv_folds``,
        ``cv_rule``; for ``"mf"`` ``pseudocount``.

    Returns:
      ``DCAResult(params, scores, info)``.

    Raises:
      ValueError: a bad alignment or weights (named), an unknown method or option.
    """
    if method not in DCA_METHODS:
        raise ValueError(f"method must be one of {DCA_METHODS}, got {method!r}")
    seqs, w, q = check_sequences(seqs, weights, q)
    if seqs.shape[1] < 3:
        raise ValueError(f"DCA needs at least 3 columns (the APC averages over pairs), got L={seqs.shape[1]}")
    check_dca_options(method, options, seqs.shape[0])
    if method == "mf":
        params, info = mean_field_dca(seqs, w, q=q, **options)
    else:
        l2 = options.pop("l2", None)
        if progress is None:
            progress = seqs.size >= _PROGRESS_CELLS
        if l2 == "cv":
            params, info = potts_pseudolikelihood_cv(seqs, w, q=q, **options)
        else:
            params, info = potts_pseudolikelihood(seqs, w, q=q, progress=bool(progress), **options)
    return DCAResult(params, contact_scores(params, gap_state=gap_state), info)


def check_dca_options(method: str, options: dict[str, Any], n_seqs: int) -> None:
    """The checks :func:`dca` makes of ``method`` and ``options`` before a fit to ``n_seqs`` sequences (``cv_folds``
    must not exceed it), without the alignment: a caller can report a bad option before any work.

    Raises:
      ValueError: an unknown method, an option the fit does not take, or a bad value (named).
    """
    if method not in DCA_METHODS:
        raise ValueError(f"method must be one of {DCA_METHODS}, got {method!r}")
    opts = dict(options)
    if method == "mf":
        _check_keys(opts, _MF_OPTIONS, method)
        pseudocount = opts.get("pseudocount", 0.5)
        if not (is_real(pseudocount) and 0 < pseudocount < 1):
            raise ValueError(f"pseudocount must be in (0, 1), got {pseudocount!r}")
        return
    l2 = opts.pop("l2", None)
    if l2 == "cv":
        _check_keys(opts, _PLM_CV_OPTIONS, "plm with l2='cv'")
        opts.pop("cv_groups", None)  # its shape is checked against the alignment
        check_pseudolikelihood_cv_options(n_seqs, **opts)
    elif l2 is None:
        _check_keys(opts, _PLM_OPTIONS, method)
        check_pseudolikelihood_options(**opts)
    else:
        raise ValueError(f"l2 must be 'cv' or left out (then lambda_J sets the coupling penalty), got {l2!r}")


def dca_option_defaults(method: str) -> dict[str, Any]:
    """The options :func:`dca` takes for ``method`` and their defaults (``l2="cv"``'s options included for ``"plm"``),
    so a command line can type ``--option NAME=VALUE`` like each default (``options.parse_options(..., known=)``).

    Raises:
      ValueError: an unknown method.
    """
    if method not in DCA_METHODS:
        raise ValueError(f"method must be one of {DCA_METHODS}, got {method!r}")
    skip = {"seqs", "weights", "q", "progress"}
    fns = (mean_field_dca,) if method == "mf" else (potts_pseudolikelihood, potts_pseudolikelihood_cv)
    out = {"l2": None} if method == "plm" else {}
    for fn in fns:
        for name, p in inspect.signature(fn).parameters.items():
            if name not in skip and name not in out:
                out[name] = p.default
    return out


def _check_keys(options: dict, allowed: set, method: str) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for method {method!r}; allowed: {sorted(allowed)}")
