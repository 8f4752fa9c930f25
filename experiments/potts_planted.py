"""Potts inference on planted truths: parameter MSE, precision of the true graph and wall time of plm and mf DCA.

Run: ``PYTHONPATH=$PWD python experiments/potts_planted.py`` (the numbers quoted in ``docs/potts.md``).
"""

import time

import jax
import numpy as np

from ising_diffusion import contact_precision, contact_scores, dca, potts_parameter_mse, potts_sparse_params
from ising_diffusion.potts_sampling import potts_gibbs_sample


def main():
    length, q = 20, 4
    params, graph = potts_sparse_params(jax.random.key(0), length, q, degree=2.0, g=1.0)
    n_edges = int(graph.sum()) // 2
    samples, _ = potts_gibbs_sample(jax.random.key(1), params, 4000, n_chains=400, burn_in=200, thin=10)
    samples = np.asarray(samples)
    print(f"planted sparse truth: L={length}, q={q}, {n_edges} edges, g=1.0; Gibbs samples")
    print(f"{'method':<12}{'M':>6}{'MSE':>10}{'prec(edges)':>13}{'time_s':>9}")
    for m in (500, 4000):
        for method, opts in [("plm", {}), ("plm l2=cv", {"l2": "cv"}), ("mf", {})]:
            t0 = time.perf_counter()
            res = dca(samples[:m], method=method.split()[0], q=q, gap_state=None, progress=False, **opts)
            np.asarray(res.scores)
            dt = time.perf_counter() - t0
            prec = contact_precision(res.scores, graph, top=n_edges, min_separation=1)
            mse = float(potts_parameter_mse(params, res.params))
            print(f"{method:<12}{m:>6}{mse:>10.4f}{prec:>13.2f}{dt:>9.1f}")


if __name__ == "__main__":
    main()
