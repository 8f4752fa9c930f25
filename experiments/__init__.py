"""Repo-only entry points (not installed): ``python -m experiments.fig3 --preset quick`` and the like call
``ising_diffusion.experiments``; the evidence scripts (``evidence_*.py``) and their saved outputs (``results/``)."""
