"""NumPy ``.npz`` files of named arrays, written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.spins import as_spins

__all__ = ["load_npz", "save_npz"]


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
