"""Every experiment config (each preset) names a bad value of each scalar field before any run."""
import dataclasses

import pytest

from ising_diffusion.experiments.synthetic import SamplerConfig


def _preset_configs():
    from ising_diffusion.experiments.registry import EXPERIMENTS, experiment_module

    for name in EXPERIMENTS:
        module = experiment_module(name)
        for preset in module.PRESETS:
            yield f"{name}:{preset}", module.get_config(preset)


@pytest.mark.parametrize("label,cfg", list(_preset_configs()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_scalar_field_of_every_experiment_config_names_a_bad_value(label, cfg):
    """``--set n_seeds=2.5``, ``seed=abc``, ``n_train=0``, NaN, None: a ValueError naming ``<Config>.<field>`` before
    any run (they reached ``range`` or ``jax.random.key`` inside a run); integral floats become ints."""
    cls = type(cfg).__name__
    checked = 0
    for f in dataclasses.fields(cfg):
        ann = str(f.type)
        kind = ann.split("|")[0].strip()
        if kind not in ("int", "float", "bool") or len({k.strip() for k in ann.split("|")} - {"None"}) != 1:
            continue
        bad = {"int": ["3", 2.5, float("nan"), True], "float": ["0.1", float("nan"), float("inf")],
               "bool": ["yes", 1]}[kind] + ([] if "None" in ann else [None])
        if kind == "int" and (f.name.startswith("n_") or f.name == "seed_batch"):
            bad.append(0)
        if f.name == "seed":  # jax.random.key keeps the low 32 bits: 2**32 gave seed 0's numbers
            bad.append(2**32)
            assert dataclasses.replace(cfg, seed=2**32 - 1).seed == 2**32 - 1
        for value in bad:
            with pytest.raises(ValueError, match=rf"{cls}\.{f.name}\b"):
                dataclasses.replace(cfg, **{f.name: value})
        checked += 1
        if kind == "int" and getattr(cfg, f.name) is not None:
            again = dataclasses.replace(cfg, **{f.name: float(getattr(cfg, f.name))})
            assert type(getattr(again, f.name)) is int and getattr(again, f.name) == getattr(cfg, f.name)
    assert checked >= 3, label


def test_sampler_config_names_each_bad_field():
    """Its counts by the shared rule (n_chains >= 1, burn_in >= 0) and thin >= 1 by its own check, each named."""
    for field, bad in (("n_chains", 0), ("burn_in", -1), ("thin", 0), ("thin", 2.5), ("exact_max_spins", "20")):
        with pytest.raises(ValueError, match=rf"SamplerConfig\.{field}\b"):
            SamplerConfig(**{field: bad})
    assert SamplerConfig(thin=2.0).thin == 2 and type(SamplerConfig(thin=2.0).thin) is int

