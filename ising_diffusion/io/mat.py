"""MATLAB ``.mat`` files, and the layouts of the MATLAB recordings the package reads.

The public salamander retina recording (:mod:`ising_diffusion.datasets.retina`) stores its spikes as ``bint`` of shape
``(repeats, cells, time)``; :func:`bint_to_rows` flattens it to the ``(samples, spins)`` rows every reader returns.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["bint_to_rows", "read_mat", "write_mat"]


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


def write_mat(fileobj, variables: dict) -> None:
    """Write ``variables`` (name -> array) as a MATLAB v5 ``.mat`` into an open binary file (see
    :func:`ising_diffusion.io.atomic_write`)."""
    import scipy.io

    scipy.io.savemat(fileobj, variables)


def bint_to_rows(bint: np.ndarray) -> np.ndarray:
    """The public recording's ``bint`` ``(repeats, cells, time)`` as ``(repeats * time, cells)`` rows, repeat-major."""
    return np.transpose(bint, (0, 2, 1)).reshape(-1, bint.shape[1])
