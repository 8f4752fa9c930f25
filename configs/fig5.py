"""Fig. 5 presets: diffusion vs RBM vs VAE (vs GAN) as the augmenting generator, against training size, N = 40.

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` from ``ising_diffusion/experiments/configs/fig5.py``, which these build on)::

    ising-diffusion run fig5 --config configs/fig5.py:quick
    ising-diffusion run fig5 --config configs/fig5.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

import dataclasses

from ising_diffusion.experiments.configs import fig5 as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test

# Your own: copy this file, or add a preset here and pass its name:
#   ising-diffusion run fig5 --config configs/fig5.py:with_gan
# the quick run with the GAN baseline too
with_gan = dataclasses.replace(quick, generators=("ddpm", "rbm", "vae", "gan"))
