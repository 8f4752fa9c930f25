"""augment / augment_seeds at tiny scale: outputs, validation, checkpoint resume equality (with EMA), crash-safe
checkpoints, the held-out score rule on a planted useless generator, the kernel under jit and vmap, solver choice."""

import dataclasses
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion import AugmentConfig, DDPMConfig, augment, augment_seeds, exact_sample, sk_params
from ising_diffusion.augment import (
    DEFAULT_SOLVER,
    DEFAULT_SOLVER_OPTIONS,
    AugmentationNotRecommendedWarning,
    Budget,
    Selection,
    SolverSpec,
    build_kernel,
    load_checkpointed_state,
)
from ising_diffusion.checkpoint import Checkpointer
from ising_diffusion.generative import make_generator
from ising_diffusion.inference import DEFAULT_L2_GRID
from ising_diffusion.inference.erasure import erasure_machine_auto
from ising_diffusion.monitor import NoCrossingWarning

N = 6
GCFG = DDPMConfig(widths=(16, 32), time_embed_dim=8, n_timesteps=100, ddim_steps=5, batch_size=32,
                  learning_rate=1e-3, ema_decay=0.9)
# an epoch budget (6 epochs of ceil(60 / 32) = 2 steps, a point every 2 epochs); 60 monitor samples = 1x the
# training size, so the score's mix fit at ratio 1 is also the monitor's combined fit. Most tests use the closed-form
# mean-field solver (compiles in a blink); the score-rule test uses the default pseudolikelihood.
# guard="none": these tests check the score rule's own recommendation (the default guard is tested in
# test_augment_guard.py)
CFG = AugmentConfig(n_epochs=6, monitor_every=2, n_monitor_samples=60, n_bootstrap=50, erasure_n_iter=40,
                    eps_grid=(0.5, 0.7), mix_grid=(0, 1), guard="none")
KW = dict(config=CFG, generator_config=GCFG, n_augmented=100, progress=False, solver="mean_field")


@pytest.fixture(scope="module")
def data():
    truth = sk_params(jax.random.key(0), N, 1.0)
    x = exact_sample(jax.random.key(1), truth, 80)
    return truth, x[:60], x[60:]


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrossingWarning)
        warnings.simplefilter("ignore", AugmentationNotRecommendedWarning)
        return fn(*a, **kw)


@pytest.fixture(scope="module")
def single(data):
    truth, train, test = data
    return _quiet(augment, jax.random.key(2), train, test, true_params=truth, **KW)


def test_augment_smoke(data, single):
    truth, train, test = data
    r = single
    assert r.samples.shape == (100, N)
    assert set(np.unique(np.asarray(r.samples))) <= {-1.0, 1.0}
    c = r.curve
    np.testing.assert_array_equal(c.epochs, [2, 4, 6])
    np.testing.assert_array_equal(c.steps, [4, 8, 12])  # 2 steps per epoch
    for name in ("generated_variance", "loss", "mse", "mse_combined", "smoothed_variance"):
        assert getattr(c, name).shape == (3,), name
    assert np.all(np.isfinite(c.mse)) and np.all(c.generated_variance > 0)
    assert c.test_variance_low <= c.test_variance <= c.test_variance_high
    # the default rule is the held-out score: the chosen point is the best r > 0 entry of the score curve
    assert c.score.shape == (3, 2) and np.all(np.isfinite(c.score))
    np.testing.assert_array_equal(c.mix_sizes, [0, 60])
    assert np.all(c.score[:, 0] == r.score["train"])
    i = int(np.argmax(c.score[:, 1]))
    assert r.stop_epoch == c.epochs[i] and r.stop_step == c.steps[i] and r.score["selected"] == c.score[i, 1]
    assert r.recommended == bool(r.score["selected"] > r.score["train"])
    assert r.selected == ("combined" if r.recommended else "train") and isinstance(r.reason, str) and r.reason
    assert r.solver == "mean_field" and np.isnan(r.solver_l2)
    assert r.stop_epoch_paper in (2, 4, 6) and r.best_epoch == c.epochs[np.argmin(c.mse)]
    assert set(r.mse) == {"train", "augmented", "combined", "selected"} and all(v > 0 for v in r.mse.values())
    assert r.params_train.J.shape == r.params_augmented.J.shape == r.params_combined.J.shape == (N, N)
    assert r.params_selected.J.shape == (N, N)
    # each fit is the solver on its own data, and each MSE that fit's against the truth (a swap, or a combined fit of
    # the monitor samples instead of the returned ones, would show here)
    from ising_diffusion import infer
    from ising_diffusion.ising import parameter_mse

    gen = np.asarray(r.samples)
    for name, seen in (("train", train), ("augmented", gen), ("combined", np.concatenate([np.asarray(train), gen]))):
        want = infer(np.asarray(seen), "mean_field")
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=2e-4), getattr(r, f"params_{name}"), want)
        assert r.mse[name] == pytest.approx(float(parameter_mse(truth, getattr(r, f"params_{name}"))), rel=1e-5)
    assert r.timing["total"] > 0
    # without the truth: NaN curve, no best epoch, no mse; the same run otherwise
    r2 = _quiet(augment, jax.random.key(2), train, test, **KW)
    assert r2.mse is None and r2.best_epoch == -1 and np.all(np.isnan(r2.curve.mse))
    np.testing.assert_array_equal(r2.curve.generated_variance, c.generated_variance)
    np.testing.assert_array_equal(r2.curve.score, c.score)


def test_augment_validation(data):
    truth, train, test = data
    with pytest.raises(ValueError, match="encoding='binary'"):
        augment(jax.random.key(0), (np.asarray(train) + 1) / 2, test, **KW)
    with pytest.raises(ValueError, match="spins per sample"):
        augment(jax.random.key(0), train, test[:, :4], **KW)
    with pytest.raises(ValueError, match="unknown generator"):
        augment(jax.random.key(0), train, test, generator="flow", **KW)
    with pytest.raises(ValueError, match="needs true_params"):
        augment(jax.random.key(0), train, test, config=AugmentConfig(stopping="best"), progress=False)
    with pytest.raises(ValueError, match="stopping"):
        AugmentConfig(stopping="earliest")
    with pytest.raises(ValueError, match="monitor_every"):
        AugmentConfig(n_epochs=5, monitor_every=10)
    with pytest.raises(ValueError, match="not both"):
        AugmentConfig(n_epochs=5, n_steps=100)
    with pytest.raises(ValueError, match="monitor_steps"):
        AugmentConfig(n_steps=100, monitor_steps=200)
    with pytest.raises(ValueError, match="mix_grid"):
        AugmentConfig(mix_grid=(1, 2))
    with pytest.raises(ValueError, match="unknown solver"):
        augment(jax.random.key(0), train, test, **(KW | {"solver": "magic"}))
    with pytest.raises(ValueError, match="l2"):
        augment(jax.random.key(0), train, test, **(KW | {"solver": "pseudolikelihood",
                                                         "solver_options": {"l2": -1.0}}))
    with pytest.raises(ValueError, match="n_augmented"):
        augment(jax.random.key(0), train, test, **(KW | {"n_augmented": 0}))
    with pytest.raises(ValueError, match="true_params shapes"):
        augment(jax.random.key(0), train, test, true_params=sk_params(jax.random.key(0), N + 1), **KW)
    with pytest.raises(ValueError, match="seed axis"):
        augment_seeds(jax.random.split(jax.random.key(0), 3), jnp.stack([train] * 2), jnp.stack([test] * 2), **KW)


def test_budget_in_steps_and_epochs():
    """Epoch fields are epochs (steps_per_epoch = ceil(M / batch)); otherwise the budget is in steps."""
    assert AugmentConfig().schedule(4) == (200, 20)
    assert AugmentConfig(n_epochs=10, monitor_every=5).schedule(4) == (20, 2)
    assert AugmentConfig(n_epochs=200).schedule(3) == (60, 10)  # monitor_every defaults to min(20, n_epochs)
    assert AugmentConfig(n_steps=1000, monitor_steps=250).schedule(4) == (250, 4)
    p = AugmentConfig.paper()
    assert (p.budget_unit, p.stopping, p.solver) == ("steps", "paper", "erasure")
    # one source: the library's paper procedure is the experiments' paper preset
    from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT
    assert p == AugmentConfig(**PAPER_AUGMENT)
    assert AugmentConfig.paper(n_epochs=10, monitor_every=5).schedule(4) == (20, 2)


def test_augment_seeds_matches_single_runs(data, single):
    truth, train, test = data
    keys = jnp.stack([jax.random.key(5), jax.random.key(2)])
    trains = jnp.stack([-train, train])
    tests = jnp.stack([-test, test])
    truths = jax.tree.map(lambda a: jnp.stack([a, a]), truth)
    r = _quiet(augment_seeds, keys, trains, tests, true_params=truths, **KW)
    assert r.samples.shape == (2, 100, N)
    assert r.curve.generated_variance.shape == (2, 3) and r.curve.epochs.shape == (2, 3)
    assert r.stop_epoch.shape == (2,) and r.mse["combined"].shape == (2,)
    # mean-field has no penalty: NaN for each seed's fits, a host float after unbatching
    assert r.solver_l2_combined.shape == (2,) and np.isnan(r.solver_l2_combined).all()
    assert type(single.solver_l2_combined) is float and np.isnan(single.solver_l2_combined)
    assert r.selected.shape == r.recommended.shape == r.reason.shape == (2,) and r.recommended.dtype == bool
    one = single  # the same key and data as seed 1
    np.testing.assert_allclose(r.curve.generated_variance[1], one.curve.generated_variance, rtol=1e-3)
    np.testing.assert_allclose(r.curve.score[1], one.curve.score, rtol=1e-4)
    assert r.stop_epoch[1] == one.stop_epoch and r.selected[1] == one.selected


class _Killed(Exception):
    pass


def test_resume_after_kill_equals_uninterrupted_run(data, tmp_path):
    truth, train, test = data

    def kill_at_4(epoch, record):
        if epoch == 4:
            raise _Killed

    with pytest.raises(_Killed):
        _quiet(augment, jax.random.key(3), train, test, true_params=truth, checkpoint_dir=tmp_path / "a",
               callback=kill_at_4, **KW)
    assert Checkpointer(tmp_path / "a").steps() == [4, 8]  # keyed by optimiser step (2 per epoch)
    # a crash in the middle of a later save leaves a temporary directory: it must never be loaded
    os.makedirs(tmp_path / "a" / "12.orbax-checkpoint-tmp-1700000000")
    (tmp_path / "a" / "12.orbax-checkpoint-tmp-1700000000" / "junk").write_text("half written")
    seen = []
    resumed = _quiet(augment, jax.random.key(3), train, test, true_params=truth, checkpoint_dir=tmp_path / "a",
                     callback=lambda e, r: seen.append(e), **KW)
    assert seen == [6]  # only the missing monitor point was trained
    full = _quiet(augment, jax.random.key(3), train, test, true_params=truth, checkpoint_dir=tmp_path / "b", **KW)
    assert Checkpointer(tmp_path / "a").steps() == Checkpointer(tmp_path / "b").steps() == [4, 8, 12]
    # bit-identical generator state (raw and EMA weights, optimiser state) at the last point
    sa, sb = (load_checkpointed_state(tmp_path / d, 6, n_spins=N, generator_config=GCFG) for d in "ab")
    jax.tree.map(np.testing.assert_array_equal, sa, sb)
    assert any(not np.array_equal(u, v) for u, v in zip(jax.tree.leaves(sa.params), jax.tree.leaves(sa.ema_params)))
    np.testing.assert_array_equal(resumed.samples, full.samples)
    np.testing.assert_array_equal(resumed.curve.generated_variance, full.curve.generated_variance)
    np.testing.assert_array_equal(resumed.curve.score, full.curve.score)
    jax.tree.map(np.testing.assert_array_equal, resumed.params_selected, full.params_selected)
    # the same directory with other data, keys or truth is refused (all of the truth is hashed, J included)
    with pytest.raises(ValueError, match="different data"):
        augment(jax.random.key(4), train, test, checkpoint_dir=tmp_path / "a", **KW)
    other_j = truth._replace(J=truth.J * 1.01)
    with pytest.raises(ValueError, match="different data"):
        augment(jax.random.key(3), train, test, true_params=other_j, checkpoint_dir=tmp_path / "a", **KW)


def test_checkpoints_that_will_not_fit_stop_after_the_first_save_with_the_sizes(data, tmp_path, monkeypatch):
    """A full disk stopped an msa slice mid-call with a flood of orbax errors; now the first save measures itself and
    a clear ENOSPC names what is needed and what is free (here: a planted 1 kB free)."""
    import errno
    import shutil
    from types import SimpleNamespace

    truth, train, test = data
    monkeypatch.setattr(shutil, "disk_usage", lambda path: SimpleNamespace(total=10**9, used=10**9 - 1000, free=1000))
    seen = []
    with pytest.raises(OSError, match=r"need about .* GB more \(2 monitor points of .* MB\) and the disk has "
                                      r"0.00 GB free") as err:
        _quiet(augment, jax.random.key(3), train, test, checkpoint_dir=tmp_path / "a",
               callback=lambda e, r: seen.append(e), **KW)
    assert err.value.errno == errno.ENOSPC and Checkpointer(tmp_path / "a").steps() == [4] and seen == []


@pytest.mark.slow  # 40-100 s on 2 cores; the default suite must stay well under 15 minutes
def test_score_rule_rejects_a_useless_generator():
    """Planted: two optimiser steps leave the DDPM a noise source; with enough training data for a good fit, adding as
    many of its samples can only hurt the held-out score of the default solver, so the result recommends the
    training data alone, says so, and warns."""
    truth = sk_params(jax.random.key(10), N, 1.0)
    x = exact_sample(jax.random.key(11), truth, 600)
    train, test = x[:400], x[400:]
    cfg = AugmentConfig(n_steps=2, monitor_steps=1, n_monitor_samples=400, n_bootstrap=50, mix_grid=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrossingWarning)
        with pytest.warns(AugmentationNotRecommendedWarning):
            r = augment(jax.random.key(2), train, test, true_params=truth, config=cfg, generator_config=GCFG,
                        n_augmented=100, progress=False)
    # the default solver cross-validates its penalty once on the training data: the chosen l2 is a grid value
    assert r.solver == DEFAULT_SOLVER and DEFAULT_SOLVER_OPTIONS == {"l2": "cv"}
    assert np.isclose(r.solver_l2, DEFAULT_L2_GRID).any()
    assert np.isclose(r.solver_l2_combined, DEFAULT_L2_GRID).any()  # cross-validated again on training + generated
    assert r.score["selected"] < r.score["train"]
    assert r.recommended is False and r.selected == "train" and "not recommended" in r.reason
    assert r.stop_mix == 0.0
    # truth-free generator quality: two training steps leave the pair moments far from the data's (floor: the
    # training set's own distance to the test set)
    assert r.moment_rms.second > 2 * r.moment_rms_train.second > 0
    # no candidate: the final samples come from the last monitored model (not the untrained init)
    assert r.stop_step == 2 and r.stop_epoch == r.curve.epochs[-1]
    jax.tree.map(np.testing.assert_array_equal, r.params_selected, r.params_train)
    assert r.mse["selected"] == r.mse["train"] < r.mse["combined"]


@pytest.mark.slow  # four compiles of the DDPM pieces (~100 s on a loaded 2-core machine); vmap over seeds is also
# covered by test_augment_seeds_matches_single_runs through the driver
def test_kernel_under_jit_and_vmap(data):
    """The kernel is pure: jit of one seed equals the matching slice of vmap over two seeds."""
    truth, train, test = data
    gen = make_generator("ddpm", GCFG, N)
    k = build_kernel(gen, solver="independent_exact", solver_options=(), config=CFG, steps_per_point=2,
                     n_monitor=60, n_augmented=50, m_train=60, n_spins=N)
    keys = jnp.stack([jax.random.key(7), jax.random.key(8)])
    trains, tests = jnp.stack([train, -train]), jnp.stack([test, -test])
    init_v, step_v = jax.jit(jax.vmap(k.init)), jax.jit(jax.vmap(k.step))
    sv = init_v(keys, trains, tests, None)
    sv, rv = step_v(keys, step_v(keys, sv)[0])
    s1 = jax.jit(k.init)(keys[1], trains[1], tests[1], None)
    step1 = jax.jit(k.step)
    s1, r1 = step1(keys[1], step1(keys[1], s1)[0])
    # two barely trained points rarely clear the score margin: a candidate is either found at a point done, or none
    assert int(s1.point) == 2 and 0 <= int(s1.best_point) <= 2
    assert (int(s1.best_point) == 0) == (int(s1.best_mix) == -1) == (not np.isfinite(float(s1.best_score)))
    for a, b in zip(jax.tree.leaves((sv, rv)), jax.tree.leaves((s1, r1))):
        np.testing.assert_allclose(a[1], b, rtol=2e-4, atol=1e-5)
    out = jax.jit(k.finalize)(keys[1], s1._replace(gen=s1.best_gen))
    assert out.samples.shape == (50, N) and out.params_combined.J.shape == (N, N)


@pytest.mark.slow  # one more full compile (~80 s on a loaded 2-core machine)
def test_solver_erasure_reproduces_the_erasure_w_train(data):
    """solver="erasure" (with the config's erasure settings) gives the erasure machine's w_train and eps, as before
    the solver became a choice."""
    truth, train, test = data
    r = _quiet(augment, jax.random.key(2), train, test, **(KW | {"solver": "erasure"}))
    ref = erasure_machine_auto(train, CFG.eps_grid, alpha=CFG.erasure_alpha, n_iter=CFG.erasure_n_iter)
    np.testing.assert_allclose(r.params_train.J, ref.params.J, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r.params_train.h, ref.params.h, rtol=1e-5, atol=1e-6)
    assert r.eps["train"] == pytest.approx(float(ref.eps)) and r.solver == "erasure"
    e = -(np.asarray(train) @ np.asarray(ref.params.h)) - 0.5 * np.einsum("mi,ij,mj->m", train, ref.params.J, train)
    np.testing.assert_allclose(r.curve.train_variance, np.var(e), rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("generator", ["rbm", "vae", "gan"])
def test_augment_runs_every_registered_baseline(generator):
    """augment(..., generator=name) drives each baseline through the shared Generator interface."""
    import ising_diffusion as idf

    truth = idf.sk_params(jax.random.key(0), 8, 1.0)
    x = idf.exact_sample(jax.random.key(1), truth, 300)
    cfg = idf.AugmentConfig(n_epochs=4, monitor_every=2, n_monitor_samples=100)
    res = idf.augment(jax.random.key(2), x[:256], x[256:], generator=generator, config=cfg, n_augmented=500,
                      true_params=truth, progress=False)
    assert res.generator == generator
    assert res.samples.shape == (500, 8)
    assert set(np.unique(np.asarray(res.samples)).tolist()) <= {-1.0, 1.0}
    assert np.isfinite(res.mse["augmented"]) and np.isfinite(res.mse["combined"])


@pytest.mark.parametrize("part", [Budget, Selection, SolverSpec], ids=lambda c: c.__name__)
def test_every_scalar_setting_rejects_a_wrong_type_naming_the_flat_keyword(part):
    """``AugmentConfig(n_steps=2.5)``, ``score_z=None``, ``n_bootstrap=nan``: a ValueError naming the keyword the
    user passed (``AugmentConfig.<field>``), not a TypeError from a comparison; ``n_steps=400.0`` is stored as 400."""
    checked = 0
    for f in dataclasses.fields(part):
        kinds = {k.strip() for k in str(f.type).split("|")}
        kind = (kinds - {"None"}).pop() if len(kinds - {"None"}) == 1 else None
        if kind not in ("int", "float", "bool"):
            continue
        bad = {"int": ["3", 2.5, float("nan")], "float": ["0.1", float("nan")], "bool": ["yes"]}[kind]
        for value in bad + ([] if "None" in kinds else [None]):
            with pytest.raises(ValueError, match=rf"AugmentConfig\.{f.name}\b"):
                part(**{f.name: value})
        checked += 1
    assert checked >= 2
    assert type(AugmentConfig(n_steps=400.0).budget.n_steps) is int


@pytest.mark.parametrize("field", ["mix_grid", "eps_grid"])
@pytest.mark.parametrize("value", ["01", "abc", None, 0.5, (0.0, "x")])
def test_a_grid_that_is_not_a_sequence_of_numbers_is_named(field, value):
    """A string was iterated character by character (``"01"`` became the grid 0, 1); now refused by name."""
    with pytest.raises(ValueError, match=field):
        AugmentConfig(**{field: value})


def test_a_checkpoint_of_another_seed_count_names_the_padding(tmp_path):
    """A run resumed on another device count pads its seed batch to another size: its fingerprint differs, and the
    refusal says why (it used to say "different data" for the same data)."""
    from ising_diffusion.checkpoint import open_run

    open_run(tmp_path, "a", {"n_seeds": 4}).close()
    with pytest.raises(ValueError, match=r"holds a call of 4 seed\(s\), this one has 3: a seed batch is padded"):
        open_run(tmp_path, "b", {"n_seeds": 3})
    with pytest.raises(ValueError, match="different data"):
        open_run(tmp_path, "b", {"n_seeds": 4})
    open_run(tmp_path, "a", {"n_seeds": 4}).close()  # the same run resumes
