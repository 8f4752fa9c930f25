"""Files: atomic writes, ``.npz`` archives, users' data files of binary patterns (``.npz``, ``.npy``, ``.mat``,
``.csv``, ``.tsv``, whitespace text, with missing entries), MATLAB files and their layouts, and parameter files.

One module per kind of file:

* :mod:`~ising_diffusion.io.atomic`: :func:`atomic_write` (every writer below goes through it);
* :mod:`~ising_diffusion.io.npz`: :func:`save_npz`, :func:`load_npz`;
* :mod:`~ising_diffusion.io.text`: delimited / whitespace text tables with missing entries;
* :mod:`~ising_diffusion.io.mat`: :func:`read_mat`, and :func:`bint_to_rows` for the retina recording's layout;
* :mod:`~ising_diffusion.io.spin_files`: :func:`read_spin_file`, :func:`load_spins`, :func:`save_spins`,
  :func:`save_matrix` in the format named by the extension (``docs/data.md``);
* :mod:`~ising_diffusion.io.params`: :func:`load_params`, :func:`save_params` (``h``, ``J`` in ``.npz`` or ``.json``);
* :mod:`~ising_diffusion.io.augmented`: :func:`save_augmented`, the ``.npz`` of an augmentation run;
* :mod:`~ising_diffusion.io.alignment`: :func:`read_alignment`, :func:`write_alignment` (FASTA / a2m / a3m, ``.gz``);
* :mod:`~ising_diffusion.io.contacts`: :func:`read_distance_table`, :func:`contact_map` (residue contacts).
"""

from ising_diffusion.io.alignment import (
    PROTEIN_ALPHABET,
    RNA_ALPHABET,
    Alignment,
    decode_sequences,
    encode_sequences,
    parse_alignment,
    read_alignment,
    write_alignment,
)
from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.io.augmented import save_augmented
from ising_diffusion.io.contacts import (
    as_contact_map,
    contact_map,
    pairs_contact_map,
    read_contact_pairs,
    read_distance_table,
)
from ising_diffusion.io.mat import bint_to_rows, read_mat, write_mat
from ising_diffusion.io.npz import load_npz, save_npz
from ising_diffusion.io.params import has_params, load_params, save_params
from ising_diffusion.io.spin_files import (
    SpinFile,
    load_spins,
    read_spin_file,
    save_matrix,
    save_spins,
    spin_file_format,
)
from ising_diffusion.io.text import MISSING_TOKENS, TextTable, read_text_table, write_text_table

__all__ = [
    "PROTEIN_ALPHABET",
    "RNA_ALPHABET",
    "Alignment",
    "as_contact_map",
    "contact_map",
    "decode_sequences",
    "encode_sequences",
    "pairs_contact_map",
    "parse_alignment",
    "read_alignment",
    "read_contact_pairs",
    "read_distance_table",
    "write_alignment",
    "MISSING_TOKENS",
    "SpinFile",
    "TextTable",
    "atomic_write",
    "bint_to_rows",
    "has_params",
    "load_npz",
    "load_params",
    "load_spins",
    "read_mat",
    "read_spin_file",
    "read_text_table",
    "save_augmented",
    "save_matrix",
    "save_npz",
    "save_params",
    "save_spins",
    "spin_file_format",
    "write_mat",
    "write_text_table",
]
