"""Is the Potts map's Gibbs burn-in long enough? Samples of the potts_quick truths (L = 20, q = 4, g = 1, seeds 0-2)
after ``burn_in`` sweeps from uniform random starts (one chain per sample, as the map draws them), compared with
samples after 2,000 sweeps: mean energy and the RMS difference of the pair frequencies, against the same RMS between
two independent 2,000-sweep sets (the sampling-noise floor).

Run: ``PYTHONPATH=$PWD python experiments/potts_map_burnin.py`` (the numbers quoted in ``docs/map.md``).
"""

import jax
import numpy as np

from ising_diffusion.experiments.configs.map import get_config
from ising_diffusion.experiments.potts_map import potts_task
from ising_diffusion.potts import potts_energy
from ising_diffusion.potts_sampling import potts_gibbs_sample

N, LONG = 1000, 2000


def pair_frequencies(x, q):
    o = np.eye(q, dtype=np.float32)[x].reshape(x.shape[0], -1)
    return o.T @ o / x.shape[0]


def main():
    cfg = get_config("potts_quick")
    tk = potts_task(cfg, ("potts_sparse", 20, 4, 1.0, 100))
    print(f"| seed | burn-in sweeps | mean energy | pair-frequency RMS vs {LONG} sweeps |")
    print("|---|---|---|---|")
    for s in range(cfg.n_seeds):
        truth = jax.tree.map(lambda a: a[s], tk.truth)

        def draw(key, sweeps):
            return np.asarray(potts_gibbs_sample(jax.random.key(key), truth, N, n_chains=N, burn_in=sweeps,
                                                 thin=1).samples)

        ref, ref2 = draw(100 + s, LONG), draw(200 + s, LONG)
        f_ref = pair_frequencies(ref, 4)
        for sweeps, x in ((20, draw(s, 20)), (100, draw(s, 100)), (cfg.burn_in, draw(s, cfg.burn_in)), (LONG, ref2)):
            e = np.asarray(potts_energy(truth, x))
            rms = float(np.sqrt(np.mean((pair_frequencies(x, 4) - f_ref) ** 2)))
            print(f"| {s} | {sweeps}{' (floor)' if sweeps == LONG else ''} | {e.mean():.3f} +- "
                  f"{e.std() / np.sqrt(N):.3f} | {rms:.5f} |")
        print(f"| {s} | reference, {LONG} | {float(np.asarray(potts_energy(truth, ref)).mean()):.3f} | - |")


if __name__ == "__main__":
    main()
