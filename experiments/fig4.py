"""Repo-only entry point: ``python -m experiments.fig4`` runs Fig. 4 (``ising_diffusion.experiments.fig4``), the same as
``ising-diffusion run fig4``; ``--help`` lists the options."""

import sys

from ising_diffusion.experiments.fig4 import main

if __name__ == "__main__":
    main(sys.argv[1:])
