"""DDPM: schedule identities, network shapes, samplers, training on fixed patterns, the Generator contract."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.generative import GENERATOR_CONFIGS, RBMConfig, make_generator
from ising_diffusion.generative.ddpm import (
    DDPMConfig,
    ddim_sample,
    ddim_timesteps,
    make_ddpm,
    make_schedule,
    network_fns,
)

SMALL = DDPMConfig(widths=(32, 64), time_embed_dim=16, learning_rate=1e-3, batch_size=64)


def test_schedule_identities():
    s = make_schedule(1000, 1e-4, 0.02)
    betas = np.linspace(1e-4, 0.02, 1000)
    np.testing.assert_allclose(s.betas, betas, rtol=1e-6)
    abar = np.cumprod(1 - betas)
    np.testing.assert_allclose(s.alpha_bars, abar, rtol=1e-5)
    np.testing.assert_allclose(s.alpha_bars_prev[1:], abar[:-1], rtol=1e-5)
    assert s.alpha_bars_prev[0] == 1.0
    # beta_tilde = (1 - abar_{t-1}) / (1 - abar_t) beta_t, zero at t = 0, and below beta_t
    np.testing.assert_allclose(s.posterior_variance[1:], (1 - abar[:-1]) / (1 - abar[1:]) * betas[1:], rtol=1e-5)
    assert s.posterior_variance[0] == 0.0
    assert np.all(np.asarray(s.posterior_variance) <= np.asarray(s.betas) + 1e-9)
    # the end of the chain is (almost) pure noise
    assert abar[-1] < 1e-4
    # posterior mean with x0 = x0_hat(eps) equals Ho et al.'s (x_t - beta / sqrt(1 - abar) eps) / sqrt(alpha)
    rng = np.random.default_rng(0)
    xt, eps = rng.normal(size=(2, 5))
    for t in (1, 10, 500, 999):
        x0 = (xt - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t])
        mean = float(s.posterior_mean_coef_x0[t]) * x0 + float(s.posterior_mean_coef_xt[t]) * xt
        ho = (xt - betas[t] / np.sqrt(1 - abar[t]) * eps) / np.sqrt(1 - betas[t])
        np.testing.assert_allclose(mean, ho, rtol=1e-4, atol=1e-5)


def test_posterior_is_exact_bayes_on_gaussian_forward():
    """q(x_{t-1} | x_t, x0) from the schedule matches Monte Carlo of the forward process for a fixed x0."""
    s = make_schedule(50, 1e-3, 0.2)
    t, x0 = 20, 0.7
    key = jax.random.key(1)
    k1, k2 = jax.random.split(key)
    n = 400_000
    xprev = np.sqrt(s.alpha_bars[t - 1]) * x0 + np.sqrt(1 - s.alpha_bars[t - 1]) * jax.random.normal(k1, (n,))
    xt = np.sqrt(s.alphas[t]) * xprev + np.sqrt(s.betas[t]) * jax.random.normal(k2, (n,))
    # regress x_{t-1} on x_t: slope = coef_xt, residual variance = beta_tilde
    xt, xprev = np.asarray(xt, np.float64), np.asarray(xprev, np.float64)
    slope = np.cov(xt, xprev)[0, 1] / np.var(xt)
    resid = xprev - slope * xt
    np.testing.assert_allclose(slope, s.posterior_mean_coef_xt[t], rtol=1e-2)
    np.testing.assert_allclose(np.mean(resid), s.posterior_mean_coef_x0[t] * x0, rtol=2e-2)
    np.testing.assert_allclose(np.var(resid), s.posterior_variance[t], rtol=2e-2)


@pytest.mark.parametrize("skip", [True, False])
def test_network_shapes_and_skips(skip):
    cfg = dataclasses.replace(SMALL, widths=(8, 16, 32), skip=skip)
    build, apply = network_fns(cfg, 5)
    from flax import nnx

    # the parameter tree's shapes from an abstract build, filled with numpy normals: building it for real compiles
    # every initialiser (op by op ~70 programs, under jit one program of seconds); the shapes are what is checked
    shapes = nnx.to_pure_dict(nnx.split(nnx.eval_shape(lambda: build(jax.random.key(0))))[1])
    rng = np.random.default_rng(0)
    params = jax.tree.map(lambda a: jnp.asarray(rng.normal(size=a.shape), a.dtype), shapes)
    x = jnp.ones((3, 5))
    out = jax.jit(apply)(params, x, jnp.array([0, 5, 999]))
    assert out.shape == (3, 5)
    d = cfg.time_embed_dim
    in_dims = [k["kernel"].shape[0] for k in params["decoder"].values()]
    # decoder inputs: 32 (+32 skip), 16 (+16 skip), 8 (+8 skip), each plus the time embedding
    assert in_dims == ([64 + d, 32 + d, 16 + d] if skip else [32 + d, 16 + d, 8 + d])
    assert params["middle"]["kernel"].shape == (32 + d, 32)
    # the time embedding matters: the same x at different t gives different outputs
    assert not np.allclose(out[0], out[1])


def test_ddim_eta0_is_deterministic_given_initial_noise():
    gen = make_ddpm(SMALL, 6)
    state = gen.init(jax.random.key(0))
    _, apply = network_fns(SMALL, 6)
    sched = make_schedule(SMALL.n_timesteps)
    x_init = jax.random.normal(jax.random.key(5), (16, 6))
    run = jax.jit(lambda k, eta: ddim_sample(apply, state.params, sched, k, 16, 6, n_steps=20, eta=eta,
                                             x_init=x_init))  # one compilation for all four calls
    a, b = run(jax.random.key(1), 0.0), run(jax.random.key(2), 0.0)
    np.testing.assert_array_equal(a, b)
    c, d = run(jax.random.key(1), 1.0), run(jax.random.key(2), 1.0)
    assert not np.allclose(c, d)
    ts = ddim_timesteps(1000, 50)
    assert ts[0] == 0 and ts[-1] == 999 and len(ts) == 50 and np.all(np.diff(ts) > 0)


def test_ddim_with_the_exact_noise_predictor_draws_the_data_distribution_in_few_steps():
    """Data x0 = +1 with probability 0.9, else -1; the exact noise predictor is the posterior mean's. DDIM reads x0
    from it starting at T-1: its sign is +1 for almost every draw at one step and nearer 0.9 with more steps. (One
    step used to run at t = 0, where the prediction is the noise itself: half of the draws +1.)"""
    sched = make_schedule(1000)

    def exact_eps(_, x, t):
        ab = sched.alpha_bars[t][:, None]
        logit = 2.0 * jnp.sqrt(ab) * x / (1.0 - ab) + np.log(0.9 / 0.1)  # log p(+1 | x_t) / p(-1 | x_t)
        x0 = jnp.tanh(logit / 2.0)
        return (x - jnp.sqrt(ab) * x0) / jnp.sqrt(1.0 - ab)

    assert ddim_timesteps(1000, 1).tolist() == [999]
    frac = {n: float(jnp.mean(ddim_sample(exact_eps, None, sched, jax.random.key(0), 4000, 1, n_steps=n) > 0))
            for n in (1, 50)}
    assert frac[1] > 0.95 and abs(frac[50] - 0.9) < 0.03, frac


def test_config_validation():
    with pytest.raises(ValueError, match="sampler"):
        DDPMConfig(sampler="euler")
    with pytest.raises(ValueError, match="ddim_steps"):
        DDPMConfig(ddim_steps=2000)
    with pytest.raises(ValueError, match="beta"):
        DDPMConfig(beta_start=0.1, beta_end=0.01)
    with pytest.raises(ValueError, match="widths"):
        DDPMConfig(widths=())
    with pytest.raises(ValueError, match="unknown generator"):
        make_generator("diffusion-xl", None, 5)
    with pytest.raises(ValueError, match="DDPMConfig"):
        make_generator("ddpm", object(), 5)
    with pytest.raises(ValueError, match="make_ddpm needs a DDPMConfig"):
        make_ddpm(RBMConfig(), 5)
    assert GENERATOR_CONFIGS["ddpm"] is DDPMConfig


def test_train_contract_split_calls_and_vmap():
    """train(n) twice == train(2n) once (fold_in(key, step) keys); vmap over seeds == per-seed calls."""
    gen = make_ddpm(SMALL, 6)
    x = jnp.asarray(np.random.default_rng(0).choice([-1.0, 1.0], size=(40, 6)), jnp.float32)
    st = gen.init(jax.random.key(0), x)
    train = jax.jit(gen.train, static_argnames="n_steps")
    k = jax.random.key(3)
    a, la = train(k, st, x, n_steps=10)
    b1, lb1 = train(k, st, x, n_steps=5)
    b, lb2 = train(k, b1, x, n_steps=5)
    assert int(a.step) == int(b.step) == 10
    np.testing.assert_array_equal(la, jnp.concatenate([lb1, lb2]))
    jax.tree.map(np.testing.assert_array_equal, a.params, b.params)
    # vmap over seeds
    keys = jax.random.split(jax.random.key(9), 2)
    sts = jax.vmap(gen.init)(keys, jnp.stack([x, x]))
    out, _ = jax.vmap(lambda kk, s, xx: gen.train(kk, s, xx, 5))(keys, sts, jnp.stack([x, -x]))
    one, _ = train(keys[1], jax.tree.map(lambda v: v[1], sts), -x, n_steps=5)
    jax.tree.map(lambda u, v: np.testing.assert_allclose(u[1], v, rtol=1e-4, atol=1e-6), out.params, one.params)


@pytest.mark.parametrize("sampler", ["ddim", pytest.param("ddpm", marks=pytest.mark.slow)])
def test_learns_fixed_patterns_with_right_frequencies(sampler):
    """Three fixed 8-spin patterns with frequencies 0.5 / 0.3 / 0.2: samples are those patterns at those rates."""
    rng = np.random.default_rng(0)
    patterns = rng.choice([-1.0, 1.0], size=(3, 8))
    freqs = np.array([0.5, 0.3, 0.2])
    data = jnp.asarray(np.repeat(patterns, (freqs * 200).astype(int), axis=0), jnp.float32)
    cfg = dataclasses.replace(SMALL, n_timesteps=100, sampler=sampler, ddim_steps=25)
    gen = make_ddpm(cfg, 8)
    st = gen.init(jax.random.key(0), data)
    st, losses = jax.jit(gen.train, static_argnames="n_steps")(jax.random.key(1), st, data, n_steps=1500)
    # the loss falls
    assert float(jnp.mean(losses[-100:])) < 0.6 * float(jnp.mean(losses[:100]))
    samples = np.asarray(jax.jit(gen.sample, static_argnames="n_samples")(jax.random.key(2), st, n_samples=1000))
    assert set(np.unique(samples)) <= {-1.0, 1.0}
    match = (samples[:, None, :] == patterns[None, :, :]).all(-1)  # (n, 3)
    assert match.any(1).mean() > 0.95
    got = match.mean(0) / match.any(1).mean()
    np.testing.assert_allclose(got, freqs, atol=0.05)


def test_ema_weights_differ_from_raw_and_sampling_uses_them():
    """The moving average lags the raw weights; samples come from the average (raw weights swapped in change them,
    the average swapped in does not); ema_decay = 0 makes the average the raw weights."""
    # SMALL (ema_decay 0.999), N = 6, 40 rows, resumed 10-step calls: the programs that
    # test_train_contract_split_calls_and_vmap compiles, so the compilation cache serves them
    x = jnp.asarray(np.random.default_rng(1).choice([-1.0, 1.0], size=(40, 6)), jnp.float32)
    cfg = SMALL
    gen = make_ddpm(cfg, 6)
    train = jax.jit(gen.train, static_argnames="n_steps")
    st = gen.init(jax.random.key(0))
    for _ in range(7):
        st, _ = train(jax.random.key(1), st, x, n_steps=10)
    diff = jax.tree.leaves(jax.tree.map(lambda a, b: np.max(np.abs(np.asarray(a) - np.asarray(b))), st.params,
                                        st.ema_params))
    assert max(diff) > 1e-4  # measured 1.0e-2 after these 70 steps
    sample = jax.jit(gen.sample, static_argnames="n_samples")
    s = sample(jax.random.key(2), st, n_samples=200)
    np.testing.assert_array_equal(s, sample(jax.random.key(2), st._replace(params=st.ema_params), n_samples=200))
    assert not np.array_equal(s, sample(jax.random.key(2), st._replace(ema_params=st.params), n_samples=200))  # measured: 46 of 1200 differ
    raw = make_ddpm(dataclasses.replace(cfg, ema_decay=0.0), 6)
    st0, _ = jax.jit(raw.train, static_argnames="n_steps")(jax.random.key(1), raw.init(jax.random.key(0)), x,
                                                           n_steps=10)
    jax.tree.map(np.testing.assert_array_equal, st0.params, st0.ema_params)


def test_paper_preset_and_cpu_defaults():
    p, d = DDPMConfig.paper(), DDPMConfig()
    assert (p.widths, p.learning_rate, p.ema_decay, p.ddim_steps) == ((128, 256, 512), 1e-4, 0.0, 50)
    assert (d.widths, d.learning_rate, d.ddim_steps) == ((64, 128, 256), 1e-3, 20) and 0 < d.ema_decay < 1
    assert DDPMConfig.paper(batch_size=64).batch_size == 64
    with pytest.raises(ValueError, match="ema_decay"):
        DDPMConfig(ema_decay=1.0)
