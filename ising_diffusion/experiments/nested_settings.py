"""Build every nested setting an experiment config carries, so that a bad value is an error before the run starts.

A config's ``augment`` dict (``AugmentConfig`` keywords) and its generator dicts (``generator_config`` of its one
``generator``; ``generator_configs`` / ``generator_options``: generator name -> that generator's config fields) are
plain dicts in the config, built into their classes only where the run needs them: without this check ``--set
augment.n_steps=-5`` wrote ``config.json`` and ran every base method (an hour at the paper scale) before the first
``augment`` call refused it.

The solver options are checked here too, by the checks their fits make: the ``msa`` experiment's ``dca`` options
(``method_options``, ``ceiling_options``: :func:`ising_diffusion.dca.check_dca_options`) and its ``augment:`` methods'
settings, the map's ``solver_options`` (Ising pseudolikelihood: the options ``infer`` takes and
:func:`ising_diffusion.inference.check_options`; planted Potts rows: ``augment``'s Potts solver). ``--set
method_options.plm.max_iter=-5`` used to fail after the hours-long ceiling fit.
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
    _check_solver_settings(config)


def _check_solver_settings(config) -> None:
    from ising_diffusion.experiments.configs.map import MapConfig, PottsMapConfig
    from ising_diffusion.experiments.configs.msa import BASE_METHODS, SPLIT_METHODS, MSAConfig

    name = type(config).__name__
    if isinstance(config, MSAConfig):
        from ising_diffusion.dca import check_dca_options
        from ising_diffusion.experiments.msa import check_augment_methods

        # every fit holds at least min(depths) sequences; the full alignment's at least max(depths) (load_families)
        fits = [(f"method_options.{m}", config.dca_options(m), min(config.depths))
                for m in BASE_METHODS if m not in SPLIT_METHODS]
        fits.append(("ceiling_options", config.ceiling_dca_options(), max(config.depths)))
        for field, options, n_seqs in fits:
            options = dict(options)
            try:
                check_dca_options(options.pop("method"), options, n_seqs)
            except ValueError as e:
                raise ValueError(f"{name}.{field}: {e}") from None
        check_augment_methods(config)
    elif isinstance(config, PottsMapConfig):
        from ising_diffusion.augment.potts_solver import resolve_potts_solver

        try:
            resolve_potts_solver(None, config.solver_options, n_train=min(p[-1] for p in config.points()))
        except ValueError as e:
            raise ValueError(f"{name}.solver_options: {e}") from None
    elif isinstance(config, MapConfig):
        from ising_diffusion.inference import check_options, method_options

        options, known = config.solver_options, method_options("pseudolikelihood")
        unknown = sorted(set(options) - set(known))
        try:
            if unknown:
                raise ValueError(f"pseudolikelihood has no option(s) {unknown}; its options are {sorted(known)}")
            for _, n_spins, _, m in config.points():  # the training-only fit of each point: M samples
                check_options("pseudolikelihood", options, n_spins=n_spins, n_samples=m)
        except ValueError as e:
            raise ValueError(f"{name}.solver_options: {e}") from None
