"""The main job: the paper's core result on synthetic SK data, at CPU scale in a few minutes.

Draws SK ground truths and exact samples (N = 20, g = 1), infers the parameters from the training data alone, trains
the diffusion model with the energy-variance stopping rule, generates 10x augmented data, infers again from augmented
and augmented + training data, prints the MSE table (mean and 95% CI over seeds) and saves the Fig. 2/3-style plots.

Usage: ``ising-diffusion main`` or ``python -m experiments.main [--preset quick] [--out runs/main]``.
"""

import sys

from configs.main import PRESETS, get_config
from ising_diffusion.experiments_lib.entry import figure_main
from ising_diffusion.experiments_lib.figures import run_main


def main(argv=None):
    """Run the main job with the command-line arguments ``argv`` (default: ``sys.argv[1:]``)."""
    return figure_main("main", argv, get_config, run_main, PRESETS, __doc__.splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1:])
