"""Compatibility module: the names that lived here before the split into :mod:`ising_diffusion.spins` (validation,
conversion, splits) and :mod:`ising_diffusion.io` (files). Import from those; library code does not import this."""

from ising_diffusion.io import (
    MISSING_TOKENS,
    SpinFile,
    atomic_write,
    load_npz,
    load_spins,
    read_mat,
    read_spin_file,
    save_matrix,
    save_npz,
    save_spins,
    spin_file_format,
)
from ising_diffusion.spins import as_spins, spins_to_binary, train_test_split

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
