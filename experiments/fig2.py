"""Fig. 2 of Lim, Lee & Jo (2025): MSE and energy variance (train / test / generated) against diffusion training epochs, stops marked.

Usage: ``python -m experiments.fig2 --preset quick --out runs/fig2`` (or ``ising-diffusion run fig2 ...``).
"""

import sys

from configs.fig2 import PRESETS, get_config
from ising_diffusion.experiments_lib.entry import figure_main
from ising_diffusion.experiments_lib.figures import run_fig2


def main(argv=None):
    """Run Fig. 2 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig2", argv, get_config, run_fig2, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
