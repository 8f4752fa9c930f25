"""The map presets (issue 14): where, if anywhere, augmentation beats cross-validated pseudolikelihood, over truth

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` from ``ising_diffusion/experiments/configs/map.py``, which these build on)::

    ising-diffusion run map --config configs/map.py:quick
    ising-diffusion run map --config configs/map.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

from ising_diffusion.experiments.configs import map as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test
