"""The shared command line of the figure entry points (``ising-diffusion run figX``, ``ising-diffusion main``, and
``python -m experiments.figX`` in a checkout).

``--preset`` picks a config from ``ising_diffusion/experiments/configs/figX.py``, ``--config FILE.py[:NAME]`` one
from a config file (the repository's ``configs/figX.py`` or a copy of it); ``--set key=value`` overrides any field
(nested with dots: ``--set sampler.burn_in=500``, ``--set augment.n_epochs=200``; the syntax of
:mod:`ising_diffusion.options`); ``--out`` names the run folder (rerun with the same folder to resume).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any, Callable, Sequence

from ising_diffusion.experiments.config_file import load_config_file, split_config_spec
from ising_diffusion.experiments.parser import figure_parser
from ising_diffusion.experiments.runner import RunConfigMismatch, to_jsonable
from ising_diffusion.options import coerce_value, parse_assignment, parse_value

__all__ = ["apply_overrides", "parse_value", "figure_parser", "figure_main"]


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


def figure_main(name: str, argv: Sequence[str] | None, get_config: Callable[[str], Any], run: Callable[..., Any],
                presets: Sequence[str], description: str, *, data_option: bool = False,
                config_types: tuple[type, ...] | None = None):
    """Parse ``argv``, build the config from the preset and overrides, and run the experiment.

    ``data_option`` adds ``--data PATH``, which sets the config's ``data_path`` (Fig. 6's recording).
    ``config_types``: the config classes a ``--config`` file may give (default: the class of ``presets[0]``'s).

    Returns:
      what ``run(config, out, progress=...)`` returns (the summary rows), ``None`` with ``--print-config``, or the
      :func:`~ising_diffusion.experiments.estimate.estimate` dict with ``--estimate``.
    """
    parser = figure_parser(name, description, presets, data_option=data_option)
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    preset = args.preset or "quick"
    try:
        if args.config is not None:  # checked against the class of the package's own presets
            config = load_config_file(args.config, expected=config_types or type(get_config(presets[0])))
            path, config_name = split_config_spec(args.config)
            label = f"{path.stem}-{config_name}" if config_name else path.stem
        else:
            config, label = get_config(preset), preset
        overrides = list(args.overrides) + ([f"n_seeds={args.seeds}"] if args.seeds is not None else []) + (
            [f"seed={args.seed}"] if args.seed is not None else [])
        config = apply_overrides(config, overrides)
        if data_option and args.data is not None:
            config = dataclasses.replace(config, data_path=str(args.data))
    except ValueError as e:
        parser.error(str(e))
    if args.print_config:
        print(json.dumps(to_jsonable(config), indent=2))
        return None
    if args.estimate:
        from ising_diffusion.experiments.estimate import estimate, format_estimate

        try:
            est = estimate(name, config)
        except ValueError as e:
            parser.error(str(e))
        print(format_estimate(est, preset if args.config is None else None))
        return est
    out = args.out or f"runs/{name}-{label}"
    try:
        return run(config, out, progress=not args.no_progress)
    except RunConfigMismatch as e:
        parser.error(str(e))
