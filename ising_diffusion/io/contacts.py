"""Contact truth for alignments: residue-pair distance tables and contact-pair lists -> boolean contact maps.

A distance table has one line per residue pair, ``i j x d``: 1-based alignment columns ``i`` and ``j``, an unused third
column, and the distance ``d`` (Angstrom) between the two residues in a solved structure (the ArDCA companion data's
``*_struct.dat`` layout). A contact-pair list has lines ``i j`` (1-based) of the pairs in contact. Lines that are
empty or start with ``#`` are skipped in both.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

__all__ = ["as_contact_map", "contact_map", "pairs_contact_map", "read_contact_pairs", "read_distance_table"]


def _read_columns(path: str | os.PathLike, n_cols: int, layout: str) -> np.ndarray:
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != n_cols:
            raise ValueError(f"{path}: line {n} has {len(parts)} columns, expected {n_cols} ({layout}): {line[:80]!r}")
        try:
            values = [float(v) for v in parts]
        except ValueError:
            raise ValueError(f"{path}: line {n} is not numeric ({layout}): {line[:80]!r}") from None
        i, j = values[0], values[1]
        if not (np.isfinite(i) and np.isfinite(j) and i == int(i) and j == int(j) and i >= 1 and j >= 1):
            raise ValueError(f"{path}: line {n}: columns i, j must be 1-based positive integers, got {parts[0]} "
                             f"{parts[1]}")
        if i == j:
            raise ValueError(f"{path}: line {n}: a pair of a column with itself ({int(i)}, {int(j)})")
        rows.append(values)
    if not rows:
        raise ValueError(f"{path}: no pairs in the file ({layout})")
    return np.asarray(rows, dtype=np.float64)


def read_distance_table(path: str | os.PathLike) -> np.ndarray:
    """Read a residue distance table with lines ``i j x d`` (1-based columns, ``x`` unused).

    Args:
      path: the table (e.g. ``PF00014_struct.dat``).

    Returns:
      ``(K, 3)`` float64 array of rows ``[i, j, d]``: ``i`` and ``j`` are 0-based integer-valued column indices,
      ``d`` the distance.

    Raises:
      FileNotFoundError: no such file.
      ValueError: no pairs, a line without 4 numeric columns, indices that are not positive integers or pair a column
        with itself, or a negative or non-finite distance; the message names the line.
    """
    raw = _read_columns(path, 4, "i j x distance")
    d = raw[:, 3]
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        raise ValueError(f"{path}: distances must be finite and >= 0; pair {int(raw[bad][0, 0])} {int(raw[bad][0, 1])} "
                         f"has {raw[bad][0, 3]}")
    return np.stack([raw[:, 0] - 1, raw[:, 1] - 1, d], axis=1)


def read_contact_pairs(path: str | os.PathLike) -> np.ndarray:
    """Read a contact-pair list with lines ``i j`` (1-based columns).

    Returns:
      ``(K, 2)`` int64 array of 0-based column pairs.

    Raises:
      ValueError: no pairs or a malformed line (see :func:`read_distance_table`).
    """
    return (_read_columns(path, 2, "i j") - 1).astype(np.int64)


def _pairs_index(pairs: np.ndarray, length: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    ij = np.asarray(pairs, dtype=np.float64)
    if not np.all(np.isfinite(ij)) or np.any(ij != np.round(ij)):
        raise ValueError(f"{what}: column indices must be integers")
    ij = ij.astype(np.int64)
    if ij.size and (ij.min() < 0 or ij.max() >= length):
        raise ValueError(f"{what}: column indices must lie in [0, {length}) for an alignment of length {length}; "
                         f"found {ij.min()} .. {ij.max()}")
    return ij[:, 0], ij[:, 1]


def contact_map(table, length: int, cutoff: float = 8.0) -> np.ndarray:
    """Boolean contact map from a distance table: pairs with distance ``< cutoff`` are in contact.

    Args:
      table: ``(K, 3)`` rows ``[i, j, d]`` with 0-based ``i, j`` (as :func:`read_distance_table` returns).
      length: alignment length ``L``.
      cutoff: contact distance (Angstrom); strict inequality, as the usual ``d < 8``.

    Returns:
      ``(L, L)`` symmetric bool array, False on the diagonal and for pairs missing from the table (a warning says how
      many pairs at separation >= 5 are missing: they count as non-contacts, so a precision against this map may be
      understated where a structure leaves residues unresolved).
    """
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 3:
        raise ValueError(f"a distance table must have shape (K, 3) [i, j, d], got {table.shape}")
    length = int(length)
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if not np.isfinite(cutoff) or cutoff <= 0:
        raise ValueError(f"cutoff must be a positive distance, got {cutoff}")
    i, j = _pairs_index(table[:, :2], length, "distance table")
    close = table[:, 2] < cutoff
    out = np.zeros((length, length), dtype=bool)
    out[i[close], j[close]] = True
    out[j[close], i[close]] = True
    np.fill_diagonal(out, False)
    listed = np.zeros((length, length), dtype=bool)
    listed[i, j] = listed[j, i] = True
    far = np.triu(np.ones((length, length), dtype=bool), k=5)
    missing = int(np.sum(far & ~listed))
    if missing:
        warnings.warn(f"the distance table lacks {missing} of {int(far.sum())} residue pairs at separation >= 5; they "
                      "count as non-contacts, so contact precision against it may be understated", UserWarning,
                      stacklevel=2)
    return out


def pairs_contact_map(pairs, length: int) -> np.ndarray:
    """Boolean ``(L, L)`` symmetric contact map of a ``(K, 2)`` list of 0-based contact pairs."""
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"contact pairs must have shape (K, 2), got {pairs.shape}")
    i, j = _pairs_index(pairs, int(length), "contact pairs")
    out = np.zeros((int(length), int(length)), dtype=bool)
    out[i, j] = True
    out[j, i] = True
    np.fill_diagonal(out, False)
    return out


def as_contact_map(contacts, length: int | None = None, cutoff: float = 8.0) -> np.ndarray:
    """Any accepted form of contact truth as a bool ``(L, L)`` map.

    Args:
      contacts: a path to a distance table (``i j x d`` lines), a ``(K, 3)`` distance table (0-based), or a boolean /
        0-1 ``(L, L)`` symmetric matrix.
      length: alignment length ``L``; required for a table, checked against a matrix.
      cutoff: contact distance for tables.

    Returns:
      ``(L, L)`` symmetric bool array.

    Raises:
      ValueError: a matrix that is not square, not 0/1, not symmetric or of the wrong size; a table without ``length``.
    """
    if isinstance(contacts, (str, os.PathLike)):
        contacts = read_distance_table(contacts)
    arr = np.asarray(contacts)
    if arr.ndim == 2 and arr.shape[1] == 3 and not (arr.shape[0] == 3 and arr.dtype == bool):
        if length is None:
            raise ValueError("a distance table needs the alignment length: pass length=L")
        return contact_map(arr, length, cutoff)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"a contact map must be a square (L, L) matrix or a (K, 3) table, got shape {arr.shape}")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise ValueError("a contact map must be boolean (or 0/1)")
        arr = arr.astype(bool)
    if length is not None and arr.shape[0] != int(length):
        raise ValueError(f"contact map is {arr.shape[0]} x {arr.shape[0]}, the alignment has length {length}")
    if not np.array_equal(arr, arr.T):
        raise ValueError("a contact map must be symmetric")
    return arr
