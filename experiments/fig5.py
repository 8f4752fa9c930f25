"""Fig. 5 of Lim, Lee & Jo (2025): diffusion vs RBM vs VAE (vs GAN) as the augmenting generator, against training size (N = 40).

Usage: ``python -m experiments.fig5 --preset quick --out runs/fig5`` (or ``ising-diffusion run fig5 ...``).
"""

import sys

from configs.fig5 import PRESETS, get_config
from ising_diffusion.experiments_lib.entry import figure_main
from ising_diffusion.experiments_lib.figures import run_fig5


def main(argv=None):
    """Run Fig. 5 with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("fig5", argv, get_config, run_fig5, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
