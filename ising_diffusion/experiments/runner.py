"""Run folders, atomic JSON/CSV results, resumable sweeps, seed batching and sharding (intervals: :mod:`rows`).

A *run* is a folder holding ``config.json`` (the experiment's config and the package version), ``results.json`` and
``results.csv`` (one row per sweep point and seed), figures (``*.png``) and generator checkpoints
(``checkpoints/<point>/``). Every file is written atomically (:func:`ising_diffusion.io.atomic_write`), so a run
killed at any moment leaves readable files, and rerunning with the same folder skips the sweep points whose rows are
all there (:meth:`ResultStore.is_done`).

Seeds of one sweep point run as one batched computation: :func:`run_seeds` takes a function of arrays that carry a
leading seed axis ``S``, splits ``S`` into batches of at most ``seed_batch`` seeds (to bound memory) and, when more
than one device is visible, pads each batch to a multiple of the device count and places it on a
``NamedSharding`` over a 1-D ``("seeds",)`` mesh, so ``jit``-compiled work inside runs one shard of seeds per device.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ising_diffusion.experiments.results import ResultStore, package_version, to_jsonable, write_csv
from ising_diffusion.experiments.run_folder import RunConfigMismatch, RunDir, open_run
from ising_diffusion.types import PRNGKey

__all__ = ["write_csv", "RunConfigMismatch", "RunDir", "ResultStore", "open_run", "package_version", "to_jsonable",
           "seed_keys", "seed_mesh", "shard_seed_axis", "run_seeds", "run_sweep"]


# --------------------------------------------------------------------------------------------------------------------
# seeds


def seed_keys(seed: int, seeds: Sequence[int]) -> PRNGKey:
    """Keys ``fold_in(key(seed), s)`` for each seed index ``s``: shape ``(S,)``; seed ``s`` gets the same key in every
    sweep point and every run, so sweep points are paired (same truth, same data) and results are reproducible."""
    return _seed_keys(int(seed), np.asarray(list(seeds), np.uint32))


@functools.partial(jax.jit, static_argnums=0)
def _seed_keys(seed, seeds):
    base = jax.random.key(seed)
    return jax.vmap(lambda s: jax.random.fold_in(base, s))(seeds)


def seed_mesh(devices: Sequence | None = None) -> Mesh:
    """A 1-D mesh named ``"seeds"`` over ``devices`` (default: all visible devices)."""
    devices = list(jax.devices() if devices is None else devices)
    return Mesh(np.array(devices), ("seeds",))


def shard_seed_axis(tree, mesh: Mesh):
    """Place every array leaf of ``tree`` on ``mesh``, split along its leading (seed) axis.

    The leading axis must be a multiple of ``mesh.size`` (:func:`run_seeds` pads it).
    """
    sharding = NamedSharding(mesh, PartitionSpec("seeds"))
    return jax.tree.map(lambda x: jax.device_put(x, sharding), tree)


def _pad_leading(tree, size: int):
    def pad(x):
        n = x.shape[0]
        if n == size:
            return x
        reps = jnp.concatenate([jnp.arange(n), jnp.full(size - n, n - 1)])
        return x[reps]

    return jax.tree.map(pad, tree)


def _take_leading(tree, start: int, stop: int, padded: int):
    def take(x):
        if hasattr(x, "shape") and getattr(x, "ndim", 0) >= 1 and x.shape[0] == padded:
            return x[start:stop]
        return x

    return jax.tree.map(take, tree)


def _concat_leading(parts: list, total_lens: list[int]):
    if len(parts) == 1:
        return parts[0]

    def cat(*xs):
        if all(hasattr(x, "shape") and getattr(x, "ndim", 0) >= 1 and x.shape[0] == n for x, n in zip(xs, total_lens)):
            return np.concatenate([np.asarray(x) for x in xs]) if not isinstance(xs[0], jax.Array) \
                else jnp.concatenate(xs)
        return xs[0]  # a per-call scalar (e.g. a timing): keep the first batch's

    return jax.tree.map(cat, *parts)


def run_seeds(batched_fn: Callable, *args, shard: bool | None = None, seed_batch: int | None = None,
              mesh: Mesh | None = None, pass_batch: bool = False):
    """Call ``batched_fn(*args)`` where every array leaf of ``args`` has a leading seed axis ``S``.

    Args:
      batched_fn: a function of seed-batched arrays (e.g. ``jax.jit(jax.vmap(f))`` or ``augment_seeds``) returning a
        pytree whose per-seed leaves have the same leading axis.
      *args: pytrees of arrays with leading axis ``S`` (``S`` must agree).
      shard: split the seed axis over devices with a ``NamedSharding``; ``None`` means "when more than one device is
        visible". Batches are padded (by repeating the last seed) to a multiple of the device count; the padding is
        dropped from the outputs.
      seed_batch: at most this many seeds per call (bounds memory); ``None``: all at once.
      mesh: the mesh to shard over (default: :func:`seed_mesh` over all devices).
      pass_batch: call ``batched_fn(*args, batch=(start, stop))`` so it can tell batches apart (e.g. to give each
        batch its own checkpoint folder).

    Returns:
      the outputs of ``batched_fn`` with a leading axis of exactly ``S``. Output leaves without that leading axis
      (e.g. a wall-clock timing) are taken from the first batch.
    """
    leaves = jax.tree.leaves(args)
    if not leaves:
        raise ValueError("run_seeds needs at least one array argument with a leading seed axis")
    n_seeds = leaves[0].shape[0]
    if any(x.shape[0] != n_seeds for x in leaves):
        raise ValueError(f"every argument needs the same leading seed axis; got {[x.shape for x in leaves]}")
    if seed_batch is not None and seed_batch < 1:
        raise ValueError(f"seed_batch must be >= 1 or None, got {seed_batch}")
    if shard is None:
        shard = jax.device_count() > 1
    if shard and mesh is None:
        mesh = seed_mesh()
    n_dev = mesh.size if shard else 1
    batch = n_seeds if seed_batch is None else min(seed_batch, n_seeds)
    parts, lens = [], []
    for start in range(0, n_seeds, batch):
        stop = min(start + batch, n_seeds)
        chunk = jax.tree.map(lambda x: x[start:stop], args)
        size = -(-(stop - start) // n_dev) * n_dev
        chunk = _pad_leading(chunk, size)
        if shard:
            chunk = shard_seed_axis(chunk, mesh)
        kwargs = {"batch": (start, stop)} if pass_batch else {}
        out = _noting_padding(lambda: batched_fn(*chunk, **kwargs), size - (stop - start))
        parts.append(_take_leading(out, 0, stop - start, size))
        lens.append(stop - start)
    return _concat_leading(parts, lens)


def _noting_padding(call: Callable, n_pad: int):
    """``call()``; with ``n_pad`` padding seeds, its warnings re-emitted with a note that their seed counts include
    them (the batched function cannot tell padding from seeds, e.g. "not recommended for 4 of 4 seeds" for 3)."""
    if n_pad == 0:
        return call()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    for w in caught:
        warnings.warn_explicit(f"{w.message} [counts include {n_pad} padding seed(s): the batch was padded to a "
                               "multiple of the device count by repeating its last seed]", w.category, w.filename,
                               w.lineno)
    return out


def run_sweep(points: Sequence[tuple[str, Any]], run_point: Callable[[str, Any], list[dict]], store: ResultStore,
              seeds: Sequence[int], *, progress: bool = True, desc: str = "sweep") -> list[dict]:
    """Run every sweep point not already complete in ``store``, saving its rows as soon as it finishes.

    Args:
      points: ``(point_id, point)`` pairs; ``point_id`` is a short unique string (e.g. ``"g=1.5"``).
      run_point: ``run_point(point_id, point) -> rows`` (one row per seed, each with ``"point"`` and ``"seed"``).
      store: where rows are saved; points whose rows cover ``seeds`` are skipped (resume).
      seeds: the seed indices every point must have.
      progress: show a tqdm bar over points.
      desc: the bar's label.

    Returns:
      all rows of the requested points (loaded or new), in point order.
    """
    from tqdm.auto import tqdm

    ids = [pid for pid, _ in points]
    if len(set(ids)) < len(ids):  # one id's rows would be counted once per repeat in every summary
        raise ValueError(f"sweep points repeat: {sorted({p for p in ids if ids.count(p) > 1})}; give each point once")
    bar = tqdm(points, desc=desc, disable=not progress, unit="point")
    for point_id, point in bar:
        if store.is_done(point_id, seeds):
            bar.set_postfix_str(f"{point_id}: done earlier, skipped")
            continue
        bar.set_postfix_str(point_id)
        rows = run_point(point_id, point)
        for r in rows:
            r.setdefault("point", point_id)
        store.add(rows)
    return [r for pid, _ in points for r in store.point_rows(pid)]
