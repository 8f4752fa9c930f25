"""The q-state generators on a planted Potts truth: generator quality (msa_quality) after training, against exact
samples, an independent-site model and the untrained networks.

Run: ``PYTHONPATH=$PWD python experiments/qstate_generators_planted.py`` (the numbers quoted in
``docs/msa_generators.md``). The settings are the tests' (tests/test_qstate_generators.py), with more steps.
"""

import time

import jax
import numpy as np

from ising_diffusion.generative import CategoricalD3PMConfig, OneHotDDPMConfig, make_generator
from ising_diffusion.msa_quality import generator_quality
from ising_diffusion.potts import potts_exact_sample, potts_sparse_params

L, Q, M, H, G = 8, 4, 2000, 5000, 2000
GENERATORS = {"d3pm_categorical uniform": ("d3pm_categorical", CategoricalD3PMConfig(n_states=Q, n_timesteps=50)),
              "d3pm_categorical absorbing": ("d3pm_categorical",
                                             CategoricalD3PMConfig(n_states=Q, transition="absorbing", n_timesteps=50)),
              "ddpm_onehot": ("ddpm_onehot", OneHotDDPMConfig(n_states=Q, ema_decay=0.99, width_factors=(4, 4, 4)))}


def row(name, steps, r, seconds=float("nan")):
    print(f"| {name} | {steps} | {r.single_ratio:.2f} | {r.pair_ratio:.2f} | {r.identical_fraction:.2f} | "
          f"{r.distance_quantiles[3]:.0f} / {r.distance_quantiles[5]:.0f} | {seconds:.0f} |")


def main():
    params, _ = potts_sparse_params(jax.random.key(1), L, Q, degree=2.0, g=1.0)
    s = np.asarray(potts_exact_sample(jax.random.key(2), params, M + H + G)).astype(np.int8)
    train, held, exact = s[:M], s[M:M + H], s[M + H:]
    rng = np.random.default_rng(0)
    independent = np.stack([rng.choice(train[:, i], G) for i in range(L)], axis=1)
    print(f"L = {L}, q = {Q}, sparse planted truth (degree 2, g = 1), M = {M} training, H = {H} held-out, G = {G} "
          f"generated; held-out identical to a training sequence: "
          f"{generator_quality(exact, train, held, q=Q).heldout_identical_fraction:.2f}\n")
    print("| generator | steps | single ratio | pair ratio | identical | distance median / 95% | train s |")
    print("|---|---|---|---|---|---|---|")
    row("exact samples", "-", generator_quality(exact, train, held, q=Q))
    row("independent sites", "-", generator_quality(independent, train, held, q=Q))
    for label, (name, cfg) in GENERATORS.items():
        gen = make_generator(name, cfg, L)
        st = gen.init(jax.random.key(0), train)
        row(label, 0, generator_quality(gen.sample(jax.random.key(3), st, G), train, held, q=Q))
        done, t0 = 0, time.perf_counter()
        for steps in (1000, 3000):
            st, losses = gen.train(jax.random.key(1), st, train, steps - done)
            losses.block_until_ready()
            done = steps
            row(label, steps, generator_quality(gen.sample(jax.random.key(3), st, G), train, held, q=Q),
                time.perf_counter() - t0)


if __name__ == "__main__":
    main()
