"""Users' data files of binary patterns: every format read into ``(spins, missing mask)`` and written back in the
format of the extension (``docs/data.md``): ``.npz``, ``.npy``, MATLAB ``.mat``, ``.csv``, ``.tsv``, and anything else
as whitespace-separated text.

Missing entries (empty fields, ``NA``, ``NaN``; optionally ``0`` in a spins file) are read into a boolean mask; a value
that is not allowed is reported with its file, row and column.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Literal, NamedTuple

import jax.numpy as jnp
import numpy as np

from ising_diffusion.checks import is_real_dtype
from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.io.mat import bint_to_rows, read_mat, write_mat
from ising_diffusion.io.text import default_delimiter, read_text_table, write_text_table
from ising_diffusion.spins import as_spins, spins_to_binary

__all__ = ["SpinFile", "load_spins", "read_spin_file", "save_matrix", "save_spins", "spin_file_format"]

_ARRAY_FORMATS = {".npz": "npz", ".npy": "npy", ".mat": "mat"}


class SpinFile(NamedTuple):
    """A data file read by :func:`read_spin_file`: the spins, the missing-entry mask and what is needed to write a
    file of the same kind back (:func:`save_spins`).

    Attributes:
      spins: ``(M, N)`` float32, -1.0 / +1.0 at observed entries and NaN at missing ones.
      mask: ``(M, N)`` bool, True = missing.
      encoding: ``"spins"`` or ``"binary"``: how the values were stored (resolved when ``"auto"`` was asked).
      format: ``"npz"``, ``"npy"``, ``"mat"``, ``"csv"``, ``"tsv"`` or ``"text"``.
      key: the array / variable read (``.npz``, ``.mat``), else ``None``.
      columns: the header row as read (index column name included), or ``None``.
      index: ``(M,)`` the index column's labels, or ``None``.
      delimiter: the field delimiter of a text file (``None``: runs of blanks).
      path: the file read.
    """

    spins: np.ndarray
    mask: np.ndarray
    encoding: str
    format: str
    key: str | None
    columns: tuple[str, ...] | None
    index: tuple[str, ...] | None
    delimiter: str | None
    path: str


def spin_file_format(path: str | os.PathLike) -> str:
    """The format of a data file from its extension: ``npz``, ``npy``, ``mat``, ``csv``, ``tsv``, else ``text``."""
    suffix = Path(path).suffix.lower()
    return _ARRAY_FORMATS.get(suffix) or {".csv": "csv", ".tsv": "tsv"}.get(suffix, "text")


def _pick_array(path: Path, names: list[str], key: str | None, what: str) -> str:
    if key is not None:
        if key not in names:
            raise ValueError(f"{path} has no {what} {key!r}; it has {names}")
        return key
    for preferred in ("spins", "data"):
        if preferred in names:
            return preferred
    if len(names) == 1:
        return names[0]
    raise ValueError(f"{path} holds several {what}s {names}; say which one with key= (--key)")


def _np_load(path: Path, fmt: str):
    """``np.load`` of an ``.npy`` array or an ``.npz`` archive, a ValueError for anything else (an empty or truncated
    file, pickled objects, or the other of the two under this name)."""
    what = {"npy": "an .npy array", "npz": "an .npz archive"}
    try:
        f = np.load(path, allow_pickle=False)
    except (EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise ValueError(f"cannot read {path} as {what[fmt]}: {e or type(e).__name__}") from e
    if isinstance(f, np.ndarray) != (fmt == "npy"):
        other = "npz" if fmt == "npy" else "npy"
        if other == "npz":
            f.close()
        raise ValueError(f"{path} holds {what[other]}, not {what[fmt]}; rename it to {path.stem}.{other}")
    return f


def _read_array_file(path: Path, fmt: str, key: str | None):
    if fmt == "npy":
        arr, key = _np_load(path, fmt), None
    elif fmt == "npz":
        f = _np_load(path, fmt)
        with f:
            key = _pick_array(path, list(f.keys()), key, "array")
            arr = f[key]
    else:
        mat = read_mat(path)
        if key is None and "spins" not in mat and "data" not in mat and "bint" in mat:
            key = "bint"
        key = _pick_array(path, sorted(mat), key, "variable")
        arr = np.asarray(mat[key])
        if key == "bint" and arr.ndim == 3:  # the retina recording's layout
            arr = bint_to_rows(arr)
    if arr.dtype == object or not is_real_dtype(arr.dtype):
        raise ValueError(f"{path}{'' if key is None else f' ({key})'} must be real numeric values, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{path}{'' if key is None else f' ({key})'} must be 2-D (samples, spins), got shape "
                         f"{arr.shape}")
    return arr.astype(np.float64), key


def _resolve_values(values: np.ndarray, encoding: str, missing_zero: bool, where) -> tuple[np.ndarray, np.ndarray, str]:
    """Check the values against the encoding (resolving ``auto``); returns ``(spins with NaN, mask, encoding)``."""
    if encoding not in ("spins", "binary", "auto"):
        raise ValueError(f"encoding must be 'spins', 'binary' or 'auto', got {encoding!r}")
    mask = np.isnan(values)
    if missing_zero:
        if encoding == "binary":
            raise ValueError("missing_zero marks 0 as missing in a spins-encoded file; in a binary file 0 is a value")
        encoding = "spins"
        mask = mask | (values == 0)
    observed = ~mask

    def first(bad):
        r, c = np.argwhere(bad)[0]
        return r, c, values[r, c]

    if encoding == "auto":
        bad = observed & ~np.isin(values, (-1.0, 0.0, 1.0))
        if bad.any():
            r, c, v = first(bad)
            raise ValueError(f"{where(r, c)}: value {float(v)!r} is neither a spin (-1/+1) nor binary (0/1)")
        has_minus, has_zero = bool(np.any(observed & (values == -1))), bool(np.any(observed & (values == 0)))
        if has_minus and has_zero:
            r, c, _ = first(observed & (values == 0))
            raise ValueError(f"{where(r, c)}: the file holds -1, 0 and +1, so its encoding is ambiguous: if 0 marks a "
                             "missing entry of a spins file pass missing_zero=True (--missing-zero); otherwise pass "
                             "encoding= (--encoding spins|binary) to have the values outside it reported")
        if has_minus:
            encoding = "spins"
        elif has_zero:
            encoding = "binary"  # 0 is never a spin: a file of 0s (and 1s) is binary
        elif observed.any():
            raise ValueError(f"{where(None, None)}: every observed value is +1, which could be a spin or a binary 1; "
                             "pass encoding='spins' or 'binary' (--encoding)")
        else:
            raise ValueError(f"{where(None, None)}: every entry is missing")
    allowed = (-1.0, 1.0) if encoding == "spins" else (0.0, 1.0)
    bad = observed & ~np.isin(values, allowed)
    if bad.any():
        r, c, v = first(bad)
        hint = ""
        if encoding == "spins" and v == 0:
            hint = " (if 0 marks a missing entry pass --missing-zero; if the file is 0/1 pass --encoding binary)"
        elif encoding == "binary" and v == -1:
            hint = " (the file looks like spins: pass --encoding spins)"
        raise ValueError(f"{where(r, c)}: value {v:g} is not allowed for encoding {encoding!r} "
                         f"({allowed[0]:g}/{allowed[1]:g}){hint}")
    spins = np.where(mask, np.nan, values if encoding == "spins" else 2.0 * values - 1.0).astype(np.float32)
    return spins, mask, encoding


def read_spin_file(path: str | os.PathLike, *, key: str | None = None, encoding: str = "auto",
                   missing_zero: bool = False, header: bool | None = None, index_col: bool = False,
                   delimiter: str | None = None) -> SpinFile:
    """Read a data file of binary patterns (one row per sample, one column per spin), missing entries included.

    Formats by extension: ``.npz`` (array ``key``; default ``spins``, ``data`` or the only one), ``.npy``, ``.mat``
    (variable ``key``; default ``spins``, ``data``, the retina recording's ``bint`` flattened as in
    :func:`ising_diffusion.datasets.load_retina_binary`, or the only one), ``.csv``, ``.tsv``, and anything else as
    whitespace-separated text. In text, blank lines and lines starting with ``#`` are skipped, and a missing entry is
    an empty field, ``NA`` or ``NaN`` (any case); in arrays it is NaN.

    Args:
      path: the file.
      key: array / variable name for ``.npz`` and ``.mat``.
      encoding: ``"spins"`` ({-1, +1}), ``"binary"`` ({0, 1}, mapped by ``s = 2x - 1``) or ``"auto"``: spins if the
        observed values include -1, binary if they include 0; a file with -1, 0 and +1, or with only +1 values, is
        ambiguous and refused (pass the encoding).
      missing_zero: read 0 as a missing entry (spins-encoded files only; implies ``encoding="spins"`` under auto).
      header: text files: whether the first row is a header; ``None`` detects one (a first row none of whose fields is
        a number or a missing marker).
      index_col: text files: the first column holds row labels, not spins.
      delimiter: text files: field delimiter (default ``,`` for ``.csv``, tab for ``.tsv``, runs of blanks otherwise).

    Returns:
      :class:`SpinFile`.

    Raises:
      FileNotFoundError: no such file.
      ValueError: an unreadable file, a value outside the encoding (the message names the file, the 1-based row and
        column, and for text the line), rows of unequal length, or an ambiguous ``auto`` encoding.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    fmt = spin_file_format(path)
    columns = index = None
    if fmt in ("npz", "npy", "mat"):
        values, key = _read_array_file(path, fmt, key)
        delimiter = None
        name = f"{path}" if key is None else f"{path} ({key})"

        def where(r, c):
            return name if r is None else f"{name}: row {r + 1}, column {c + 1}"
    else:
        if delimiter is None:
            delimiter = default_delimiter(path)
        values, columns, index, lines = read_text_table(path, delimiter, header, index_col)

        def where(r, c):
            return f"{path}" if r is None else f"{path}: row {r + 1} (line {lines[r]}), column {c + 1 + index_col}"
    if values.size == 0:
        raise ValueError(f"{path} holds no data (shape {values.shape})")
    if np.any(np.isinf(values)):
        r, c = np.argwhere(np.isinf(values))[0]
        raise ValueError(f"{where(r, c)}: value {values[r, c]} is not allowed")
    spins, mask, encoding = _resolve_values(values, encoding, missing_zero, where)
    return SpinFile(spins, mask, encoding, fmt, key, columns, index, delimiter, str(path))


def load_spins(path: str | os.PathLike, *, key: str | None = None, encoding: str = "auto", missing_zero: bool = False,
               header: bool | None = None, index_col: bool = False, delimiter: str | None = None,
               allow_missing: bool = False):
    """Read a data file into float32 spins (see :func:`read_spin_file` for the formats and options).

    Args:
      path, key, encoding, missing_zero, header, index_col, delimiter: as :func:`read_spin_file`.
      allow_missing: return ``(spins, mask)`` with NaN at missing entries; otherwise a file with missing entries is
        refused.

    Returns:
      ``(M, N)`` float32 spins in {-1, +1}; or, with ``allow_missing``, ``(spins, mask)`` where ``mask (M, N)`` is
      True at missing entries (and ``spins`` NaN there).

    Raises:
      ValueError: as :func:`read_spin_file`, and missing entries without ``allow_missing``.
    """
    f = read_spin_file(path, key=key, encoding=encoding, missing_zero=missing_zero, header=header,
                       index_col=index_col, delimiter=delimiter)
    if allow_missing:
        return jnp.asarray(f.spins), f.mask
    if f.mask.any():
        r, c = np.argwhere(f.mask)[0]
        raise ValueError(f"{path} has {int(f.mask.sum())} missing entries (the first in row {r + 1}, column {c + 1}); "
                         "fill them with 'ising-diffusion impute' or read them with allow_missing=True")
    return jnp.asarray(f.spins)


def _write_matrix(path: Path, values: np.ndarray, mask: np.ndarray, *, key: str, columns, index, delimiter,
                  text_format: str) -> Path:
    fmt = spin_file_format(path)
    if fmt in ("npz", "npy", "mat"):
        arr = np.where(mask, np.nan, values).astype(np.float32) if mask.any() else values
        if fmt == "npy":
            return atomic_write(path, lambda f: np.save(f, arr))
        if fmt == "npz":
            return atomic_write(path, lambda f: np.savez(f, **{key: arr}))
        return atomic_write(path, lambda f: write_mat(f, {key: arr}))
    if delimiter is None:
        delimiter = default_delimiter(path)
    cells = np.char.mod(text_format, values)
    return write_text_table(path, cells, mask, columns=columns, index=index, delimiter=delimiter,
                            missing="NA" if fmt == "text" else "")


def save_spins(path: str | os.PathLike, spins, mask=None, *, encoding: Literal["spins", "binary"] = "spins",
               key: str = "spins", columns=None, index=None, delimiter: str | None = None) -> Path:
    """Write spins (and missing entries) atomically, in the format of ``path``'s extension (as :func:`read_spin_file`).

    Observed entries are written as ``-1``/``1`` (``encoding="spins"``) or ``0``/``1`` (``"binary"``), integers in text
    and int8 / uint8 arrays; missing entries as NaN in arrays (float32 then), an empty field in ``.csv``/``.tsv`` and
    ``NA`` in whitespace text. :func:`read_spin_file` reads the file back to the same spins and mask.

    Args:
      path: output file; an existing one is replaced only once the new one is complete.
      spins: ``(M, N)`` spins, -1/+1 at the entries that are not masked (masked ones are ignored).
      mask: ``(M, N)`` bool, True = missing; ``None`` for none.
      encoding: ``"spins"`` or ``"binary"``.
      key: array / variable name in ``.npz`` and ``.mat``.
      columns: text only: a header row (one name per written column, index column included).
      index: text only: ``(M,)`` row labels written as the first column.
      delimiter: text only: field delimiter (default by extension, as when reading).

    Returns:
      the path written.
    """
    if encoding not in ("spins", "binary"):
        raise ValueError(f"encoding must be 'spins' or 'binary', got {encoding!r}")
    raw = np.asarray(spins, np.float64)
    mask = np.zeros(raw.shape, bool) if mask is None else np.asarray(mask)
    if mask.dtype != bool or mask.shape != raw.shape:
        raise ValueError(f"mask must be a boolean array of the shape of spins {raw.shape}; got {mask.shape} "
                         f"({mask.dtype})")
    s = np.asarray(as_spins(np.where(mask, 1.0, raw), name=f"spins for {path}"))
    values = s.astype(np.int8) if encoding == "spins" else spins_to_binary(s)
    return _write_matrix(Path(path), values, mask, key=key, columns=columns, index=index, delimiter=delimiter,
                         text_format="%d")


def save_matrix(path: str | os.PathLike, values, *, key: str = "values", columns=None, index=None,
                delimiter: str | None = None, text_format: str = "%.6g") -> Path:
    """Write a real ``(M, N)`` matrix (e.g. probabilities) atomically in the format of ``path``'s extension.

    Args:
      path: output file.
      values: ``(M, N)`` numbers; NaN entries are written as missing ones (see :func:`save_spins`).
      key, columns, index, delimiter: as :func:`save_spins`.
      text_format: ``%``-format of a number in text files.

    Returns:
      the path written.
    """
    arr = np.asarray(values, np.float64)
    if arr.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {arr.shape}")
    mask = np.isnan(arr)
    return _write_matrix(Path(path), arr.astype(np.float32), mask, key=key, columns=columns, index=index,
                         delimiter=delimiter, text_format=text_format)
