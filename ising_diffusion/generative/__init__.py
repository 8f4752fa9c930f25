"""Generative models used as data augmenters; all implement :class:`ising_diffusion.generative.base.Generator`.

The registry maps a name to a config dataclass (:data:`GENERATOR_CONFIGS`) and a factory
``make_<name>(config, n_spins) -> Generator``; :func:`make_generator` builds one by name, and ``augment(...,
generator=name)`` uses it. New generators register with :func:`register_generator` (or an entry in both dicts).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from ising_diffusion.generative.base import Generator
from ising_diffusion.generative.batching import steps_per_epoch
from ising_diffusion.generative.d3pm import D3PMConfig, D3PMState, make_d3pm
from ising_diffusion.generative.d3pm_categorical import CategoricalD3PMConfig, make_d3pm_categorical
from ising_diffusion.generative.ddpm import DDPMConfig, DDPMState, make_ddpm
from ising_diffusion.generative.ddpm_onehot import OneHotDDPMConfig, make_ddpm_onehot
from ising_diffusion.generative.gan import GANConfig, make_gan
from ising_diffusion.generative.rbm import RBMConfig, make_rbm
from ising_diffusion.generative.vae import VAEConfig, make_vae

__all__ = ["Generator", "DDPMConfig", "DDPMState", "make_ddpm", "RBMConfig", "make_rbm", "VAEConfig", "make_vae",
           "GANConfig", "make_gan", "D3PMConfig", "D3PMState", "make_d3pm",
           "CategoricalD3PMConfig", "make_d3pm_categorical", "OneHotDDPMConfig", "make_ddpm_onehot",
           "Q_STATE_GENERATORS",
           "GENERATOR_CONFIGS", "GENERATOR_FACTORIES", "make_generator", "make_generator_config", "register_generator",
           "steps_per_epoch"]

#: name -> config dataclass (frozen, every field defaulted).
GENERATOR_CONFIGS: dict[str, type] = {"ddpm": DDPMConfig, "rbm": RBMConfig, "vae": VAEConfig, "gan": GANConfig,
                                     "d3pm": D3PMConfig, "d3pm_categorical": CategoricalD3PMConfig,
                                     "ddpm_onehot": OneHotDDPMConfig}
#: name -> factory ``(config, n_spins) -> Generator``; for the q-state generators ``n_spins`` is the sequence
#: length ``L`` and ``q`` is the config's ``n_states``.
GENERATOR_FACTORIES: dict[str, Callable[..., Generator]] = {"ddpm": make_ddpm, "rbm": make_rbm, "vae": make_vae,
                                                            "gan": make_gan, "d3pm": make_d3pm,
                                                            "d3pm_categorical": make_d3pm_categorical,
                                                            "ddpm_onehot": make_ddpm_onehot}
#: The generators of q-state sequences: data int ``(M, L)`` in ``[0, q)``, samples int8 ``(n, L)`` (the others take
#: and return +-1 spins).
Q_STATE_GENERATORS: frozenset[str] = frozenset({"d3pm_categorical", "ddpm_onehot"})


def register_generator(name: str, factory: Callable[..., Generator], config_cls: type) -> None:
    """Add a generator to the registry under ``name`` (replacing any earlier entry)."""
    GENERATOR_CONFIGS[name] = config_cls
    GENERATOR_FACTORIES[name] = factory


def make_generator(name: str, config=None, n_spins: int | None = None) -> Generator:
    """Build the generator registered as ``name`` for ``n_spins`` spins.

    Args:
      name: a key of :data:`GENERATOR_CONFIGS` (``"ddpm"``, and ``"rbm"``, ``"vae"``, ``"gan"`` once registered).
      config: an instance of ``GENERATOR_CONFIGS[name]`` (defaults if ``None``).
      n_spins: ``N``.

    Returns:
      :class:`Generator`.
    """
    if name not in GENERATOR_FACTORIES:
        raise ValueError(f"unknown generator {name!r}; registered: {sorted(GENERATOR_FACTORIES)}")
    if n_spins is None or int(n_spins) < 1:
        raise ValueError(f"n_spins must be a positive int, got {n_spins!r}")
    cls = GENERATOR_CONFIGS[name]
    if config is None:
        config = cls()
    elif not isinstance(config, cls):
        raise ValueError(f"generator {name!r} needs a {cls.__name__} config, got {type(config).__name__}")
    return GENERATOR_FACTORIES[name](config, int(n_spins))


def make_generator_config(name: str, overrides: dict | None = None):
    """The config of generator ``name`` with ``overrides`` applied, or ``None`` (its defaults) if there are none.

    Args:
      name: a key of :data:`GENERATOR_CONFIGS`.
      overrides: field name -> value of ``GENERATOR_CONFIGS[name]`` (e.g. ``{"learning_rate": 3e-4}``).

    Returns:
      an instance of ``GENERATOR_CONFIGS[name]``, or ``None`` when ``overrides`` is empty.

    Raises:
      ValueError: an unknown generator or a field its config does not have.
    """
    if not overrides:
        return None
    if name not in GENERATOR_CONFIGS:
        raise ValueError(f"unknown generator {name!r}; registered: {sorted(GENERATOR_CONFIGS)}")
    cls = GENERATOR_CONFIGS[name]
    try:
        return cls(**overrides)
    except TypeError as e:
        names = [f.name for f in dataclasses.fields(cls)]
        raise ValueError(f"bad {name} config override {overrides}: {e}; {cls.__name__} fields: "
                         f"{', '.join(names)}") from e
