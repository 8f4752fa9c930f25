"""Shared type aliases (one place, as in blackjax ``types.py`` and optax ``base.py``)."""

from typing import Any

import jax
from jaxtyping import Array as _JTArray  # noqa: F401  (re-exported for jaxtyping annotations)
from jaxtyping import Bool, Float, Int  # noqa: F401

Array = jax.Array
PRNGKey = jax.Array
PyTree = Any
