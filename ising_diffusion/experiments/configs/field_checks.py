"""Checks of the experiment configs' fields that are not single numbers (those are
:func:`ising_diffusion.checks.check_scalar_fields`'s): fractions, lists of names, option dicts and nested configs.

Each check is a ``ValueError`` naming ``<Config>.<field>`` and the value, raised by the config's ``__post_init__``,
so a bad ``--set`` value is a usage error before the run folder is written (``--set augment=5`` or ``--set
sampler=3`` used to pass, be written to ``config.json`` and end the run in a ``TypeError``). No JAX here.
"""

from __future__ import annotations

from ising_diffusion.checks import is_real

__all__ = ["held_out_size", "check_fraction", "check_names", "check_dict", "check_config_field"]


def held_out_size(fraction: float, n_train: int) -> int:
    """The held-out test size of a sweep point with ``n_train`` training samples: ``fraction`` x ``n_train``,
    rounded, at least 1 (what the synthetic experiments draw, :func:`~ising_diffusion.experiments.rows.n_test`)."""
    return max(1, int(round(fraction * n_train)))


def check_fraction(name: str, field: str, value) -> None:
    """A ValueError unless ``value`` is a number in the open interval (0, 1)."""
    if not (is_real(value) and 0 < value < 1):
        raise ValueError(f"{name}.{field} must be a number in (0, 1), got {value!r}")


def check_names(name: str, field: str, values) -> tuple[str, ...]:
    """``values`` as a non-empty tuple of distinct non-empty strings (``"a,b"``, as ``--set generators=a,b`` gives
    it, is split at the commas), or a ValueError naming ``<name>.<field>``."""
    if isinstance(values, str):
        values = tuple(v.strip() for v in values.split(",") if v.strip())
    items = tuple(values) if isinstance(values, (tuple, list)) else ()
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"{name}.{field} must be a non-empty tuple of names, got {values!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"{name}.{field} must not repeat a name, got {values!r}")
    return items


def check_dict(name: str, field: str, value, *, of_dicts: bool = False) -> None:
    """A ValueError unless ``value`` is a dict (with ``of_dicts``: whose values are dicts, e.g. generator name ->
    that generator's config fields)."""
    if not isinstance(value, dict) or (of_dicts and not all(isinstance(v, dict) for v in value.values())):
        what = "a dict of dicts (name -> fields)" if of_dicts else "a dict"
        raise ValueError(f"{name}.{field} must be {what}, got {value!r}")


def check_config_field(cfg, field: str, cls: type) -> None:
    """A field that holds a ``cls`` config: kept if it is one, built (in place) from a dict of ``cls``'s fields,
    otherwise a ValueError naming ``<Config>.<field>``."""
    name, value = type(cfg).__name__, getattr(cfg, field)
    if isinstance(value, dict):
        try:
            value = cls(**value)
        except TypeError as e:  # an unknown field
            raise ValueError(f"{name}.{field}: {e}") from None
        object.__setattr__(cfg, field, value)
    elif not isinstance(value, cls):
        raise ValueError(f"{name}.{field} must be a {cls.__name__} (or a dict of its fields), got {value!r}")
