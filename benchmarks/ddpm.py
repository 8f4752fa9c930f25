"""DDPM speed: training steps/s, samples/s (DDIM and full ancestral), and the fraction of this CPU's float32 matmul
peak that training reaches, all measured in one process (the machine is shared and noisy).

Run from the repository root:

    PYTHONPATH=. python benchmarks/ddpm.py                 # N = 40, batch 256, paper widths
    PYTHONPATH=. python benchmarks/ddpm.py --quick         # fewer samples / repeats
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from ising_diffusion.generative.ddpm import DDPMConfig, make_ddpm


def matmul_peak(n: int = 1024, repeats: int = 20) -> float:
    """Best observed float32 GFLOP/s of a jitted ``(n, n) @ (n, n)`` product (a chain, so nothing is skipped)."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)

    @jax.jit
    def chain(a):
        def body(x, _):
            return (x @ a) * (1.0 / n), None

        return jax.lax.scan(body, a, None, length=8)[0]

    chain(a).block_until_ready()
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        chain(a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 8 * 2 * n**3 / best / 1e9


def network_flops_per_sample(params) -> int:
    """Forward multiply-adds x 2 of the MLP for one sample (every kernel is used once)."""
    return int(sum(2 * np.prod(k.shape) for k in jax.tree.leaves(params) if k.ndim == 2))


def best_time(fn, repeats):
    fn()  # compile + warm up
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-spins", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--scan-steps", type=int, default=50, help="training steps per compiled lax.scan call")
    ap.add_argument("--ddim-samples", type=int, default=10_000)
    ap.add_argument("--ancestral-samples", type=int, default=1_000)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeats = 2 if args.quick else 5
    if args.quick:
        args.ddim_samples, args.ancestral_samples = 2_000, 200

    n = args.n_spins
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}")
    peak_before = matmul_peak()
    cfg = DDPMConfig(batch_size=args.batch_size)
    gen = make_ddpm(cfg, n)
    x = jax.random.rademacher(jax.random.key(1), (2000, n)).astype(jnp.float32)
    state = gen.init(jax.random.key(0), x)
    fwd = network_flops_per_sample(state.params)
    train = jax.jit(gen.train, static_argnames="n_steps")
    holder = {"s": state}

    def run_train():
        holder["s"], losses = train(jax.random.key(2), holder["s"], x, n_steps=args.scan_steps)
        losses.block_until_ready()

    t_train = best_time(run_train, repeats)
    steps_per_s = args.scan_steps / t_train
    train_gflops = 3 * fwd * args.batch_size * steps_per_s / 1e9  # backward ~ 2x forward

    results = {}
    for sampler, m in (("ddim", args.ddim_samples), ("ddpm", args.ancestral_samples)):
        g = make_ddpm(DDPMConfig(batch_size=args.batch_size, sampler=sampler), n)
        sample = jax.jit(g.sample, static_argnames="n_samples")
        t = best_time(lambda: sample(jax.random.key(3), holder["s"], n_samples=m).block_until_ready(),
                      1 if sampler == "ddpm" else repeats)
        n_calls = cfg.ddim_steps if sampler == "ddim" else cfg.n_timesteps
        results[sampler] = (m, t, m / t, fwd * m * n_calls / t / 1e9)
    peak_after = matmul_peak()
    peak = max(peak_before, peak_after)

    print(f"\nN = {n}, widths {cfg.widths}, skips {cfg.skip}, time embedding {cfg.time_embed_dim}; "
          f"{fwd / 2 / 1e6:.2f} M multiply-adds per sample per network call")
    print(f"float32 matmul peak (1024^3, best of 20): {peak_before:.1f} GFLOP/s before, {peak_after:.1f} after")
    print("| what | rate | GFLOP/s | fraction of peak |")
    print("|---|---|---|---|")
    print(f"| training, batch {args.batch_size}, {args.scan_steps} steps per scan | {steps_per_s:.1f} steps/s | "
          f"{train_gflops:.1f} | {train_gflops / peak:.0%} |")
    for sampler, (m, t, rate, gf) in results.items():
        name = f"DDIM-{cfg.ddim_steps}" if sampler == "ddim" else f"ancestral DDPM ({cfg.n_timesteps} steps)"
        print(f"| {name}, {m} samples in {t:.1f} s | {rate:.0f} samples/s | {gf:.1f} | {gf / peak:.0%} |")


if __name__ == "__main__":
    main()
