"""Repo-only entry point: ``python -m experiments.main`` runs the main job (``ising_diffusion.experiments.main``), the same as
``ising-diffusion main``; ``--help`` lists the options."""

import sys

from ising_diffusion.experiments.main import main

if __name__ == "__main__":
    main(sys.argv[1:])
