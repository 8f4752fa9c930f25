"""The arguments of :func:`~ising_diffusion.augment.augment` / :func:`~ising_diffusion.augment.augment_seeds`
checked at the edge, once, on the host: +-1 spins, or integer sequences when the generator is a q-state one
(:mod:`~ising_diffusion.augment.sequences`). Everything after this works on device arrays.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.augment.sequences import (
    DEFAULT_THETA,
    SequenceData,
    check_potts_truth,
    check_sequence_pair,
    is_sequence_generator,
    sequence_generator_config,
)
from ising_diffusion.checks import is_real
from ising_diffusion.generative import Q_STATE_GENERATORS
from ising_diffusion.ising import IsingParams
from ising_diffusion.spins import as_spins

__all__ = ["Inputs", "check_inputs", "check_ising_truth", "trusted_inputs"]


class Inputs(NamedTuple):
    """Checked arguments: ``train`` / ``test`` with a leading seed axis, the truth (``None`` or with a seed axis),
    the generator's config and, for alignments, the :class:`SequenceData` (``None`` for spins)."""

    train: Any
    test: Any
    truth: Any
    generator_config: Any
    sequences: SequenceData | None


def check_ising_truth(p, n: int, *, batched: bool, n_seeds: int | None = None) -> IsingParams:
    """A planted Ising truth as float32 ``IsingParams`` (``h (N,)``, ``J (N, N)``; a leading ``S`` when
    ``batched``); TypeError / ValueError otherwise."""
    if not isinstance(p, IsingParams):
        raise TypeError(f"true_params must be IsingParams, got {type(p).__name__}")
    h, J = jnp.asarray(p.h, jnp.float32), jnp.asarray(p.J, jnp.float32)
    want_h = (n_seeds, n) if batched else (n,)
    if h.shape != want_h or J.shape != want_h + (n,):
        raise ValueError(f"true_params shapes h {h.shape}, J {J.shape} do not match "
                         f"h {want_h}, J {want_h + (n,)}")
    return IsingParams(h, J)


def _spins_hint(x, name: str) -> None:
    arr = np.asarray(x)
    if np.issubdtype(arr.dtype, np.integer) and arr.size and arr.max() > 1:
        raise ValueError(f"{name} holds integer states up to {arr.max()}, not +-1 spins: for an alignment pass a "
                         f"q-state generator ({', '.join(sorted(Q_STATE_GENERATORS))})")


def check_inputs(train, test, true_params, *, generator: str, generator_config, q: int | None, theta: float,
                 batched: bool) -> Inputs:
    """Check the data (``(M, N)`` each, or ``(S, M, N)`` when ``batched``) for ``generator``'s kind and return them
    with a leading seed axis.

    Args:
      train, test, true_params: as ``augment`` / ``augment_seeds`` take them.
      generator, generator_config: the generator's name and config (``None``: defaults; for a q-state generator
        ``n_states = q``).
      q: number of states of the sequences (``None``: ``generator_config.n_states``); spins: must be ``None``.
      theta: identity threshold of the sequence weights (sequences only).
      batched: the data have a leading seed axis.

    Raises:
      ValueError / TypeError: bad data, a truth of the wrong kind or shape, ``q`` with a spin generator.
    """
    add = (lambda a: a) if batched else (lambda a: a[None])  # noqa: E731
    generator_config, data = _settings(generator, generator_config, q, theta)
    if data is not None:
        tr, te = check_sequence_pair(train, test, data.q, batched=batched)
        truth = None
        if true_params is not None:
            truth = check_potts_truth(true_params, tr.shape[-1], data.q, batched=batched, n_seeds=tr.shape[0])
        return Inputs(add(tr), add(te), None if truth is None else jax.tree.map(add, truth), generator_config, data)
    _spins_hint(train, "train")
    if not batched:
        tr = as_spins(train, name="train")
        te = as_spins(test, name="test", n_spins=tr.shape[1])
        truth = None if true_params is None else check_ising_truth(true_params, tr.shape[1], batched=False)
        return Inputs(tr[None], te[None], None if truth is None else jax.tree.map(add, truth), generator_config,
                      None)
    train_np, test_np = np.asarray(train), np.asarray(test)
    if train_np.ndim != 3 or test_np.ndim != 3:
        raise ValueError(f"augment_seeds needs train (S, M, N) and test (S, Mt, N), got shapes {train_np.shape}, "
                         f"{test_np.shape}")
    tr = as_spins(train_np.reshape(-1, train_np.shape[-1]), name="train").reshape(train_np.shape)
    te = as_spins(test_np.reshape(-1, test_np.shape[-1]), name="test", n_spins=tr.shape[-1]).reshape(test_np.shape)
    truth = None if true_params is None else check_ising_truth(true_params, tr.shape[-1], batched=True,
                                                               n_seeds=train_np.shape[0])
    return Inputs(tr, te, truth, generator_config, None)


def trusted_inputs(train, test, true_params, *, generator: str, generator_config, q: int | None,
                   theta: float) -> Inputs:
    """``augment_seeds(validate=False)``'s arguments, taken as they are (no host round trip, sharding kept): data
    already checked by the caller, ``(S, M, N)`` each, as float32 spins or, for a q-state generator, int32 sequences
    with their :class:`SequenceData` (``q`` and ``theta`` are checked here: they are settings, not data)."""
    truth = None if true_params is None else jax.tree.map(jnp.asarray, true_params)
    generator_config, data = _settings(generator, generator_config, q, theta)
    dtype = jnp.float32 if data is None else jnp.int32
    return Inputs(jnp.asarray(train, dtype), jnp.asarray(test, dtype), truth, generator_config, data)


def _settings(generator: str, generator_config, q: int | None, theta: float):
    """``(generator_config, SequenceData)`` for a q-state generator (``theta`` in (0, 1], ``n_states = q``), or
    ``(generator_config, None)`` for a spin one, which takes neither ``q`` nor ``theta``."""
    if not is_sequence_generator(generator):
        if q is not None or theta != DEFAULT_THETA:
            raise ValueError(f"q and theta are for alignments (a q-state generator: "
                             f"{', '.join(sorted(Q_STATE_GENERATORS))}); generator {generator!r} takes +-1 spins")
        return generator_config, None
    if not (is_real(theta) and 0.0 < theta <= 1.0):
        raise ValueError(f"theta (sequence identity threshold) must be in (0, 1], got {theta!r}")
    generator_config = sequence_generator_config(generator, generator_config, q)
    return generator_config, SequenceData(int(generator_config.n_states), float(theta))
