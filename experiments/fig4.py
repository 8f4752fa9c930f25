"""Fig. 4 of Lim, Lee & Jo (2025): MSE against training size (N = 20, 40, 100) and against the number of augmented samples.

Usage: ``python -m experiments.fig4 --preset quick --out runs/fig4`` (or ``ising-diffusion run fig4 ...``).
"""

import sys

from configs.fig4 import PRESETS, get_config
from ising_diffusion.experiments_lib.entry import figure_main
from ising_diffusion.experiments_lib.figures import run_fig4


def main(argv=None):
    """Run Fig. 4 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig4", argv, get_config, run_fig4, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
