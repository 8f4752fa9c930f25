"""Multiple sequence alignments: FASTA, a2m and a3m files (plain or gzip) <-> int8 state matrices.

An alignment is held as plmc, EVcouplings and ArDCA hold it: an integer matrix ``(M, L)`` of state indices into an
alphabet string, with the gap first (state 0) for :data:`PROTEIN_ALPHABET`. Reading follows the a2m / a3m convention
for every file: upper-case letters and ``-`` are match columns; lower-case letters (insertions) and ``.`` (gaps in an
insert column) are dropped. After that every record must have the same number of match columns.

An upper-case letter outside the alphabet (``X``, ``B``, ``Z``, ``O``, ``U`` for proteins; ``N``, ``T`` for RNA) becomes
the gap state, or a :class:`ValueError` with ``strict=True``. Any other character (a digit, ``*``) is an error: such a
file is not an alignment.
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from ising_diffusion.io.atomic import atomic_write

__all__ = [
    "UNKNOWN_WARN_FRACTION",
    "PROTEIN_ALPHABET",
    "RNA_ALPHABET",
    "Alignment",
    "decode_sequences",
    "encode_sequences",
    "parse_alignment",
    "read_alignment",
    "write_alignment",
]

#: The 20 amino acids with the gap first (state 0), as plmc orders them; q = 21.
PROTEIN_ALPHABET = "-ACDEFGHIKLMNPQRSTVWY"
#: RNA bases with the gap first; q = 5.
RNA_ALPHABET = "-ACGU"

_GAP = "-"
_UNKNOWN = -1  # an upper-case letter outside the alphabet
_INVALID = -2  # a character that has no place in an alignment
#: above this fraction of match cells holding letters outside the alphabet, reading warns (they become gaps)
UNKNOWN_WARN_FRACTION = 0.01


class Alignment(NamedTuple):
    """An alignment as state indices.

    Attributes:
      seqs: ``(M, L)`` int8 array; ``seqs[m, i]`` is the index in ``alphabet`` of sequence ``m`` at match column ``i``.
      ids: the ``M`` header lines, without the leading ``>``.
      alphabet: the alphabet string (``alphabet[0]`` is state 0).
    """

    seqs: np.ndarray
    ids: list[str]
    alphabet: str


def _check_alphabet(alphabet: str) -> str:
    if not isinstance(alphabet, str) or not alphabet:
        raise ValueError(f"alphabet must be a non-empty string, got {alphabet!r}")
    if len(set(alphabet)) != len(alphabet):
        raise ValueError(f"alphabet {alphabet!r} repeats a character")
    if _GAP not in alphabet:
        raise ValueError(f"alphabet {alphabet!r} has no gap character '-' (unknown letters map to the gap)")
    if len(alphabet) > 127:
        raise ValueError(f"alphabet has {len(alphabet)} characters; int8 states allow at most 127")
    if any(ord(c) > 127 or c.isspace() or c == ">" for c in alphabet):
        raise ValueError(f"alphabet {alphabet!r} must be printable ASCII without spaces or '>'")
    if any(c.islower() or c == "." for c in alphabet):
        raise ValueError(f"alphabet {alphabet!r} has lower-case letters or '.': those mark a2m/a3m insertions (dropped "
                         f"when reading); write the states in upper case ({alphabet.upper()!r})")
    return alphabet


def _lookup_table(alphabet: str) -> tuple[np.ndarray, bytes]:
    """Byte -> state table (``_UNKNOWN``/``_INVALID`` for letters outside the alphabet), and the bytes to drop."""
    table = np.full(256, _INVALID, dtype=np.int16)
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        table[ord(c)] = _UNKNOWN
    for state, c in enumerate(alphabet):
        table[ord(c)] = state
    drop = bytes(c for c in b".abcdefghijklmnopqrstuvwxyz" if chr(c) not in alphabet)
    return table, drop


def _check_insert_columns(raws: list[bytes], drop: bytes, ids: Sequence[str], source: str) -> None:
    """In an aligned FASTA or a2m file (every record as long as the others) the dropped characters (lower case, '.')
    mark insert columns, the same positions in every record; where they are not, dropping them would shift columns
    against each other (soft-masked letters, '.' used as the gap) and the counts may still agree. a3m files (by
    name) leave insertions unpadded, so their records' lengths differ and positions say nothing."""
    if len(raws) < 2 or len({len(r) for r in raws}) != 1 or source.lower().removesuffix(".gz").endswith(".a3m"):
        return
    dropped = np.zeros(256, bool)
    dropped[np.frombuffer(drop, np.uint8)] = True
    masks = dropped[np.frombuffer(b"".join(raws), np.uint8).reshape(len(raws), -1)]
    differ = np.flatnonzero(np.any(masks != masks[0], axis=1))
    if differ.size:
        k = int(differ[0])
        col = int(np.flatnonzero(masks[k] != masks[0])[0])
        raise ValueError(f"{source}: record {k + 1} ({ids[k]!r}) has a lower-case letter or '.' at character "
                         f"{col + 1} where record 1 has a match column (or the reverse): in an aligned FASTA / a2m "
                         "file those mark insert columns, the same in every record; write match states in upper case "
                         "and gaps as '-' (or name the file .a3m if its insertions are unpadded)")


def encode_sequences(seqs: Sequence[str], alphabet: str = PROTEIN_ALPHABET, *, ids: Sequence[str] | None = None,
                     strict: bool = False, source: str = "alignment") -> np.ndarray:
    """Turn aligned strings into an int8 ``(M, L)`` state matrix (insertions dropped, see the module docstring).

    Args:
      seqs: ``M`` aligned sequences (white space inside a sequence is ignored).
      alphabet: the states, one character each; must contain ``-``.
      ids: names of the sequences for error messages (default: their 1-based numbers).
      strict: if True, an upper-case letter outside ``alphabet`` is an error instead of a gap.
      source: what to call the input in error messages (a file name).

    Returns:
      ``(M, L)`` int8 array of indices into ``alphabet``.

    Raises:
      ValueError: no sequences, a sequence with no match column, rows of unequal match-column counts, a character that
        cannot be in an alignment, or (``strict``) a letter outside the alphabet; the message names the record.
    """
    alphabet = _check_alphabet(alphabet)
    seqs = list(seqs)
    if ids is None:
        ids = [f"#{k + 1}" for k in range(len(seqs))]
    if len(ids) != len(seqs):
        raise ValueError(f"{source}: {len(ids)} ids for {len(seqs)} sequences")
    if not seqs:
        raise ValueError(f"{source}: no sequences")
    table, drop = _lookup_table(alphabet)
    rows, raws = [], []
    length = None
    for k, (name, text) in enumerate(zip(ids, seqs)):
        if not text.isascii():
            char = next(c for c in text if ord(c) > 127)
            raise ValueError(f"{source}: record {k + 1} ({name!r}) has {char!r} (U+{ord(char):04X}) at character "
                             f"{text.index(char) + 1}, which cannot appear in an alignment (ASCII letters, '-', '.')")
        raw = "".join(text.split()).encode("ascii")
        kept = raw.translate(None, drop)
        if length is None:
            length = len(kept)
            if length == 0:
                raise ValueError(f"{source}: record {k + 1} ({name!r}) has no match columns (only lower-case "
                                 f"insertions, '.' or nothing)")
        elif len(kept) != length:
            raise ValueError(f"{source}: ragged alignment: record {k + 1} ({name!r}) has {len(kept)} match columns "
                             f"(upper-case letters and '-'), the first record has {length}")
        rows.append(kept)
        raws.append(raw)
    _check_insert_columns(raws, drop, ids, source)
    codes = table[np.frombuffer(b"".join(rows), dtype=np.uint8)].reshape(len(rows), length)
    bad = codes < 0 if strict else codes == _INVALID
    if bad.any():
        k, i = (int(v[0]) for v in np.nonzero(bad))
        char = chr(rows[k][i])
        what = "is not in the alphabet" if codes[k, i] == _UNKNOWN else "cannot appear in an alignment"
        raise ValueError(f"{source}: record {k + 1} ({ids[k]!r}) has {char!r} at match column {i + 1}, which {what} "
                         f"{alphabet!r}")
    unknown = codes == _UNKNOWN
    if unknown.mean() > UNKNOWN_WARN_FRACTION:  # a few X, B, Z are normal; many mean the wrong alphabet
        letters, counts = np.unique(np.frombuffer(b"".join(rows), dtype=np.uint8)[unknown.ravel()], return_counts=True)
        top = ", ".join(f"{chr(c)!r} x {n}" for c, n in sorted(zip(letters, counts), key=lambda t: -t[1])[:5])
        warnings.warn(f"{source}: {int(unknown.sum())} of {unknown.size} match cells ({unknown.mean():.1%}) hold "
                      f"letters outside the alphabet {alphabet!r} and are read as gaps ({top}); is it the right "
                      "alphabet? (strict=True refuses them)", UserWarning, stacklevel=3)
    codes[unknown] = alphabet.index(_GAP)
    return codes.astype(np.int8)


def decode_sequences(seqs, alphabet: str = PROTEIN_ALPHABET) -> list[str]:
    """The strings of an ``(M, L)`` state matrix (inverse of :func:`encode_sequences` on match columns)."""
    alphabet = _check_alphabet(alphabet)
    arr = np.asarray(seqs)
    if arr.ndim != 2:
        raise ValueError(f"seqs must be 2-D (sequences, columns), got shape {arr.shape}")
    if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= len(alphabet)):
        raise ValueError(f"seqs must hold integer states in [0, {len(alphabet)}) for alphabet {alphabet!r}")
    chars = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)[arr.astype(np.intp)]
    return [row.tobytes().decode("ascii") for row in chars]


def parse_alignment(text: str, alphabet: str = PROTEIN_ALPHABET, *, strict: bool = False,
                    source: str = "alignment") -> Alignment:
    """Parse FASTA / a2m / a3m text (see :func:`read_alignment`)."""
    ids: list[str] = []
    seqs: list[list[str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(">"):
            ids.append(line[1:].strip())
            seqs.append([])
        elif not ids:
            if line.startswith("#"):  # a3m files may start with a '#' comment line
                continue
            raise ValueError(f"{source}: line {n} comes before the first '>' header; not a FASTA/a2m/a3m file")
        else:
            seqs[-1].append(line)
    if not ids:
        raise ValueError(f"{source}: no sequences (no '>' header line)")
    for k, parts in enumerate(seqs):
        if not parts:
            raise ValueError(f"{source}: record {k + 1} ({ids[k]!r}) has no sequence")
    codes = encode_sequences(["".join(p) for p in seqs], alphabet, ids=ids, strict=strict, source=source)
    return Alignment(codes, ids, alphabet)


def read_alignment(path: str | os.PathLike, alphabet: str = PROTEIN_ALPHABET, *, strict: bool = False) -> Alignment:
    """Read an aligned FASTA, a2m or a3m file, plain or gzip-compressed.

    Lower-case letters and ``.`` are dropped (a2m/a3m insertions); upper-case letters and ``-`` are match columns.
    Upper-case letters outside ``alphabet`` become gaps (errors if ``strict``). gzip is recognised by its magic bytes.

    Args:
      path: the file.
      alphabet: state characters, gap included; :data:`PROTEIN_ALPHABET` (q = 21) or :data:`RNA_ALPHABET` (q = 5) or
        any custom string with a ``-``.
      strict: refuse letters outside ``alphabet`` instead of mapping them to the gap.

    Returns:
      :class:`Alignment` with ``seqs`` int8 ``(M, L)``, the ``M`` header lines and the alphabet.

    Raises:
      FileNotFoundError: no such file.
      ValueError: empty file, no sequences, ragged rows, a record without a sequence, a bad character; the message
        names the file and the record.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"{path}: corrupt gzip file ({err})") from None
    if not data.strip():
        raise ValueError(f"{path}: the file is empty")
    return parse_alignment(data.decode("utf-8-sig", errors="replace"), alphabet, strict=strict, source=str(path))


def write_alignment(path: str | os.PathLike, seqs, ids: Sequence[str] | None = None,
                    alphabet: str = PROTEIN_ALPHABET) -> Path:
    """Write an alignment as FASTA (one line per sequence), atomically; gzip-compressed if ``path`` ends in ``.gz``.

    Args:
      path: output file.
      seqs: ``(M, L)`` integer states, or an :class:`Alignment` (then ``ids`` and ``alphabet`` default to its own).
      ids: ``M`` header texts (default ``seq1 ... seqM``); no line breaks.
      alphabet: the state characters.

    Returns:
      The path written.
    """
    if isinstance(seqs, Alignment):
        ids = seqs.ids if ids is None else ids
        alphabet = seqs.alphabet
        seqs = seqs.seqs
    strings = decode_sequences(seqs, alphabet)
    if not strings:
        raise ValueError("cannot write an alignment with no sequences")
    ids = [f"seq{k + 1}" for k in range(len(strings))] if ids is None else [str(i) for i in ids]
    if len(ids) != len(strings):
        raise ValueError(f"{len(ids)} ids for {len(strings)} sequences")
    if any(i.splitlines() not in ([], [i]) for i in ids):  # \n, \r, \f, \v, \x1c-\x1e, \x85, \u2028, \u2029
        raise ValueError("sequence ids must not contain line breaks")
    payload = "".join(f">{i}\n{s}\n" for i, s in zip(ids, strings)).encode("utf-8")
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    return atomic_write(path, lambda f: f.write(payload))
