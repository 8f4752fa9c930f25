"""Build every nested setting an experiment config carries, so that a bad value is an error before the run starts.

A config's ``augment`` dict (``AugmentConfig`` keywords) and its generator dicts (``generator_config`` of its one
``generator``; ``generator_configs`` / ``generator_options``: generator name -> that generator's config fields) are
plain dicts in the config, built into their classes only where the run needs them: without this check ``--set
augment.n_steps=-5`` wrote ``config.json`` and ran every base method (an hour at the paper scale) before the first
``augment`` call refused it.
"""

from __future__ import annotations

__all__ = ["check_nested_settings"]


def check_nested_settings(config) -> None:
    """Raise the ValueError the run would raise later for a bad nested setting of ``config`` (see the module)."""
    from ising_diffusion.experiments.synthetic import make_augment_config
    from ising_diffusion.generative import make_generator_config

    augment = getattr(config, "augment", None)
    if isinstance(augment, dict):
        make_augment_config(augment)
    single = getattr(config, "generator_config", None)
    if isinstance(single, dict) and isinstance(getattr(config, "generator", None), str):
        make_generator_config(config.generator, single)
    for field in ("generator_configs", "generator_options"):
        for name, overrides in (getattr(config, field, None) or {}).items():
            make_generator_config(name, dict(overrides))
