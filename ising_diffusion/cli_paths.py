"""Checks of the command line's file arguments, made before any work: inputs that exist; outputs that are neither a
folder, nor an input file (writing would destroy it), nor another output of the same command, that lie in a folder
that can be written (or made), and that end as the format written there; and seeds JAX can take. Outputs a command
derives from ``--out`` (impute's probabilities, augment's generated FASTA) are named first, so they are checked too.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ising_diffusion.checks import MAX_SEED
from ising_diffusion.cli_augment_msa import is_alignment_file

__all__ = ["INPUT_ARGS", "OUTPUT_ARGS", "existing_file", "seed_value", "name_derived_outputs", "path_conflict"]

#: argument names (``argparse`` destinations) that name files a command reads
INPUT_ARGS = ("data", "alignment", "params", "truth", "test", "contacts")
#: argument names that name files a command writes
OUTPUT_ARGS = ("out", "params_out", "scores_out", "fasta_out", "prob_out", "save_params")
#: outputs written in one format whatever their name: (command, argument) -> the endings they may have
_FORMATS = {("sample", "out"): (".npz",), ("augment", "out"): (".npz",), ("dca", "params_out"): (".npz",),
            ("infer", "out"): (".npz", ".json"), ("impute", "save_params"): (".npz", ".json")}


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
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"the seed must be in [0, 2**32), got {text}")
    return seed


def _flag(name: str) -> str:
    return name if name in ("data", "alignment") else "--" + name.replace("_", "-")


def _same(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def name_derived_outputs(args: argparse.Namespace) -> None:
    """Fill in the outputs a command names after ``--out`` when they are not given: impute's ``--prob-out``
    (``<out stem>_prob<out suffix>``) and, for an alignment, augment's ``--fasta-out``
    (``<out stem>_generated.fasta``), so that :func:`path_conflict` checks them like any other output."""
    out = getattr(args, "out", None)
    if out is None:
        return
    out = Path(out)
    if args.command == "impute" and args.prob_out is None:
        args.prob_out = str(out.with_name(f"{out.stem}_prob{out.suffix}"))
    if args.command == "augment" and args.fasta_out is None and is_alignment_file(args.data):
        args.fasta_out = str(out.with_name(f"{out.stem}_generated.fasta"))


def _unwritable_folder(path: Path) -> str | None:
    """Why files cannot be written inside the folder ``path`` (made if missing), or ``None``."""
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"the folder {parent} is not writable"
    return None


def path_conflict(args: argparse.Namespace) -> str | None:
    """The first problem with ``args``' output paths, as a sentence, or ``None``: an output that is an existing
    folder, the same file as an input, or the same file as another output; one whose folder cannot be written or
    made; one whose ending is not the format the command writes there; a ``--checkpoint-dir`` that is a file."""
    inputs = [(n, Path(getattr(args, n))) for n in INPUT_ARGS if getattr(args, n, None) is not None]
    outputs = [(n, Path(getattr(args, n))) for n in OUTPUT_ARGS if getattr(args, n, None) is not None]
    checkpoints = getattr(args, "checkpoint_dir", None)
    if checkpoints is not None:
        problem = _unwritable_folder(Path(checkpoints))
        if problem:
            return f"--checkpoint-dir {checkpoints}: {problem}"
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
        problem = _unwritable_folder(path.parent)
        if problem:
            return f"{_flag(name)} {path}: {problem}"
        endings = _FORMATS.get((getattr(args, "command", None), name))
        if endings and path.suffix.lower() not in endings:
            return (f"{_flag(name)} {path}: this command writes {' or '.join(endings)} there; name the file "
                    f"{path.stem}{endings[0]}")
    return None
