"""The argument parser of the figure entry points, importable without JAX: the command line builds it from the
registry's names and presets and reads the arguments (``--help``, usage errors) before the experiment's module,
and with it JAX, is imported."""

from __future__ import annotations

import argparse
from typing import Sequence

from ising_diffusion.cli_paths import seed_value

__all__ = ["figure_parser"]


def figure_parser(name: str, description: str, presets: Sequence[str], *,
                  data_option: bool = False) -> argparse.ArgumentParser:
    """The argument parser of a figure entry point."""
    p = argparse.ArgumentParser(
        prog="ising-diffusion main" if name == "main" else f"ising-diffusion run {name}", description=description,
        epilog="Rerunning with the same --out resumes: finished sweep points are skipped, and an interrupted one "
               "restarts from its generator checkpoints. Outputs: config.json, results.json/.csv (one row per sweep "
               "point and seed), summary.csv (mean and 95% CI over seeds) and PNG figures.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--preset", choices=list(presets), default=None,
                       help=f"configuration preset from ising_diffusion/experiments/configs/{name}.py: 'quick' "
                            "runs on a CPU in minutes, 'paper' is the paper's scale (use a GPU), 'tiny' is a "
                            "seconds-long smoke test (default: quick)")
    which.add_argument("--config", default=None, metavar="FILE.py[:NAME]",
                       help=f"a config file instead of a preset: a Python file defining get_config(name) or presets, "
                            f"e.g. configs/{name}.py:paper from the repository's configs/ folder (copy one to make "
                            "your own)")
    p.add_argument("--out", default=None,
                   help=f"run folder for numbers and figures (default: runs/{name}-<preset>, or "
                        f"runs/{name}-<file>-<NAME> with --config); reuse it to resume")
    p.add_argument("--seeds", type=int, default=None, metavar="S",
                   help="number of seeds per sweep point (overrides the preset's n_seeds)")
    p.add_argument("--seed", type=seed_value, default=None,
                   help="base random seed in [0, 2**32) (overrides the config's seed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a config field, e.g. --set n_train=200 --set augment.n_epochs=300 "
                        "(repeatable; see --print-config for the fields)")
    if data_option:
        p.add_argument("--data", default=None, metavar="PATH",
                       help="the recording, a file or folder (sets data_path; default: the config's)")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    p.add_argument("--estimate", action="store_true",
                   help="print the training steps, monitor samples and solver fits per seed and in total, and an "
                        "estimated time from a short warm-up of each jitted piece on this device; runs nothing else")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return p
