"""LAPACK decompositions that take one matrix per call, also under ``vmap``, so they cannot hang XLA's CPU pool.

jaxlib's CPU LAPACK kernels split a batch of matrices over XLA's intra-op thread pool and then wait for the pieces
(``ParallelBatchMap`` in ``jaxlib/cpu/lapack_kernels.cc``). When such a wait runs on a pool thread while every other
pool thread waits the same way (batched decompositions in independent branches of one program: the monitor fits of
:func:`ising_diffusion.augment.augment`, on a 2-core machine where the pool has two threads), nothing is left to run the
pieces and the program hangs with all threads idle (seen twice in ``experiments/map_guard.py`` with jax 0.10.2: gdb
showed both pool threads in ``ParallelBatchMap`` under ``EigenvalueDecompositionSymmetric``). A single matrix runs
inline on the calling thread, never on the pool; :func:`jax.custom_batching.sequential_vmap` turns every ``vmap`` of
these functions into a loop over single matrices. The matrices are ``N x N`` with ``N`` at most a few hundred, so the
loop costs little next to the fits that use them; each matrix gets the same LAPACK call as before, so results are
unchanged.

Not differentiable (the callers use them on data only, outside any gradient).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["eigh", "inv"]



@jax.custom_batching.sequential_vmap
def eigh(a):
    """``jnp.linalg.eigh(a)`` (eigenvalues ascending, eigenvectors in columns), one matrix per LAPACK call."""
    return jnp.linalg.eigh(a)


@jax.custom_batching.sequential_vmap
def inv(a):
    """``jnp.linalg.inv(a)``, one matrix per LAPACK call."""
    return jnp.linalg.inv(a)
