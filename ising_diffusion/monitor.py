"""The energy-variance monitor and the stopping rules for diffusion training (METHODS.md section 4).

``w_train`` is inferred from the training data alone (erasure machine). During training, every few epochs a batch is
generated and the variance over samples of ``E(s; w_train)`` recorded; the variances of the training and the held-out
test data under the same ``w_train`` are fixed numbers. The generated variance starts high, falls, then turns back
toward the training data's variance as the generator starts to copy the training set.

Rules (all return an index into the monitored points and whether the rule's condition was actually met):

* :func:`paper_stop_index`, the paper's rule, faithfully: the first monitored point where the generated variance meets
  the test variance (the first sign change of ``generated - test``; of the two points around it, the closer one).
  Curves that never cross fall back to the point of smallest ``|generated - test|``, with a warning.
* :func:`robust_stop_index`: the same crossing, found on the generated variance smoothed by a running median over
  neighbouring monitor points (each is a noisy estimate from ``n_monitor_samples`` samples, and one noisy point can
  cross the test line long before the curve does). :func:`bootstrap_variance_band` gives the uncertainty of the test
  variance (a few dozen test samples leave tens of percent) for plots and reports. See ``docs/augmentation.md`` for
  which rule is the default and the numbers behind the choice.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ising_diffusion.ising import IsingParams, energy
from ising_diffusion.types import PRNGKey

__all__ = [
    "StoppingCurve",
    "NoCrossingWarning",
    "energy_variance",
    "bootstrap_variance_band",
    "smooth_curve",
    "paper_stop_index",
    "robust_stop_index",
    "STOPPING_RULES",
    "MomentRMS",
    "moment_rms",
]

STOPPING_RULES = ("score", "paper", "robust", "best", "last")


class NoCrossingWarning(UserWarning):
    """The generated energy variance never met the test variance; a fallback epoch was used."""


class StoppingCurve(NamedTuple):
    """Everything recorded at the ``P`` monitor points (arrays may carry a leading seed axis).

    Attributes:
      epochs: ``(P,)`` epoch of each monitor point.
      generated_variance: ``(P,)`` variance of ``E(s; w_train)`` over the samples generated there.
      train_variance, test_variance: scalars, the same for the training and test data.
      loss: ``(P,)`` mean training loss since the previous monitor point.
      mse: ``(P,)`` MSE of the erasure machine fit to the generated samples alone (NaN without the truth).
      mse_combined: ``(P,)`` MSE of the fit to generated + training samples (NaN without the truth).
      smoothed_variance: ``(P,)`` the generated variance smoothed as the robust rule uses it.
      test_variance_low, test_variance_high: scalars, the bootstrap band of the test variance.
      steps: ``(P,)`` optimiser step of each monitor point (``epochs = steps / steps_per_epoch``).
      score: ``(P, R)`` held-out score (mean log-likelihood of the test set, exact for small N, else mean
        log-pseudolikelihood; higher is better) of the solver fit to training + ``mix_sizes[r]`` generated samples;
        column ``r`` with ``mix_sizes[r] = 0`` is the training-only fit (the same at every point).
      mix_sizes: ``(R,)`` number of generated samples added at each ratio of ``AugmentConfig.mix_grid``.
    """

    epochs: Array
    generated_variance: Array
    train_variance: Array
    test_variance: Array
    loss: Array
    mse: Array
    mse_combined: Array
    smoothed_variance: Array
    test_variance_low: Array
    test_variance_high: Array
    steps: Array | None = None
    score: Array | None = None
    mix_sizes: Array | None = None


def energy_variance(params: IsingParams, spins: Float[Array, "M N"]) -> Float[Array, ""]:
    """Variance over samples of ``E(s; params)`` (population variance, ``ddof = 0``)."""
    return jnp.var(energy(params, spins))


def bootstrap_variance_band(key: PRNGKey, energies: Float[Array, " M"], n_boot: int = 200,
                            level: float = 0.68) -> tuple[Array, Array]:
    """Central ``level`` percentile interval of the variance of ``energies`` over ``n_boot`` bootstrap resamples.

    Args:
      key: PRNG key.
      energies: ``(M,)`` energies of the test samples.
      n_boot: number of resamples (static).
      level: coverage of the interval.

    Returns:
      ``(low, high)`` scalars.
    """
    m = energies.shape[0]
    idx = jax.random.randint(key, (n_boot, m), 0, m)
    boots = jnp.var(energies[idx], axis=1)
    q = jnp.asarray([(1 - level) / 2, (1 + level) / 2], jnp.float32)
    low, high = jnp.quantile(boots, q)
    return low, high


def smooth_curve(values, window: int = 3) -> np.ndarray:
    """Centred running median of width ``window`` (odd; shrinks at the ends), robust to single noisy points."""
    values = np.asarray(values, np.float64)
    if window <= 1:
        return values.copy()
    half = window // 2
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = np.median(values[max(0, i - half):i + half + 1])
    return out


def _first_crossing(diff: np.ndarray, start: int = 0) -> int | None:
    """Index of the first point ``i > start`` where ``diff`` reaches zero from the sign it had at ``start``."""
    s0 = np.sign(diff[start])
    if s0 == 0:
        return start
    for i in range(start + 1, diff.shape[0]):
        if np.sign(diff[i]) != s0:
            return i
    return None


def paper_stop_index(generated_variance, test_variance, *, warn: bool = True) -> tuple[int, bool]:
    """The paper's rule: the monitored point where the generated energy variance meets the test variance.

    Args:
      generated_variance: ``(P,)`` monitored generated variances.
      test_variance: scalar.
      warn: emit :class:`NoCrossingWarning` when the curve never crosses.

    Returns:
      ``(index, crossed)``: at the first sign change of ``generated - test`` the closer of the two points around it;
      if there is no sign change (``crossed = False``), the point of smallest ``|generated - test|`` (fallback).
    """
    g = np.asarray(generated_variance, np.float64)
    diff = g - float(test_variance)
    i = _first_crossing(diff)
    if i is None:
        if warn:
            warnings.warn("the generated energy variance never met the test variance; stopping at the monitored "
                          "epoch where they are closest", NoCrossingWarning, stacklevel=2)
        return int(np.argmin(np.abs(diff))), False
    if i > 0 and abs(diff[i - 1]) < abs(diff[i]):
        i -= 1
    return int(i), True


def robust_stop_index(generated_variance, test_variance, *, window: int = 5,
                      warn: bool = True) -> tuple[int, bool]:
    """Robust rule: the paper's crossing, found on the running-median-smoothed generated-variance curve.

    A single noisy monitor point (the generated variance is estimated from ``n_monitor_samples`` samples) can cross
    the test variance long before the curve does; the running median ignores it. The bootstrap band of the test
    variance is reported beside (:func:`bootstrap_variance_band`) but is not the target: with the few dozen test
    samples of the paper's split it is so wide that the curve often starts inside it (see docs/augmentation.md).

    Args:
      generated_variance: ``(P,)`` monitored generated variances.
      test_variance: scalar.
      window: running-median width (:func:`smooth_curve`; 1 = the paper's rule).
      warn: emit :class:`NoCrossingWarning` when the smoothed curve never crosses.

    Returns:
      ``(index, crossed)`` as :func:`paper_stop_index` returns for the smoothed curve.
    """
    s = smooth_curve(generated_variance, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrossingWarning)
        i, crossed = paper_stop_index(s, test_variance, warn=False)
    if not crossed and warn:
        warnings.warn("the smoothed generated energy variance never met the test variance; stopping at the "
                      "monitored epoch where they are closest", NoCrossingWarning, stacklevel=2)
    return i, crossed


class MomentRMS(NamedTuple):
    """RMS moment errors of generated spins against reference (held-out) spins.

    Attributes:
      first: RMS over ``i`` of ``<s_i>_gen - <s_i>_ref``.
      second: RMS over pairs ``i < j`` of ``<s_i s_j>_gen - <s_i s_j>_ref`` (0 when ``N = 1``).
    """

    first: Array
    second: Array


def moment_rms(generated: Float[Array, "M N"], reference: Float[Array, "R N"]) -> MomentRMS:
    """A generator-quality measure that needs no truth: how far the generated single-site means and pair
    correlations are from those of held-out data (the sufficient statistics an Ising fit matches).

    The reference's own sampling noise sets a floor: two independent sets of ``R`` true samples differ by about
    ``sqrt(Var / R)`` per moment. jit-able (shapes are static) and vmap-able over seeds.

    Args:
      generated: ``(M, N)`` spins in {-1, +1}.
      reference: ``(R, N)`` spins in {-1, +1} (e.g. the test split).

    Returns:
      :class:`MomentRMS` of scalars ``(first, second)``.
    """
    if generated.ndim != 2 or reference.ndim != 2 or generated.shape[1] != reference.shape[1]:
        raise ValueError(f"generated and reference must be (M, N) and (R, N) with the same N, got shapes "
                         f"{generated.shape} and {reference.shape}")
    if generated.shape[0] < 1 or reference.shape[0] < 1:
        raise ValueError(f"need at least one generated and one reference sample, got {generated.shape[0]} and "
                         f"{reference.shape[0]}")
    g = jnp.asarray(generated, jnp.float32)
    r = jnp.asarray(reference, jnp.float32)
    n = g.shape[1]
    first = jnp.sqrt(jnp.mean((jnp.mean(g, axis=0) - jnp.mean(r, axis=0)) ** 2))
    if n < 2:
        return MomentRMS(first, jnp.zeros((), jnp.float32))
    iu = np.triu_indices(n, k=1)
    diff = g.T @ g / g.shape[0] - r.T @ r / r.shape[0]
    return MomentRMS(first, jnp.sqrt(jnp.mean(diff[iu] ** 2)))
