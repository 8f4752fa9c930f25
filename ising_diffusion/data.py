"""Validation, conversion, splitting and storage of observed binary patterns.

Every public entry point of the package that takes user data runs it through :func:`as_spins`, so bad input gets a
``ValueError`` that names the problem instead of a silent wrong answer or an error deep inside JAX.

Users' files are read by :func:`load_spins` / :func:`read_spin_file` and written by :func:`save_spins`, in the format
named by the extension (``docs/data.md``): ``.npz``, ``.npy``, MATLAB ``.mat``, ``.csv``, ``.tsv``, and anything else
as whitespace-separated text. Missing entries (empty fields, ``NA``, ``NaN``; optionally ``0`` in a spins file) are
read into a boolean mask; a value that is not allowed is reported with its file, row and column.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.types import Array, PRNGKey

__all__ = [
    "MISSING_TOKENS",
    "SpinFile",
    "as_spins",
    "atomic_write",
    "load_npz",
    "load_spins",
    "read_mat",
    "read_spin_file",
    "save_matrix",
    "save_npz",
    "save_spins",
    "spin_file_format",
    "spins_to_binary",
    "train_test_split",
]


def as_spins(data, *, encoding: Literal["spins", "binary"] = "spins", name: str = "data",
             n_spins: int | None = None) -> Array:
    """Validate observed patterns and return them as float32 spins in {-1, +1}.

    Args:
      data: array-like of shape ``(M, N)``.
      encoding: ``"spins"`` if the values are in {-1, +1}; ``"binary"`` if they are in {0, 1} (e.g. neurons
        silent/active), converted by ``s = 2x - 1``. The encoding is never guessed.
      name: what to call the array in error messages.
      n_spins: if given, the required number of columns ``N``.

    Returns:
      ``(M, N)`` float32 array of -1.0 / +1.0.

    Raises:
      ValueError: not 2-D, empty, non-finite, values outside the encoding's set, or the wrong ``N``.
    """
    if encoding not in ("spins", "binary"):
        raise ValueError(f"encoding must be 'spins' or 'binary', got {encoding!r}")
    if isinstance(data, jax.core.Tracer):
        raise TypeError(f"{name}: validation needs concrete data; call as_spins outside jit/vmap")
    try:
        arr = np.asarray(data)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{name} cannot be read as an array: {e}") from e
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, spins), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no samples (shape {arr.shape})")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no spins (shape {arr.shape})")
    if n_spins is not None and arr.shape[1] != n_spins:
        raise ValueError(f"{name} has {arr.shape[1]} spins per sample, expected {n_spins}")
    arr = arr.astype(np.float64) if arr.dtype != bool else arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    allowed = (-1.0, 1.0) if encoding == "spins" else (0.0, 1.0)
    ok = (arr == allowed[0]) | (arr == allowed[1])
    if not np.all(ok):
        bad_vals = np.unique(arr[~ok])[:5]
        hint = ""
        if encoding == "spins" and np.all((arr == 0) | (arr == 1)):
            hint = " (the data look like {0,1}: pass encoding='binary')"
        raise ValueError(f"{name} must contain only {{{allowed[0]:g}, {allowed[1]:g}}} for encoding={encoding!r}; "
                         f"found {bad_vals.tolist()}{hint}")
    if encoding == "binary":
        arr = 2.0 * arr - 1.0
    return jnp.asarray(arr, jnp.float32)


def spins_to_binary(spins) -> np.ndarray:
    """Spins {-1, +1} to {0, 1} (``x = (s + 1) / 2``) as uint8."""
    return ((np.asarray(spins) + 1) // 2).astype(np.uint8)


def train_test_split(key: PRNGKey, spins, n_test: int | float = 0.125, n_train: int | None = None):
    """Shuffle rows by ``key`` and split into ``(train, test)``.

    Args:
      key: PRNG key for the permutation.
      spins: ``(M, N)`` array.
      n_test: number of test rows, or a fraction in (0, 1) of ``M``.
      n_train: number of training rows (default: all the rest).
    """
    m = spins.shape[0]
    if isinstance(n_test, float) and 0 < n_test < 1:
        n_test = int(round(n_test * m))
    n_test = int(n_test)
    if n_train is None:
        n_train = m - n_test
    if n_test < 1 or n_train < 1 or n_test + n_train > m:
        raise ValueError(f"cannot split {m} samples into {n_train} train and {n_test} test")
    perm = jax.random.permutation(key, m)
    spins = jnp.asarray(spins)[perm]
    return spins[:n_train], spins[n_train:n_train + n_test]


def atomic_write(path: str | os.PathLike, write_fn, mode: str = "wb") -> Path:
    """Write a file through ``write_fn(fileobj)`` into a temporary file beside ``path``, then rename it in place.

    A failure while writing leaves any earlier file at ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; results should get the user's usual permissions
    try:
        with os.fdopen(fd, mode) as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def save_npz(path: str | os.PathLike, **arrays) -> Path:
    """Save arrays to ``path`` (``.npz``) atomically: write a temporary file, then rename."""
    np_arrays = {k: np.asarray(v) for k, v in arrays.items()}
    return atomic_write(path, lambda f: np.savez(f, **np_arrays))


def load_npz(path: str | os.PathLike, key: str | None = None, *, encoding: Literal["spins", "binary"] | None = None):
    """Load a ``.npz`` written by :func:`save_npz` (or any ``.npz``/``.npy``).

    Args:
      path: file path.
      key: array to return; if ``None`` and the file holds exactly one array (or has ``spins``), that one.
      encoding: if given, validate the array with :func:`as_spins` and return spins.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    if path.suffix == ".npy":
        arr = np.load(path)
    else:
        with np.load(path) as f:
            names = list(f.keys())
            if key is None:
                if "spins" in names:
                    key = "spins"
                elif len(names) == 1:
                    key = names[0]
                else:
                    raise ValueError(f"{path} holds several arrays {names}; say which one with key=")
            if key not in names:
                raise ValueError(f"{path} has no array {key!r}; it has {names}")
            arr = f[key]
    if encoding is not None:
        return as_spins(arr, encoding=encoding, name=str(path))
    return arr


# ---------------------------------------------------------------------------------------------------------------------
# Users' files: every format read into (spins, missing mask), and written back in the format of the extension.

#: Text fields read as a missing entry (compared after stripping blanks, case-insensitively): empty, ``NA``, ``NaN``.
MISSING_TOKENS = ("", "na", "nan")
_ARRAY_FORMATS = {".npz": "npz", ".npy": "npy", ".mat": "mat"}
_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_TEXT_MISSING_OUT = {"csv": "", "tsv": "", "text": "NA"}  # what a missing entry is written as


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


def read_mat(path: str | os.PathLike) -> dict:
    """Read a MATLAB ``.mat`` file (v4 to v7.2) with :func:`scipy.io.loadmat`.

    Returns:
      the variables by name (MATLAB's ``__header__`` entries dropped).

    Raises:
      ValueError: a v7.3 (HDF5) file, which scipy cannot read (the message says how to convert it), or a file that is
        not a ``.mat`` file.
    """
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path))
    except NotImplementedError as e:  # scipy raises this for MATLAB v7.3 (HDF5) files
        raise ValueError(f"{path} is a MATLAB v7.3 (HDF5) file, which scipy.io.loadmat cannot read; re-save it in "
                         "MATLAB with save(..., '-v7') or convert it with h5py to a v5 .mat") from e
    except Exception as e:
        raise ValueError(f"cannot read {path} as a MATLAB .mat file: {e}") from e
    return {k: v for k, v in mat.items() if not k.startswith("__")}


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


def _read_array_file(path: Path, fmt: str, key: str | None):
    if fmt == "npy":
        arr, key = np.load(path, allow_pickle=False), None
    elif fmt == "npz":
        with np.load(path, allow_pickle=False) as f:
            key = _pick_array(path, list(f.keys()), key, "array")
            arr = f[key]
    else:
        mat = read_mat(path)
        if key is None and "spins" not in mat and "data" not in mat and "bint" in mat:
            key = "bint"
        key = _pick_array(path, sorted(mat), key, "variable")
        arr = np.asarray(mat[key])
        if key == "bint" and arr.ndim == 3:
            from ising_diffusion.datasets.retina import bint_to_rows  # the retina recording's layout

            arr = bint_to_rows(arr)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{path}{'' if key is None else f' ({key})'} must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{path}{'' if key is None else f' ({key})'} must be 2-D (samples, spins), got shape "
                         f"{arr.shape}")
    return arr.astype(np.float64), key


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text_rows(path: Path, delimiter: str | None) -> tuple[list[list[str]], list[int]]:
    """Fields of every non-blank, non-comment (``#``) line, and the 1-based line numbers they came from."""
    rows, lines = [], []
    with open(path, newline="") as fh:
        if delimiter is None:
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


def _read_text_file(path: Path, delimiter: str | None, header: bool | None, index_col: bool):
    rows, lines = _read_text_rows(path, delimiter)
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
        raise ValueError(f"{path}: row {r + 1} (line {lines[r]}), column {c + 1 + bool(index_col)}: "
                         f"{str(tokens[r, c])!r} is not a number or a missing-entry marker (empty, NA, NaN)")
    return table[inverse], columns, index, lines


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
            raise ValueError(f"{where(r, c)}: value {v:g} is neither a spin (-1/+1) nor binary (0/1)")
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
            delimiter = _DELIMITERS.get(path.suffix.lower())
        values, columns, index, lines = _read_text_file(path, delimiter, header, index_col)

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
        import scipy.io

        return atomic_write(path, lambda f: scipy.io.savemat(f, {key: arr}))
    if delimiter is None:
        delimiter = _DELIMITERS.get(path.suffix.lower())
    missing = _TEXT_MISSING_OUT[fmt] if delimiter is not None else "NA"
    cells = np.char.mod(text_format, values).astype(object)
    cells[mask] = missing
    m = values.shape[0]
    if index is not None and len(index) != m:
        raise ValueError(f"index has {len(index)} labels for {m} rows")
    width = values.shape[1] + (index is not None)
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
