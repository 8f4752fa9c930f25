"""The scalar fields of an experiment config, checked against their annotations (one rule for every experiment).

``--set n_seeds=2.5``, ``--set seed=abc`` or a config file's ``n_train=None`` would otherwise reach ``range`` or
``jax.random.key`` deep inside a run. Fields annotated ``int``, ``float`` or ``bool`` (optionally ``| None``) must
hold such a value: an integer field an integral number (stored as ``int``: ``5.0`` from a JSON file becomes ``5``),
a count ``n_*`` and ``seed_batch`` at least 1, ``seed`` and ``burn_in`` at least 0; a float field a finite number; a
bool field ``True`` or ``False``. Ranges particular to a field stay in its config's own ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
import math

from ising_diffusion.checks import is_int, is_real

__all__ = ["check_scalar_fields", "minimum_of"]

_NON_NEGATIVE = ("seed", "burn_in")


def minimum_of(field: str) -> float:
    """The smallest value of an integer field: 1 for counts (``n_*``, ``seed_batch``), 0 for ``seed`` and
    ``burn_in``, otherwise none (``-inf``)."""
    if field in _NON_NEGATIVE:
        return 0
    return 1 if field.startswith("n_") or field == "seed_batch" else -math.inf


def _what(kind: str, minimum: float) -> str:
    if kind == "int":
        return {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, "an integer")
    return {"float": "a finite number", "bool": "true or false"}[kind]


def check_scalar_fields(cfg) -> None:
    """Check (and normalise integral floats of) ``cfg``'s ``int`` / ``float`` / ``bool`` fields in place.

    Raises:
      ValueError: ``"<Config>.<field> must be a positive integer, got ..."`` for the first bad field.
    """
    name = type(cfg).__name__
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
        if not ok(value):
            raise ValueError(f"{name}.{f.name} must be {_what(kind, minimum)}{' or None' if optional else ''}, "
                             f"got {value!r}")
        if kind == "int" and not isinstance(value, int):
            object.__setattr__(cfg, f.name, int(value))
