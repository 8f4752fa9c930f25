"""From the command line's settings to a checked experiment config, without JAX: the ``--set key=value`` syntax
(:func:`apply_overrides`) and the config a figure's parsed arguments name (:func:`config_from_args`: ``--preset`` or
``--config``, then ``--set``, ``--seeds``, ``--seed``, ``--data``).

No JAX here (nor in the presets but Fig. 6's), so :func:`ising_diffusion.experiments.registry.run_experiment` reports a
bad setting before the experiment's module, and JAX, are imported.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Callable, Sequence

from ising_diffusion.experiments.config_file import load_config_file, split_config_spec
from ising_diffusion.experiments.nested_settings import check_nested_settings
from ising_diffusion.options import coerce_value, parse_assignment

__all__ = ["apply_overrides", "config_from_args"]


class _Changes(dict):
    """Nested assignments gathered from ``--set`` (told apart from dict-valued literals)."""


def _apply(obj: Any, changes: _Changes, prefix: str) -> Any:
    if dataclasses.is_dataclass(obj):
        names = [f.name for f in dataclasses.fields(obj)] + list(getattr(obj, "FIELD_ALIASES", ()))  # flat names
        new = {}
        for key, value in changes.items():
            if key not in names:
                raise ValueError(f"--set {prefix}{key}: {type(obj).__name__} has no field {key!r}; fields: "
                                 f"{', '.join(names)}")
            old = getattr(obj, key)
            if isinstance(value, _Changes):
                value = _apply(old, value, f"{prefix}{key}.")
            else:  # typed like the field's current value where that is possible; the config validates the rest
                value = coerce_value(value, old, strict=False)
            new[key] = value
        return dataclasses.replace(obj, **new)  # all fields at once: validation sees the final combination
    if isinstance(obj, dict):
        out = dict(obj)
        for key, value in changes.items():
            out[key] = _apply(obj.get(key, {}), value, f"{prefix}{key}.") if isinstance(value, _Changes) else value
        return out
    raise ValueError(f"--set {prefix.rstrip('.')}: cannot set fields inside a {type(obj).__name__}")


def apply_overrides(config: Any, assignments: Sequence[str]) -> Any:
    """Return ``config`` with ``key=value`` assignments applied (dotted keys reach into nested configs and dicts).

    All assignments to one dataclass are applied together, so its validation sees the final combination
    (e.g. ``n_epochs=4`` with ``monitor_every=2``).

    Raises:
      ValueError: malformed assignment, unknown field, or a value the config rejects.
    """
    changes = _Changes()
    for a in assignments:
        key, value = parse_assignment(a, "--set", "KEY=VALUE")  # the syntax of ising_diffusion.options
        node = changes
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, _Changes())
            if not isinstance(node, _Changes):
                raise ValueError(f"--set {a}: {part!r} was given a value and fields at once")
        node[parts[-1]] = value
    if not changes:
        return config
    try:
        return _apply(config, changes, "")
    except TypeError as e:  # a config's __post_init__ comparing a wrongly typed value
        raise ValueError(f"--set {' '.join(assignments)}: {e}") from e


def config_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace, get_config: Callable[[str], Any],
                     presets: Sequence[str], *, data_option: bool = False,
                     config_types: tuple[type, ...] | None = None) -> tuple[Any, str]:
    """The config and its label (the preset's name, or ``<file stem>-<name>`` of a ``--config``) that a figure's
    parsed arguments ask for; a bad setting ends in ``parser.error`` (exit 2, the message naming it).

    ``config_types``: the config classes a ``--config`` file may give (default: the class of ``presets[0]``'s).
    """
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    try:
        if args.config is not None:  # checked against the class of the package's own presets
            config = load_config_file(args.config, expected=config_types or type(get_config(presets[0])))
            path, config_name = split_config_spec(args.config)
            label = f"{path.stem}-{config_name}" if config_name else path.stem
        else:
            preset = args.preset or "quick"
            config, label = get_config(preset), preset
        overrides = list(args.overrides) + ([f"n_seeds={args.seeds}"] if args.seeds is not None else []) + (
            [f"seed={args.seed}"] if args.seed is not None else [])
        config = apply_overrides(config, overrides)
        if data_option and args.data is not None:
            config = dataclasses.replace(config, data_path=str(args.data))
        check_nested_settings(config)
    except ValueError as e:
        parser.error(str(e))
    return config, label
