"""Many seeds as one computation: the kernel over a leading seed axis, and where the seeds live.

The driver runs ``S`` independent seeds together: the kernel's pieces are mapped over a leading seed axis
(:func:`seed_batched`) and jitted once. Arrays whose seed axis is sharded over several devices stay where they are
(:func:`seed_sharding`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from ising_diffusion.augment.kernel import Kernel

__all__ = ["seed_batched", "seed_map", "where_seed", "seed_sharding"]


def seed_batched(kernel: Kernel, solver_options: tuple) -> Kernel:
    """The kernel over a leading seed axis, jitted: ``step`` vmapped; ``init`` and ``finalize`` too, except with a
    cross-validated solver (``l2="cv"``), where they map over the seeds one after another.

    ``init`` and ``finalize`` hold the full solver fits; with ``l2="cv"`` each is a cross-validation path of
    data-dependent length (early-stopped penalty path, L-BFGS to a tolerance), which ``vmap`` would run in lock-step
    to the slowest seed (measured 20x slower, benchmarks/cv_batch.py). The many fixed-penalty monitor fits stay
    vmapped.
    """
    per_seed = seed_map if dict(solver_options).get("l2") == "cv" else jax.vmap
    return Kernel(jax.jit(per_seed(kernel.init)), jax.jit(jax.vmap(kernel.step)), jax.jit(per_seed(kernel.finalize)))


def seed_map(fn):
    """``fn`` over the leading (seed) axis of every argument, one seed after another (``lax.map``)."""
    return lambda *args: jax.lax.map(lambda a: fn(*a), args)


@jax.jit
def where_seed(mask, new, old):
    """Per seed, ``new`` where ``mask`` (``(S,)`` bool) else ``old`` (pytrees with a leading seed axis); one
    compiled program per tree (not one eager ``where`` per leaf)."""
    mask = jnp.asarray(mask)
    return jax.tree.map(lambda a, b: jnp.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), a, b), new, old)


def seed_sharding(x) -> NamedSharding | None:
    """The sharding of ``x``'s leading (seed) axis when it is split over several devices, else ``None``."""
    s = getattr(x, "sharding", None)
    if isinstance(s, NamedSharding) and len(s.device_set) > 1 and len(s.spec) > 0 and s.spec[0] is not None:
        return NamedSharding(s.mesh, PartitionSpec(s.spec[0]))
    return None
