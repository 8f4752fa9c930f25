"""The shared command line of the figure entry points (``ising-diffusion run figX``, ``ising-diffusion main``, and
``python -m experiments.figX`` in a checkout).

``--preset`` picks a config from ``ising_diffusion/experiments/configs/figX.py``, ``--config FILE.py[:NAME]`` one
from a config file (the repository's ``configs/figX.py`` or a copy of it); ``--set key=value`` overrides any field
(nested with dots: ``--set sampler.burn_in=500``, ``--set augment.n_epochs=200``; the syntax of
:mod:`ising_diffusion.options`); ``--out`` names the run folder (rerun with the same folder to resume). The config is
built and checked by :mod:`ising_diffusion.experiments.overrides` (no JAX there).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

from ising_diffusion.experiments.overrides import apply_overrides, config_from_args
from ising_diffusion.experiments.parser import figure_parser
from ising_diffusion.experiments.runner import RunConfigMismatch, to_jsonable
from ising_diffusion.options import parse_value

__all__ = ["apply_overrides", "parse_value", "figure_parser", "figure_main"]


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
    config, label = config_from_args(parser, args, get_config, presets, data_option=data_option,
                                     config_types=config_types)
    if args.print_config:
        print(json.dumps(to_jsonable(config), indent=2))
        return None
    if args.estimate:
        from ising_diffusion.experiments.estimate import estimate, format_estimate

        try:
            est = estimate(name, config)
        except ValueError as e:
            parser.error(str(e))
        print(format_estimate(est, label if args.config is None else None))  # the label is the preset's name
        return est
    out = args.out or f"runs/{name}-{label}"
    try:
        return run(config, out, progress=not args.no_progress)
    except RunConfigMismatch as e:
        parser.error(str(e))
