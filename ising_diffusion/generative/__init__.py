"""Generative models used as data augmenters; all implement :class:`ising_diffusion.generative.base.Generator`."""

from ising_diffusion.generative.base import Generator

__all__ = ["Generator"]
