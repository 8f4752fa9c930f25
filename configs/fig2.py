"""Fig. 2 presets: MSE and energy variance (train / test / generated) against diffusion training epochs.

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` from ``ising_diffusion/experiments/configs/fig2.py``, which these build on)::

    ising-diffusion run fig2 --config configs/fig2.py:quick
    ising-diffusion run fig2 --config configs/fig2.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

import dataclasses

from ising_diffusion.experiments.configs import fig2 as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test

# Your own: copy this file, or add a preset here and pass its name:
#   ising-diffusion run fig2 --config configs/fig2.py:small_data
small_data = dataclasses.replace(quick, n_train=200, n_test=25)  # the quick run on 200 training samples
