"""augment / augment_seeds at tiny scale: outputs, validation, checkpoint resume equality, crash-safe checkpoints."""

import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion import AugmentConfig, DDPMConfig, augment, augment_seeds, exact_sample, sk_params
from ising_diffusion.checkpoint import Checkpointer
from ising_diffusion.monitor import NoCrossingWarning

N = 6
GCFG = DDPMConfig(widths=(16, 32), time_embed_dim=8, n_timesteps=100, ddim_steps=5, batch_size=32,
                  learning_rate=1e-3)
CFG = AugmentConfig(n_epochs=6, monitor_every=2, n_monitor_samples=64, n_bootstrap=50, erasure_n_iter=40,
                    eps_grid=(0.5, 0.7))
KW = dict(config=CFG, generator_config=GCFG, n_augmented=100, progress=False)


@pytest.fixture(scope="module")
def data():
    truth = sk_params(jax.random.key(0), N, 1.0)
    x = exact_sample(jax.random.key(1), truth, 80)
    return truth, x[:60], x[60:]


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrossingWarning)
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
    for name in ("generated_variance", "loss", "mse", "mse_combined", "smoothed_variance"):
        assert getattr(c, name).shape == (3,), name
    assert np.all(np.isfinite(c.mse)) and np.all(c.generated_variance > 0)
    assert c.test_variance_low <= c.test_variance <= c.test_variance_high
    assert r.stop_epoch == r.stop_epoch_robust  # the default rule
    assert r.stop_epoch_paper in (2, 4, 6) and r.best_epoch == c.epochs[np.argmin(c.mse)]
    assert set(r.mse) == {"train", "augmented", "combined"} and all(v > 0 for v in r.mse.values())
    assert r.params_train.J.shape == r.params_augmented.J.shape == r.params_combined.J.shape == (N, N)
    assert r.timing["total"] > 0
    # without the truth: NaN curve, no best epoch, no mse
    r2 = _quiet(augment, jax.random.key(2), train, test, **KW)
    assert r2.mse is None and r2.best_epoch == -1 and np.all(np.isnan(r2.curve.mse))
    np.testing.assert_array_equal(r2.curve.generated_variance, c.generated_variance)


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
    with pytest.raises(ValueError, match="n_augmented"):
        augment(jax.random.key(0), train, test, **(KW | {"n_augmented": 0}))
    with pytest.raises(ValueError, match="true_params shapes"):
        augment(jax.random.key(0), train, test, true_params=sk_params(jax.random.key(0), N + 1), **KW)
    with pytest.raises(ValueError, match="seed axis"):
        augment_seeds(jax.random.split(jax.random.key(0), 3), jnp.stack([train] * 2), jnp.stack([test] * 2), **KW)


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
    one = single  # the same key and data as seed 1
    np.testing.assert_allclose(r.curve.generated_variance[1], one.curve.generated_variance, rtol=1e-3)
    assert r.stop_epoch[1] == one.stop_epoch


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
    assert Checkpointer(tmp_path / "a").steps() == [2, 4]
    # a crash in the middle of a later save leaves a temporary directory: it must never be loaded
    os.makedirs(tmp_path / "a" / "6.orbax-checkpoint-tmp-1700000000")
    (tmp_path / "a" / "6.orbax-checkpoint-tmp-1700000000" / "junk").write_text("half written")
    seen = []
    resumed = _quiet(augment, jax.random.key(3), train, test, true_params=truth, checkpoint_dir=tmp_path / "a",
                     callback=lambda e, r: seen.append(e), **KW)
    assert seen == [6]  # only the missing monitor point was trained
    full = _quiet(augment, jax.random.key(3), train, test, true_params=truth, checkpoint_dir=tmp_path / "b", **KW)
    a, b = Checkpointer(tmp_path / "a"), Checkpointer(tmp_path / "b")
    assert a.steps() == b.steps() == [2, 4, 6]
    from ising_diffusion.generative import make_generator

    target = {"state": make_generator("ddpm", GCFG, N).init(jax.random.key(0))}
    target = {"state": jax.tree.map(lambda x: x[None], target["state"]),
              "record": {k: jnp.zeros(1) for k in ("gen_var", "loss", "mse", "mse_combined")}}
    sa, sb = a.restore(6, target), b.restore(6, target)
    jax.tree.map(np.testing.assert_array_equal, sa, sb)  # bit-identical parameters, optimiser state and record
    np.testing.assert_array_equal(resumed.samples, full.samples)
    np.testing.assert_array_equal(resumed.curve.generated_variance, full.curve.generated_variance)
    # the same directory with other data is refused
    with pytest.raises(ValueError, match="different data"):
        augment(jax.random.key(4), train, test, checkpoint_dir=tmp_path / "a", **KW)


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
