"""Checkpoints of pytrees through orbax ``CheckpointManager`` (one small module, so an orbax API change touches one file).

Writes are atomic: orbax writes each step into a temporary directory and renames it into place only once every file is
finalised, and the manager lists finalised steps only. A run killed mid-save therefore leaves at most a temporary
directory that is never loaded (``tests/test_augment.py`` plants one and checks).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from ising_diffusion.io.atomic import atomic_write

__all__ = ["Checkpointer", "KEEP_CHECKPOINTS_ENV", "drop_finished", "fingerprint", "open_run", "read_run_meta",
           "resume_points"]

_META = "augment_meta.json"
#: set (to anything non-empty) to keep the checkpoints of finished calls in experiment run folders
KEEP_CHECKPOINTS_ENV = "ISING_DIFFUSION_KEEP_CHECKPOINTS"


class Checkpointer:
    """Save and restore pytrees of arrays by integer step in ``directory``.

    Args:
      directory: where the steps live (created if missing).
      max_to_keep: keep only the newest this many steps (``None``: keep all, so any monitored epoch can be restored).
    """

    def __init__(self, directory: str | os.PathLike, *, max_to_keep: int | None = None):
        self.directory = os.path.abspath(os.fspath(directory))
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                               enable_async_checkpointing=False, cleanup_tmp_directories=True)
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def save(self, step: int, tree: Any) -> None:
        """Save ``tree`` (a pytree of arrays) as ``step``, overwriting nothing; returns when it is on disk."""
        self._manager.save(int(step), args=ocp.args.StandardSave(tree), force=True)
        self._manager.wait_until_finished()

    def restore(self, step: int, target: Any) -> Any:
        """Restore ``step`` into the structure, shapes and dtypes of ``target`` (a pytree of arrays or
        ``jax.ShapeDtypeStruct``)."""
        abstract = jax.tree.map(_abstract, target)
        return self._manager.restore(int(step), args=ocp.args.StandardRestore(abstract))

    def steps(self) -> list[int]:
        """The finalised steps, ascending."""
        self._manager.reload()
        return sorted(self._manager.all_steps())

    def check_room(self, step: int, n_more: int) -> None:
        """Raise an ``OSError`` (``ENOSPC``) naming the sizes if ``n_more`` further saves as large as ``step``'s will
        not fit on the disk: a clear stop after the first save instead of orbax's failure at a later one."""
        size = sum(f.stat().st_size for f in Path(self.directory, str(int(step))).rglob("*") if f.is_file())
        free = shutil.disk_usage(self.directory).free
        if size * n_more > free:
            raise OSError(errno.ENOSPC, f"the checkpoints in {self.directory} need about {size * n_more / 1e9:.2f} GB "
                                        f"more ({n_more} monitor points of {size / 1e6:.0f} MB) and the disk has "
                                        f"{free / 1e9:.2f} GB free: free some space, or run without checkpoint_dir "
                                        "(no resume)")

    def latest_step(self) -> int | None:
        """The newest finalised step, or ``None``."""
        steps = self.steps()
        return steps[-1] if steps else None

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _abstract(x):
    if isinstance(x, jax.ShapeDtypeStruct):
        return x
    return ocp.utils.to_shape_dtype_struct(x)


# ----------------------------------------------------------------------------------------------------------------
# Resumable runs: a directory of monitor-point checkpoints tied to the data and settings that produced them


def fingerprint(**parts) -> str:
    """SHA-256 over named parts: arrays by shape, dtype and bytes (every leaf of a pytree of arrays), anything else by
    ``repr``. Two runs share a checkpoint directory only when every part is equal."""
    h = hashlib.sha256()
    for name in sorted(parts):
        h.update(name.encode())
        leaves = jax.tree.leaves(parts[name]) if _is_array_tree(parts[name]) else [parts[name]]
        for v in leaves:
            if isinstance(v, (np.ndarray, jax.Array)):
                a = np.asarray(jax.random.key_data(v) if jax.dtypes.issubdtype(v.dtype, jax.dtypes.prng_key) else v)
                h.update(str(a.shape).encode() + str(a.dtype).encode() + a.tobytes())
            else:
                h.update(repr(v).encode())
    return h.hexdigest()


def _is_array_tree(v) -> bool:
    leaves = jax.tree.leaves(v)
    return bool(leaves) and all(isinstance(x, (np.ndarray, jax.Array)) for x in leaves)


def open_run(directory: str | os.PathLike, run_fingerprint: str, meta: dict | None = None) -> Checkpointer:
    """A :class:`Checkpointer` on ``directory`` for the run identified by ``run_fingerprint``.

    A new directory records the fingerprint (and ``meta``, JSON-serialisable) atomically; an existing one must hold the
    same fingerprint.

    Raises:
      ValueError: the directory holds a run with different data, keys or settings.
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, _META)
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        old = saved.get("fingerprint")
        n_old, n_new = saved.get("n_seeds"), (meta or {}).get("n_seeds")
        if old != run_fingerprint and n_old is not None and n_new is not None and n_old != n_new:
            raise ValueError(f"checkpoint_dir {directory} holds a call of {n_old} seed(s), this one has {n_new}: a "
                             "seed batch is padded to a multiple of the device count, so resume with the same "
                             "devices and seed_batch as the run that wrote it, or use another directory")
        if old != run_fingerprint:
            raise ValueError(f"checkpoint_dir {directory} holds a run with different data, keys or settings; use "
                             "another directory (only the training budget, the stopping rule and n_augmented may "
                             "change)")
    else:
        body = json.dumps({"fingerprint": run_fingerprint} | (meta or {})).encode()
        atomic_write(path, lambda f: f.write(body))
    return Checkpointer(directory)


def read_run_meta(directory: str | os.PathLike) -> dict:
    """The metadata :func:`open_run` recorded in ``directory`` (``{}`` if none)."""
    path = os.path.join(os.fspath(directory), _META)
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def resume_points(ckpt: Checkpointer, target: dict, *, every: int, last: int) -> tuple[Any, list, int]:
    """Where a run checkpointed every ``every`` steps stands: the newest saved tree and all saved records.

    Args:
      ckpt: the run's :class:`Checkpointer`; each step holds ``{"state": ..., "record": ...}``.
      target: a tree of that structure (arrays or ``jax.ShapeDtypeStruct``) to restore into.
      every: steps between saved points.
      last: the run's final step (later points, from a longer earlier run, are ignored).

    Returns:
      ``(state, records, done)``: the state saved at step ``done`` (``None`` when nothing is saved, ``done = 0``) and
      the host copies of the records of every saved point up to it, in order.

    Raises:
      ValueError: the saved points are not ``every, 2 every, ..., done`` (a directory from another schedule).
    """
    saved = [s for s in ckpt.steps() if s % every == 0 and s <= last]
    if not saved:
        return None, [], 0
    if saved != list(range(every, saved[-1] + 1, every)):
        raise ValueError(f"checkpoint_dir {ckpt.directory} has an incomplete set of monitor points {saved}")
    records, state = [], None
    for s in saved:
        r = ckpt.restore(s, target)
        records.append(jax.tree.map(np.asarray, r["record"]))
        if s == saved[-1]:
            state = r["state"]
    return state, records, saved[-1]


def drop_finished(directory: str | os.PathLike) -> bool:
    """Remove the checkpoints of a call whose results are saved (an experiment's run folder); returns whether it did.

    They only serve to resume that call, and at paper widths they are large: the one-hot DDPM on PF00014 (L q = 1,113
    inputs) writes 230-260 MB a monitor point, 20 points a call: 5 subsamples at M = 50 filled 26 GB. Setting
    :data:`KEEP_CHECKPOINTS_ENV` keeps them (to rerun fits on the same generators after deleting rows).
    """
    if os.environ.get(KEEP_CHECKPOINTS_ENV) or not os.path.isdir(directory):
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True
