"""Repo-only entry point: ``python -m experiments.fig3`` runs Fig. 3 (``ising_diffusion.experiments.fig3``), the same as
``ising-diffusion run fig3``; ``--help`` lists the options."""

import sys

from ising_diffusion.experiments.fig3 import main

if __name__ == "__main__":
    main(sys.argv[1:])
