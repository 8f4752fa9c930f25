"""The output file of an augmentation run (``ising-diffusion augment --out``): the selected parameters, every fit, the
decision and, when recommended, the generated samples, in one ``.npz``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ising_diffusion.io.npz import save_npz

__all__ = ["save_augmented"]


def save_augmented(path: str | os.PathLike, result, train, test, *, write_samples: bool | None = None) -> Path:
    """Write an augmentation result atomically to an ``.npz``.

    Arrays written: ``h``, ``J`` (the selected fit: ``result.params_selected`` when augmentation is recommended,
    else the training-only fit), ``selected`` (``"combined"`` / ``"train"`` / ...), ``recommended``, ``reason``,
    ``train``, ``test``, ``h_train``, ``J_train``, ``h_augmented``, ``J_augmented``, ``h_combined``, ``J_combined``,
    and ``samples`` (the generated samples) when written.

    Args:
      path: output ``.npz``.
      result: an :class:`ising_diffusion.AugmentResult` of one data set (from :func:`ising_diffusion.augment`).
      train, test: ``(M, N)`` the training and held-out test spins the run used.
      write_samples: write ``samples``; ``None`` writes them only when the augmented set is recommended.

    Returns:
      the path written.
    """
    recommended = bool(np.asarray(result.recommended))
    selected = result.params_selected if recommended else result.params_train
    out = {"h": selected.h, "J": selected.J, "selected": np.asarray(result.selected if recommended else "train"),
           "recommended": np.asarray(recommended), "reason": np.asarray(str(result.reason)), "train": train,
           "test": test}
    for part in ("train", "augmented", "combined"):
        p = getattr(result, f"params_{part}")
        out[f"h_{part}"], out[f"J_{part}"] = p.h, p.J
    if recommended if write_samples is None else write_samples:
        out["samples"] = result.samples
    return save_npz(path, **out)
