"""Checks of the command line's file arguments, made before any work: inputs that exist, outputs that are neither a
folder, nor an input file (writing would destroy it), nor another output of the same command, and seeds JAX can take.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["INPUT_ARGS", "OUTPUT_ARGS", "existing_file", "seed_value", "path_conflict"]

#: argument names (``argparse`` destinations) that name files a command reads
INPUT_ARGS = ("data", "alignment", "params", "truth", "test", "contacts")
#: argument names that name files a command writes
OUTPUT_ARGS = ("out", "params_out", "scores_out", "fasta_out", "prob_out", "save_params")
_MAX_SEED = 2**32 - 1  # jax.random.key keeps the low 32 bits without x64: 2**32 would be seed 0 again


def existing_file(text: str) -> Path:
    """``argparse`` type: a path to an existing file (a folder or a missing path is a usage error)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def seed_value(text: str) -> int:
    """``argparse`` type: an integer seed in ``[0, 2**32)``: ``jax.random.key`` keeps only the low 32 bits (without
    x64), so a larger seed would silently repeat a smaller one's numbers."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be an integer, got {text!r}") from None
    if not 0 <= seed <= _MAX_SEED:
        raise argparse.ArgumentTypeError(f"the seed must be in [0, 2**32), got {text}")
    return seed


def _flag(name: str) -> str:
    return name if name in ("data", "alignment") else "--" + name.replace("_", "-")


def _same(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def path_conflict(args: argparse.Namespace) -> str | None:
    """The first problem with ``args``' output paths, as a sentence, or ``None``: an output that is an existing
    folder, the same file as an input, or the same file as another output."""
    inputs = [(n, Path(getattr(args, n))) for n in INPUT_ARGS if getattr(args, n, None) is not None]
    outputs = [(n, Path(getattr(args, n))) for n in OUTPUT_ARGS if getattr(args, n, None) is not None]
    for k, (name, path) in enumerate(outputs):
        if path.is_dir():
            return f"{_flag(name)} {path} is a folder; give a file name"
        for other, src in inputs:
            if _same(path, src):
                return (f"{_flag(name)} {path} is the input file of {_flag(other)}: writing it would destroy the "
                        "input; choose another path")
        for other, dst in outputs[:k]:
            if _same(path, dst):
                return f"{_flag(other)} and {_flag(name)} are the same file {path}; give each its own"
    return None
