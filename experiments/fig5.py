"""Repo-only entry point: ``python -m experiments.fig5`` runs Fig. 5 (``ising_diffusion.experiments.fig5``), the same as
``ising-diffusion run fig5``; ``--help`` lists the options."""

import sys

from ising_diffusion.experiments.fig5 import main

if __name__ == "__main__":
    main(sys.argv[1:])
