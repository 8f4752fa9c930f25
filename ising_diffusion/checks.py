"""Checks of the numeric fields of configs (the generators' and the experiments'), shared so that every bad value is a
``ValueError`` naming ``<Config>.<field>`` and the value (never a ``TypeError`` from a comparison with ``None``, nor a
width of 64.7 quietly cut to 64). No JAX here: the experiment configs are read before JAX starts.

An integer field takes Python or NumPy integers and integral floats (``100.0``, as a JSON file may hold); ``None``,
strings, booleans, NaN and fractions are refused.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

__all__ = ["MAX_SEED", "is_int", "is_real", "is_real_dtype", "check_int", "check_finite_scale", "check_widths",
           "check_sweep", "check_scalar_fields", "minimum_of"]

#: the largest seed: ``jax.random.key`` keeps the low 32 bits (without x64), so ``2**32`` would be seed 0 again
MAX_SEED = 2**32 - 1


def is_real(value) -> bool:
    """A finite real number (not a bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_real_dtype(dtype) -> bool:
    """A NumPy dtype of real numbers or booleans (a complex array would lose its imaginary part in a cast)."""
    return dtype == bool or np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)


def is_int(value, minimum: int = 1) -> bool:
    """An integral value ``>= minimum`` (see the module's note)."""
    return is_real(value) and int(value) == value and value >= minimum


def _what(minimum: float) -> str:
    named = {0: "a non-negative integer", 1: "a positive integer", -math.inf: "an integer"}
    return named.get(minimum, f"an integer >= {minimum}")


def check_int(name: str, field: str, value, minimum: int = 1) -> int:
    """``int(value)``, or a ValueError ``"<name>.<field> must be a positive integer, got ..."`` (``name=""``: a
    function's argument, ``"<field> must be ..."``)."""
    if not is_int(value, minimum):
        raise ValueError(f"{name + '.' if name else ''}{field} must be {_what(minimum)}, got {value!r}")
    return int(value)


def check_finite_scale(field: str, value) -> None:
    """A ValueError unless ``value`` is finite, where it is a plain number (an array, e.g. traced under ``vmap``, is
    left to the caller)."""
    if isinstance(value, (numbers.Real, str)) or value is None:
        if not is_real(value):
            raise ValueError(f"{field} must be a finite number, got {value!r}")


def check_widths(name: str, field: str, widths) -> tuple[int, ...]:
    """``widths`` as a non-empty tuple of positive ints, or a ValueError naming ``<name>.<field>``."""
    try:
        items = tuple(widths)
    except TypeError:
        items = ()
    if not items or not all(is_int(w) for w in items):
        raise ValueError(f"{name}.{field} must be a non-empty tuple of positive integers, got {widths!r}")
    return tuple(int(w) for w in items)


def check_sweep(name: str, field: str, values, *, integer: bool = False, minimum: float = 0,
                allow_empty: bool = False) -> tuple:
    """A sweep's values as a tuple of distinct numbers, or a ValueError naming ``<name>.<field>``.

    With ``integer``: integers ``>= minimum``, stored as ``int`` (``100.0`` as ``100``); otherwise finite numbers
    ``> minimum``, stored as ``float`` (so ``1`` and ``1.0`` are one value, one sweep point id). A repeated value would
    run a sweep point twice and count its rows as extra seeds, so it is refused; so is an empty sweep unless
    ``allow_empty``.
    """
    items = tuple(values) if isinstance(values, (tuple, list)) else None
    what = f"integers >= {minimum}" if integer else f"finite numbers > {minimum:g}"
    if items is None or not (items or allow_empty) or not all(
            is_int(v, minimum) if integer else is_real(v) and v > minimum for v in items):
        raise ValueError(f"{name}.{field} must be a {'' if allow_empty else 'non-empty '}tuple of {what}, "
                         f"got {values!r}")
    out = tuple(int(v) if integer else float(v) for v in items)
    repeated = sorted({v for v in out if out.count(v) > 1})
    if repeated:
        raise ValueError(f"{name}.{field} repeats {repeated} (a sweep point would run twice), got {values!r}")
    return out


_NON_NEGATIVE = ("seed", "burn_in")


def minimum_of(field: str) -> float:
    """The smallest value of an integer field: 1 for counts (``n_*``, ``seed_batch``), 0 for ``seed`` and
    ``burn_in``, otherwise none (``-inf``)."""
    if field in _NON_NEGATIVE:
        return 0
    return 1 if field.startswith("n_") or field == "seed_batch" else -math.inf


def check_scalar_fields(cfg, name: str | None = None) -> None:
    """Check (and normalise integral floats of) a dataclass's ``int`` / ``float`` / ``bool`` fields in place, by
    their annotations: an integer field holds an integral number (``5.0`` is stored as ``5``), a count ``n_*`` and
    ``seed_batch`` at least 1, ``seed`` and ``burn_in`` at least 0, ``seed`` at most :data:`MAX_SEED`; a float field a
    finite number; a bool field ``True`` or ``False``; ``None`` where the annotation allows it. Ranges particular to a
    field stay with its config.

    Args:
      cfg: a dataclass instance (its fields annotated as strings or types).
      name: the name in messages (default: the class's).

    Raises:
      ValueError: ``"<name>.<field> must be a positive integer, got ..."`` for the first bad field.
    """
    name = name or type(cfg).__name__
    for f in dataclasses.fields(cfg):
        kinds = {k.strip() for k in str(f.type).split("|")}
        optional = "None" in kinds
        kinds.discard("None")
        if len(kinds) != 1 or not kinds <= {"int", "float", "bool"}:
            continue
        kind, value = kinds.pop(), getattr(cfg, f.name)
        if value is None and optional:
            continue
        minimum = minimum_of(f.name)
        ok = {"int": lambda v: is_int(v, minimum), "float": is_real, "bool": lambda v: isinstance(v, bool)}[kind]
        what = {"int": _what(minimum), "float": "a finite number", "bool": "true or false"}
        if not ok(value):
            raise ValueError(f"{name}.{f.name} must be {what[kind]}{' or None' if optional else ''}, "
                             f"got {value!r}")
        if f.name == "seed" and value > MAX_SEED:
            raise ValueError(f"{name}.seed must be at most 2**32 - 1 = {MAX_SEED} (jax.random.key keeps the low 32 "
                             f"bits: a larger seed repeats a smaller one's numbers), got {value!r}")
        if kind == "int" and not isinstance(value, int):
            object.__setattr__(cfg, f.name, int(value))
