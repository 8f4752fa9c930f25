"""Shared machinery of the experiment entry points (``experiments/fig*.py``): run folders, resumable sweeps, seeds
batched and sharded over devices, confidence intervals, the synthetic task, plotting."""
