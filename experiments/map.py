"""Repo-only entry point: ``python -m experiments.map`` runs the map of issue 14 (``ising_diffusion.experiments.map``),
the same as ``ising-diffusion run map``; ``--help`` lists the options."""

import sys

from ising_diffusion.experiments.map import main

if __name__ == "__main__":
    main(sys.argv[1:])
