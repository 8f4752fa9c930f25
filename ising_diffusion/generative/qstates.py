"""q-state data for the generators of sequences (alignments): validation at the edge, one-hot encodings, and network
widths that scale with ``L * q``.

The q-state generators (:mod:`~ising_diffusion.generative.d3pm_categorical`,
:mod:`~ising_diffusion.generative.ddpm_onehot`) take integer arrays ``(M, L)`` of states in ``[0, q)`` (an int8
alignment from :func:`ising_diffusion.io.alignment.read_alignment` fits) and return int8 ``(n, L)``; the network sees
the one-hot sequence, ``L * q`` inputs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ising_diffusion.checks import check_int, check_widths, is_real
from ising_diffusion.generative.base import host_rows

__all__ = ["check_states", "check_width_fields", "resolve_widths", "one_hot_flat"]


def check_states(data, length: int, q: int, name: str = "train_states") -> None:
    """Raise a ValueError unless ``data`` is ``(M, length)`` with ``M >= 1`` integer states in ``[0, q)``.

    Shapes are static, so they are checked under ``jit``/``vmap`` too; the values only when ``data`` is concrete.
    """
    arr = host_rows(data, length, name, "integer states")
    if arr is None:
        return
    if not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
            raise ValueError(f"{name} must hold integer states in [0, {q}), got dtype {arr.dtype}")
    lo, hi = arr.min(), arr.max()
    if lo < 0 or hi >= q:
        raise ValueError(f"{name} states must lie in [0, n_states={q}); found values in [{lo:g}, {hi:g}]")


def check_width_fields(cfg) -> None:
    """Validate a q-state config's shared fields ``n_states``, ``widths``, ``width_factors``, ``min_width`` in place
    (ValueError naming ``<Config>.<field>``); an integral ``n_states`` such as ``21.0`` is stored as ``21`` and
    ``widths`` as a tuple of ints (or ``None``)."""
    name = type(cfg).__name__
    object.__setattr__(cfg, "n_states", check_int(name, "n_states", cfg.n_states, 2))
    if cfg.n_states > 127:  # samples are int8 states
        raise ValueError(f"{name}.n_states must be at most 127 (int8 states), got {cfg.n_states}")
    if cfg.widths is not None:
        object.__setattr__(cfg, "widths", check_widths(name, "widths", cfg.widths))
    try:
        factors = tuple(cfg.width_factors)
    except TypeError:
        factors = ()
    if not factors or not all(is_real(f) and f > 0 for f in factors):
        raise ValueError(f"{name}.width_factors must be a non-empty tuple of positive numbers, got "
                         f"{cfg.width_factors!r}")
    check_int(name, "min_width", cfg.min_width)


def resolve_widths(widths, width_factors, min_width: int, n_inputs: int) -> tuple[int, ...]:
    """The network's encoder widths: ``widths`` if given, else ``max(min_width, round(f * n_inputs))`` for each
    ``f`` in ``width_factors`` (``n_inputs = L * q``, or ``L * (q + 1)`` with a mask state)."""
    if widths is not None:
        return tuple(int(w) for w in widths)
    return tuple(max(int(min_width), int(round(f * n_inputs))) for f in width_factors)


def one_hot_flat(states: Int[Array, "B L"], k: int) -> Float[Array, "B LK"]:
    """One-hot encoding flattened site-major: ``(B, L) -> (B, L * k)`` float32 in {0, 1}."""
    b, length = states.shape
    return jax.nn.one_hot(states, k, dtype=jnp.float32).reshape(b, length * k)
