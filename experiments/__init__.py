"""Entry points, one per figure of the paper (``python -m experiments.fig3 --preset quick``) and the main job
(``python -m experiments.main``). Each is short: it parses arguments and calls ``ising_diffusion.experiments_lib``."""
