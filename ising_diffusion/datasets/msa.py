"""Protein family alignments with contact truth (issue 22): ``../shared/data/msa/<name>/``.

A family folder ``<name>/`` holds the alignment ``<name>.fasta.gz`` (or ``.fasta``, ``.a2m``, ``.a3m``, plain or
``.gz``) and the contact truth: a distance table ``<name>_struct.dat`` (lines ``i j x d``, 1-based, see
:mod:`ising_diffusion.io.contacts`), or else a contact-pair list ``<name>_contacts.txt`` (lines ``i j``; the committed
test subsample uses it). PF00014 (Kunitz/BPTI, 13,600 sequences, L = 53) comes from the ArDCA companion data (MIT;
the alignment derives from Pfam); see ``../shared/data/msa/README.md``. The data are never downloaded.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ising_diffusion.io.alignment import PROTEIN_ALPHABET, read_alignment
from ising_diffusion.io.contacts import contact_map, pairs_contact_map, read_contact_pairs, read_distance_table

__all__ = ["MSA_ENV_VAR", "MSAFamily", "distance_matrix", "find_msa_family", "list_msa_families", "load_msa_family"]

#: Environment variable naming the folder that holds family folders (or one family folder).
MSA_ENV_VAR = "ISING_DIFFUSION_MSA"
_DEFAULT_SUBDIR = Path("..") / "shared" / "data" / "msa"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_ALIGNMENT_SUFFIXES = (".fasta.gz", ".fasta", ".fa.gz", ".fa", ".a2m.gz", ".a2m", ".a3m.gz", ".a3m")

_WHERE_TO_GET = (
    "Protein family data are not shipped with the package and never downloaded. Put the family folder (e.g. PF00014/ "
    "with PF00014.fasta.gz and PF00014_struct.dat, from the ArDCA companion data, MIT licence) in ../shared/data/msa/ "
    f"beside the project root, pass root=..., or set the environment variable {MSA_ENV_VAR} to its parent folder."
)


class MSAFamily(NamedTuple):
    """A protein family alignment with its contact truth.

    Attributes:
      seqs: ``(M, L)`` int8 states over :data:`~ising_diffusion.io.alignment.PROTEIN_ALPHABET` (gap = 0).
      ids: the ``M`` sequence headers.
      contacts: ``(L, L)`` symmetric bool, True where the residues are closer than ``cutoff`` (Angstrom).
      distances: ``(L, L)`` float64 symmetric distances (NaN for pairs missing from the table, 0 on the diagonal), or
        ``None`` when the family has only a contact-pair list.
      length: ``L``.
      name: the family name.
      path: the alignment file read.
    """

    seqs: np.ndarray
    ids: list[str]
    contacts: np.ndarray
    distances: np.ndarray | None
    length: int
    name: str
    path: str


def _family_files(folder: Path, name: str) -> tuple[Path, Path] | None:
    alignment = next((folder / f"{name}{s}" for s in _ALIGNMENT_SUFFIXES if (folder / f"{name}{s}").is_file()), None)
    truth = next((folder / f for f in (f"{name}_struct.dat", f"{name}_contacts.txt") if (folder / f).is_file()), None)
    if alignment is None or truth is None:
        return None
    return alignment, truth


def _search_folders(root) -> list[Path]:
    if root is None and os.environ.get(MSA_ENV_VAR):
        root = os.environ[MSA_ENV_VAR]
    if root is not None:
        return [Path(root).expanduser()]
    return [(_REPO_ROOT / _DEFAULT_SUBDIR).resolve(), (Path.cwd() / _DEFAULT_SUBDIR).resolve()]


def find_msa_family(name: str = "PF00014", root: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Locate a family's alignment and contact-truth files without reading them.

    Order: ``root`` if given (a folder holding ``<name>/``, or the family folder itself); else the environment variable
    :data:`MSA_ENV_VAR`; else ``../shared/data/msa/`` relative to the package's repository root, then to the current
    directory.

    Returns:
      ``(alignment_path, truth_path)``; the truth is ``<name>_struct.dat`` or, failing that, ``<name>_contacts.txt``.

    Raises:
      FileNotFoundError: nothing found; the message says where to put the data.
    """
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"bad family name {name!r}")
    tried = []
    for base in _search_folders(root):
        for folder in (base / name, base):
            tried.append(str(folder))
            found = _family_files(folder, name)
            if found is not None:
                return found
    raise FileNotFoundError(f"family {name!r} not found (looked for {name}.fasta[.gz]/.a2m/.a3m with "
                            f"{name}_struct.dat or {name}_contacts.txt in {', '.join(dict.fromkeys(tried))}). "
                            f"{_WHERE_TO_GET}")


def list_msa_families(root: str | os.PathLike | None = None) -> list[str]:
    """The names of the families :func:`load_msa_family` can load from ``root`` (sorted).

    A family is a folder ``<name>/`` holding ``<name>``'s alignment and contact truth (see the module docstring); a
    ``root`` that is itself such a folder gives its own name. Folders are searched in :func:`find_msa_family`'s order
    and the first one holding any family is used.

    Returns:
      the family names; empty when there are none.
    """
    for base in _search_folders(root):
        found = [d.name for d in sorted(base.iterdir()) if d.is_dir() and _family_files(d, d.name)] \
            if base.is_dir() else []
        if not found and base.is_dir() and _family_files(base, base.name):
            found = [base.name]
        if found:
            return found
    return []


def distance_matrix(table: np.ndarray, length: int) -> np.ndarray:
    """``(L, L)`` symmetric distances from a ``(K, 3)`` 0-based table (NaN where missing, 0 on the diagonal); a pair
    listed more than once (either order) gets its smallest distance, as :func:`contact_map` counts it in contact if
    any of its lines is below the cutoff."""
    with warnings.catch_warnings():  # the contact map's own call says what the table lacks, once
        warnings.simplefilter("ignore", UserWarning)
        contact_map(table, length)  # validates the shape and the index range
    out = np.full((length, length), np.inf)
    i, j = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    np.minimum.at(out, (i, j), table[:, 2])
    np.minimum.at(out, (j, i), table[:, 2])
    out = np.minimum(out, out.T)
    out[np.isinf(out)] = np.nan
    np.fill_diagonal(out, 0.0)
    return out


def load_msa_family(name: str = "PF00014", root: str | os.PathLike | None = None, *,
                    cutoff: float = 8.0) -> MSAFamily:
    """Load a protein family: alignment states, ids, contact map (distance ``< cutoff``) and distances.

    Args:
      name: family name (folder and file stem), e.g. ``"PF00014"``.
      root: folder holding ``<name>/`` (or the family folder); ``None`` for :data:`MSA_ENV_VAR` or
        ``../shared/data/msa/``.
      cutoff: contact distance in Angstrom (ignored for a contact-pair list).

    Returns:
      :class:`MSAFamily`.

    Raises:
      FileNotFoundError: the family is missing (the message says where to put it).
      ValueError: a bad alignment or table, or a table naming columns beyond the alignment's length.
    """
    aln_path, truth_path = find_msa_family(name, root)
    aln = read_alignment(aln_path, PROTEIN_ALPHABET)
    length = aln.seqs.shape[1]
    is_table = truth_path.name.endswith("_struct.dat")
    truth = read_distance_table(truth_path) if is_table else read_contact_pairs(truth_path)
    try:
        if is_table:
            contacts, distances = contact_map(truth, length, cutoff), distance_matrix(truth, length)
        else:
            contacts, distances = pairs_contact_map(truth, length), None
    except ValueError as err:
        raise ValueError(f"{truth_path} does not fit the alignment {aln_path} (L = {length}): {err}") from None
    return MSAFamily(aln.seqs, aln.ids, contacts, distances, length, name, str(aln_path))
