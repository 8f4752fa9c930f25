"""The raw scores of :func:`~ising_diffusion.augment.augment`'s selection: how well a fit predicts held-out data.

The held-out score of a fit is the mean log-likelihood per test sample (exact, enumerating ``2^N`` states, for small
``N``) or the mean log-pseudolikelihood (any ``N``); both are proper scoring rules of the fitted distribution. The
per-test-sample terms are kept so that two fits can be compared by a paired difference.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from ising_diffusion.inference.pseudolikelihood import log_pseudolikelihood_per_sample
from ising_diffusion.ising import IsingParams, energy, log_partition

__all__ = ["held_out_terms", "held_out_score", "mix_sizes", "warn_repeated_mixes"]


def held_out_terms(params: IsingParams, test, *, exact: bool) -> jax.Array:
    """Per-test-sample held-out log-likelihood (``exact``) or log-pseudolikelihood, ``(Mt,)``; their mean is
    :func:`held_out_score`."""
    if exact:
        return -energy(params, test) - log_partition(params)
    return log_pseudolikelihood_per_sample(params, test)


def held_out_score(params: IsingParams, test, *, exact: bool) -> jax.Array:
    """Mean held-out log-likelihood per test sample (``exact``: by enumerating ``2^N`` states, N <= 24) or mean
    log-pseudolikelihood (any N). Higher is better; both are proper scoring rules of the fitted model.

    Args:
      params: the fitted ``IsingParams``.
      test: ``(Mt, N)`` held-out spins.
      exact: use the exact log-likelihood.

    Returns:
      scalar.
    """
    return jnp.mean(held_out_terms(params, test, exact=exact))


def mix_sizes(mix_grid, m_train: int, n_monitor: int) -> tuple[int, ...]:
    """Generated samples added at each ratio ``r`` of ``mix_grid``: ``min(round(r M), n_monitor)``."""
    return tuple(min(int(round(r * m_train)), int(n_monitor)) for r in mix_grid)


def warn_repeated_mixes(mix_grid, m_train: int, n_monitor: int) -> list:
    """Warn (``UserWarning``) when two or more ratios of ``mix_grid`` are capped at ``n_monitor`` generated samples:
    they are one fit, fitted and scored once per ratio, and only the smallest can ever be chosen. Returns those
    ratios (empty: no warning)."""
    same = [r for r, n in zip(mix_grid, mix_sizes(mix_grid, m_train, n_monitor)) if r > 0 and n == int(n_monitor)]
    if len(same) < 2:
        return []
    warnings.warn(f"mix_grid ratios {same} all add {n_monitor} generated samples (capped at the monitor sample count "
                  f"with M = {m_train}): they are the same fit, scored {len(same)} times; set n_monitor_samples >= "
                  f"{int(round(max(same) * m_train))} or drop the larger ratios", UserWarning, stacklevel=5)
    return same
