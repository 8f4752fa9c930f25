"""Fig. 4 presets: MSE against training size (N = 20, 40, 100) and against the number of augmented samples.

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` from ``ising_diffusion/experiments/configs/fig4.py``, which these build on)::

    ising-diffusion run fig4 --config configs/fig4.py:quick
    ising-diffusion run fig4 --config configs/fig4.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

import dataclasses

from ising_diffusion.experiments.configs import fig4 as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test

# Your own: copy this file, or add a preset here and pass its name:
#   ising-diffusion run fig4 --config configs/fig4.py:n20_only
n20_only = dataclasses.replace(quick, sizes=((20, (100, 200, 400, 800)),))  # the quick run at N = 20 only
