"""Repo-only entry point: ``python -m experiments.fig2`` runs Fig. 2 (``ising_diffusion.experiments.fig2``), the same as
``ising-diffusion run fig2``; ``--help`` lists the options."""

import sys

from ising_diffusion.experiments.fig2 import main

if __name__ == "__main__":
    main(sys.argv[1:])
