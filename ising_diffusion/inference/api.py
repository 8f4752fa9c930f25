"""One entry point for every inverse Ising solver: ``infer(spins, method=..., **options)``.

``infer`` validates the data with :func:`ising_diffusion.data.as_spins` (outside any trace) and then calls the
method's pure core under ``jax.jit`` with the options as static arguments. The cores (:data:`METHODS`) take
``(key, spins, **options)``, return ``(IsingParams, info)`` and are safe under ``jit`` and ``vmap``;
:func:`infer_batch` vmaps one over a stack of data sets of equal shape (seeds, bootstrap replicates) in one compiled
call.

Methods (``docs/inference.md`` says which to use when):

=====================  ===================================================================================
``"erasure"``          erasure machine, eps chosen on a grid (``eps_grid``, ``alpha``, ``n_iter``), or at a
                       fixed ``eps=...``; info: :class:`ErasureResult` (chosen eps, mean-energy curve)
``"mle_exact"``        likelihood maximisation with enumerated moments, N <= 20 (``l2``, ``max_iter``, ``tol``)
``"mle_mcmc"``         Boltzmann machine learning with persistent Metropolis chains; needs ``key``
``"pseudolikelihood"`` symmetrised pseudolikelihood, optax L-BFGS (``l2``, ``max_iter``, ``tol``)
``"mean_field"``       naive mean field ``J = -(C^-1)`` (``clip``, ``ridge``)
``"tap"``              TAP inversion (``clip``, ``ridge``)
``"independent"``      Hopfield-style ``w = <ops>_data`` (the weakest baseline)
``"independent_exact"`` independent-spin maximum likelihood ``h = atanh(m)``, ``J = 0`` (``clip``)
=====================  ===================================================================================
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ising_diffusion.data import as_spins
from ising_diffusion.inference.closed_form import independent, independent_exact, mean_field, tap
from ising_diffusion.inference.erasure import DEFAULT_EPS_GRID, ErasureResult, erasure_machine, erasure_machine_auto
from ising_diffusion.inference.mle import MAX_EXACT_MLE_SPINS, mle_exact, mle_mcmc
from ising_diffusion.inference.pseudolikelihood import pseudolikelihood
from ising_diffusion.ising import IsingParams, energy
from ising_diffusion.types import PRNGKey

__all__ = ["METHODS", "infer", "infer_batch", "erasure_core"]


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


#: name -> pure core ``(key, spins, **options) -> (IsingParams, info)``; jit-able with the options static.
METHODS = {
    "erasure": _no_key(erasure_core),
    "mle_exact": _no_key(mle_exact),
    "mle_mcmc": mle_mcmc,
    "pseudolikelihood": _no_key(pseudolikelihood),
    "mean_field": _no_key(mean_field),
    "tap": _no_key(tap),
    "independent": _no_key(independent),
    "independent_exact": _no_key(independent_exact),
}
_NEEDS_KEY = {"mle_mcmc"}


def _hashable(options: dict[str, Any]) -> dict[str, Any]:
    """Options become static jit arguments: lists and arrays of numbers become tuples."""
    out = {}
    for k, v in options.items():
        if isinstance(v, (list, np.ndarray, jax.Array)):
            v = tuple(float(x) for x in np.asarray(v).reshape(-1))
        out[k] = v
    return out


_JITTED: dict[tuple[str, tuple[str, ...]], Any] = {}


def _jitted(method: str, option_names: tuple[str, ...], batched: bool):
    cache_key = (method, option_names, batched)
    if cache_key not in _JITTED:
        core = METHODS[method]
        if batched:
            def fn(keys, spins, **options):  # options stay static: only keys and spins are mapped
                return jax.vmap(partial(core, **options))(keys, spins)
        else:
            fn = core
        _JITTED[cache_key] = jax.jit(fn, static_argnames=option_names)
    return _JITTED[cache_key]


def _check(method: str, key, n_spins: int, options: dict[str, Any]):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {sorted(METHODS)}")
    if method in _NEEDS_KEY and key is None:
        raise ValueError(f"method {method!r} is stochastic: pass key=jax.random.key(...)")
    if method == "mle_exact" and n_spins > MAX_EXACT_MLE_SPINS:
        raise ValueError(f"mle_exact enumerates 2^N states; N={n_spins} exceeds N <= {MAX_EXACT_MLE_SPINS}. "
                         "Use method='mle_mcmc' or 'pseudolikelihood'.")
    if method == "erasure":
        grid = np.asarray(options.get("eps_grid", DEFAULT_EPS_GRID), np.float64).reshape(-1)
        eps = options.get("eps")
        values = grid if eps is None else np.asarray([eps], np.float64)
        if values.size == 0 or not np.all((values > 0) & (values < 1)):
            raise ValueError(f"erasure machine eps must lie in (0, 1); got {values.tolist()}")
    for name in ("alpha", "learning_rate", "tol", "l2", "clip", "ridge"):
        if name in options and not float(options[name]) >= 0:
            raise ValueError(f"{name} must be >= 0, got {options[name]}")
    for name in ("n_iter", "max_iter", "n_chains", "n_steps", "n_sweeps"):
        if name in options and int(options[name]) < 1:
            raise ValueError(f"{name} must be >= 1, got {options[name]}")


def infer(spins, method: str = "erasure", *, key: PRNGKey | None = None, encoding: Literal["spins", "binary"] = "spins",
          return_info: bool = False, **options) -> IsingParams | tuple[IsingParams, Any]:
    """Infer Ising fields and couplings from observed patterns.

    Args:
      spins: ``(M, N)`` observed patterns (duplicates count as often as they occur), validated by
        :func:`ising_diffusion.data.as_spins`.
      method: one of :data:`METHODS` (see the module docstring).
      key: PRNG key, required by ``"mle_mcmc"`` only.
      encoding: ``"spins"`` ({-1, +1}) or ``"binary"`` ({0, 1}, mapped by ``s = 2x - 1``).
      return_info: also return the method's diagnostics (``ErasureResult`` for ``"erasure"``: chosen ``eps``,
        ``mean_energy`` per grid eps and every fit; ``OptimInfo`` for the L-BFGS methods; ``McmcInfo``; ...).
      **options: the method's settings (keyword arguments of its core), e.g. ``eps_grid=(0.4, ..., 0.9)``,
        ``l2=1e-3``, ``n_chains=2000``.

    Returns:
      ``IsingParams(h (N,), J (N, N))``, or ``(IsingParams, info)`` with ``return_info=True``.

    Raises:
      ValueError: bad data (from ``as_spins``), an unknown method, or bad option values.
    """
    spins = as_spins(spins, encoding=encoding)
    options = _hashable(options)
    _check(method, key, spins.shape[1], options)
    if key is None:
        key = jax.random.key(0)  # unused by deterministic methods
    params, info = _jitted(method, tuple(sorted(options)), False)(key, spins, **options)
    return (params, info) if return_info else params


def infer_batch(spins, method: str = "erasure", *, key: PRNGKey | None = None,
                encoding: Literal["spins", "binary"] = "spins", return_info: bool = False, validate: bool = True,
                **options) -> IsingParams | tuple[IsingParams, Any]:
    """:func:`infer` on ``B`` data sets of equal shape at once (one vmapped, compiled call).

    Args:
      spins: ``(B, M, N)`` patterns; each ``spins[b]`` is validated like :func:`infer`'s input.
      method, encoding, return_info, options: as for :func:`infer`.
      key: for ``"mle_mcmc"``: split into ``B`` keys, ``keys[b]`` used for data set ``b``.
      validate: check the data with :func:`ising_diffusion.data.as_spins` (a host round trip). ``False`` is for
        arrays already validated (e.g. the experiments' own device-resident, possibly sharded samples): they are
        used as they are (cast to float32, ``encoding`` ignored); the method and its options are still checked.

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
    _check(method, key, n, options)
    keys = jax.random.split(jax.random.key(0) if key is None else key, b)
    params, info = _jitted(method, tuple(sorted(options)), True)(keys, batch, **options)
    return (params, info) if return_info else params
