"""The paper's experiments: one module per figure (``fig2`` .. ``fig6``) and the main job (``main``), each with
``run_<name>(config, out)`` and ``main(argv)``; their configs and presets in ``configs/``; the shared machinery in
``runner`` (run folders, resumable sweeps, seeds batched and sharded over devices), ``rows`` (result rows, summaries
with Student-t intervals over seeds, console tables), ``synthetic`` (the seed-batched synthetic task and
augmentation), ``plotting`` and ``entry`` (the shared command line).

Run one with ``ising-diffusion run fig3 --preset quick`` or ``ising-diffusion main``.
"""
