"""One entry point for every inverse Ising solver: ``infer(spins, method=..., **options)``.

``infer`` validates the data with :func:`ising_diffusion.spins.as_spins` (outside any trace) and then calls the
method's pure core under ``jax.jit`` with the options as static arguments. The cores (:data:`METHODS`) take
``(key, spins, **options)``, return ``(IsingParams, info)`` and are safe under ``jit`` and ``vmap``;
:func:`infer_batch` vmaps one over a stack of data sets of equal shape (seeds, bootstrap replicates) in one compiled
call.

Methods (``docs/inference.md`` says which to use when):

=====================  ===================================================================================
``"erasure"``          erasure machine, eps chosen on a grid (``eps_grid``, ``alpha``, ``n_iter``), or at a
                       fixed ``eps=...``; info: :class:`ErasureResult` (chosen eps, mean-energy curve)
``"mle_exact"``        likelihood maximisation with enumerated moments, N <= 20 (``l2``, ``max_iter``, ``tol``);
                       ``l2="cv"``: penalty chosen by cross-validation (``l2_grid``, ``cv_folds``, ``cv_rule``)
``"mle_mcmc"``         Boltzmann machine learning with persistent Metropolis chains; needs ``key``
``"pseudolikelihood"`` symmetrised pseudolikelihood, optax L-BFGS (``l2``, ``max_iter``, ``tol``); ``l2="cv"``: the
                       penalty chosen by cross-validation, info :class:`CVInfo` (the best estimate we measured)
``"mean_field"``       naive mean field ``J = -(C^-1)`` (``clip``, ``ridge``)
``"tap"``              TAP inversion (``clip``, ``ridge``)
``"independent"``      Hopfield-style ``w = <ops>_data`` (the weakest baseline)
``"independent_exact"`` independent-spin maximum likelihood ``h = atanh(m)``, ``J = 0`` (``clip``)
=====================  ===================================================================================
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ising_diffusion.checks import is_int, is_real
from ising_diffusion.spins import as_spins
from ising_diffusion.inference.closed_form import independent, independent_exact, mean_field, tap
from ising_diffusion.inference.cv import (DEFAULT_L2_GRID, CVInfo, check_cv_settings, check_l2_grid, mle_exact_cv,
                                         pseudolikelihood_cv)
from ising_diffusion.inference.erasure import DEFAULT_EPS_GRID, ErasureResult, erasure_machine, erasure_machine_auto
from ising_diffusion.inference.mle import MAX_EXACT_MLE_SPINS, mle_exact, mle_mcmc
from ising_diffusion.inference.pseudolikelihood import pseudolikelihood
from ising_diffusion.ising import IsingParams, energy
from ising_diffusion.types import PRNGKey

__all__ = ["CV_METHODS", "CV_OPTIONS", "CV_SOLVERS", "METHODS", "NEEDS_KEY", "SOLVERS", "check_options",
           "cross_validate_l2", "erasure_core", "freeze_options", "infer", "infer_batch", "resolve_solver"]


def erasure_core(spins: Float[Array, "M N"], *, eps: float | None = None, eps_grid=DEFAULT_EPS_GRID,
                 alpha: float = 0.1, n_iter: int = 150) -> tuple[IsingParams, ErasureResult]:
    """Erasure machine as an ``infer`` core: automatic eps over ``eps_grid``, or a single fit at ``eps``.

    Returns:
      ``(IsingParams, ErasureResult)``; for a fixed ``eps`` the result's grid has that one entry.
    """
    if eps is not None:
        params = erasure_machine(spins, eps, alpha=alpha, n_iter=n_iter)
        grid = jnp.asarray([eps], jnp.float32)
        mean_e = jnp.mean(energy(params, jnp.asarray(spins, jnp.float32)))[None]
        return params, ErasureResult(params, grid[0], grid, mean_e, jax.tree.map(lambda x: x[None], params))
    result = erasure_machine_auto(spins, tuple(eps_grid), alpha=alpha, n_iter=n_iter)
    return result.params, result


def _no_key(fn):
    def core(key, spins, **options):
        del key
        return fn(spins, **options)

    core.__doc__ = fn.__doc__
    core.__name__ = fn.__name__
    return core


#: name -> the solver function a method runs; its keyword arguments (after ``key`` and ``spins``) are the method's
#: options (:func:`ising_diffusion.inference.method_options` reads them from here).
SOLVERS = {
    "erasure": erasure_core,
    "mle_exact": mle_exact,
    "mle_mcmc": mle_mcmc,
    "pseudolikelihood": pseudolikelihood,
    "mean_field": mean_field,
    "tap": tap,
    "independent": independent,
    "independent_exact": independent_exact,
}
#: methods that need a PRNG key.
NEEDS_KEY = frozenset({"mle_mcmc"})
#: name -> pure core ``(key, spins, **options) -> (IsingParams, info)``; jit-able with the options static.
METHODS = {name: fn if name in NEEDS_KEY else _no_key(fn) for name, fn in SOLVERS.items()}
#: name -> the solver function run when ``l2="cv"``; its keywords are the cross-validation options.
CV_SOLVERS = {
    "pseudolikelihood": pseudolikelihood_cv,
    "mle_exact": mle_exact_cv,
}
#: name -> core used when ``l2="cv"``: ``(key, spins, l2_grid=, cv_folds=, cv_rule=, ...) -> (IsingParams, CVInfo)``.
CV_METHODS = {name: _no_key(fn) for name, fn in CV_SOLVERS.items()}
#: the options that only apply with ``l2="cv"`` (read by the cross-validation cores).
CV_OPTIONS = ("l2_grid", "cv_folds", "cv_rule")


def freeze_options(options) -> tuple[tuple[str, Any], ...]:
    """Solver options as a sorted tuple of ``(name, value)`` pairs, hashable (static jit arguments, cache keys):
    lists and arrays of numbers become tuples of floats.

    Args:
      options: a dict, or an iterable of ``(name, value)`` pairs.
    """
    items = options.items() if isinstance(options, dict) else options
    out = []
    for k, v in items:
        if isinstance(v, (np.ndarray, jax.Array, np.generic)) and np.ndim(v) == 0:
            v = np.asarray(v).item()  # a 0-d array (np.array(0.01), jnp.float32(0.01)) is a number, not a grid
        elif isinstance(v, (list, np.ndarray, jax.Array)):
            v = tuple(float(x) for x in np.asarray(v).reshape(-1))
        out.append((str(k), v))
    return tuple(sorted(out))


def _hashable(options: dict[str, Any]) -> dict[str, Any]:
    return dict(freeze_options(options))


_JITTED: dict[tuple[str, tuple[str, ...]], Any] = {}


def _jitted(method: str, option_names: tuple[str, ...], batched: bool, cv: bool = False):
    cache_key = (method, option_names, batched, cv)
    if cache_key not in _JITTED:
        core = CV_METHODS[method] if cv else METHODS[method]
        if batched and cv:
            # one data set after another: a vmapped CV path runs every data set's L-BFGS loops and early-stopped
            # penalty path in lock-step to the slowest one (measured 10x+ slower than this sequential map)
            def fn(keys, spins, **options):
                return jax.lax.map(lambda a: core(a[0], a[1], **options), (keys, spins))
        elif batched:
            def fn(keys, spins, **options):  # options stay static: only keys and spins are mapped
                return jax.vmap(partial(core, **options))(keys, spins)
        else:
            fn = core
        _JITTED[cache_key] = jax.jit(fn, static_argnames=option_names)
    return _JITTED[cache_key]


def _check_cv(method: str, n_samples: int, options: dict[str, Any]) -> bool:
    l2 = options.get("l2")
    if isinstance(l2, str):
        if l2 != "cv":
            raise ValueError(f"l2 must be a number >= 0 or the string 'cv' (cross-validated), got {l2!r}")
        if method not in CV_METHODS:
            raise ValueError(f"l2='cv' is available for methods {sorted(CV_METHODS)}, not {method!r}")
    elif any(name in options for name in CV_OPTIONS):
        given = [name for name in CV_OPTIONS if name in options]
        raise ValueError(f"{', '.join(given)} only apply with l2='cv' (got l2={l2!r})")
    if l2 != "cv":
        return False
    if options.get("weights") is not None:
        raise ValueError(f"weights are not supported with l2='cv' ({method}'s cross-validation weighs every sample "
                         "equally); give a fixed l2, or repeat samples in proportion to their weights and shuffle "
                         "the rows (sample m is held out in fold m % cv_folds: copies side by side would land in "
                         "different folds and favour weak penalties)")
    if "l2_grid" in options:
        check_l2_grid(options["l2_grid"])
    check_cv_settings(n_samples, options.get("cv_folds", 5), options.get("cv_rule", "best"))
    return True


def _cv_call_options(options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a cross-validated core from checked ``l2="cv"`` options: without ``l2`` and a
    ``weights=None`` (the default), ``l2_grid`` as a tuple (one number is a grid of one)."""
    out = {k: v for k, v in options.items() if k != "l2" and not (k == "weights" and v is None)}
    if "l2_grid" in out:
        out["l2_grid"] = check_l2_grid(out["l2_grid"])
    return out


def _check_method(method: str, n_spins: int, options: dict[str, Any]) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {sorted(METHODS)}")
    if method == "mle_exact" and n_spins > MAX_EXACT_MLE_SPINS:
        raise ValueError(f"mle_exact enumerates 2^N states; N={n_spins} exceeds N <= {MAX_EXACT_MLE_SPINS}. "
                         "Use method='mle_mcmc' or 'pseudolikelihood'.")
    if method == "erasure":
        grid = np.asarray(options.get("eps_grid", DEFAULT_EPS_GRID), np.float64).reshape(-1)
        eps = options.get("eps")
        if eps is not None and "eps_grid" in options:  # one of the two: the grid was ignored silently
            raise ValueError("give eps (one value) or eps_grid (chosen by the variance rule), not both")
        values = grid if eps is None else np.asarray([eps], np.float64)
        if values.size == 0 or not np.all((values > 0) & (values < 1)):
            raise ValueError(f"erasure machine eps must lie in (0, 1); got {values.tolist()}")
    for name in ("alpha", "learning_rate", "tol", "l2", "clip", "ridge"):  # None or a list was a TypeError
        value = options.get(name, 0.0)
        if not (name == "l2" and isinstance(value, str)) and not (is_real(value) and value >= 0):
            raise ValueError(f"{name} must be a number >= 0{' or the string cv' if name == 'l2' else ''}, got "
                             f"{value!r}")
    clip = options.get("clip")
    if clip is not None and not 0 < clip < 1:  # |m| <= 1 - clip: 0 leaves atanh(+-1) = inf, >= 1 inverts the bounds
        raise ValueError(f"clip must lie in (0, 1), got {clip!r}")
    ridge = options.get("ridge")
    if ridge is not None and ridge == 0:  # a spin that never flips or two equal spins make C singular
        raise ValueError("ridge must be > 0 (it keeps C + ridge * I invertible), got 0")
    for name in ("n_iter", "max_iter", "n_chains", "n_steps", "n_sweeps"):  # 2.5 was cut to 2
        if name in options and not is_int(options[name]):
            raise ValueError(f"{name} must be an integer >= 1, got {options[name]!r}")


def _check_weights(weights, n_samples: int) -> None:
    """``weights``: ``None`` or ``(M,)`` finite, non-negative numbers with a positive sum (values only when
    concrete)."""
    if weights is None:
        return
    shape = tuple(np.shape(weights))
    if shape != (n_samples,):
        raise ValueError(f"weights must be one number per sample, shape ({n_samples},); got shape {shape}")
    if isinstance(weights, jax.core.Tracer):
        return
    w = np.asarray(weights, np.float64)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be finite; got {int(np.sum(~np.isfinite(w)))} NaN / inf")
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be >= 0 with a positive sum; got min {w.min():g}, sum {w.sum():g}")


def check_options(method: str, options: dict[str, Any], *, n_spins: int, n_samples: int, needs_key: bool = False,
                  key: PRNGKey | None = None) -> bool:
    """Check a solver's name and options before any fit (the checks :func:`infer` makes).

    Args:
      method: a key of :data:`METHODS`.
      options: its options (``infer``'s keyword arguments; ``l2="cv"`` with :data:`CV_OPTIONS`).
      n_spins, n_samples: ``N`` and ``M`` of the data it will fit (``mle_exact`` needs small ``N``; ``cv_folds``
        at most ``M``).
      needs_key, key: with ``needs_key``, a stochastic method (:data:`NEEDS_KEY`) without a ``key`` is an error
        (a caller that always supplies its own key leaves it False).

    Returns:
      True when ``l2="cv"`` (the penalty is cross-validated: fit with :data:`CV_METHODS`).

    Raises:
      ValueError: an unknown method, a missing key, or an option out of range (the message names it).
    """
    _check_method(method, n_spins, options)
    _check_weights(options.get("weights"), n_samples)
    if needs_key and method in NEEDS_KEY and key is None:
        raise ValueError(f"method {method!r} is stochastic: pass key=jax.random.key(...)")
    return _check_cv(method, n_samples, options)


def resolve_solver(method: str, options=None, *, n_spins: int, n_samples: int) -> tuple[str, tuple]:
    """Check ``method`` and ``options`` (:func:`check_options`) and freeze the options (:func:`freeze_options`).

    Args:
      method: a key of :data:`METHODS`.
      options: a dict or ``(name, value)`` pairs (``None``: none).
      n_spins, n_samples: ``N`` and ``M`` of the data it will fit.

    Returns:
      ``(method, options)`` with ``options`` a sorted tuple of ``(name, value)`` pairs.
    """
    frozen = freeze_options({} if options is None else options)
    if check_options(method, dict(frozen), n_spins=n_spins, n_samples=n_samples):  # l2="cv": the core's own form
        frozen = freeze_options({"l2": "cv", **_cv_call_options(dict(frozen))})
    return method, frozen


def infer(spins, method: str = "erasure", *, key: PRNGKey | None = None, encoding: Literal["spins", "binary"] = "spins",
          return_info: bool = False, **options) -> IsingParams | tuple[IsingParams, Any]:
    """Infer Ising fields and couplings from observed patterns.

    Args:
      spins: ``(M, N)`` observed patterns (duplicates count as often as they occur), validated by
        :func:`ising_diffusion.spins.as_spins`.
      method: one of :data:`METHODS` (see the module docstring).
      key: PRNG key, required by ``"mle_mcmc"`` only.
      encoding: ``"spins"`` ({-1, +1}) or ``"binary"`` ({0, 1}, mapped by ``s = 2x - 1``).
      return_info: also return the method's diagnostics (``ErasureResult`` for ``"erasure"``: chosen ``eps``,
        ``mean_energy`` per grid eps and every fit; ``OptimInfo`` for the L-BFGS methods; ``McmcInfo``; ...).
      **options: the method's settings (keyword arguments of its core), e.g. ``eps_grid=(0.4, ..., 0.9)``,
        ``l2=1e-3``, ``n_chains=2000``. For ``"pseudolikelihood"`` and ``"mle_exact"``, ``l2="cv"`` chooses the
        penalty by cross-validation (:func:`cross_validate_l2`; options ``l2_grid`` (default 0 and 1e-5 .. 1),
        ``cv_folds`` (5; sample ``m`` is in fold ``m % cv_folds``), ``cv_rule`` (``"best"`` or ``"1se"``)) and
        refits on all data at the chosen value; the info is then a :class:`CVInfo`.

    Returns:
      ``IsingParams(h (N,), J (N, N))``, or ``(IsingParams, info)`` with ``return_info=True``.

    Raises:
      ValueError: bad data (from ``as_spins``), an unknown method, bad option values, or a fit that diverged
        (non-finite parameters).
    """
    spins = as_spins(spins, encoding=encoding)
    options = _hashable(options)
    cv = check_options(method, options, n_spins=spins.shape[1], n_samples=spins.shape[0], needs_key=True, key=key)
    if cv:
        options = _cv_call_options(options)
    if key is None:
        key = jax.random.key(0)  # unused by deterministic methods
    params, info = _jitted(method, tuple(sorted(options)), False, cv)(key, spins, **options)
    if cv:
        _warn_unusable(info)
    if not all(np.all(np.isfinite(np.asarray(p))) for p in params):  # a diverged fit is no answer: say so
        raise ValueError(f"{method} returned non-finite parameters (the fit diverged); for an iterative "
                                 "method lower its step size (alpha / learning_rate) or add an L2 penalty")
    return (params, info) if return_info else params


def _warn_unusable(info: CVInfo) -> None:
    """Say so when cross-validation had no usable score (every fit non-finite or saturated) for some data set."""
    usable = np.any(np.isfinite(np.asarray(info.score_mean)), axis=-1)
    if not np.all(usable):
        bad = "" if usable.ndim == 0 else f" (data sets {np.flatnonzero(~usable).tolist()})"
        warnings.warn(f"cross-validation found no penalty with a usable held-out score{bad}: every fit ran off to "
                      "infinity or predicted the held-out rows with certainty (too few distinct patterns?). Returning "
                      "the fit at the largest l2 of the grid; the parameters are poorly determined by these data.",
                      UserWarning, stacklevel=3)


def cross_validate_l2(spins, method: str = "pseudolikelihood", *, l2_grid=DEFAULT_L2_GRID, cv_folds: int = 5,
                      cv_rule: str = "best", encoding: Literal["spins", "binary"] = "spins", **options) -> CVInfo:
    """Cross-validated L2 penalty of ``"pseudolikelihood"`` or ``"mle_exact"``: the score curve and the chosen value.

    All folds and penalties are fitted in one compiled call (``ising_diffusion.inference.cv``). The same as
    ``infer(spins, method, l2="cv", ..., return_info=True)[1]``.

    Args:
      spins: ``(M, N)`` observed patterns.
      method: ``"pseudolikelihood"`` (held-out mean log-pseudolikelihood) or ``"mle_exact"`` (held-out mean
        log-likelihood, N <= 20).
      l2_grid: candidate penalties, each >= 0.
      cv_folds: folds, ``2 <= cv_folds <= M``; sample ``m`` is held out in fold ``m % cv_folds``.
      cv_rule: ``"best"`` (largest mean held-out score) or ``"1se"`` (largest l2 within one standard error of it).
      encoding: as for :func:`infer`.
      **options: the method's L-BFGS settings (``max_iter``, ``tol``).

    Returns:
      :class:`CVInfo` (``l2``, ``l2_grid``, ``score_mean``, ``score_se``, ``fold_scores``, ``fit_info``).
    """
    _, info = infer(spins, method, encoding=encoding, return_info=True, l2="cv", l2_grid=l2_grid, cv_folds=cv_folds,
                    cv_rule=cv_rule, **options)
    return info


def infer_batch(spins, method: str = "erasure", *, key: PRNGKey | None = None,
                encoding: Literal["spins", "binary"] = "spins", return_info: bool = False, validate: bool = True,
                **options) -> IsingParams | tuple[IsingParams, Any]:
    """:func:`infer` on ``B`` data sets of equal shape at once (one compiled call: vmapped over the data sets, or,
    with ``l2="cv"``, a ``lax.map`` that runs them one after another, because a vmapped cross-validation path runs
    every data set's early-stopped path and L-BFGS loops in lock-step to the slowest one).

    Args:
      spins: ``(B, M, N)`` patterns; each ``spins[b]`` is validated like :func:`infer`'s input.
      method, encoding, return_info, options: as for :func:`infer`.
      key: for ``"mle_mcmc"``: split into ``B`` keys, ``keys[b]`` used for data set ``b``.
      validate: check the data with :func:`ising_diffusion.spins.as_spins` (a host round trip) and the fits (a
        ValueError naming the data sets whose fit diverged, as :func:`infer`). ``False`` is for arrays already
        validated (e.g. the experiments' own device-resident, possibly sharded samples): they are used as they are
        (cast to float32, ``encoding`` ignored), and a diverged fit comes back as NaN; the method and its options are
        still checked.

    Returns:
      ``IsingParams`` with a leading ``(B,)`` axis (and the info with one too); ``out[b]`` equals
      ``infer(spins[b], key=jax.random.split(key, B)[b], ...)`` up to float rounding.
    """
    if jnp.ndim(spins) != 3:
        raise ValueError(f"infer_batch needs a (B, M, N) stack of data sets, got shape {jnp.shape(spins)}")
    b, m, n = jnp.shape(spins)
    if validate:
        arr = np.asarray(spins)
        flat = as_spins(arr.reshape(b * m, n), encoding=encoding) if b * m > 0 else as_spins(arr.reshape(0, n))
        batch = flat.reshape(b, m, n)
    else:  # trusted: stays where it is (device, sharding)
        batch = jnp.asarray(spins, jnp.float32)
    options = _hashable(options)
    cv = check_options(method, options, n_spins=n, n_samples=m, needs_key=True, key=key)
    if cv:
        options = _cv_call_options(options)
    keys = jax.random.split(jax.random.key(0) if key is None else key, b)
    params, info = _jitted(method, tuple(sorted(options)), True, cv)(keys, batch, **options)
    if cv:
        _warn_unusable(info)
    if validate:  # as infer; the trusted path (experiments) keeps NaN rows, which their summaries count
        finite = np.all(np.isfinite(np.asarray(params.J)).reshape(b, -1), axis=1) & np.all(
            np.isfinite(np.asarray(params.h)), axis=1)
        if not np.all(finite):
            bad = np.flatnonzero(~finite).tolist()
            raise ValueError(f"{method} returned non-finite parameters for data sets {bad} (the fit diverged); for an "
                             "iterative method lower its step size (alpha / learning_rate) or add an L2 penalty")
    return (params, info) if return_info else params
