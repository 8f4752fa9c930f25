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

import csv
import dataclasses
import functools
import io
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ising_diffusion.experiments.extend import grown_fields
from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.types import PRNGKey

__all__ = ["write_csv", "RunConfigMismatch", "RunDir", "ResultStore", "open_run", "package_version", "to_jsonable",
           "seed_keys", "seed_mesh", "shard_seed_axis", "run_seeds", "run_sweep"]


def package_version() -> str:
    """The installed ``ising-diffusion`` version, or the source tree's ``__version__``."""
    try:
        from importlib.metadata import version

        return version("ising-diffusion")
    except Exception:  # not pip-installed: running from a checkout
        import ising_diffusion

        return getattr(ising_diffusion, "__version__", "unknown")


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, NamedTuples, arrays and numpy scalars as plain JSON values (NaN/inf become ``None``)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return {k: to_jsonable(v) for k, v in zip(obj._fields, obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (jax.Array, np.ndarray)):
        return to_jsonable(np.asarray(obj).tolist())
    if isinstance(obj, (np.generic,)):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def _write_json(path: Path, obj: Any) -> None:
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=False)
    atomic_write(path, lambda f: f.write(text + "\n"), mode="w")


def write_csv(path: Path, rows: Sequence[dict]) -> None:
    """Write dict rows atomically as CSV, the columns in order of first appearance."""
    columns: list[str] = []
    for row in rows:
        for k in row:
            if k not in columns:
                columns.append(k)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in to_jsonable(row).items()})
    atomic_write(path, lambda f: f.write(buf.getvalue()), mode="w")


@dataclasses.dataclass
class ResultStore:
    """Rows of one table (``<name>.json`` + ``<name>.csv`` in a run folder), saved atomically after every change.

    Each row is a flat dict of scalars with at least ``"point"`` (the sweep point's id) and ``"seed"``. Rows added
    again for the same ``(point, seed)`` replace the old ones.
    """

    folder: Path
    name: str = "results"
    header: dict = dataclasses.field(default_factory=dict)
    rows: list = dataclasses.field(default_factory=list)

    @property
    def json_path(self) -> Path:
        return self.folder / f"{self.name}.json"

    @property
    def csv_path(self) -> Path:
        return self.folder / f"{self.name}.csv"

    @classmethod
    def load(cls, folder: str | Path, name: str = "results", header: dict | None = None) -> "ResultStore":
        """Open the table ``name`` in ``folder``, reading rows already saved there (if any)."""
        folder = Path(folder)
        store = cls(folder, name, dict(header or {}))
        if store.json_path.exists():
            saved = json.loads(store.json_path.read_text())
            store.rows = list(saved.get("rows", []))
        return store

    def is_done(self, point: str, seeds: Iterable[int]) -> bool:
        """Whether rows exist for ``point`` and every seed in ``seeds``."""
        have = {r["seed"] for r in self.rows if r.get("point") == point}
        return all(s in have for s in seeds)

    def point_rows(self, point: str) -> list[dict]:
        """The saved rows of one sweep point, ordered by seed."""
        return sorted((r for r in self.rows if r.get("point") == point), key=lambda r: r.get("seed", 0))

    def add(self, rows: Sequence[dict]) -> None:
        """Add (or replace) rows and save both files atomically."""
        new = [to_jsonable(dict(r)) for r in rows]
        replaced = {(r.get("point"), r.get("seed"), r.get("epoch")) for r in new}
        self.rows = [r for r in self.rows if (r.get("point"), r.get("seed"), r.get("epoch")) not in replaced] + new
        self.save()

    def save(self) -> None:
        write_csv(self.csv_path, self.rows)  # first: the JSON decides what a resume skips, so no CSV stays stale
        _write_json(self.json_path, {**self.header, "rows": self.rows})


@dataclasses.dataclass
class RunDir:
    """A run folder: config, result tables, figures and checkpoints of one experiment run."""

    path: Path
    name: str
    config: Any
    version: str

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
        _write_json(self.path / name, obj)
        return self.path / name


class RunConfigMismatch(ValueError):
    """The run folder holds a run of another experiment or config."""


def open_run(out: str | Path, name: str, config: Any, *, announce: bool = True,
             growable: Sequence[str] = ()) -> RunDir:
    """Create (or reopen, to resume) the run folder ``out`` for experiment ``name`` with ``config``.

    Args:
      out: folder path; created if missing.
      name: experiment name (e.g. ``"fig3"``).
      config: the experiment's config (a dataclass); saved as ``config.json``.
      announce: print the folder on the console.
      growable: config fields whose growth only adds rows (:mod:`~ising_diffusion.experiments.extend`): a saved run
        whose config differs from ``config`` only by growing these is extended (``config.json`` rewritten, the old
        values listed under ``"extended"``) instead of refused.

    Returns:
      :class:`RunDir`.

    Raises:
      ValueError: the folder holds a run of another experiment or with a different config (resuming it would mix
        incomparable rows); use a new ``out``.
    """
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    cfg_json = to_jsonable(config)
    cfg_file = path / "config.json"
    version = package_version()
    if cfg_file.exists():
        saved = json.loads(cfg_file.read_text())
        grown = grown_fields(saved.get("config", {}), cfg_json, growable) if saved.get("experiment") == name else None
        if grown is None:
            extendable = f" (it may only grow {', '.join(growable)})" if growable else ""
            raise RunConfigMismatch(f"{path} already holds a run of {saved.get('experiment')!r} with a different config"
                                    f"{extendable}; resuming would mix incomparable results. Choose another --out "
                                    f"folder.")
        if grown:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            _write_json(cfg_file, {**saved, "config": cfg_json,
                                   "extended": [*saved.get("extended", []), {"at": stamp, "from": grown}]})
        if announce:
            what = "; ".join(f"{k} {grown[k]} -> {cfg_json[k]}" for k in grown)
            print(f"[{name}] {'extending' if grown else 'resuming'} run in {path.resolve()}"
                  + (f" ({what})" if grown else ""), flush=True)
    else:
        left = sorted(p.name for p in path.iterdir() if p.suffix in (".json", ".csv") or p.name == "checkpoints")
        if left:  # rows or checkpoints without the config that made them
            raise RunConfigMismatch(f"{path} holds {', '.join(left)} but no config.json to say which config made "
                                    "them; resuming could mix incomparable results. Choose another --out folder.")
        _write_json(cfg_file, {"experiment": name, "version": version, "config": cfg_json,
                               "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
        if announce:
            print(f"[{name}] writing run to {path.resolve()}", flush=True)
    return RunDir(path, name, config, version)


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
