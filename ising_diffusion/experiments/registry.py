"""The experiments by name: the one list the command line, the config presets and the entry points read.

Each name ``X`` has a module ``ising_diffusion.experiments.X`` with ``run_X(config, out)`` and ``main(argv)``, and its
config and presets in ``ising_diffusion.experiments.configs.X``. Importing this module imports nothing else, so the
command line can list the experiments without starting JAX.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Sequence

__all__ = ["EXPERIMENTS", "FIGURES", "PRESETS", "DATA_OPTION", "experiment_module", "run_experiment"]

#: name -> what it computes (in ``ising-diffusion run --help``)
EXPERIMENTS = {
    "fig2": "stopping curve",
    "fig3": "MSE vs g",
    "fig4": "MSE vs training/augmented size",
    "fig5": "generators",
    "fig6": "retina",
    "main": "the paper's core result on synthetic data (CPU, minutes)",
    "map": "issue 14: truth kind x g x M x generator (potts_* presets: planted Potts truths, issue 23)",
    "msa": "issue 23: DCA contact precision on shallow subsamples of protein families",
}
#: name -> its presets (``PRESETS`` of ``ising_diffusion.experiments.configs.<name>``; a test keeps them equal), so
#: ``--help`` and a usage error answer without importing JAX
PRESETS = {name: ("quick", "paper", "tiny") for name in EXPERIMENTS} | {
    "fig6": ("quick", "paper", "tiny", "all_cells"),
    "map": ("quick", "paper", "tiny", "potts_quick", "potts_paper", "potts_tiny")}
#: the experiments with a ``--data PATH`` option
DATA_OPTION = frozenset({"fig6"})
#: the experiments run as ``ising-diffusion run NAME`` (``main`` has a command of its own)
FIGURES = tuple(name for name in EXPERIMENTS if name != "main")


def _check(name: str) -> None:
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {tuple(EXPERIMENTS)}")


def experiment_module(name: str) -> ModuleType:
    """The entry-point module of experiment ``name`` (one of :data:`EXPERIMENTS`)."""
    _check(name)
    return importlib.import_module(f"ising_diffusion.experiments.{name}")


def run_experiment(name: str, argv: Sequence[str]) -> Any:
    """Run experiment ``name`` with its own command line ``argv`` (``--preset``, ``--config``, ``--out``, ...).

    Returns:
      what its ``main(argv)`` returns (the summary rows, ``None`` with ``--print-config``, ...).
    """
    from ising_diffusion.experiments.overrides import config_from_args
    from ising_diffusion.experiments.parser import figure_parser

    _check(name)
    # read the arguments and build the config first: --help, usage errors and bad settings answer before JAX is
    # imported (the presets import no JAX, Fig. 6's excepted; its module's main builds the same config again)
    parser = figure_parser(name, EXPERIMENTS[name], PRESETS[name], data_option=name in DATA_OPTION)
    args = parser.parse_args(list(argv))
    configs = importlib.import_module(f"ising_diffusion.experiments.configs.{name}")
    config_from_args(parser, args, configs.get_config, PRESETS[name], data_option=name in DATA_OPTION,
                     config_types=getattr(configs, "CONFIG_TYPES", None))
    return experiment_module(name).main(list(argv))
