"""Fig. 3 presets: MSE from training data only vs from augmented data, against the coupling scale g.

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` from ``ising_diffusion/experiments/configs/fig3.py``, which these build on)::

    ising-diffusion run fig3 --config configs/fig3.py:quick
    ising-diffusion run fig3 --config configs/fig3.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

import dataclasses

from ising_diffusion.experiments.configs import fig3 as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test

# Your own: copy this file, or add a preset here and pass its name:
#   ising-diffusion run fig3 --config configs/fig3.py:strong
# the quick run at stronger couplings, with 5 seeds
strong = dataclasses.replace(quick, g_values=(1.5, 2.0, 2.5), n_seeds=5)
