"""Fig. 6 presets: missing-value reconstruction on the salamander retina recording (METHODS.md section 6).

Presets to read, copy and pass by path (this folder is not installed; the installed command runs the same presets as
``--preset quick|paper|tiny`` (fig6 also ``all_cells``) from ``ising_diffusion/experiments/configs/fig6.py``, which these build on)::

    ising-diffusion run fig6 --config configs/fig6.py:quick
    ising-diffusion run fig6 --config configs/fig6.py:paper --print-config    # every field, as JSON

A preset is a config dataclass instance at module level; change fields with ``dataclasses.replace`` (or ``--set
FIELD=VALUE`` on the command line).
"""

from ising_diffusion.experiments.configs import fig6 as package

quick = package.get_config("quick")  # CPU, minutes
paper = package.get_config("paper")  # the paper's scale (use a GPU)
tiny = package.get_config("tiny")  # seconds: a smoke test
all_cells = package.get_config("all_cells")  # quick on all 50 cells of the project's file
