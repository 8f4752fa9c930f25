"""Contact prediction from Potts couplings: APC-corrected Frobenius scores and contact precision.

Score of a pair (plmDCA, EVcouplings): put ``J`` in the zero-sum gauge (over all ``q`` states), drop the gap state's
row and column from every block, take the Frobenius norm ``F_ij = |J_ij|_F``, and subtract the average product
correction ``APC_ij = F_i. F_.j / F_..`` (means over the off-diagonal pairs). plmc's own couplings file takes the norm
of its fitted blocks as they are, without the gauge change or the gap removal; with its L2 penalty the blocks are near
the zero-sum gauge already, so the rankings agree closely but not exactly.

Precision: the top-``K`` pairs ``i < j`` with ``j - i >= min_separation`` by score, and the fraction of them that are
contacts (``K`` = ``L/5``, ``L/2``, ``L``, rounded down, or any number).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ising_diffusion.checks import is_int
from ising_diffusion.potts import PottsParams, zero_sum_gauge

__all__ = ["contact_scores", "frobenius_norms", "average_product_correction", "contact_precision", "top_pairs",
           "DEFAULT_TOPS"]

#: The usual cut-offs: the top L/5, L/2 and L pairs.
DEFAULT_TOPS = ("L/5", "L/2", "L")


def frobenius_norms(params: PottsParams, gap_state: int | None = 0) -> Float[Array, "L L"]:
    """``|J_ij|_F`` of every block in the zero-sum gauge, without ``gap_state``'s row and column (``None``: keep all
    states); zero diagonal."""
    J = zero_sum_gauge(params).J
    q = J.shape[-1]
    if gap_state is not None:
        if not (is_int(gap_state, 0) and gap_state < q):
            raise ValueError(f"gap_state must be in [0, q={q}) or None, got {gap_state}")
        keep = np.array([a for a in range(q) if a != gap_state])
        J = J[:, :, keep][:, :, :, keep]
    norms = jnp.sqrt(jnp.sum(J**2, axis=(2, 3)))
    return norms * (1.0 - jnp.eye(norms.shape[0], dtype=norms.dtype))


def average_product_correction(scores: Float[Array, "L L"]) -> Float[Array, "L L"]:
    """Average product correction ``F_ij - F_i. F_.j / F_..`` with means over off-diagonal pairs; zero diagonal.
    All-zero scores (no coupling at all) stay zero instead of 0 / 0."""
    length = scores.shape[0]
    off = 1.0 - jnp.eye(length, dtype=scores.dtype)
    scores = scores * off
    row = jnp.sum(scores, axis=1) / (length - 1)
    total = jnp.sum(scores) / (length * (length - 1))
    safe = jnp.where(total != 0, total, 1.0)
    return (scores - jnp.where(total != 0, row[:, None] * row[None, :] / safe, 0.0)) * off


def contact_scores(params: PottsParams, gap_state: int | None = 0, apc: bool = True) -> Float[Array, "L L"]:
    """APC-corrected Frobenius-norm contact scores (see the module docstring), symmetric ``(L, L)``, zero diagonal.

    Args:
      params: ``PottsParams`` (any gauge; ``J`` symmetric).
      gap_state: state left out of the norms (0 = gap in ``PROTEIN_ALPHABET``); ``None`` keeps every state.
      apc: subtract the average product correction.

    Returns:
      ``(L, L)`` scores; higher means a more likely contact.
    """
    if params.h.shape[0] < 3 and apc:
        raise ValueError(f"the APC needs L >= 3 columns, got L={params.h.shape[0]}")
    norms = frobenius_norms(params, gap_state)
    return average_product_correction(norms) if apc else norms


def _resolve_top(top, length: int) -> int:
    if isinstance(top, str):
        text = top.replace(" ", "")
        if text == "L":
            return length
        if text.startswith("L/") and text[2:].isdigit() and int(text[2:]) > 0:
            return length // int(text[2:])
        raise ValueError(f"top must be an int or 'L', 'L/k'; got {top!r}")
    if not is_int(top):
        raise ValueError(f"top must be a positive integer or 'L', 'L/k'; got {top!r}")
    return int(top)


def top_pairs(scores: Float[Array, "L L"], k: int, min_separation: int = 5, positions=None) -> np.ndarray:
    """The ``k`` highest-scoring pairs ``i < j`` with ``j - i >= min_separation``, best first, as ``(k, 2)`` 0-based
    indices (fewer if there are fewer eligible pairs; ties broken by position, as a stable sort). ``positions``:
    ``(L,)`` increasing residue numbers of the rows (e.g. the input columns kept by a gap filter); the separation is
    then ``positions[j] - positions[i]``."""
    scores = np.asarray(scores)
    i, j = np.triu_indices(scores.shape[0], k=1)
    pos = np.arange(scores.shape[0]) if positions is None else np.asarray(positions)
    keep = pos[j] - pos[i] >= max(int(min_separation), 1)
    i, j = i[keep], j[keep]
    order = np.argsort(-scores[i, j], kind="stable")[:k]
    return np.stack([i[order], j[order]], axis=1)


def contact_precision(scores: Float[Array, "L L"], contacts: Bool[np.ndarray, "L L"],
                      top: int | str | Sequence[int | str] = DEFAULT_TOPS,
                      min_separation: int = 5, positions=None) -> float | dict[str, float]:
    """Fraction of true contacts among the top-scoring pairs at sequence separation ``>= min_separation``.

    Args:
      scores: ``(L, L)`` pair scores (only ``i < j`` is read).
      contacts: ``(L, L)`` boolean contact map (e.g. ``io.contacts.contact_map``; only ``i < j`` is read).
      top: how many pairs: an int, ``"L"`` or ``"L/k"``, or a sequence of those (default ``("L/5", "L/2", "L")``).
      min_separation: smallest ``j - i`` counted (5 by convention for proteins; 1 for planted graphs).
      positions: ``(L,)`` increasing residue numbers of the rows (default ``0 .. L-1``): with columns removed by a gap
        filter, the kept columns' input numbers, so the separation is the input's.

    Returns:
      a float for a single ``top``; for a sequence, a dict ``{str(top): precision}``.
    """
    scores = np.asarray(scores)
    contacts = np.asarray(contacts)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"scores must be a square (L, L) matrix, got shape {scores.shape}")
    if contacts.shape != scores.shape:
        raise ValueError(f"contacts must have the scores' shape {scores.shape}, got {contacts.shape}")
    if contacts.dtype != bool:
        raise ValueError(f"contacts must be a boolean matrix, got dtype {contacts.dtype}")
    if not np.all(np.isfinite(scores[np.triu_indices(scores.shape[0], 1)])):
        raise ValueError("scores contain NaN or infinite values")
    length = scores.shape[0]
    if int(min_separation) != min_separation or not 1 <= min_separation < length:
        raise ValueError(f"min_separation must be an integer in [1, L={length}), got {min_separation!r}")
    if positions is not None:
        positions = np.asarray(positions)
        if positions.shape != (length,) or np.any(np.diff(positions) <= 0):
            raise ValueError(f"positions must be {length} increasing residue numbers, got shape {positions.shape}")

    def one(t):
        pairs = top_pairs(scores, _resolve_top(t, length), min_separation, positions)
        return float(np.mean(contacts[pairs[:, 0], pairs[:, 1]])) if len(pairs) else float("nan")

    if isinstance(top, (str, numbers.Real)):  # one top (a bool or a fraction is refused by _resolve_top)
        return one(top)
    return {str(t): one(t) for t in top}
