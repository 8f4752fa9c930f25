"""Fig. 3 of Lim, Lee & Jo (2025): MSE from training data only vs from augmented data, against the coupling scale g.

Usage: ``python -m experiments.fig3 --preset quick --out runs/fig3`` (or ``ising-diffusion run fig3 ...``).
"""

import sys

from configs.fig3 import PRESETS, get_config
from ising_diffusion.experiments_lib.entry import figure_main
from ising_diffusion.experiments_lib.figures import run_fig3


def main(argv=None):
    """Run Fig. 3 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig3", argv, get_config, run_fig3, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
