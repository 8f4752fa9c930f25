"""Validation, conversion, splitting and storage of observed binary patterns.

Every public entry point of the package that takes user data runs it through :func:`as_spins`, so bad input gets a
``ValueError`` that names the problem instead of a silent wrong answer or an error deep inside JAX.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.types import Array, PRNGKey

__all__ = ["as_spins", "spins_to_binary", "train_test_split", "save_npz", "load_npz", "atomic_write"]


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
