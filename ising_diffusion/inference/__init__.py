"""Inverse Ising solvers."""

from ising_diffusion.inference.erasure import (
    DEFAULT_EPS_GRID,
    ErasureResult,
    erasure_machine,
    erasure_machine_auto,
)

__all__ = ["DEFAULT_EPS_GRID", "ErasureResult", "erasure_machine", "erasure_machine_auto"]
