"""Evidence for the paper's claim at small scale, and for the stopping rules (issue 4, item 7).

N = 20 SK truth (g = 1), a few hundred exact training samples and one eighth as many test samples per seed, all
seeds trained as one vmapped run of :func:`ising_diffusion.augment_seeds`. Then, for every seed, the checkpointed
model at the epoch each rule picks (paper, robust, best monitored MSE, last) generates ``n_augmented`` samples and the
erasure machine is fit to augmented and augmented + training data; the MSEs are compared with the training-only MSE.
Extras (``--extras``) at the robust rule's epoch: the number of generated samples, and DDIM vs the full ancestral
sampler.

    PYTHONPATH=. python experiments/evidence_stopping.py --out /tmp/evidence            # the basic run
    PYTHONPATH=. python experiments/evidence_stopping.py --seeds 1 --out /tmp/ev1       # one seed (timing goal)
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion import (
    AugmentConfig,
    DDPMConfig,
    augment_seeds,
    erasure_machine_auto,
    exact_sample,
    load_checkpointed_state,
    make_generator,
    parameter_mse,
    sk_params,
)
from ising_diffusion.monitor import NoCrossingWarning


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-spins", type=int, default=20)
    ap.add_argument("--g", type=float, default=1.0)
    ap.add_argument("--n-train", type=int, default=400)
    ap.add_argument("--n-test", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0, help="master seed")
    ap.add_argument("--n-epochs", type=int, default=1250)
    ap.add_argument("--monitor-every", type=int, default=50)
    ap.add_argument("--n-monitor", type=int, default=1000)
    ap.add_argument("--n-augmented", type=int, default=None, help="default 10x n-train")
    ap.add_argument("--widths", default="64,128,256")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--ddim-steps", type=int, default=20)
    ap.add_argument("--extras", action="store_true", help="n_augmented sweep and ancestral vs DDIM")
    ap.add_argument("--out", default="evidence_out")
    return ap.parse_args()


def main():
    a = parse()
    t_all = time.perf_counter()
    os.makedirs(a.out, exist_ok=True)
    n_aug = a.n_augmented or 10 * a.n_train
    master = jax.random.key(a.seed)
    keys = jax.random.split(master, a.seeds)
    truths = [sk_params(jax.random.fold_in(k, 0), a.n_spins, a.g) for k in keys]
    data = [exact_sample(jax.random.fold_in(k, 1), p, a.n_train + a.n_test) for k, p in zip(keys, truths)]
    truth = jax.tree.map(lambda *x: jnp.stack(x), *truths)
    train = jnp.stack([d[:a.n_train] for d in data])
    test = jnp.stack([d[a.n_train:] for d in data])
    gcfg = DDPMConfig(widths=tuple(int(w) for w in a.widths.split(",")), learning_rate=a.lr,
                      batch_size=a.batch_size, ddim_steps=a.ddim_steps)
    cfg = AugmentConfig(n_epochs=a.n_epochs, monitor_every=a.monitor_every, n_monitor_samples=a.n_monitor,
                        stopping="robust")
    ckpt = os.path.join(os.path.abspath(a.out), "ckpt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoCrossingWarning)
        r = augment_seeds(jax.vmap(lambda k: jax.random.fold_in(k, 2))(keys), train, test, n_augmented=n_aug,
                          config=cfg, generator_config=gcfg, true_params=truth, checkpoint_dir=ckpt)
    t_run = time.perf_counter() - t_all
    c = r.curve
    epochs = np.asarray(c.epochs[0])
    np.set_printoptions(precision=4, linewidth=160, suppress=True)
    print(f"\nN={a.n_spins} g={a.g} train={a.n_train} test={a.n_test} seeds={a.seeds} widths={gcfg.widths} "
          f"lr={a.lr} batch={a.batch_size} steps/epoch={int(np.ceil(a.n_train / a.batch_size))} "
          f"epochs={a.n_epochs} monitor every {a.monitor_every} ({a.n_monitor} DDIM-{a.ddim_steps} samples), "
          f"n_augmented={n_aug}")
    print(f"augment_seeds: {t_run:.0f} s ({ {k: round(v, 1) for k, v in r.timing.items()} }); "
          f"{len(caught)} no-crossing warning(s)")
    for s in range(a.seeds):
        print(f"seed {s}: var train {c.train_variance[s]:.2f} test {c.test_variance[s]:.2f} "
              f"band68 [{c.test_variance_low[s]:.2f}, {c.test_variance_high[s]:.2f}]")
        print("  generated:", c.generated_variance[s])
        print("  mse(mon.): ", c.mse_combined[s])

    # --- MSE of the full augmented set at each rule's epoch, from the checkpoints
    gen = make_generator("ddpm", gcfg, a.n_spins)
    idx = {"paper": np.searchsorted(epochs, r.stop_epoch_paper), "robust": np.searchsorted(epochs, r.stop_epoch_robust),
           "best": np.searchsorted(epochs, r.best_epoch), "last": np.full(a.seeds, len(epochs) - 1)}
    states = {}

    def state_at(ep):
        if ep not in states:
            states[ep] = load_checkpointed_state(ckpt, int(ep), n_spins=a.n_spins, generator_config=gcfg,
                                                 n_seeds=a.seeds)
        return states[ep]

    def gather(ix):
        st = None
        for i in np.unique(ix):
            full = state_at(epochs[i])
            mask = jnp.asarray(ix == i)
            st = full if st is None else jax.tree.map(
                lambda x, y: jnp.where(mask.reshape((-1,) + (1,) * (x.ndim - 1)), y, x), st, full)
        return st

    def fit_mse(samples):
        aug = jax.vmap(erasure_machine_auto)(samples)
        comb = jax.vmap(erasure_machine_auto)(jnp.concatenate([samples, train], axis=1))
        pm = jax.vmap(parameter_mse)
        return np.asarray(pm(truth, aug.params)), np.asarray(pm(truth, comb.params))

    def draw(g, st, m, k=7):
        sk = jax.vmap(lambda kk: jax.random.fold_in(kk, k))(keys)
        return jax.jit(jax.vmap(lambda kk, ss: g.sample(kk, ss, m)))(sk, st)

    mse_train = r.mse["train"]
    table = {"train": {"mse": mse_train.tolist()}}
    print(f"\nMSE (full augmented set of {n_aug}); ratio = MSE / training-only MSE, mean over seeds [per seed]")
    print(f"training only: {mse_train}")
    print("| rule | epoch per seed | augmented ratio | augmented + train ratio |")
    print("|---|---|---|---|")
    for rule, ix in idx.items():
        aug, comb = fit_mse(draw(gen, gather(ix), n_aug))
        table[rule] = {"epoch": epochs[ix].tolist(), "mse_augmented": aug.tolist(), "mse_combined": comb.tolist()}
        ra, rc = aug / mse_train, comb / mse_train
        print(f"| {rule} | {epochs[ix].tolist()} | {ra.mean():.3f} {np.round(ra.astype(float), 3).tolist()} | "
              f"{rc.mean():.3f} {np.round(rc.astype(float), 3).tolist()} |")

    if a.extras:
        st = gather(idx["best"])
        print("\nAt the best monitored epoch: number of generated samples")
        print("| n_augmented | augmented ratio | augmented + train ratio |")
        print("|---|---|---|")
        big = draw(gen, st, 25 * a.n_train, k=11)
        table["n_aug_sweep"] = {}
        for m in (a.n_train, 4 * a.n_train, 10 * a.n_train, 25 * a.n_train):
            aug, comb = fit_mse(big[:, :m])
            table["n_aug_sweep"][m] = {"augmented": aug.tolist(), "combined": comb.tolist()}
            print(f"| {m} | {(aug / mse_train).mean():.3f} | {(comb / mse_train).mean():.3f} |")
        m = 2 * a.n_train
        print(f"\nAt the best monitored epoch, {m} samples: sampler")
        print("| sampler | augmented ratio | augmented + train ratio | seconds |")
        print("|---|---|---|---|")
        for name, cfgs in (("DDIM-20", gcfg), ("DDIM-100", DDPMConfig(**{**gcfg.__dict__, "ddim_steps": 100})),
                           ("ancestral-1000", DDPMConfig(**{**gcfg.__dict__, "sampler": "ddpm"}))):
            t0 = time.perf_counter()
            samples = jax.block_until_ready(draw(make_generator("ddpm", cfgs, a.n_spins), st, m, k=13))
            dt = time.perf_counter() - t0
            aug, comb = fit_mse(samples)
            table[f"sampler_{name}"] = {"augmented": aug.tolist(), "combined": comb.tolist()}
            print(f"| {name} | {(aug / mse_train).mean():.3f} | {(comb / mse_train).mean():.3f} | {dt:.0f} |")

    out = {"args": vars(a), "time_s": time.perf_counter() - t_all, "curve": {k: np.asarray(v).tolist() for k, v in
                                                                              c._asdict().items()}, "table": table}
    with open(os.path.join(a.out, "evidence.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s; wrote {a.out}/evidence.json")


if __name__ == "__main__":
    main()
