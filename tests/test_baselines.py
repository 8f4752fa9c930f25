"""Baseline generators (RBM, VAE, GAN): they learn a planted Ising distribution, their objectives improve, and they
honour the Generator contract (shapes, values, resumable per-step keys, vmap over seeds)."""

import dataclasses
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion.generative import GENERATOR_CONFIGS, GENERATOR_FACTORIES, make_generator
from ising_diffusion.generative.batching import shuffled_batch, steps_per_epoch
from ising_diffusion.generative.gan import GANConfig, distinct_patterns, make_gan
from ising_diffusion.generative.rbm import RBMConfig, make_rbm, rbm_log_likelihood
from ising_diffusion.generative.vae import VAEConfig, make_vae, vae_elbo, vae_layer_sizes
from ising_diffusion.ising import energy, exact_moments, exact_sample, log_partition, sk_params

N = 10
M = 1000
CHUNK = 50  # training runs as resumed calls of CHUNK steps (so the resume contract is exercised throughout)
N_CHUNKS = 30  # 1500 steps = 150 epochs at batch 100
N_GEN = 3001  # not a multiple of the RBM's chains: exercises the round-robin remainder

FACTORIES = {
    "rbm": (make_rbm, RBMConfig(burn_in=300, thin=3, sample_chains=500)),
    "vae": (make_vae, VAEConfig()),
    "gan": (make_gan, GANConfig()),
}

# Measured (planted seeds 11/12/13, N=10, M=1000; errors of the K first+second moments against exact enumeration):
#   untrained 0.08 (rbm) 0.13 (vae) 0.21 (gan); trained 0.0035 (rbm) 0.014 (vae) 0.0054 (gan); M-sample floor 0.0008.
MAX_RATIO_TO_UNTRAINED = 0.25
MAX_RATIO_TO_DATA_FLOOR = {"rbm": 10.0, "vae": 40.0, "gan": 20.0}


def _operator_moments(spins):
    """First moments and upper-triangle second moments: the K quantities an Ising fit matches."""
    mean = jnp.mean(spins, axis=0)
    second = spins.T @ spins / spins.shape[0]
    iu = np.triu_indices(spins.shape[1], k=1)
    return jnp.concatenate([mean, second[iu]])


@pytest.fixture(scope="module")
def planted():
    params = sk_params(jax.random.key(11), N, 1.0)
    data = jnp.stack([exact_sample(jax.random.key(12), params, M), exact_sample(jax.random.key(13), params, M)])
    mean, second = exact_moments(params)
    iu = np.triu_indices(N, k=1)
    return params, data, jnp.concatenate([mean, second[iu]])


KEYS = {name: jnp.stack([jax.random.key(s), jax.random.key(s + 100)]) for name, s in (("init", 1), ("train", 2),
                                                                                          ("sample", 3))}


@pytest.fixture(scope="module")
def trained(planted):
    """Each generator trained for 2 seeds at once (vmap over keys, states and two data sets), in resumed chunks.

    Returns per name: (generator, config, untrained states, states after 2 chunks, final states, losses (2, steps),
    untrained samples, samples after 2 chunks, final samples), every state/sample stacked over the 2 seeds.
    """
    _, data, _ = planted
    out = {}
    for name, (make, cfg) in FACTORIES.items():
        gen = make(cfg, N)
        v_init = jax.jit(jax.vmap(gen.init))
        v_train = jax.jit(jax.vmap(lambda k, s, d: gen.train(k, s, d, CHUNK)))
        v_sample = jax.jit(jax.vmap(lambda k, s: gen.sample(k, s, N_GEN)))
        state0 = v_init(KEYS["init"], data)
        state, losses = state0, []
        for c in range(N_CHUNKS):
            state, loss = v_train(KEYS["train"], state, data)
            losses.append(np.asarray(loss))
            if c == 1:
                state2 = state
        samples = [v_sample(KEYS["sample"], st) for st in (state0, state2, state)]
        out[name] = (gen, cfg, state0, state2, state, np.concatenate(losses, axis=1), *samples)
    return out


@pytest.mark.parametrize("name", list(FACTORIES))
def test_trained_generator_reproduces_moments_better_than_untrained(name, planted, trained):
    _, data, exact_ops = planted
    untrained, final = trained[name][6], trained[name][8]
    for seed in range(2):
        err0 = float(jnp.mean((_operator_moments(untrained[seed]) - exact_ops) ** 2))
        err1 = float(jnp.mean((_operator_moments(final[seed]) - exact_ops) ** 2))
        floor = float(jnp.mean((_operator_moments(data[seed]) - exact_ops) ** 2))  # sampling noise of M samples
        assert err1 < MAX_RATIO_TO_UNTRAINED * err0, (seed, err0, err1)
        assert err1 < MAX_RATIO_TO_DATA_FLOOR[name] * floor, (seed, err1, floor)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_sample_shape_and_values(name, trained):
    for samples in trained[name][6:]:
        assert samples.shape == (2, N_GEN, N) and samples.dtype == jnp.float32
        assert set(np.unique(np.asarray(samples)).tolist()) == {-1.0, 1.0}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_vmap_over_seeds_and_resumed_chunks_equal_separate_single_runs(name, planted, trained):
    _, data, _ = planted
    gen, _, _, state2, _, losses, _, samples2, _ = trained[name]
    for seed in range(2):
        st = gen.init(KEYS["init"][seed], data[seed])
        st, loss = gen.train(KEYS["train"][seed], st, data[seed], 2 * CHUNK)  # one call == two resumed chunks
        assert int(st.step) == 2 * CHUNK
        np.testing.assert_allclose(loss, losses[seed, :2 * CHUNK], rtol=1e-4, atol=1e-5)
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b[seed], rtol=1e-4, atol=1e-5), st, state2)
        s = gen.sample(KEYS["sample"][seed], st, N_GEN)
        assert np.mean(np.asarray(s) == np.asarray(samples2[seed])) > 0.99  # equal up to float ties at p = 1/2


def test_rbm_exact_log_likelihood_and_reconstruction_improve(planted, trained):
    params, data, _ = planted
    _, _, state0, _, state1, losses = trained["rbm"][:6]
    ll_true = float(-jnp.mean(energy(params, data[0])) - log_partition(params))  # the planted model's own score
    pick = lambda tree: jax.tree.map(lambda x: x[0], tree)  # noqa: E731  (seed 0)
    ll0 = float(rbm_log_likelihood(pick(state0).params, data[0]))
    ll1 = float(rbm_log_likelihood(pick(state1).params, data[0]))
    # measured: -6.3 -> -5.05 against the planted model's -4.95
    assert ll1 > ll0 + 0.8, (ll0, ll1)
    assert ll1 > ll_true - 0.3, (ll1, ll_true)
    assert losses[:, -100:].mean() < 0.8 * losses[:, :100].mean()


def test_persistent_cd_k_raises_log_likelihood(planted):
    _, data, _ = planted
    gen = make_rbm(RBMConfig(persistent=True, cd_steps=3), N)
    state0 = gen.init(jax.random.key(1), data[0])
    state1, _ = gen.train(jax.random.key(2), state0, data[0], 10 * CHUNK)
    ll0 = float(rbm_log_likelihood(state0.params, data[0]))
    assert float(rbm_log_likelihood(state1.params, data[0])) > ll0 + 0.5


def test_vae_elbo_improves(planted, trained):
    params, data, _ = planted
    _, cfg, state0, _, state1, losses = trained["vae"][:6]
    pick = lambda tree: jax.tree.map(lambda x: x[0], tree)  # noqa: E731
    e0 = float(vae_elbo(cfg, jax.random.key(4), pick(state0), data[0]))
    e1 = float(vae_elbo(cfg, jax.random.key(4), pick(state1), data[0]))
    ll_true = float(-jnp.mean(energy(params, data[0])) - log_partition(params))
    # measured: -7.0 -> -5.1; the ELBO bounds the log-likelihood, which the planted model's -4.95 roughly bounds
    assert e1 > e0 + 1.0, (e0, e1)
    assert ll_true - 1.0 < e1 < ll_true + 0.3, (e1, ll_true)
    assert losses[:, -100:].mean() < losses[:, :100].mean() - 1.0


def test_minibatches_cover_each_sample_once_per_epoch():
    data = jnp.arange(23, dtype=jnp.float32)[:, None]
    spe = steps_per_epoch(23, 5)
    assert spe == 5
    key = jax.random.key(0)
    for epoch in range(2):
        rows = np.concatenate([np.asarray(shuffled_batch(key, jnp.int32(epoch * spe + t), data, 5))[:, 0]
                               for t in range(spe)])
        assert set(rows.tolist()) == set(range(23))  # 25 rows: every sample, two repeated by the wrap-around
    first = [np.asarray(shuffled_batch(key, jnp.int32(t), data, 5)) for t in (0, spe)]
    assert not np.array_equal(*first)  # a fresh permutation each epoch


def test_vae_default_layer_sizes_follow_the_paper():
    assert vae_layer_sizes(VAEConfig(), 40) == ((30, 20), 10)
    assert vae_layer_sizes(VAEConfig(), 20) == ((15, 10), 5)
    assert vae_layer_sizes(VAEConfig(hidden=(8,), latent=3), 40) == ((8,), 3)


def test_distinct_patterns():
    s = jnp.array([[1.0, -1.0], [1.0, -1.0], [-1.0, -1.0]])
    assert distinct_patterns(s) == 2


@pytest.mark.parametrize("bad", [
    lambda: RBMConfig(n_hidden=0), lambda: RBMConfig(learning_rate=0.0), lambda: RBMConfig(momentum=1.0),
    lambda: RBMConfig(burn_in=-1), lambda: VAEConfig(latent=0), lambda: VAEConfig(activation="swishy"),
    lambda: VAEConfig(sample_mode="mean"), lambda: GANConfig(output="softmax"), lambda: GANConfig(batch_size=0),
    lambda: make_rbm(VAEConfig(), 10), lambda: make_vae(VAEConfig(), 0),
])
def test_bad_config_raises(bad):
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize("name", list(FACTORIES))
def test_wrong_width_data_raises(name):
    make, cfg = FACTORIES[name]
    gen = make(cfg, N)
    with pytest.raises(ValueError, match="train_spins"):
        gen.init(jax.random.key(0), jnp.ones((5, N + 1)))


@pytest.mark.parametrize("name", sorted(GENERATOR_CONFIGS))
def test_every_generator_rejects_bad_settings_with_a_value_error_naming_them(name):
    """One error type across generators: a wrong config type, a bad field, a bad size all raise ValueError naming
    the culprit, before any computation."""
    cls = GENERATOR_CONFIGS[name]
    other = next(c for n, c in GENERATOR_CONFIGS.items() if n != name)
    with pytest.raises(ValueError, match=cls.__name__):
        make_generator(name, other(), 5)
    with pytest.raises(ValueError, match=f"{cls.__name__}.batch_size"):
        cls(batch_size=0)
    with pytest.raises(ValueError, match="n_spins"):
        GENERATOR_FACTORIES[name](cls(), 0)
    with pytest.raises(ValueError, match="n_samples"):  # checked before the state is looked at
        make_generator(name, cls(), 5).sample(jax.random.key(0), None, 0)


@pytest.mark.parametrize("name", sorted(GENERATOR_CONFIGS))
@pytest.mark.parametrize("field,value", [("learning_rate", 0.0), ("learning_rate", float("nan")),
                                         ("batch_size", 2.5), ("batch_size", "32"), ("ema_decay", 1.0)])
def test_every_generator_checks_its_optimizer_fields_in_one_place(name, field, value):
    """learning_rate, batch_size and (where a generator has one) ema_decay: one checker, one message shape."""
    cls = GENERATOR_CONFIGS[name]
    if field not in {f.name for f in dataclasses.fields(cls)}:
        pytest.skip(f"{cls.__name__} has no {field}")
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.{field} must be"):
        cls(**{field: value})


def _numeric_fields(cls):
    """(field, kind, optional) of a config's numeric fields, read off their annotations: kind "int", "ints" (a tuple
    of widths) or "real"; optional when ``None`` is allowed."""
    out = []
    for f in dataclasses.fields(cls):
        ann, optional = str(f.type), "None" in str(f.type)
        if ann.startswith("tuple[int"):
            out.append((f.name, "ints", optional))
        elif ann.startswith("int"):
            out.append((f.name, "int", optional))
        elif ann.startswith(("float", "tuple[float")):
            out.append((f.name, "real", optional))
    return out


@pytest.mark.parametrize("name", sorted(GENERATOR_CONFIGS))
def test_every_numeric_field_of_every_generator_rejects_a_wrong_type_with_a_value_error_naming_it(name):
    """None, a string, NaN and (for integer fields) a fraction: a ValueError naming ``<Config>.<field>``, never a
    TypeError from a comparison nor a width of 64.7 quietly cut to 64."""
    cls = GENERATOR_CONFIGS[name]
    fields = _numeric_fields(cls)
    assert {k for _, k, _ in fields} >= {"int", "real"}, fields  # the annotations were read
    for field, kind, optional in fields:
        bad = {"int": [None, "3", 2.5, float("nan")], "ints": [(64.7,), (None,), ("a",), (), 3],
               "real": [None, "0.1", float("nan")]}[kind]
        for value in bad[optional:] if kind != "ints" else bad:  # an optional field's None is a documented choice
            with pytest.raises(ValueError, match=rf"{cls.__name__}\.{field}\b"):
                cls(**{field: value})


@pytest.mark.parametrize("name", sorted(GENERATOR_CONFIGS))
def test_every_generator_stores_an_integral_float_as_an_int(name):
    """``10.0`` (as a JSON config holds it) is accepted and stored as ``10``: it reaches array shapes and
    ``linspace`` counts, which refuse floats."""
    cls = GENERATOR_CONFIGS[name]
    for field, kind, _ in _numeric_fields(cls):
        default = getattr(cls(), field)
        if kind != "int" or default is None:
            continue
        value = getattr(cls(**{field: float(default)}), field)
        assert type(value) is int and value == default, (field, value)


SPIN_GENERATORS = sorted(n for n, c in GENERATOR_CONFIGS.items() if "n_states" not in
                         {f.name for f in dataclasses.fields(c)})


@pytest.mark.parametrize("name", SPIN_GENERATORS)
@pytest.mark.parametrize("data, match", [(np.ones((4, 5)) * (np.arange(5) % 2), "spins -1 / \\+1; found 0"),
                                         (np.full((4, 5), np.nan), "found nan"),
                                         (np.ones((0, 5)), "M >= 1")])
def test_spin_generators_refuse_data_that_are_not_spins(name, data, match):
    """0/1 data, NaN and an empty set: a ValueError before any computation (they used to train on them silently, or
    fail deep inside a gather)."""
    gen = make_generator(name, GENERATOR_CONFIGS[name](), 5)
    with pytest.raises(ValueError, match=match):
        gen.init(jax.random.key(0), data)
    with pytest.raises(ValueError, match=match):
        gen.train(jax.random.key(0), None, data, 1)


@pytest.mark.parametrize("name", sorted(GENERATOR_CONFIGS))
def test_train_refuses_a_negative_step_count(name):
    """A negative ``n_steps`` would move the step counter, and with it every later step's key, backwards."""
    cls = GENERATOR_CONFIGS[name]
    gen = make_generator(name, cls() if name in SPIN_GENERATORS else cls(n_states=3), 5)
    with pytest.raises(ValueError, match="n_steps must be a non-negative integer, got -1"):
        gen.train(jax.random.key(0), None, np.ones((4, 5), np.int32), -1)


def test_rbm_log_likelihood_equals_brute_force_over_visible_and_hidden_states():
    """``p(v) = sum_h exp(b.v + c.h + v W h) / Z`` summed over all 2^3 x 2^2 joint states of a tiny RBM, against
    the free-energy formula (``v = (s + 1) / 2``)."""
    import itertools

    from ising_diffusion.generative.rbm import RBMParams

    rng = np.random.default_rng(0)
    p = RBMParams(W=rng.normal(size=(3, 2)).astype(np.float32), b=rng.normal(size=3).astype(np.float32),
                  c=rng.normal(size=2).astype(np.float32))
    vs, hs = np.array(list(itertools.product([0, 1], repeat=3)), float), np.array(list(itertools.product([0, 1],
                                                                                                         repeat=2)))
    joint = np.exp(vs @ p.b[:, None] + (hs @ p.c)[None, :] + vs @ p.W @ hs.T)  # (8, 4)
    pv = joint.sum(1) / joint.sum()
    data = vs[[0, 3, 3, 5, 7]]
    want = np.mean(np.log(pv[[0, 3, 3, 5, 7]]))
    assert float(rbm_log_likelihood(p, jnp.asarray(2 * data - 1, jnp.float32))) == pytest.approx(want, abs=1e-5)
