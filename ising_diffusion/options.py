"""``NAME=VALUE`` settings typed on a command line: one syntax for the options of a solver (``--option l2=0.01``) and
for overrides of a config (``--set augment.n_epochs=200``).

A value is ``true`` / ``false`` / ``none`` (any case), a Python literal (``3``, ``0.5``, ``1e-3``, ``(20, 40)``,
``[1, 2]``, ``'text'``, ``{'a': 1}``), values separated by commas (``0.4,0.5,0.6`` is a tuple), or else the plain
word (``l2=cv``). A value is then typed like the setting's default: an integer where the default is an integer, a
float where it is a float, a tuple of floats where it is a tuple of floats.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any, Sequence

__all__ = ["coerce_value", "parse_assignment", "parse_options", "parse_value"]

_EMPTY = inspect.Parameter.empty


def parse_value(text: str) -> Any:
    """The value written as ``text`` (see the module docstring for the syntax).

    Args:
      text: e.g. ``"0.01"``, ``"0.4,0.5"``, ``"(20, 40)"``, ``"true"``, ``"none"``, ``"cv"``.

    Returns:
      a bool, ``None``, a number, a tuple, list, dict or string.
    """
    stripped = text.strip()
    low = stripped.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    try:
        return ast.literal_eval(stripped)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        return float(stripped)  # inf, nan
    except ValueError:
        return stripped


def parse_assignment(item: str, flag: str = "--set", metavar: str = "KEY=VALUE") -> tuple[str, Any]:
    """Split ``NAME=VALUE`` into the name and the parsed value (:func:`parse_value`).

    Args:
      item: the text given on the command line.
      flag, metavar: how to name the flag and its form in the error.

    Raises:
      ValueError: no ``=``, or an empty name or value.
    """
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name or not text.strip():
        raise ValueError(f"{flag} expects {metavar}, got {item!r}")
    return name, parse_value(text)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def coerce_value(value: Any, default: Any, *, strict: bool = True, where: str = "") -> Any:
    """``value`` typed like ``default``.

    Integers become floats where the default is a float; a list or a single number becomes a tuple where the default
    is a tuple (of floats, if the default's entries are floats). A string is left for the consumer to check (e.g.
    ``l2="cv"``), and so is any value whose default is ``None`` or unknown.

    Args:
      value: as :func:`parse_value` returns it.
      default: the setting's default (``inspect.Parameter.empty`` if it has none).
      strict: raise when ``value`` is not of the default's type; otherwise leave such values unchanged (a config
        validates its own fields).
      where: names the setting in the error, e.g. ``"--option max_iter=1.5"``.

    Raises:
      ValueError: with ``strict``, a value of another type than the default (the message says what was expected).
    """
    def expect(what):
        if strict:
            raise ValueError(f"{where}: expected {what} (the default is {default!r})")
        return value

    if isinstance(value, str) or default is _EMPTY or default is None:
        return value
    if isinstance(default, bool):
        return value if isinstance(value, bool) else expect("true or false")
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else expect("an integer")
    if isinstance(default, float):
        return float(value) if _is_number(value) else expect("a number")
    if isinstance(default, tuple):
        items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        if default and all(isinstance(d, float) for d in default):
            if not all(_is_number(v) for v in items):
                return expect("numbers separated by commas")
            return tuple(float(v) for v in items)
        return items
    return value


def parse_options(method: str, items: Sequence[str], flag: str = "--option", *,
                  known: dict[str, Any] | None = None) -> dict[str, Any]:
    """``NAME=VALUE`` strings to the keyword options of an inference method, typed like each option's default.

    Args:
      method: a name of :data:`ising_diffusion.inference.METHODS`; an unknown name leaves its options unchecked (the
        method lookup reports it).
      items: e.g. ``["l2=0.01", "max_iter=300"]``, ``["eps_grid=0.4,0.5"]``, ``["l2=cv", "cv_folds=3"]``.
      flag: how to name the flag in errors.
      known: option name -> default, for options that are not an inference method's (e.g.
        ``dca.dca_option_defaults("plm")``); replaces the lookup of ``method``.

    Returns:
      option name -> value, for ``infer(spins, method=method, **options)``.

    Raises:
      ValueError: a malformed item, an option the method does not have, or a value of the wrong type.
    """
    if known is None:
        from ising_diffusion.inference.signatures import method_options  # JAX: only where solver options are read

        params = method_options(method)
        known = None if params is None else {k: q.default for k, q in params.items()}
    options = {}
    for item in items:
        name, value = parse_assignment(item, flag, "NAME=VALUE")
        if known is not None and name not in known:
            raise ValueError(f"{flag} {name}: method {method!r} has no option {name!r}; its options are "
                             f"{sorted(known)}")
        default = known[name] if known is not None else _EMPTY
        options[name] = coerce_value(value, default, where=f"{flag} {item.strip()}")
    return options
