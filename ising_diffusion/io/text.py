"""Delimited and whitespace-separated text tables of numbers, with missing entries, read and written atomically.

A missing entry is an empty field, ``NA`` or ``NaN`` (any case) when read; it is written as an empty field in a
delimited file and as ``NA`` in whitespace-separated text.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ising_diffusion.io.atomic import atomic_write

__all__ = ["DELIMITERS", "MISSING_TOKENS", "TextTable", "default_delimiter", "read_text_table", "write_text_table"]

#: Text fields read as a missing entry (compared after stripping blanks, case-insensitively): empty, ``NA``, ``NaN``.
MISSING_TOKENS = ("", "na", "nan")
#: Field delimiter by file extension; any other extension means runs of blanks.
DELIMITERS = {".csv": ",", ".tsv": "\t"}


class TextTable(NamedTuple):
    """A text table read by :func:`read_text_table`.

    Attributes:
      values: ``(M, N)`` float64, NaN at missing entries.
      columns: the header row as read (index column name included), or ``None``.
      index: ``(M,)`` the index column's labels, or ``None``.
      lines: ``(M,)`` the 1-based line number of each data row in the file.
    """

    values: np.ndarray
    columns: tuple[str, ...] | None
    index: tuple[str, ...] | None
    lines: tuple[int, ...]


def default_delimiter(path: str | os.PathLike) -> str | None:
    """The field delimiter of a file by its extension: ``,`` for ``.csv``, tab for ``.tsv``, else ``None`` (blanks)."""
    return DELIMITERS.get(Path(path).suffix.lower())


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_rows(path: Path, delimiter: str | None) -> tuple[list[list[str]], list[int]]:
    """Fields of every non-blank, non-comment (``#``) line, and the 1-based line numbers they came from."""
    rows, lines = [], []
    with open(path, newline="", encoding="utf-8-sig") as fh:  # a byte order mark (Excel's CSV) is skipped
        if delimiter is None or delimiter == " ":  # a blank: runs of blanks ("1  -1" is two fields, not three)
            for n, line in enumerate(fh, 1):
                text = line.strip()
                if text and not text.startswith("#"):
                    rows.append(text.split())
                    lines.append(n)
        else:
            reader = csv.reader(fh, delimiter=delimiter)
            for fields in reader:
                # a blank line is skipped, but ",,," is a row whose entries are all missing
                if (len(fields) <= 1 and not "".join(fields).strip()) or fields[0].lstrip().startswith("#"):
                    continue
                rows.append([f.strip() for f in fields])
                lines.append(reader.line_num)
    return rows, lines


def read_text_table(path: str | os.PathLike, delimiter: str | None = None, header: bool | None = None,
                    index_col: bool = False) -> TextTable:
    """Read a table of numbers from a text file; missing entries (:data:`MISSING_TOKENS`) become NaN.

    Blank lines and lines starting with ``#`` are skipped.

    Args:
      path: the file.
      delimiter: field delimiter, or ``None`` (or ``" "``) for runs of blanks.
      header: whether the first row is a header; ``None`` detects one (a first row none of whose fields is a number or
        a missing marker).
      index_col: the first column holds row labels, not values.

    Returns:
      :class:`TextTable`.

    Raises:
      ValueError: no data rows, rows of unequal length, or a field that is neither a number nor a missing marker (the
        message names the file, the 1-based row, line and column).
    """
    path = Path(path)
    try:
        rows, lines = _read_rows(path, delimiter)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start}: {e.reason}); save it as UTF-8") from None
    if not rows:
        raise ValueError(f"{path} holds no data rows")
    columns = None
    if header is None:  # a header is a first row with no number and no missing-entry marker in it
        header = all(not _is_number(f) and f.lower() not in MISSING_TOKENS for f in rows[0])
    if header:
        columns, rows, lines = tuple(rows[0]), rows[1:], lines[1:]
        if not rows:
            raise ValueError(f"{path} holds a header row and no data rows")
    width = len(rows[0])
    for fields, line in zip(rows, lines):
        if len(fields) != width:
            raise ValueError(f"{path}: line {line} has {len(fields)} fields, expected {width} (as on line {lines[0]})")
    if columns is not None and len(columns) != width:
        raise ValueError(f"{path}: the header has {len(columns)} fields but the data rows have {width}")
    tokens = np.array(rows, dtype=str)
    index = None
    if index_col:
        if width < 2:
            raise ValueError(f"{path}: an index column needs at least 2 columns, the file has {width}")
        index, tokens = tuple(tokens[:, 0].tolist()), tokens[:, 1:]
    blank = np.flatnonzero(np.all(tokens == "", axis=0))
    if blank.size:  # "1,-1,\n": a trailing delimiter makes a column that no row fills, not one missing everywhere
        raise ValueError(f"{path}: column {int(blank[0]) + 1 + bool(index_col)} is empty on every row (a trailing "
                         f"delimiter?); remove it")
    # Convert each distinct token once; the first one that is neither a number nor a missing marker is reported.
    uniq, inverse = np.unique(tokens, return_inverse=True)
    table = np.empty(len(uniq), np.float64)
    bad = np.zeros(len(uniq), bool)
    for i, tok in enumerate(uniq):
        if tok.lower() in MISSING_TOKENS:
            table[i] = np.nan
        elif _is_number(tok):
            table[i] = float(tok)
            bad[i] = np.isnan(table[i])  # unreachable for tokens other than nan spellings, kept for safety
        else:
            bad[i] = True
    inverse = inverse.reshape(tokens.shape)
    if bad.any():
        r, c = np.argwhere(bad[inverse])[0]
        token = str(tokens[r, c])
        other = [d for d in (",", ";", "\t", " ", "|") if d != delimiter and d in token.strip()]
        hint = ""
        if other:  # "1;-1;1" read with ',': the whole line is one field (and its first line was taken for a header)
            shown = {"\t": "tab", " ": "' '"}.get(other[0], repr(other[0]))
            hint = (f"; the fields look separated by {shown}, not by "
                    f"{'runs of blanks' if delimiter in (None, ' ') else repr(delimiter)}: pass --delimiter")
        raise ValueError(f"{path}: row {r + 1} (line {lines[r]}), column {c + 1 + bool(index_col)}: "
                         f"{token!r} is not a number or a missing-entry marker (empty, NA, NaN){hint}")
    return TextTable(table[inverse], columns, index, tuple(lines))


def write_text_table(path: str | os.PathLike, cells: np.ndarray, mask: np.ndarray, *, columns=None, index=None,
                     delimiter: str | None = None, missing: str | None = None) -> Path:
    """Write a table of formatted cells atomically as delimited text (``delimiter``) or whitespace-separated text
    (``None``); masked cells are written as missing (empty field when delimited, ``NA`` otherwise).

    Args:
      path: output file.
      cells: ``(M, N)`` strings (already formatted numbers).
      mask: ``(M, N)`` bool, True = missing.
      columns: a header row (one name per written column, index column included), or ``None``.
      index: ``(M,)`` row labels written as the first column, or ``None``.
      delimiter: field delimiter, or ``None`` for single blanks.
      missing: what a masked cell is written as (default: an empty field when delimited, else ``NA``).

    Returns:
      the path written.

    Raises:
      ValueError: labels that do not match the table's shape, or (whitespace text) names or labels that are empty or
        contain blanks.
    """
    cells = np.asarray(cells).astype(object)
    if missing is None or delimiter is None:
        missing = "" if delimiter is not None else "NA"
    cells[np.asarray(mask)] = missing
    m = cells.shape[0]
    if index is not None and len(index) != m:
        raise ValueError(f"index has {len(index)} labels for {m} rows")
    width = cells.shape[1] + (index is not None)
    if columns is not None and len(columns) != width:
        raise ValueError(f"columns has {len(columns)} names for {width} columns")
    rows = [([index[i]] if index is not None else []) + cells[i].tolist() for i in range(m)]

    if delimiter is None and any(len(str(x).split()) != 1 for x in list(columns or ()) + list(index or ())):
        raise ValueError("blank-separated text cannot hold header names or row labels that contain blanks or are "
                         "empty; write a .csv or .tsv instead")

    def write(fh):
        if delimiter is None:  # blank-separated text: missing entries are NA
            for row in ([list(columns)] if columns is not None else []) + rows:
                fh.write(" ".join(row) + "\n")
        else:
            w = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
            if columns is not None:
                w.writerow(columns)
            w.writerows(rows)

    return atomic_write(path, write, mode="w")
