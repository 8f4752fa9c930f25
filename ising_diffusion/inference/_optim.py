"""L-BFGS (optax) driven to a gradient tolerance inside one ``lax.while_loop`` (jit- and vmap-safe); the loop alone
(:func:`lbfgs_loop`) for callers that resume from a saved optimiser state."""

from __future__ import annotations

from typing import NamedTuple

import jax
import optax
import optax.tree_utils as otu


class OptimInfo(NamedTuple):
    """Diagnostics of an optimiser-based fit.

    Attributes:
      n_iter: L-BFGS iterations taken.
      loss: final objective value.
      grad_norm: final gradient norm (the stopping criterion is ``grad_norm < tol`` or ``n_iter == max_iter``).
    """

    n_iter: jax.Array
    loss: jax.Array
    grad_norm: jax.Array


def lbfgs_minimize(fun, x0, *, max_iter: int, tol: float, memory_size: int = 10, rtol: float = 0.0,
                   grad_norm=otu.tree_norm):
    """Minimise ``fun`` from ``x0`` with ``optax.lbfgs``.

    ``max_iter`` may be a traced integer; ``max_iter = 0`` returns ``x0`` untouched (so a batched caller can switch
    single fits off without a ``lax.cond``, which ``vmap`` turns into running both branches).

    ``rtol`` relaxes the line search's sufficient-decrease test by ``rtol * |f|`` so objectives whose float32 value
    is only known to ~1e-7 relative (an enumerated ``log Z``) keep making progress near the optimum.

    ``grad_norm`` maps a gradient of ``fun`` to the norm the stopping rule (``< tol``) and ``OptimInfo`` use: a caller
    that minimises in transformed coordinates passes the norm of the gradient in its original ones.

    Returns:
      ``(x, OptimInfo)``.
    """
    if rtol > 0:
        linesearch = optax.scale_by_backtracking_linesearch(max_backtracking_steps=20, store_grad=True, rtol=rtol)
    else:
        linesearch = optax.scale_by_zoom_linesearch(max_linesearch_steps=20)
    opt = optax.lbfgs(memory_size=memory_size, linesearch=linesearch)

    def keep_going(state):
        count = otu.tree_get(state, "count")
        err = grad_norm(otu.tree_get(state, "grad"))
        # ``max_iter`` may be traced: 0 skips the fit (the start is returned), also per element under ``vmap``
        return (max_iter > 0) & ((count == 0) | ((count < max_iter) & (err >= tol)))

    x, state = lbfgs_loop(fun, opt, x0, opt.init(x0), keep_going)
    return x, OptimInfo(otu.tree_get(state, "count"), otu.tree_get(state, "value"),
                        grad_norm(otu.tree_get(state, "grad")))


def lbfgs_loop(fun, opt, x, state, keep_going):
    """optax L-BFGS (``opt``, an ``optax.lbfgs``) iterations on ``fun`` from ``(x, state)`` while
    ``keep_going(state)``, in one ``lax.while_loop``; returns ``(x, state)`` (a caller may resume from them)."""
    value_and_grad = optax.value_and_grad_from_state(fun)

    def step(carry):
        x, state = carry
        value, grad = value_and_grad(x, state=state)
        updates, state = opt.update(grad, state, x, value=value, grad=grad, value_fn=fun)
        return optax.apply_updates(x, updates), state

    return jax.lax.while_loop(lambda carry: keep_going(carry[1]), step, (x, state))
