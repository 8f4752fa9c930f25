"""Extending a run folder: the config changes that only add rows to what is already there.

An experiment names the config fields whose growth keeps every saved row valid (for ``msa``: more subsamples, more
depths, more methods; a row there depends on its own family, depth, subsample and method only). Reopening a run with
such a config fits the missing rows and keeps the rest: ``--set n_seeds=5`` on a folder of 2 subsamples computes
subsamples 2-4. Any other difference is a different run
(:class:`~ising_diffusion.experiments.runner.RunConfigMismatch`).
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["grows", "grown_fields"]


def grows(old: Any, new: Any) -> bool:
    """Whether ``new`` keeps everything ``old`` covers: an integer no smaller, a list holding each of ``old``'s items
    (JSON values, as saved in ``config.json``)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return old == new
    if isinstance(old, int) and isinstance(new, int):
        return new >= old
    if isinstance(old, list) and isinstance(new, list):
        return all(item in new for item in old)
    return old == new


def grown_fields(saved: dict, new: dict, growable: Sequence[str]) -> dict | None:
    """The fields in which config ``new`` extends ``saved`` (name -> saved value; ``{}`` when equal), or ``None`` when
    they differ otherwise: a field outside ``growable``, or one that shrinks."""
    if set(saved) != set(new):
        return None
    changed = {k: saved[k] for k in saved if saved[k] != new[k]}
    if any(k not in growable or not grows(saved[k], new[k]) for k in changed):
        return None
    return changed
