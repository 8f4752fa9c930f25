"""The whole ``ising-diffusion dca`` job as one library call: alignment file in, ranked column pairs out.

``run_dca_file`` reads an aligned FASTA / a2m / a3m file (``io.alignment``), applies the gap filters
(``msa.filter_alignment``), weights the sequences at identity ``theta`` (``msa.sequence_weights``), fits a Potts
model (``dca.dca``), writes the pairs ``i, j, score`` (1-based columns of the *input* alignment, best first) and
optionally the parameters, and scores the ranking against a distance table. The command line only parses and prints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ising_diffusion.checks import is_real
from ising_diffusion.contacts import DEFAULT_TOPS, contact_precision
from ising_diffusion.dca import DCAResult, dca
from ising_diffusion.io.alignment import PROTEIN_ALPHABET, read_alignment
from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.io.contacts import as_contact_map, pairs_contact_map, read_contact_pairs
from ising_diffusion.io.npz import save_npz
from ising_diffusion.msa import effective_count, filter_alignment, identity_groups, sequence_weights

__all__ = ["DCAJob", "ranked_pairs", "read_contact_truth", "run_dca_file", "write_pair_scores"]


class DCAJob(NamedTuple):
    """What :func:`run_dca_file` did.

    Attributes:
      pairs: ``(K, 3)`` float rows ``[i, j, score]``, ``i < j`` 1-based columns of the input alignment, sorted by
        score descending (every kept pair).
      result: the :class:`~ising_diffusion.dca.DCAResult` on the filtered alignment.
      columns: ``(L',)`` 0-based input columns that were kept.
      rows: ``(M',)`` 0-based input sequences that were kept.
      n_input: ``(M, L)`` of the input alignment.
      m_eff: sum of the sequence weights.
      precision: ``{"L/5": p, "L/2": p, "L": p}`` (``L`` = kept columns; separation >= 5 in input columns) when
        ``contacts`` was given, else ``None``.
    """

    pairs: np.ndarray
    result: DCAResult
    columns: np.ndarray
    rows: np.ndarray
    n_input: tuple[int, int]
    m_eff: float
    precision: dict[str, float] | None


def ranked_pairs(scores, columns) -> np.ndarray:
    """All pairs ``i < j`` of a score matrix as ``(K, 3)`` rows ``[i, j, score]``, best first.

    Args:
      scores: ``(L', L')`` symmetric scores on the kept columns.
      columns: ``(L',)`` 0-based input column of each kept column.

    Returns:
      ``(L'(L'-1)/2, 3)`` float64 rows with 1-based input columns, sorted by score descending (ties by position).
    """
    scores = np.asarray(scores, np.float64)
    columns = np.asarray(columns)
    i, j = np.triu_indices(scores.shape[0], k=1)
    order = np.argsort(-scores[i, j], kind="stable")
    i, j = i[order], j[order]
    return np.stack([columns[i] + 1.0, columns[j] + 1.0, scores[i, j]], axis=1)


def write_pair_scores(path: str | os.PathLike, pairs: np.ndarray) -> Path:
    """Write ``(K, 3)`` rows ``[i, j, score]`` as CSV with the header ``i,j,score`` (atomically)."""
    lines = ["i,j,score"] + [f"{int(i)},{int(j)},{s:.6g}" for i, j, s in pairs]
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    return atomic_write(path, lambda f: f.write(payload))


def read_contact_truth(path: str | os.PathLike, length: int, cutoff: float = 8.0) -> np.ndarray:
    """A contact file as a bool ``(L, L)`` map: a distance table (``i j x d`` lines, contacts at ``d < cutoff``) or a
    contact-pair list (``i j`` lines), told apart by the number of fields on the first data line."""
    with open(path, encoding="utf-8", errors="replace") as f:
        first = next((line.split() for line in f if line.strip() and not line.lstrip().startswith("#")), [])
    if len(first) == 2:
        return pairs_contact_map(read_contact_pairs(path), length)
    return as_contact_map(path, length=length, cutoff=cutoff)


def run_dca_file(path: str | os.PathLike, *, out: str | os.PathLike | None = None,
                 params_out: str | os.PathLike | None = None, method: str = "plm",
                 options: dict[str, Any] | None = None, theta: float = 0.8, max_seq_gap: float = 1.0,
                 max_col_gap: float = 1.0, alphabet: str = PROTEIN_ALPHABET,
                 contacts: str | os.PathLike | None = None, cutoff: float = 8.0,
                 progress: bool | None = None) -> DCAJob:
    """Read an alignment, filter, weight, fit, rank the pairs, write them, and score them against contacts.

    Args:
      path: aligned FASTA, a2m or a3m file (``.gz`` allowed).
      out: CSV for the ranked pairs (``i,j,score``, 1-based input columns); ``None``: not written.
      params_out: ``.npz`` for ``h (L', q)``, ``J (L', L', q, q)`` (zero-sum gauge), ``alphabet``, ``columns``
        (1-based input columns) and ``weights`` of the kept sequences; ``None``: not written.
      method: ``"plm"`` or ``"mf"`` (:data:`~ising_diffusion.dca.DCA_METHODS`).
      options: keyword options of :func:`~ising_diffusion.dca.dca` (e.g. ``{"l2": "cv"}``, ``{"lambda_J": 0.02}``).
      theta: identity threshold of the sequence weights, in ``(0, 1]``.
      max_seq_gap, max_col_gap: gap filters (fractions in ``[0, 1]``; 1 keeps everything).
      alphabet: state characters, gap first (``PROTEIN_ALPHABET``; ``RNA_ALPHABET`` or custom).
      contacts: a distance table ``i j x d`` or a contact-pair list ``i j`` in 1-based input columns; then the
        precisions are computed.
      cutoff: contact distance for ``contacts``.
      progress: progress bar of the fit (``None``: on for large alignments).

    Returns:
      :class:`DCAJob`.

    Raises:
      FileNotFoundError: a missing alignment or contacts file.
      ValueError: a bad alignment, filter, theta, option or contact table (the message names it).
    """
    if not (is_real(theta) and 0.0 < theta <= 1.0):
        raise ValueError(f"theta (sequence identity threshold) must be in (0, 1], got {theta!r}")
    gap = alphabet.find("-")
    aln = read_alignment(path, alphabet)
    kept = filter_alignment(aln.seqs, max_seq_gap=max_seq_gap, max_col_gap=max_col_gap, gap_state=max(gap, 0))
    if kept.seqs.shape[1] < 3:
        raise ValueError(f"{path}: {kept.seqs.shape[1]} column(s) left after the gap filters; DCA needs at least 3")
    weights = np.asarray(sequence_weights(kept.seqs, theta), np.float64)
    options = dict(options or {})
    if isinstance(options.get("cv_groups"), str):  # a command line's name for the grouping
        if options["cv_groups"] != "identity":
            raise ValueError(f"cv_groups must be 'identity' (clusters of sequences at identity >= theta held out "
                             f"together), got {options['cv_groups']!r}")
        options["cv_groups"] = identity_groups(kept.seqs, theta)
    truth = None
    if contacts is not None:  # read and checked before the fit: a bad table costs no fit
        truth = read_contact_truth(contacts, aln.seqs.shape[1], cutoff)[np.ix_(kept.columns, kept.columns)]
        length = kept.columns.size
        if length <= 5:
            raise ValueError(f"precision needs more than 5 kept columns (separation >= 5), got {length}")
    result = dca(kept.seqs, weights, method=method, q=len(alphabet), gap_state=gap if gap >= 0 else None,
                 progress=progress, **options)
    pairs = ranked_pairs(result.scores, kept.columns)
    precision = None
    if truth is not None:  # separation in the input's columns, not the kept ones'
        precision = contact_precision(result.scores, truth, top=DEFAULT_TOPS, min_separation=5,
                                      positions=kept.columns)
    if out is not None:
        write_pair_scores(out, pairs)
    if params_out is not None:
        save_npz(params_out, h=np.asarray(result.params.h), J=np.asarray(result.params.J), alphabet=np.str_(alphabet),
                 columns=kept.columns + 1, weights=weights)
    return DCAJob(pairs, result, kept.columns, kept.rows, tuple(aln.seqs.shape), effective_count(weights), precision)
