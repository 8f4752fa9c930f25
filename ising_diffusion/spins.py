"""Observed binary patterns as spins: validation, conversion and splits.

Every public entry point of the package that takes user data runs it through :func:`as_spins`, so bad input gets a
``ValueError`` that names the problem instead of a silent wrong answer or an error deep inside JAX. Files are read and
written by :mod:`ising_diffusion.io`.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.checks import is_int, is_real, is_real_dtype
from ising_diffusion.types import Array, PRNGKey

__all__ = ["as_spins", "spins_to_binary", "split_rows", "train_test_split"]


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
    if arr.dtype == object or not is_real_dtype(arr.dtype):
        raise ValueError(f"{name} must be real numeric values, got dtype {arr.dtype}")
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
    if is_real(n_test) and 0 < n_test < 1:
        fraction, n_test = n_test, int(round(n_test * m))
        if n_test < 1:
            raise ValueError(f"a test fraction of {fraction:g} of {m} samples rounds to 0 test rows; give more "
                             "samples or a larger fraction")
    if not is_int(n_test) or not (n_train is None or is_int(n_train)):  # 2.5 rows was cut to 2
        raise ValueError(f"n_test must be a fraction in (0, 1) or a number of rows >= 1 and n_train a number of rows "
                         f">= 1 or None, got n_test={n_test!r}, n_train={n_train!r}")
    n_test = int(n_test)
    if n_train is None:
        n_train = m - n_test
    if n_test < 1 or n_train < 1 or n_test + n_train > m:
        raise ValueError(f"cannot split {m} samples into {n_train} train and {n_test} test")
    perm = jax.random.permutation(key, m)
    spins = jnp.asarray(spins)[perm]
    return spins[:n_train], spins[n_train:n_train + n_test]


def split_rows(key: PRNGKey, rows, test_fraction: float, *, min_train: int = 1,
               min_test: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle row indices by ``key`` and split them into ``(train_rows, test_rows)``.

    The first ``round(test_fraction * len(rows))`` indices of the permutation are the test rows, the rest the training
    rows (so the split of ``rows`` is reproducible from ``key``).

    Args:
      key: PRNG key for the permutation.
      rows: ``(R,)`` integer row indices to split (e.g. ``np.flatnonzero(complete)``).
      test_fraction: fraction of ``rows`` held out, in (0, 1).
      min_train, min_test: the fewest training and test rows accepted.

    Returns:
      ``(train_rows, test_rows)``: integer index arrays, ``(R - n_test,)`` and ``(n_test,)``.

    Raises:
      ValueError: ``test_fraction`` outside (0, 1), or too few rows for ``min_test`` test and ``min_train`` training
        rows.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"the test fraction must be in (0, 1), got {test_fraction}")
    rows = np.asarray(rows)
    perm = np.asarray(jax.random.permutation(key, rows))
    n_test = int(round(test_fraction * len(rows)))
    if n_test < min_test or len(rows) - n_test < min_train:
        raise ValueError(f"{len(rows)} rows give {n_test} for testing and {len(rows) - n_test} for training "
                         f"(at least {min_test} and {min_train} needed)")
    return perm[n_test:], perm[:n_test]
