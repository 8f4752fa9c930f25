"""Device check: what this machine does with the paper's diffusion model, in one script of under ten minutes.

1. Prints ``jax.devices()``, the backend and the library versions.
2. Measures the device's float32 matmul peak (``benchmarks/ddpm.py``'s ``matmul_peak``, before and after the timings;
   the larger is used).
3. Times DDPM training at the paper's width (widths (128, 256, 512), batch 256, N = 20, learning rate 1e-4) as
   optimiser steps/s for 2 seeds vmapped, and DDIM / full ancestral sampling as samples/s, each with its GFLOP/s as a
   fraction of that peak (training FLOPs counted as 3x the forward pass).
4. Runs one Fig. 2 point: planted SK model, N = 20, g = 1, 400 training and 50 test samples drawn exactly
   (``exact_sample``), 2 seeds batched in one ``augment_seeds`` call (seed axis sharded over devices when several are
   visible), with a training budget chosen to fit ``--budget-s``: the cost of one training step, one monitor point
   (DDIM samples, the solver fits and held-out scores of ``augment``'s kernel), the final piece and the compiles is
   measured first (the estimator behind ``--estimate``), then the number of
   steps and of monitor points is chosen (``--n-steps`` / ``--monitor-steps`` fix them instead).
5. Writes ``device_check.json`` (all numbers, the plan and its predicted vs. measured time), ``curve.csv`` (per seed
   and monitor point: generated / train / test energy variance, MSE of the augmented and combined fits, loss) and
   ``curve.png`` (generated/test variance ratio and MSE against optimiser steps) to ``--out``.

Run from the repository root:

    PYTHONPATH=. python benchmarks/device_check.py --out runs/device_check            # GPU: 83 s on an H200
    PYTHONPATH=. python benchmarks/device_check.py --tiny --out /tmp/device_check     # CPU smoke test: seconds
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import math
import platform
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``ising_diffusion`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

from benchmarks.ddpm import best_time, matmul_peak, network_flops_per_sample  # noqa: E402
from ising_diffusion.augment import AugmentConfig, augment_seeds  # noqa: E402
from ising_diffusion.io.atomic import atomic_write  # noqa: E402
from ising_diffusion.generative.ddpm import DDPMConfig, make_ddpm  # noqa: E402
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT  # noqa: E402
from ising_diffusion.experiments.estimate import PointWork, measure  # noqa: E402
from ising_diffusion.ising import exact_sample, sk_params  # noqa: E402

# (full, tiny) settings; ``None`` in the full column means "depends on the backend" (see _settings)
_FULL = dict(n_spins=20, g=1.0, n_train=400, n_test=50, seeds=2, widths=(128, 256, 512), batch_size=256,
             learning_rate=1e-4, n_timesteps=1000, ddim_steps=50, n_monitor_samples=1000, n_points=25,
             max_steps=50_000, budget_s=300.0, peak_n=None, scan_steps=None, ddim_samples=None,
             ancestral_samples=None, repeats=3, n_steps=None, monitor_steps=None)
_TINY = dict(n_spins=8, g=1.0, n_train=64, n_test=16, seeds=2, widths=(16, 32), batch_size=32, learning_rate=1e-3,
             n_timesteps=20, ddim_steps=5, n_monitor_samples=64, n_points=4, max_steps=400, budget_s=3.0,
             peak_n=128, scan_steps=10, ddim_samples=64, ancestral_samples=16, repeats=2,
             n_steps=200, monitor_steps=50)


def _settings(args) -> dict:
    s = dict(_TINY if args.tiny else _FULL)
    for k in s:
        v = getattr(args, k, None)
        if v is not None:
            s[k] = tuple(v) if k == "widths" else v
    if getattr(args, "budget_s", None) is not None and getattr(args, "n_steps", None) is None:
        s["n_steps"] = s["monitor_steps"] = None  # a budget on the command line replaces tiny's fixed steps
    gpu = jax.default_backend() != "cpu"
    # a GPU needs large problems to show its peak and fast steps to fill the time; a CPU the reverse
    defaults = {"peak_n": 4096 if gpu else 1024, "scan_steps": 500 if gpu else 50,
                "ddim_samples": 10_000 if gpu else 1000, "ancestral_samples": 1000 if gpu else 50}
    for k, v in defaults.items():
        if s[k] is None:
            s[k] = v
    return s


def environment() -> dict:
    """Devices, backend and versions (printed and stored)."""
    import flax
    import optax

    try:
        import jaxlib

        jaxlib_version = jaxlib.__version__
    except ImportError:  # pragma: no cover
        jaxlib_version = "?"
    devs = jax.devices()
    return {"devices": [str(d) for d in devs], "device_kind": devs[0].device_kind, "n_devices": len(devs),
            "backend": jax.default_backend(), "jax": jax.__version__, "jaxlib": jaxlib_version,
            "flax": flax.__version__, "optax": optax.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


def seed_mesh(n_seeds: int) -> Mesh | None:
    """A 1-D ``("seeds",)`` mesh over as many devices as divide ``n_seeds`` (``None`` with one device)."""
    n_dev = max(d for d in range(1, len(jax.devices()) + 1) if n_seeds % d == 0)
    if n_dev == 1:
        return None
    return Mesh(np.asarray(jax.devices()[:n_dev]), ("seeds",))


def _shard(tree, mesh):
    if mesh is None:
        return tree
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec("seeds")))


def time_pieces(s: dict, ddpm_cfg: DDPMConfig, aug_template: AugmentConfig, peak_gflops: float, mesh) -> dict:
    """Best-of-``repeats`` timings of every jitted piece of an augmentation run at the check's sizes, vmapped over
    seeds: a chunk of training steps, DDIM and ancestral sampling, and ``augment``'s kernel (init, a monitor point,
    the final piece; :func:`ising_diffusion.experiments.estimate.measure`). Also returns the compile+first-call
    overhead of each piece (seconds)."""
    n, S = s["n_spins"], s["seeds"]
    gen = make_ddpm(ddpm_cfg, n)
    x = _shard(jax.random.rademacher(jax.random.key(1), (S, s["n_train"], n)).astype(jnp.float32), mesh)
    keys = _shard(jax.random.split(jax.random.key(2), S), mesh)
    t0 = time.perf_counter()
    state = jax.block_until_ready(jax.jit(jax.vmap(gen.init))(keys, x))
    t_init = time.perf_counter() - t0
    params0 = jax.tree.map(lambda a: a[0], state.params)
    fwd = network_flops_per_sample(params0)

    train = jax.jit(jax.vmap(lambda k, st, xx: gen.train(k, st, xx, s["scan_steps"])))
    holder = {"s": state}

    def run_train():
        holder["s"], losses = train(keys, holder["s"], x)
        losses.block_until_ready()

    t0 = time.perf_counter()
    run_train()
    compile_train = time.perf_counter() - t0
    t_train = best_time(run_train, s["repeats"])
    steps_per_s = s["scan_steps"] / t_train  # vmapped steps: every seed takes one step
    out = {"forward_mflop_per_sample": fwd / 1e6,
           "training": {"steps_per_s": steps_per_s, "seed_steps_per_s": S * steps_per_s,
                        "gflops": 3 * fwd * ddpm_cfg.batch_size * S * steps_per_s / 1e9,
                        "scan_steps": s["scan_steps"], "compile_s": compile_train - t_train}}
    out["training"]["fraction_of_peak"] = out["training"]["gflops"] / peak_gflops

    for sampler, m, calls in (("ddim", s["ddim_samples"], ddpm_cfg.ddim_steps),
                              ("ancestral", s["ancestral_samples"], ddpm_cfg.n_timesteps)):
        g = make_ddpm(dataclasses.replace(ddpm_cfg, sampler="ddim" if sampler == "ddim" else "ddpm"), n)
        sample = jax.jit(jax.vmap(lambda k, st, g=g, m=m: g.sample(k, st, m)))
        fn = lambda: sample(keys, holder["s"]).block_until_ready()  # noqa: E731
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        t = best_time(fn, 1 if sampler == "ancestral" else s["repeats"])
        rate = S * m / t
        out[sampler] = {"samples_per_seed": m, "seconds": t, "samples_per_s": rate, "network_calls": calls,
                        "gflops": fwd * rate * calls / 1e9, "compile_s": max(first - t, 0.0)}
        out[sampler]["fraction_of_peak"] = out[sampler]["gflops"] / peak_gflops

    # augment's own kernel (init, a monitor point, the final piece, a checkpoint save) on data of the same shapes:
    # the costs the budget plan needs (the estimator behind --estimate)
    out["kernel"] = measure(PointWork("fig2", "ddpm", ddpm_cfg, aug_template, n_spins=n, n_train=s["n_train"],
                                      n_test=s["n_test"], n_augmented=10 * s["n_train"], n_seeds=S))
    return out


def plan(s: dict, pieces: dict, budget_s: float, n_steps: int | None, monitor_steps: int | None) -> dict:
    """Number of optimiser steps and monitor points that fit ``budget_s`` given the measured piece costs.

    Cost model (that of ``--estimate``): ``augment``'s compiles + init + ``steps x step time`` + ``points x (monitor
    point + checkpoint save)`` + the final piece.
    """
    k = pieces["kernel"]
    t_step = 1.0 / pieces["training"]["steps_per_s"]
    t_monitor = k["monitor"] + k["save"]
    t_compile = k["compile"]
    t_fixed = t_compile + k["init"] + k["final"]
    if n_steps is None:
        points = s["n_points"]
        room = budget_s - t_fixed
        while points > 2 and room - points * t_monitor < 0.5 * room:  # keep at least half the time for training
            points -= 1
        n_steps = int(max(room - points * t_monitor, 0.0) / t_step)
        n_steps = max(min(n_steps, s["max_steps"]), 2)
        monitor_steps = max(1, n_steps // points)
    elif monitor_steps is None:
        monitor_steps = max(1, n_steps // s["n_points"])
    points = max(1, n_steps // monitor_steps)
    n_steps = points * monitor_steps
    predicted = t_fixed + n_steps * t_step + points * t_monitor
    return {"n_steps": n_steps, "monitor_steps": monitor_steps, "n_points": points, "budget_s": budget_s,
            "predicted_s": predicted, "step_s": t_step, "monitor_point_s": t_monitor, "fixed_s": t_fixed,
            "compile_s": t_compile}


def augment_config(p: dict, s: dict) -> AugmentConfig:
    """The :class:`AugmentConfig` of the plan: the ``paper`` presets' procedure (erasure machine, the paper's
    stopping rule) with the planned step budget."""
    return AugmentConfig(**{**PAPER_AUGMENT, "n_steps": p["n_steps"], "monitor_steps": p["monitor_steps"]},
                         n_monitor_samples=s["n_monitor_samples"])


def fig2_point(s: dict, ddpm_cfg: DDPMConfig, aug_cfg: AugmentConfig, p: dict, mesh, seed: int = 0):
    """One Fig. 2 point (planted SK, exact samples) for ``s["seeds"]`` seeds in one ``augment_seeds`` call."""
    n, S = s["n_spins"], s["seeds"]
    keys = jax.random.split(jax.random.key(seed), S)

    @jax.jit
    def task(keys):
        def one(k):
            truth = sk_params(jax.random.fold_in(k, 1), n, s["g"])
            pool = exact_sample(jax.random.fold_in(k, 2), truth, s["n_train"] + s["n_test"])
            return truth, pool[s["n_test"]:], pool[:s["n_test"]]

        return jax.vmap(one)(keys)

    truth, train, test = task(keys)
    gkeys = jax.vmap(lambda k: jax.random.fold_in(k, 3))(keys)
    gkeys, train, test, truth = _shard((gkeys, train, test, truth), mesh)
    t0 = time.perf_counter()
    res = augment_seeds(gkeys, train, test, generator="ddpm", config=aug_cfg, generator_config=ddpm_cfg,
                        true_params=truth, progress=False)
    wall = time.perf_counter() - t0
    return res, wall


def curve_rows(res) -> list[dict]:
    c = res.curve
    rows = []
    for i in range(np.asarray(c.steps).shape[0]):
        for j, st in enumerate(np.asarray(c.steps)[i]):
            rows.append({"seed": i, "step": int(st), "generated_variance": float(c.generated_variance[i, j]),
                         "train_variance": float(c.train_variance[i]), "test_variance": float(c.test_variance[i]),
                         "test_variance_low": float(c.test_variance_low[i]),
                         "test_variance_high": float(c.test_variance_high[i]),
                         "mse": float(c.mse[i, j]), "mse_combined": float(c.mse_combined[i, j]),
                         "mse_train_only": float(res.mse["train"][i]), "loss": float(c.loss[i, j])})
    return rows


def write_csv(path, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    atomic_write(path, lambda f: f.write(buf.getvalue()), mode="w")


def plot_curve(path, rows, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for seed in sorted({r["seed"] for r in rows}):
        rs = [r for r in rows if r["seed"] == seed]
        st = [r["step"] for r in rs]
        a1.plot(st, [r["generated_variance"] / r["test_variance"] for r in rs], "o-", ms=3, label=f"seed {seed}")
        line, = a2.plot(st, [r["mse"] for r in rs], "o-", ms=3, label=f"seed {seed}: augmented")
        a2.plot(st, [r["mse_combined"] for r in rs], "s--", ms=3, color=line.get_color(),
                label=f"seed {seed}: augmented + train")
        a2.axhline(rs[0]["mse_train_only"], color=line.get_color(), lw=0.8, ls=":", label=f"seed {seed}: train only")
    a1.axhline(1.0, color="k", lw=0.8)
    a1.set(xlabel="optimiser steps", ylabel="generated / test energy variance", yscale="log")
    a2.set(xlabel="optimiser steps", ylabel="parameter MSE", yscale="log")
    a1.legend(fontsize=7)
    a2.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buf.getvalue()))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/device_check", help="output folder (default runs/device_check)")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes: a CPU smoke test of a few seconds")
    ap.add_argument("--budget-s", type=float, default=None, dest="budget_s",
                    help="seconds for the Fig. 2 point, compiles included (default 300; tiny 3)")
    ap.add_argument("--n-steps", type=int, default=None, help="fix the optimiser steps instead of fitting the budget")
    ap.add_argument("--monitor-steps", type=int, default=None, help="steps between monitor points (with --n-steps)")
    ap.add_argument("--n-points", type=int, default=None, help="monitor points to aim for (default 25; tiny 4)")
    ap.add_argument("--max-steps", type=int, default=None, help="cap on the planned steps (default 50000)")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None, dest="batch_size")
    ap.add_argument("--learning-rate", type=float, default=None, dest="learning_rate")
    ap.add_argument("--widths", type=int, nargs="+", default=None)
    ap.add_argument("--n-monitor-samples", type=int, default=None, dest="n_monitor_samples")
    ap.add_argument("--skip-timing", action="store_true",
                    help="skip the separate sampler timings (the plan still measures what it needs)")
    args = ap.parse_args(argv)
    if args.monitor_steps is not None and args.n_steps is None:
        ap.error("--monitor-steps needs --n-steps")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    t_start = time.perf_counter()
    s = _settings(args)
    env = environment()
    print(f"jax.devices(): {jax.devices()}")
    print(f"backend {env['backend']} ({env['device_kind']}), jax {env['jax']}, jaxlib {env['jaxlib']}, "
          f"flax {env['flax']}, optax {env['optax']}, numpy {env['numpy']}, python {env['python']}")
    mesh = seed_mesh(s["seeds"])
    print(f"seed axis: {s['seeds']} seeds" + (f" sharded over {mesh.devices.size} devices" if mesh else
                                              " on one device"))

    net = dict(widths=s["widths"], batch_size=s["batch_size"], learning_rate=s["learning_rate"],
               n_timesteps=s["n_timesteps"], ddim_steps=s["ddim_steps"])
    ddpm_cfg = DDPMConfig(**net) if args.tiny else DDPMConfig.paper(**net)
    aug_template = augment_config({"n_steps": 2, "monitor_steps": 1}, s)
    peak_before = matmul_peak(s["peak_n"], repeats=10 if not args.tiny else 3)
    print(f"float32 matmul peak ({s['peak_n']}^3 chain): {peak_before:.1f} GFLOP/s")
    if args.skip_timing:
        s["ddim_samples"], s["ancestral_samples"] = s["n_monitor_samples"], 1
    pieces = time_pieces(s, ddpm_cfg, aug_template, peak_before, mesh)
    peak_after = matmul_peak(s["peak_n"], repeats=10 if not args.tiny else 3)
    peak = max(peak_before, peak_after)
    for k in ("training", "ddim", "ancestral"):
        pieces[k]["fraction_of_peak"] = pieces[k]["gflops"] / peak
    tr = pieces["training"]
    print(f"\nN = {s['n_spins']}, widths {s['widths']}, batch {s['batch_size']}, {s['seeds']} seeds vmapped; "
          f"peak {peak_before:.1f} GFLOP/s before, {peak_after:.1f} after")
    print("| what | rate | GFLOP/s | fraction of peak |")
    print("|---|---|---|---|")
    print(f"| training, {tr['scan_steps']} steps per scan | {tr['steps_per_s']:.1f} steps/s ({s['seeds']} seeds) | "
          f"{tr['gflops']:.1f} | {tr['fraction_of_peak']:.0%} |")
    for k, name in (("ddim", f"DDIM-{ddpm_cfg.ddim_steps}"), ("ancestral", f"ancestral ({ddpm_cfg.n_timesteps})")):
        r = pieces[k]
        print(f"| {name}, {s['seeds']}x{r['samples_per_seed']} samples in {r['seconds']:.2f} s | "
              f"{r['samples_per_s']:.0f} samples/s | {r['gflops']:.1f} | {r['fraction_of_peak']:.0%} |")

    p = plan(s, pieces, s["budget_s"], s["n_steps"], s["monitor_steps"])
    aug_cfg = augment_config(p, s)
    print(f"\nFig. 2 point: {p['n_steps']} steps, a monitor point every {p['monitor_steps']} steps ({p['n_points']} "
          f"points, {s['n_monitor_samples']} samples each); predicted {p['predicted_s']:.1f} s for a budget of "
          f"{p['budget_s']:.0f} s")
    res, wall = fig2_point(s, ddpm_cfg, aug_cfg, p, mesh)
    rows = curve_rows(res)
    steps = np.asarray(res.curve.steps)
    out = Path(args.out)
    numbers = {
        "environment": env, "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()},
        "matmul_peak_gflops": {"before": peak_before, "after": peak_after, "used": peak},
        "pieces": pieces, "plan": p, "augment_config": dataclasses.asdict(aug_cfg),
        "fig2": {"wall_s": wall, "predicted_s": p["predicted_s"], "timing": {k: float(v) for k, v in res.timing.items()},
                 "mse": {k: [float(x) for x in v] for k, v in res.mse.items()},
                 "stop_rule": aug_cfg.stopping, "stop_step": [int(x) for x in np.asarray(res.stop_step)],
                 "best_step": [int(steps[i, np.argmin(np.asarray(res.curve.mse)[i])]) for i in range(steps.shape[0])],
                 "recommended": [bool(x) for x in np.asarray(res.recommended)],
                 "crossed_robust": [bool(c) for c in res.crossed_robust],
                 "crossed_paper": [bool(c) for c in res.crossed_paper]},
    }
    numbers["total_s"] = time.perf_counter() - t_start
    atomic_write(out / "device_check.json", lambda f: f.write(json.dumps(numbers, indent=2)), mode="w")
    write_csv(out / "curve.csv", rows)
    plot_curve(out / "curve.png", rows, f"device check: N={s['n_spins']}, g={s['g']}, {s['n_train']} train, "
               f"widths {s['widths']}, batch {s['batch_size']}, lr {s['learning_rate']} ({env['device_kind']})")
    f2 = numbers["fig2"]
    print(f"Fig. 2 point ran in {wall:.1f} s (predicted {p['predicted_s']:.1f} s); stop step per seed "
          f"({f2['stop_rule']} rule) {f2['stop_step']}, recommended {f2['recommended']}; variance rule crossed: "
          f"{f2['crossed_robust']}; lowest monitored MSE at {f2['best_step']}")
    print("MSE train only / augmented / combined per seed: "
          + "; ".join(f"{a:.4f} / {b:.4f} / {c:.4f}" for a, b, c in
                      zip(f2["mse"]["train"], f2["mse"]["augmented"], f2["mse"]["combined"])))
    print(f"total {numbers['total_s']:.1f} s; wrote {out}/device_check.json, curve.csv, curve.png")
    return numbers


if __name__ == "__main__":
    main()
