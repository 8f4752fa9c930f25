"""The salamander retina recording (METHODS.md section 6, the paper's Fig. 6).

Two MATLAB layouts are read:

* the project's 50-cell file ``salamander_retina_50neurons_20ms.mat``: variable ``data``, shape ``(time, cells)``, 0/1;
* the full public recording ``bint_fishmovie32_100.mat`` (Marre, Tkacik, Amodei, Schneidman, Bialek & Berry, IST Austria
  data repository, record 61): var. ``bint``, shape ``(repeats, cells, time)`` = ``297 x 160 x 953``. It is flattened
  repeat-major to ``(repeats * time, cells)``, the same row order as the 50-cell file.

A row is one 20 ms bin; an entry is 1 when the cell spiked at least once in that bin (spike counts > 1, if a file holds
them, are binarised the same way). The paper keeps the 40 most active cells, maps them to spins ``s = 2x - 1``, shuffles
the bins and takes 8000 for training and 1000 for testing.

The data are never downloaded: when no file is found the error says where to get it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from ising_diffusion.checks import is_real_dtype
from ising_diffusion.io.mat import bint_to_rows, read_mat
from ising_diffusion.spins import as_spins
from ising_diffusion.types import Array, PRNGKey

__all__ = [
    "RETINA_ENV_VAR",
    "RETINA_FILENAMES",
    "RetinaData",
    "bint_to_rows",
    "find_retina_file",
    "load_retina_binary",
    "select_active_cells",
    "load_retina",
]

#: Environment variable naming the data file, or a folder holding it.
RETINA_ENV_VAR = "ISING_DIFFUSION_RETINA"
#: File names looked for in a folder, in order of preference.
RETINA_FILENAMES = ("salamander_retina_50neurons_20ms.mat", "bint_fishmovie32_100.mat")
_DEFAULT_SUBDIR = Path("..") / "shared" / "data" / "retina"
_REPO_ROOT = Path(__file__).resolve().parents[2]

_WHERE_TO_GET = (
    "The recording is not shipped with the package and is never downloaded. Get it from the IST Austria data "
    "repository, record 61 (Marre, Tkacik, Amodei, Schneidman, Bialek & Berry, 'Multi-electrode array recording from "
    "salamander retinal ganglion cells'): bint_fishmovie32_100.mat (variable bint, 297 x 160 x 953). Put it (or the "
    f"project's 50-cell file {RETINA_FILENAMES[0]}) in ../shared/data/retina/ beside the project root, or pass "
    f"path=..., or set the environment variable {RETINA_ENV_VAR} to the file or its folder. Cite Marre et al. and "
    "Tkacik et al., PLoS Comput Biol 10, e1003408 (2014) when publishing results from it."
)


class RetinaData(NamedTuple):
    """The retina recording as shuffled spin patterns of the most active cells.

    Attributes:
      train: ``(n_train, n_cells)`` float32 spins in {-1, +1} (+1 = the cell spiked in that 20 ms bin).
      test: ``(n_test, n_cells)`` float32 spins.
      cells: ``(n_cells,)`` column indices of the chosen cells in the file, most active first.
      rates: ``(n_cells,)`` firing probability per bin of each chosen cell over the whole recording.
      path: the file read.
    """

    train: Array
    test: Array
    cells: np.ndarray
    rates: np.ndarray
    path: str


def _pick_in_folder(folder: Path) -> Path | None:
    for name in RETINA_FILENAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def find_retina_file(path: str | os.PathLike | None = None) -> Path:
    """Locate the recording without reading it.

    Order: ``path`` if given (a file, or a folder holding one of :data:`RETINA_FILENAMES`); else the environment var.
    :data:`RETINA_ENV_VAR`; else ``../shared/data/retina/`` relative to the package's repository root, then relative to
    the current directory.

    Args:
      path: file or folder, or ``None`` for the defaults.

    Returns:
      Path of the data file.

    Raises:
      FileNotFoundError: nothing found; the message says where to get the data.
    """
    if path is None and os.environ.get(RETINA_ENV_VAR):
        path = os.environ[RETINA_ENV_VAR]
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p
        if p.is_dir():
            found = _pick_in_folder(p)
            if found is not None:
                return found
            raise FileNotFoundError(f"folder {p} holds none of {list(RETINA_FILENAMES)}. {_WHERE_TO_GET}")
        raise FileNotFoundError(f"retina data not found at {p}. {_WHERE_TO_GET}")
    tried = []
    for folder in (_REPO_ROOT / _DEFAULT_SUBDIR, Path.cwd() / _DEFAULT_SUBDIR):
        folder = folder.resolve()
        tried.append(str(folder))
        found = _pick_in_folder(folder)
        if found is not None:
            return found
    raise FileNotFoundError(f"retina data not found (looked in {', '.join(dict.fromkeys(tried))}). {_WHERE_TO_GET}")


def load_retina_binary(path: str | os.PathLike | None = None) -> tuple[np.ndarray, Path]:
    """Read the recording as a ``(bins, cells)`` 0/1 array, in recording order.

    Args:
      path: file or folder (see :func:`find_retina_file`).

    Returns:
      ``(binary, path)``: ``binary`` is uint8 of shape ``(T, C)`` (``data`` as stored; ``bint`` of shape
      ``(repeats, C, time)`` flattened repeat-major to ``(repeats * time, C)``); ``path`` is the file read.

    Raises:
      FileNotFoundError: no file (see :func:`find_retina_file`).
      ValueError: unreadable file, no ``data``/``bint`` variable, wrong number of dimensions, or values that are not
        non-negative integers.
    """
    file = find_retina_file(path)
    mat = read_mat(file)
    if "data" in mat:
        arr = np.asarray(mat["data"])
        if arr.ndim != 2:
            raise ValueError(f"{file}: variable 'data' must be 2-D (time, cells), got shape {arr.shape}")
    elif "bint" in mat:
        arr = np.asarray(mat["bint"])
        if arr.ndim != 3:
            raise ValueError(f"{file}: variable 'bint' must be 3-D (repeats, cells, time), got shape {arr.shape}")
        arr = bint_to_rows(arr)
    else:
        names = sorted(mat)
        raise ValueError(f"{file} has neither a 'data' (time x cells) nor a 'bint' (repeats x cells x time) variable; "
                         f"it has {names}")
    if arr.size == 0:
        raise ValueError(f"{file}: the recording is empty (shape {arr.shape})")
    if not is_real_dtype(arr.dtype):
        raise ValueError(f"{file}: spike data must be real numeric values, got dtype {arr.dtype}")
    vals = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(vals)) or np.any(vals < 0) or np.any(vals != np.round(vals)):
        raise ValueError(f"{file}: spike data must be non-negative integers (0/1 or spike counts)")
    return (arr > 0).astype(np.uint8), file


def select_active_cells(binary: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_cells`` most active cells (highest fraction of bins with a spike), most active first.

    Ties are broken by column index, so the choice is deterministic.

    Args:
      binary: ``(T, C)`` 0/1 array.
      n_cells: how many cells to keep, ``1 <= n_cells <= C``.

    Returns:
      ``(cells, rates)``: ``(n_cells,)`` column indices and their firing probabilities per bin.
    """
    binary = np.asarray(binary)
    if binary.ndim != 2:
        raise ValueError(f"binary must be 2-D (time, cells), got shape {binary.shape}")
    n_total = binary.shape[1]
    if not 1 <= int(n_cells) <= n_total:
        raise ValueError(f"n_cells must be between 1 and the number of cells ({n_total}), got {n_cells}")
    rates = binary.mean(axis=0, dtype=np.float64)
    cells = np.argsort(-rates, kind="stable")[: int(n_cells)]
    return cells, rates[cells]


def load_retina(path: str | os.PathLike | None = None, *, n_cells: int = 40, key: PRNGKey | None = None,
                n_train: int | None = 8000, n_test: int = 1000) -> RetinaData:
    """Load the retina recording as the paper uses it: most active cells, spins, shuffled bins, train/test split.

    Args:
      path: file or folder (see :func:`find_retina_file`); ``None`` looks in the default places.
      n_cells: number of most active cells to keep (paper: 40).
      key: PRNG key of the shuffle; ``None`` means ``jax.random.key(0)``.
      n_train: training bins (paper: 8000); ``None`` takes every bin not used for testing.
      n_test: test bins (paper: 1000).

    Returns:
      :class:`RetinaData` with float32 spins ``train (n_train, n_cells)`` and ``test (n_test, n_cells)``.

    Raises:
      FileNotFoundError: the data are missing (the message says where to get them).
      ValueError: bad file contents or sizes.
    """
    binary, file = load_retina_binary(path)
    cells, rates = select_active_cells(binary, n_cells)
    n_bins = binary.shape[0]
    n_test = int(n_test)
    n_train = n_bins - n_test if n_train is None else int(n_train)
    if n_test < 1 or n_train < 1 or n_train + n_test > n_bins:
        raise ValueError(f"cannot take {n_train} training and {n_test} test bins from a recording of {n_bins} bins")
    if key is None:
        key = jax.random.key(0)
    perm = np.asarray(jax.random.permutation(key, n_bins))[: n_train + n_test]
    spins = as_spins(binary[perm][:, cells], encoding="binary", name=str(file))
    return RetinaData(spins[:n_train], spins[n_train:], cells, rates, str(file))
