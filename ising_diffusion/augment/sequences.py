"""The data edge of :func:`~ising_diffusion.augment.augment` on alignments: which generators take sequences, the
checks of integer ``(M, L)`` data over ``q`` states, the generator's config, a planted Potts truth, and the
truth-free quality of the generated sequences.

``augment`` dispatches on the generator: a name in
:data:`~ising_diffusion.generative.Q_STATE_GENERATORS` means sequences (the Potts solver,
:mod:`~ising_diffusion.augment.potts_solver`); any other means +-1 spins.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from ising_diffusion.generative import GENERATOR_CONFIGS, Q_STATE_GENERATORS
from ising_diffusion.msa import sequence_weights
from ising_diffusion.msa_quality import GeneratorQuality, generator_quality
from ising_diffusion.potts import PottsParams, check_sequences

__all__ = ["DEFAULT_THETA", "DEFAULT_SEQUENCE_GENERATOR", "SequenceData", "is_sequence_generator",
           "sequence_generator_config", "check_sequence_pair", "check_potts_truth", "sequence_quality", "quality_dict"]

#: Identity threshold of the sequence weights (plmc's ``-t 0.2``), as ``msa.sequence_weights``.
DEFAULT_THETA = 0.8
#: The generator ``augment`` uses for alignments when none is named (categorical D3PM, uniform transitions).
DEFAULT_SEQUENCE_GENERATOR = "d3pm_categorical"


class SequenceData(NamedTuple):
    """The static facts of an alignment run: ``q`` states, weights at identity ``theta``."""

    q: int
    theta: float


def is_sequence_generator(name: str) -> bool:
    """Whether generator ``name`` takes integer sequences (a q-state generator) rather than +-1 spins."""
    return name in Q_STATE_GENERATORS


def sequence_generator_config(generator: str, generator_config, q: int | None):
    """The q-state generator's config with ``n_states = q``.

    Args:
      generator: a name in ``Q_STATE_GENERATORS``.
      generator_config: its config or ``None`` (defaults, with ``n_states = q`` when ``q`` is given).
      q: the number of states or ``None`` (the config's ``n_states``).

    Raises:
      ValueError: ``q`` and ``generator_config.n_states`` disagree, or the config is of another generator.
    """
    cls = GENERATOR_CONFIGS[generator]
    if generator_config is None:
        return cls() if q is None else cls(n_states=int(q))
    if not isinstance(generator_config, cls):
        raise ValueError(f"generator {generator!r} needs a {cls.__name__} config, got "
                         f"{type(generator_config).__name__}")
    if q is not None and int(q) != generator_config.n_states:
        raise ValueError(f"q={q} but generator_config.n_states={generator_config.n_states}; they must agree")
    return generator_config


def check_sequence_pair(train, test, q: int, *, batched: bool = False) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Validate training and test sequences (host side) and return them as int32 device arrays.

    Args:
      train, test: ``(M, L)`` and ``(Mt, L)`` integer states in ``[0, q)`` (``(S, M, L)`` / ``(S, Mt, L)`` when
        ``batched``).
      q: number of states.

    Raises:
      ValueError: not integers, a state outside ``[0, q)``, lengths that differ, fewer than 2 sequences (named).
    """
    out = []
    for name, x in (("train", train), ("test", test)):
        arr = np.asarray(x)
        want = 3 if batched else 2
        if arr.ndim != want:
            raise ValueError(f"{name} must be {'(S, M, L)' if batched else '(M, L)'} integer sequences, got shape "
                             f"{arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must hold integer states in [0, q={q}) (an alignment from read_alignment), "
                             f"got dtype {arr.dtype}")
        flat = arr.reshape(-1, arr.shape[-1])
        try:
            check_sequences(flat, q=q)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
        if arr.shape[-2] < 2:
            raise ValueError(f"{name} needs at least 2 sequences, got {arr.shape[-2]}")
        out.append(jnp.asarray(arr, jnp.int32))
    if out[0].shape[-1] != out[1].shape[-1]:
        raise ValueError(f"train and test must have the same length L, got {out[0].shape[-1]} and "
                         f"{out[1].shape[-1]}")
    return out[0], out[1]


def check_potts_truth(p, length: int, q: int, *, batched: bool = False, n_seeds: int | None = None) -> PottsParams:
    """A planted truth as float32 ``PottsParams`` of shapes ``h (L, q)``, ``J (L, L, q, q)`` (a leading ``S`` when
    ``batched``); TypeError / ValueError otherwise."""
    if not isinstance(p, PottsParams):
        raise TypeError(f"true_params of an alignment must be PottsParams, got {type(p).__name__}")
    h, J = jnp.asarray(p.h, jnp.float32), jnp.asarray(p.J, jnp.float32)
    lead = (n_seeds,) if batched else ()
    if h.shape != lead + (length, q) or J.shape != lead + (length, length, q, q):
        raise ValueError(f"true_params shapes h {h.shape}, J {J.shape} do not match h {lead + (length, q)}, "
                         f"J {lead + (length, length, q, q)}")
    return PottsParams(h, J)


def sequence_quality(samples, train, test, data: SequenceData) -> GeneratorQuality:
    """:func:`~ising_diffusion.msa_quality.generator_quality` of the generated sequences against the held-out ones,
    every set weighted at ``data.theta`` over itself."""
    sets = [np.asarray(x, np.int32) for x in (samples, train, test)]
    w = [np.asarray(sequence_weights(x, data.theta)) for x in sets]
    return generator_quality(*sets, q=data.q, generated_weights=w[0], train_weights=w[1], heldout_weights=w[2])


def quality_dict(quality: GeneratorQuality) -> dict:
    """The quality as plain host numbers / lists (for printing and saving)."""
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in quality._asdict().items()}
