"""Every experiment config (each preset) names a bad value of each scalar field before any run."""
import dataclasses
import re

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


@pytest.mark.parametrize("argv, match", [
    (["run", "fig3", "--set", "seed=4294967296"], r"Fig3Config\.seed must be at most 2\*\*32 - 1"),
    (["run", "fig3", "--set", "g_values=abc"], r"Fig3Config\.g_values must be a non-empty tuple"),
    (["run", "fig3", "--set", "g_values=(nan,)"], r"Fig3Config\.g_values must be"),
    (["run", "fig3", "--set", "g_values=(-1.0,)"], r"Fig3Config\.g_values must be"),
    (["run", "fig3", "--set", "g_values=()"], r"Fig3Config\.g_values must be a non-empty tuple"),
    (["run", "fig3", "--set", "g_values=(1.0,1)"], r"Fig3Config\.g_values repeats \[1\.0\]"),
    (["run", "fig3", "--set", "n_spins=1"], r"Fig3Config\.n_spins must be an integer >= 2"),
    (["run", "fig3", "--set", "n_test=1"], r"Fig3Config\.n_test must be an integer >= 2"),
    (["run", "fig3", "--set", "sampler=3"], r"Fig3Config\.sampler must be a SamplerConfig"),
    (["run", "fig3", "--set", "sampler={'burn_in': 5, 'bogus': 1}"], r"Fig3Config\.sampler: .*bogus"),
    (["run", "fig3", "--set", "augment=5"], r"Fig3Config\.augment must be a dict"),
    (["run", "fig2", "--set", "g=inf"], r"Fig2Config\.g must be a finite number"),
    (["run", "fig4", "--set", "g=0"], r"Fig4Config\.g must be a finite number > 0"),
    (["run", "fig4", "--set", "test_fraction=-1"], r"Fig4Config\.test_fraction must be a number in \(0, 1\)"),
    (["run", "fig4", "--set", "aug_counts=(-1.0,)"], r"Fig4Config\.aug_counts must be"),
    (["run", "fig4", "--set", "sizes=()", "--set", "aug_counts=(1.0,1.0)"], r"Fig4Config\.aug_counts repeats"),
    (["run", "fig4", "--set", "aug_counts=(1.0,1.001)"], r"Fig4Config\.aug_counts .* a count repeats after rounding"),
    (["run", "fig4", "--set", "sizes=((20, (100, 100)),)"], r"Fig4Config\.sizes repeats \[100\]"),
    (["run", "fig4", "--set", "sizes=()", "--set", "aug_n_train=()"], r"Fig4Config: sizes and aug_n_train"),
    (["run", "fig5", "--set", "n_train_values=(1000, 1000)"], r"Fig5Config\.n_train_values repeats"),
    (["run", "fig5", "--set", "generators=ddpm,ddpm"], r"Fig5Config\.generators must not repeat"),
    (["run", "fig6", "--set", "ddpm=3"], r"Fig6Config\.ddpm must be a DDPMConfig"),
    (["run", "map", "--set", "g_values=(1.0, nan)"], r"MapConfig\.g_values must be"),
    (["run", "map", "--set", "solver_options.foo=1"], r"MapConfig\.solver_options: pseudolikelihood has no .*foo"),
    (["run", "map", "--set", "solver_options.cv_folds=1000"], r"MapConfig\.solver_options: cv_folds must be"),
    (["run", "map", "--preset", "potts_tiny", "--set", "solver_options.foo=1"], r"PottsMapConfig\.solver_options"),
    (["run", "msa", "--set", "method_options.plm.foo=1"], r"MSAConfig\.method_options\.plm: unknown option.*foo"),
    (["run", "msa", "--set", "ceiling_options.max_iter=abc"], r"MSAConfig\.ceiling_options: max_iter must be"),
    (["run", "msa", "--set", "method_options.plm.max_iter=-5"], r"MSAConfig\.method_options\.plm: max_iter must"),
    (["run", "msa", "--set", "method_options.mf.pseudocount=1.5"], r"MSAConfig\.method_options\.mf: pseudocount"),
    (["run", "msa", "--set", "method_options.plm_cv.lambda_grid=abc"], r"method_options\.plm_cv: lambda_grid"),
])
def test_a_bad_setting_is_a_usage_error_before_the_run_folder_is_written(argv, match, tmp_path, capsys):
    """Each class of bad value the review found passed the checks, was written to config.json and crashed the run
    (after the hours-long ceiling fit for msa); the folder then refused the corrected config as a different one."""
    from ising_diffusion.cli import main

    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        main(argv + ["--out", str(out)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and re.search(match, err), err
    assert not (out / "config.json").exists()


def test_sweep_values_are_normalised_and_dict_settings_are_built():
    """g_values from a config file as ints become floats (the sweep ids and every lookup by them agree); a sampler
    given as a dict of its fields is built into a SamplerConfig."""
    from ising_diffusion.experiments.configs.fig4 import Fig4Config
    from ising_diffusion.experiments.configs.main import MainConfig

    cfg = MainConfig(g_values=(1, 2.5), sampler={"burn_in": 7})
    assert cfg.g_values == (1.0, 2.5) and all(type(g) is float for g in cfg.g_values)
    assert cfg.sampler == SamplerConfig(burn_in=7)
    fig4 = Fig4Config(sizes=[(8.0, [32, 64.0])], aug_n_train=((8, 32),), aug_counts=(1, 2))
    assert fig4.sizes == ((8, (32, 64)),) and fig4.aug_counts == (1.0, 2.0) and fig4.counts(32) == [32, 64]
    assert Fig4Config(aug_counts=(1.0, 1.01)).counts(400) == [400, 404]  # apart at M = 400 (the default's)
