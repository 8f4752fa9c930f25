"""The map presets (issue 14): where, if anywhere, augmentation beats cross-validated pseudolikelihood, over truth

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny|potts_quick|potts_paper|potts_tiny`` from ``ising_diffusion/experiments/configs/map.py``,
which these build on; the ``potts_*`` presets are the planted Potts rows of issue 23)::

    ising-diffusion run map --config configs/map.py:quick
    ising-diffusion run map --config configs/map.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

from ising_diffusion.experiments.configs import map as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test
potts_quick = package.get_config("potts_quick")  # planted Potts truths, L = 20, q = 4: CPU, about half an hour
potts_paper = package.get_config("potts_paper")  # planted Potts truths, the range (use a GPU)
potts_tiny = package.get_config("potts_tiny")  # planted Potts truths: a smoke test
