"""Attempted spin flips per second: ising_diffusion's Metropolis sampler against a Numba reference, in one process.

The reference is the best plain CPU code for the same algorithm: single-spin Metropolis with incrementally kept local
fields (a flip costs O(N)), sites in order, chains in parallel with ``numba.prange`` on all cores, float32 state, the
random number drawn only when the move raises the energy. Ours is :func:`ising_diffusion.sampling.run` (persistent
chains, ``n_sweeps`` sweeps per compiled call).

Run from the repository root (Numba is a benchmark-only extra)::

    PYTHONPATH=. python benchmarks/metropolis.py            # full table, N in {20, 40, 100, 400}, chains in {1, 64, 1024}
    PYTHONPATH=. python benchmarks/metropolis.py --quick    # N in {20, 100}, chains 1024

Each rate is the best of ``--repeats`` timed calls of at least ``--min-seconds``, ours and Numba's interleaved so that
load from other processes hits both alike. Compile time is the wall time of ``run.lower(...).compile()``.
"""

from __future__ import annotations

import argparse
import os
import time

import ising_diffusion  # noqa: F401  (imported first: sets the XLA CPU flag before JAX initialises)
import jax
import jax.numpy as jnp
import numba
import numpy as np

from ising_diffusion import sampling, sk_params


@numba.njit(parallel=True, fastmath=True)
def numba_sweeps(spins, fields, J, n_sweeps):  # pragma: no cover - benchmark only
    """``n_sweeps`` sweeps of every chain (rows of ``spins``/``fields``, updated in place); returns accepted flips."""
    n_chains, n = spins.shape
    accepted = np.zeros(n_chains, np.int64)
    for c in numba.prange(n_chains):
        s = spins[c]
        f = fields[c]
        acc = 0
        for _ in range(n_sweeps):
            for i in range(n):
                d_e = np.float32(2.0) * s[i] * f[i]
                if d_e <= 0 or np.random.random() < np.exp(-d_e):
                    s[i] = -s[i]
                    delta = np.float32(2.0) * s[i]
                    for j in range(n):
                        f[j] += delta * J[i, j]
                    acc += 1
        accepted[c] = acc
    return accepted.sum()


def _time(fn, min_seconds):
    """Seconds per call of ``fn`` (called until ``min_seconds`` passed)."""
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            return dt / calls


def bench(n, n_chains, g, repeats, min_seconds, flips_per_call):
    params = sk_params(jax.random.key(0), n, g)
    rng = np.random.default_rng(0)
    spins0 = np.where(rng.random((n_chains, n)) < 0.5, 1.0, -1.0).astype(np.float32)
    n_sweeps = max(1, int(flips_per_call / (n * n_chains)))

    # ours
    state = sampling.init(params, jnp.asarray(spins0))
    key = jax.random.key(1)
    t0 = time.perf_counter()
    compiled = sampling.run.lower(key, params, state, n_sweeps).compile()
    compile_s = time.perf_counter() - t0
    holder = {"state": state}

    def ours():
        holder["state"], info = compiled(key, params, holder["state"])
        jax.block_until_ready(holder["state"].spins)

    # Numba
    J = np.asarray(params.J, np.float32)
    s_nb = spins0.copy()
    f_nb = (np.asarray(params.h, np.float32)[None, :] + s_nb @ J).astype(np.float32)
    numba_sweeps(s_nb, f_nb, J, 1)

    def reference():
        numba_sweeps(s_nb, f_nb, J, n_sweeps)

    ours()
    t_ours, t_ref = np.inf, np.inf
    for _ in range(repeats):
        t_ours = min(t_ours, _time(ours, min_seconds))
        t_ref = min(t_ref, _time(reference, min_seconds))
    flips = n_sweeps * n * n_chains
    return flips / t_ours, flips / t_ref, compile_s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N in {20, 100}, 1024 chains only")
    ap.add_argument("--g", type=float, default=1.0, help="SK coupling scale")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=0.3)
    ap.add_argument("--flips-per-call", type=float, default=2e7)
    args = ap.parse_args()
    sizes = [20, 100] if args.quick else [20, 40, 100, 400]
    chains = [1024] if args.quick else [1, 64, 1024]
    print(f"jax {jax.__version__}, numba {numba.__version__}, {os.cpu_count()} CPUs, numba threads "
          f"{numba.get_num_threads()}, XLA small-while-loop flag set: {sampling.xla_cpu_flags_enabled()}, g={args.g}")
    print(f"{'N':>5} {'chains':>7} {'ours flips/s':>13} {'numba flips/s':>14} {'ours/numba':>11} {'compile s':>10}")
    for n in sizes:
        for c in chains:
            ours, ref, compile_s = bench(n, c, args.g, args.repeats, args.min_seconds, args.flips_per_call)
            print(f"{n:>5} {c:>7} {ours:>13.3e} {ref:>14.3e} {ours / ref:>11.2f} {compile_s:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
