"""Parameter files: the fields ``h`` and couplings ``J`` of a pairwise Ising model in an ``.npz`` or a ``.json`` object.

An ``.npz`` holds float32 arrays ``h (N,)`` and ``J (N, N)`` (a data file written by ``ising-diffusion sample`` holds
them beside its ``spins``); a ``.json`` file holds an object ``{"h": [...], "J": [[...], ...], ...}``. Any further
entries (the method and options of a fit) are kept as metadata.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.io.npz import save_npz
from ising_diffusion.ising import IsingParams

__all__ = ["has_params", "load_params", "save_params"]


def load_params(path: str | os.PathLike) -> IsingParams:
    """Read ``h`` and ``J`` from an ``.npz`` (arrays ``h``, ``J``) or a ``.json`` object (keys ``"h"``, ``"J"``).

    Args:
      path: the file; ``.json`` by its extension, anything else is read as ``.npz``.

    Returns:
      ``IsingParams(h (N,), J (N, N))`` as float32.

    Raises:
      FileNotFoundError: no such file.
      ValueError: an unreadable file, missing ``h`` or ``J``, shapes other than ``(N,)`` and ``(N, N)``, or a ``J``
        that is not symmetric with a zero diagonal.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such parameter file: {path}")
    if path.suffix.lower() not in (".json", ".npz"):
        raise ValueError(f"{path}: a parameter file is an .npz (arrays 'h' and 'J') or a .json object, not a "
                         f"'{path.suffix}' file")
    if path.suffix.lower() == ".json":
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read {path} as JSON: {e}") from e
        if not isinstance(stored, dict) or "h" not in stored or "J" not in stored:
            raise ValueError(f"{path} must hold an object with 'h' and 'J'")
        h, J = stored["h"], stored["J"]
    else:
        try:
            with np.load(path, allow_pickle=False) as f:
                stored = {k: (f[k] if k in ("h", "J") else None) for k in f.keys()}
        except (OSError, ValueError, AttributeError, TypeError, EOFError, zipfile.BadZipFile) as e:
            # not an .npz (a .npy array has no keys; an empty or truncated file)
            raise ValueError(f"cannot read {path} as an .npz with arrays 'h' and 'J': {e}") from e
        if "h" not in stored or "J" not in stored:
            raise ValueError(f"{path} must hold arrays 'h' and 'J' (it has {list(stored)})")
        h, J = stored["h"], stored["J"]
    try:
        h, J = np.asarray(h, np.float32), np.asarray(J, np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: 'h' and 'J' must be numeric arrays: {e}") from e
    if h.ndim != 1 or J.shape != (h.shape[0], h.shape[0]):
        raise ValueError(f"{path}: need h of shape (N,) and J of shape (N, N); got {h.shape} and {J.shape}")
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(J))):
        raise ValueError(f"{path}: 'h' and 'J' must be finite (found NaN or infinity)")
    if not np.allclose(J, J.T) or np.any(np.diag(J) != 0):
        raise ValueError(f"{path}: J must be symmetric with a zero diagonal")
    import jax.numpy as jnp

    return IsingParams(jnp.asarray(h), jnp.asarray(J))


def save_params(path: str | os.PathLike, params: IsingParams, **meta) -> Path:
    """Write ``h`` and ``J`` (and ``meta``) atomically to an ``.npz``, or to a ``.json`` object when ``path`` ends in
    ``.json``.

    Args:
      path: output file.
      params: ``IsingParams(h (N,), J (N, N))``.
      **meta: further entries, e.g. ``method="pseudolikelihood", options={"l2": 0.01}``; in an ``.npz`` a dict is
        stored as a JSON string.

    Returns:
      the path written.
    """
    h, J = np.asarray(params.h, np.float64), np.asarray(params.J, np.float64)
    if Path(path).suffix.lower() == ".json":
        doc = {"h": h.tolist(), "J": J.tolist(), **meta}
        return atomic_write(path, lambda f: json.dump(doc, f, indent=1, default=str), mode="w")
    stored = {k: np.asarray(json.dumps(v, default=str) if isinstance(v, dict) else v) for k, v in meta.items()}
    return save_npz(path, h=h.astype(np.float32), J=J.astype(np.float32), **stored)


def has_params(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ``.npz`` holding a true model: arrays ``h`` and ``J`` beside the samples, as
    ``ising-diffusion sample`` writes them. ``augment``'s output also holds ``h`` and ``J``, but fitted ones (it has
    ``recommended``), so it does not count: scoring a fit against another fit is not an MSE against the truth."""
    path = Path(path)
    if path.suffix != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as f:
            return "h" in f and "J" in f and "recommended" not in f
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False  # not an archive: the reader says what is wrong with it
