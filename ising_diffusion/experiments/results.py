"""Result tables of a run folder: rows as JSON (what a resume reads) and CSV (what people read), each written
atomically (:func:`ising_diffusion.io.atomic_write`), so a run killed at any moment leaves readable files."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import jax
import numpy as np

from ising_diffusion.io.atomic import atomic_write

__all__ = ["package_version", "to_jsonable", "write_json", "write_csv", "ResultStore"]


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


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` (made JSON-able by :func:`to_jsonable`) to ``path`` atomically, indented."""
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
        write_json(self.json_path, {**self.header, "rows": self.rows})
