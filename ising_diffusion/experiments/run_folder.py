"""The run folder of one experiment run: ``config.json`` (the config, the package version, the inputs' fingerprints,
the device count), result tables (:mod:`~ising_diffusion.experiments.results`), figures and checkpoints.

:func:`open_run` creates a folder or reopens it to resume, and refuses what would mix incomparable rows: another
experiment or config (unless the config only grows, :mod:`~ising_diffusion.experiments.extend`), input data whose
fingerprint changed (an alignment found through ``$ISING_DIFFUSION_MSA`` that is not the one the rows came from), and
a second process writing the same folder (each would rewrite the tables without the other's rows). A resume on another
number of devices is allowed with a note: sharded seed batches give the same rows up to float32 rounding.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import warnings
import weakref
from pathlib import Path
from typing import Any, Mapping, Sequence

import jax

from ising_diffusion.experiments.extend import grown_fields
from ising_diffusion.experiments.results import ResultStore, package_version, to_jsonable, write_json

__all__ = ["RunDir", "RunConfigMismatch", "open_run", "LOCK_NAME"]

#: the lock file a process holds in each run folder it has open (advisory: released with the last RunDir of the
#: folder in that process, or when the process ends)
LOCK_NAME = ".run.lock"


class _FolderLock:
    """An exclusive ``flock`` on a folder's lock file, released when the object goes (its file closes)."""

    def __init__(self, file):
        self.file = file
        self.inode = os.fstat(file.fileno()).st_ino

    def current(self, path: Path) -> bool:
        """Whether the lock file at ``path`` is still the one held (a folder deleted and made again is not)."""
        try:
            return os.stat(path / LOCK_NAME).st_ino == self.inode
        except OSError:
            return False

    def __del__(self):
        self.file.close()


_HELD: dict[tuple[int, str], weakref.ref] = {}  # (pid, resolved folder) -> the lock this process's RunDirs share


@dataclasses.dataclass
class RunDir:
    """A run folder: config, result tables, figures and checkpoints of one experiment run."""

    path: Path
    name: str
    config: Any
    version: str
    lock: Any = dataclasses.field(default=None, repr=False, compare=False)  # held while this RunDir lives

    def table(self, name: str = "results") -> ResultStore:
        """The result table ``name`` of this run (rows saved by earlier runs are loaded)."""
        return ResultStore.load(self.path, name, {"experiment": self.name, "version": self.version,
                                                  "config": to_jsonable(self.config)})

    def checkpoint_dir(self, point: str) -> Path:
        """Folder for the generator checkpoints of one sweep point (absolute, as orbax wants)."""
        safe = "".join(c if c.isalnum() or c in "._=-" else "_" for c in point)
        return (self.path / "checkpoints" / safe).resolve()

    def figure_path(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as JSON to ``<run>/<name>`` atomically."""
        write_json(self.path / name, obj)
        return self.path / name


class RunConfigMismatch(ValueError):
    """The run folder holds a run of another experiment or config."""


def _lock(path: Path) -> _FolderLock | None:
    """Hold ``path``'s lock file (shared by this process's RunDirs of the folder), or raise RunConfigMismatch if
    another process holds it. ``None`` where the platform or the file system has no advisory locks (a warning)."""
    key = (os.getpid(), str(path.resolve()))  # a forked child is another process: it takes its own lock
    held = _HELD.get(key)
    held = held() if held is not None else None
    if held is not None and held.current(path):
        return held
    try:
        import fcntl
    except ImportError:  # Windows: folders are not guarded against a second process
        return None
    f = open(path / LOCK_NAME, "a")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise RunConfigMismatch(f"{path} is in use by another process (it holds {LOCK_NAME}): two processes writing "
                                "one run folder would each save their tables without the other's rows. Wait for it "
                                "or choose another --out folder.") from None
    except OSError as e:  # a file system without locks: run unguarded, and say so
        f.close()
        warnings.warn(f"cannot lock {path / LOCK_NAME} ({e}); a second process on this run folder would not be "
                      "refused", UserWarning, stacklevel=3)
        return None
    lock = _FolderLock(f)
    _HELD[key] = weakref.ref(lock)
    return lock


def _checked_inputs(path: Path, saved: Mapping[str, str] | None, inputs: Mapping[str, str] | None) -> dict | None:
    """The fingerprints to save: the saved ones joined with ``inputs``; RunConfigMismatch where one differs."""
    if inputs is None:
        return None if saved is None else dict(saved)
    changed = sorted(k for k in inputs if saved and k in saved and saved[k] != inputs[k])
    if changed:
        raise RunConfigMismatch(f"{path} holds rows computed from other input data: {', '.join(changed)} changed "
                                "since (another file under the same name, or another data folder); resuming would mix "
                                "incomparable results. Choose another --out folder.")
    return {**(saved or {}), **inputs}


def open_run(out: str | Path, name: str, config: Any, *, announce: bool = True,
             growable: Sequence[str] = (), inputs: Mapping[str, str] | None = None) -> RunDir:
    """Create (or reopen, to resume) the run folder ``out`` for experiment ``name`` with ``config``.

    Args:
      out: folder path; created if missing.
      name: experiment name (e.g. ``"fig3"``).
      config: the experiment's config (a dataclass); saved as ``config.json``.
      announce: print the folder on the console.
      growable: config fields whose growth only adds rows (:mod:`~ising_diffusion.experiments.extend`): a saved run
        whose config differs from ``config`` only by growing these is extended (``config.json`` rewritten, the old
        values listed under ``"extended"``) instead of refused.
      inputs: name -> fingerprint of each input data set (e.g. a digest of an alignment's states), saved in
        ``config.json``; a resume whose fingerprint of a saved name differs is refused. A folder saved without them
        (older runs) gets them recorded.

    Returns:
      :class:`RunDir`.

    Raises:
      ValueError (:class:`RunConfigMismatch`): the folder holds a run of another experiment, with a different
        config or from other input data (resuming it would mix incomparable rows), or another process has it open.
    """
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    lock = _lock(path)  # before reading config.json
    try:
        version = _open_config(path, name, config, announce, growable, inputs)
    except BaseException:
        lock = None  # released now: the traceback keeps this frame alive, it must not keep the lock
        raise
    return RunDir(path, name, config, version, lock)


def _open_config(path: Path, name: str, config: Any, announce: bool, growable: Sequence[str],
                 inputs: Mapping[str, str] | None) -> str:
    """:func:`open_run`'s checks and ``config.json``, under the folder's lock; returns the package version."""
    cfg_json = to_jsonable(config)
    cfg_file = path / "config.json"
    version = package_version()
    n_devices = jax.device_count()
    if cfg_file.exists():
        saved = json.loads(cfg_file.read_text())
        grown = grown_fields(saved.get("config", {}), cfg_json, growable) if saved.get("experiment") == name else None
        if grown is None:
            extendable = f" (it may only grow {', '.join(growable)})" if growable else ""
            raise RunConfigMismatch(f"{path} already holds a run of {saved.get('experiment')!r} with a different config"
                                    f"{extendable}; resuming would mix incomparable results. Choose another --out "
                                    f"folder.")
        joined = _checked_inputs(path, saved.get("inputs"), inputs)
        if grown or joined != saved.get("inputs"):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            record = {**saved, "config": cfg_json} | ({"inputs": joined} if joined is not None else {})
            if grown:
                record["extended"] = [*saved.get("extended", []), {"at": stamp, "from": grown}]
            write_json(cfg_file, record)
        if saved.get("devices", n_devices) != n_devices:
            print(f"[{name}] note: the saved rows came from {saved['devices']} device(s), this process sees "
                  f"{n_devices}; sharded seed batches give the same rows up to float32 rounding, not bit for bit",
                  flush=True)
        if announce:
            what = "; ".join(f"{k} {grown[k]} -> {cfg_json[k]}" for k in grown)
            print(f"[{name}] {'extending' if grown else 'resuming'} run in {path.resolve()}"
                  + (f" ({what})" if grown else ""), flush=True)
    else:
        left = sorted(p.name for p in path.iterdir() if p.suffix in (".json", ".csv") or p.name == "checkpoints")
        if left:  # rows or checkpoints without the config that made them
            raise RunConfigMismatch(f"{path} holds {', '.join(left)} but no config.json to say which config made "
                                    "them; resuming could mix incomparable results. Choose another --out folder.")
        write_json(cfg_file, {"experiment": name, "version": version, "config": cfg_json,
                              "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "devices": n_devices}
                   | ({"inputs": dict(inputs)} if inputs is not None else {}))
        if announce:
            print(f"[{name}] writing run to {path.resolve()}", flush=True)
    return version
