"""Evidence for the baseline generators (Fig. 5 setting): erasure-machine MSE from RBM / VAE / GAN-augmented data.

N = 40, g = 1 SK truth, training sets of several sizes drawn by Metropolis; for each seed and size: the MSE of the
erasure machine (eps chosen on the default grid by the reference rule) from the training data alone, and, per
generator trained for a fixed number of epochs, from 10x-augmented data alone and from augmented + training data.

    PYTHONPATH=. python experiments/evidence_baselines.py                      # full run (CPU: tens of minutes)
    PYTHONPATH=. python experiments/evidence_baselines.py --seeds 1 --sizes 200 --epochs 2 --out /tmp/q.json

Results go to a JSON file (one record per seed, size and generator) and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.generative.batching import steps_per_epoch
from ising_diffusion.generative.gan import GANConfig, distinct_patterns, make_gan
from ising_diffusion.generative.rbm import RBMConfig, make_rbm
from ising_diffusion.generative.vae import VAEConfig, make_vae
from ising_diffusion.inference import erasure_machine_auto
from ising_diffusion.ising import parameter_mse, sk_params
from ising_diffusion.sampling import metropolis_sample

N_SPINS = 40
GENERATORS = {"rbm": (make_rbm, RBMConfig()), "vae": (make_vae, VAEConfig()), "gan": (make_gan, GANConfig())}


def _mse(truth, spins) -> tuple[float, float]:
    fit = erasure_machine_auto(spins)
    return float(parameter_mse(truth, fit.params)), float(fit.eps)


def _save(path, args, records):
    atomic_write(path, lambda f: f.write(json.dumps(dict(args=args, records=records), indent=1)), mode="w")


def run(seeds: int, sizes: list[int], epochs: int, aug_factor: int, generators: list[str], g: float,
        progress: bool = True, out: str | None = None, args: dict | None = None) -> list[dict]:
    """All (seed, size, generator) jobs; the records so far are saved to ``out`` after every job."""
    records = []
    jobs = [(s, m) for s in range(seeds) for m in sizes]
    bar = tqdm(total=len(jobs) * (1 + len(generators)), disable=not progress, desc="baselines")
    # build each generator once: its jitted train/sample are cached per instance, so reuse avoids recompiling
    built = {name: GENERATORS[name][0](GENERATORS[name][1], N_SPINS) for name in generators}
    data_cache = {}
    for seed, m in jobs:
        k_truth, k_data, k_gen = jax.random.split(jax.random.key(1000 + seed), 3)
        truth = sk_params(k_truth, N_SPINS, g)
        # one Metropolis set per seed; smaller training sets are its prefixes (nested, as in a data-size sweep)
        if seed not in data_cache:
            data_cache[seed] = metropolis_sample(k_data, truth, max(sizes))[0]
        train = data_cache[seed][:m]
        t0 = time.time()
        mse_train, eps_train = _mse(truth, train)
        records.append(dict(seed=seed, size=m, generator="train-only", mse=mse_train, eps=eps_train,
                            distinct_train=distinct_patterns(train), seconds=time.time() - t0))
        bar.update()
        for name in generators:
            cfg, gen = GENERATORS[name][1], built[name]
            n_steps = epochs * steps_per_epoch(m, cfg.batch_size)
            t0 = time.time()
            k_init, k_train, k_sample = jax.random.split(jax.random.fold_in(k_gen, list(GENERATORS).index(name)), 3)
            state = gen.init(k_init, train)
            state, losses = gen.train(k_train, state, train, n_steps)
            aug = gen.sample(k_sample, state, aug_factor * m)
            t_gen = time.time() - t0
            mse_aug, eps_aug = _mse(truth, aug)
            mse_both, eps_both = _mse(truth, jnp.concatenate([aug, train]))
            # how much of the augmented set is a copy of a training pattern (memorisation) and how diverse it is
            train_set = {row.tobytes() for row in np.asarray(train > 0)}
            copied = float(np.mean([row.tobytes() in train_set for row in np.asarray(aug > 0)]))
            records.append(dict(seed=seed, size=m, generator=name, n_steps=n_steps, epochs=epochs,
                                final_loss=float(np.mean(np.asarray(losses)[-50:])), mse_aug=mse_aug, eps_aug=eps_aug,
                                mse_aug_train=mse_both, eps_aug_train=eps_both, mse_train=mse_train,
                                distinct_aug=distinct_patterns(aug), copied_fraction=copied,
                                seconds_train_sample=t_gen))
            bar.update()
            if out:
                _save(out, args, records)
    bar.close()
    return records


def table(records: list[dict]) -> str:
    sizes = sorted({r["size"] for r in records})
    names = [n for n in GENERATORS if any(r["generator"] == n for r in records)]
    lines = ["| M | train only | " + " | ".join(f"{n} aug | {n} aug+train" for n in names) + " |",
             "|---" * (2 + 2 * len(names)) + "|"]

    def cell(vals):
        vals = np.asarray(vals)
        return f"{vals.mean():.5f} ± {vals.std(ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else 0:.5f}"

    for m in sizes:
        row = [str(m), cell([r["mse"] for r in records if r["size"] == m and r["generator"] == "train-only"])]
        for n in names:
            rs = [r for r in records if r["size"] == m and r["generator"] == n]
            row += [cell([r["mse_aug"] for r in rs]), cell([r["mse_aug_train"] for r in rs])]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "| M | generator | distinct patterns in 10M samples | copied from train | final loss | steps |",
              "|---|---|---|---|---|---|"]
    for m in sizes:
        for n in names:
            rs = [r for r in records if r["size"] == m and r["generator"] == n]
            lines.append(f"| {m} | {n} | {np.mean([r['distinct_aug'] for r in rs]):.0f} | "
                         f"{np.mean([r['copied_fraction'] for r in rs]):.3f} | "
                         f"{np.mean([r['final_loss'] for r in rs]):.3f} | {rs[0]['n_steps']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000])
    ap.add_argument("--epochs", type=int, default=200, help="training epochs for every generator (fixed length)")
    ap.add_argument("--aug-factor", type=int, default=10)
    ap.add_argument("--generators", nargs="+", default=list(GENERATORS), choices=list(GENERATORS))
    ap.add_argument("--g", type=float, default=1.0)
    ap.add_argument("--out", default="experiments/results/evidence_baselines.json")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    records = run(args.seeds, args.sizes, args.epochs, args.aug_factor, args.generators, args.g,
                  progress=not args.no_progress, out=args.out, args=vars(args))
    _save(args.out, vars(args), records)
    print(table(records))


if __name__ == "__main__":
    main()
