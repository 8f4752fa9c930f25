"""Repo-only entry point: ``python -m experiments.fig6`` runs Fig. 6 (``ising_diffusion.experiments.fig6``), the same as
``ising-diffusion run fig6``; ``--help`` lists the options."""

import sys

from ising_diffusion.experiments.fig6 import main

if __name__ == "__main__":
    main(sys.argv[1:])
