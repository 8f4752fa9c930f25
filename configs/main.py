"""The main job's presets: the paper's core result on synthetic SK data the package generates itself.

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` from ``ising_diffusion/experiments/configs/main.py``, which these build on)::

    ising-diffusion main --config configs/main.py:quick
    ising-diffusion main --config configs/main.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

import dataclasses

from ising_diffusion.experiments.configs import main as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test

# Your own: copy this file, or add a preset here and pass its name:
#   ising-diffusion main --config configs/main.py:five_seeds
five_seeds = dataclasses.replace(quick, n_seeds=5)  # the quick run with 5 seeds
