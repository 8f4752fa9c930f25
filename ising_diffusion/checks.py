"""Checks of the numeric fields of configs (the generators' and the experiments'), shared so that every bad value is a
``ValueError`` naming ``<Config>.<field>`` and the value (never a ``TypeError`` from a comparison with ``None``, nor a
width of 64.7 quietly cut to 64). No JAX here: the experiment configs are read before JAX starts.

An integer field takes Python or NumPy integers and integral floats (``100.0``, as a JSON file may hold); ``None``,
strings, booleans, NaN and fractions are refused.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["is_int", "is_real", "check_int", "check_widths"]


def is_real(value) -> bool:
    """A finite real number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value, minimum: int = 1) -> bool:
    """An integral value ``>= minimum`` (see the module's note)."""
    return is_real(value) and int(value) == value and value >= minimum


def _what(minimum: int) -> str:
    return {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")


def check_int(name: str, field: str, value, minimum: int = 1) -> int:
    """``int(value)``, or a ValueError ``"<name>.<field> must be a positive integer, got ..."``."""
    if not is_int(value, minimum):
        raise ValueError(f"{name}.{field} must be {_what(minimum)}, got {value!r}")
    return int(value)


def check_widths(name: str, field: str, widths) -> tuple[int, ...]:
    """``widths`` as a non-empty tuple of positive ints, or a ValueError naming ``<name>.<field>``."""
    try:
        items = tuple(widths)
    except TypeError:
        items = ()
    if not items or not all(is_int(w) for w in items):
        raise ValueError(f"{name}.{field} must be a non-empty tuple of positive integers, got {widths!r}")
    return tuple(int(w) for w in items)
