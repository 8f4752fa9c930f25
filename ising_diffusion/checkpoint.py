"""Checkpoints of pytrees through orbax ``CheckpointManager`` (one small module, so an orbax API change touches one file).

Writes are atomic: orbax writes each step into a temporary directory and renames it into place only once every file is
finalised, and the manager lists finalised steps only. A run killed mid-save therefore leaves at most a temporary
directory that is never loaded (``tests/test_augment.py`` plants one and checks).
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp

__all__ = ["Checkpointer"]


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
