"""The ``ising-diffusion`` command line.

Subcommands::

    ising-diffusion main                                  # the paper's core result at CPU scale (minutes)
    ising-diffusion run fig3 --preset quick --out runs/fig3   # any figure: fig2 .. fig6
    ising-diffusion sample --n-spins 20 --g 1 --n-samples 1000 --out data.npz
    ising-diffusion infer data.npz --method erasure [--truth truth.npz] [--out params.npz]
    ising-diffusion augment data.npz --n-augmented 4000 --out augmented.npz

Every subcommand explains its options with ``--help``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Sequence

__all__ = ["main", "build_parser"]

FIGURES = ("fig2", "fig3", "fig4", "fig5", "fig6")


def _bounded(cast, what: str, ok):
    """An argparse ``type`` that casts with ``cast`` and requires ``ok(value)``, naming ``what`` in its errors."""

    def parse(text: str):
        try:
            v = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
        return v

    return parse


_positive_int = _bounded(int, "a positive integer", lambda v: v >= 1)
_nonneg_int = _bounded(int, "a non-negative integer", lambda v: v >= 0)
_positive_float = _bounded(float, "a positive number", lambda v: v > 0)


def _existing_file(text: str) -> Path:
    p = Path(text)
    if not p.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ising-diffusion",
        description="Diffusion-model data augmentation for inverse Ising inference (Lim, Lee & Jo, PRE 2025).",
        epilog="Start with 'ising-diffusion main'. Each subcommand has its own --help.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.subcommands = sub.choices  # name -> subparser, so errors are reported with the subcommand's usage

    p = sub.add_parser("main", help="run the paper's core result on synthetic data (CPU, minutes)",
                       description="Run the main job (experiments/main.py); the remaining options are passed to it. "
                                   "See 'ising-diffusion main --help'.", add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER, help="options of the main job (--preset, --out, --seeds, ...)")

    p = sub.add_parser("run", help="run a figure's experiment (fig2 .. fig6)",
                       description="Run one figure's experiment; options after the figure name go to it "
                                   "(e.g. 'ising-diffusion run fig3 --help').")
    p.add_argument("figure", choices=FIGURES, help="which figure: fig2 (stopping curve), fig3 (MSE vs g), fig4 (MSE "
                                                  "vs training/augmented size), fig5 (generators), fig6 (retina)")
    p.add_argument("args", nargs=argparse.REMAINDER,
                   help="options of the figure (--preset quick|paper|tiny, --out DIR, --seeds S, --set KEY=VALUE)")

    p = sub.add_parser("sample", help="draw Ising samples (SK truth or a params file) into an .npz",
                       description="Draw samples of a pairwise Ising model into an .npz holding 'spins' (M, N) in "
                                   "{-1,+1} and the model's 'h' and 'J' (so 'infer' can score against them). The model "
                                   "is an SK truth (h, J ~ N(0, g^2/N)) unless --params gives one.")
    p.add_argument("--out", required=True, help="output .npz file")
    p.add_argument("--n-samples", type=_positive_int, default=1000, help="number of samples M (default 1000)")
    p.add_argument("--n-spins", type=_positive_int, default=20, help="N for an SK truth (default 20)")
    p.add_argument("--g", type=_positive_float, default=1.0, help="coupling scale g of the SK truth (default 1.0)")
    p.add_argument("--params", type=_existing_file, default=None,
                   help="an .npz with arrays 'h' (N,) and 'J' (N, N) to sample instead of an SK truth")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--sampler", choices=("auto", "exact", "metropolis"), default="auto",
                   help="exact enumeration (N <= 24), Metropolis chains, or auto: exact for N <= 20 (default auto)")
    p.add_argument("--n-chains", type=_positive_int, default=256, help="Metropolis chains (default 256)")
    p.add_argument("--burn-in", type=_nonneg_int, default=1000, help="Metropolis burn-in sweeps (default 1000)")
    p.add_argument("--thin", type=_positive_int, default=10, help="sweeps between samples of a chain (default 10)")

    p = sub.add_parser("infer", help="infer Ising parameters (h, J) from data",
                       description="Infer fields and couplings from observed spins; writes 'h' and 'J' to --out and "
                                   "prints the MSE against the truth when one is known (--truth, or 'h'/'J' stored in "
                                   "the data file by 'sample').")
    p.add_argument("data", type=_existing_file, help="an .npz (array 'spins', or --key) or .npy of shape (M, N)")
    p.add_argument("--method", default="erasure",
                   help="inference method: erasure (the paper's erasure machine with automatic eps; the default, "
                        "for reproducing the paper), or any method of ising_diffusion.infer such as pseudolikelihood "
                        "(fixed l2=1e-4), mle_exact, mle_mcmc, mean_field, tap, independent. The most accurate "
                        "estimate in our planted tests (docs/inference.md) is pseudolikelihood with a cross-validated "
                        "penalty, infer(spins, 'pseudolikelihood', l2='cv') in Python (default erasure)")
    p.add_argument("--key", default=None, help="name of the data array inside the .npz (default: 'spins')")
    p.add_argument("--encoding", choices=("spins", "binary"), default="spins",
                   help="values are spins {-1,+1} or binary {0,1} (converted by s = 2x - 1) (default spins)")
    p.add_argument("--truth", type=_existing_file, default=None, help="an .npz with the true 'h' and 'J' to score")
    p.add_argument("--out", default=None, help="output .npz for the inferred 'h' and 'J'")

    p = sub.add_parser("augment", help="train a generator on data and write augmented samples",
                       description="Split the data into training and held-out test sets, train the generator with the "
                                   "energy-variance stopping rule, write the generated samples ('samples') and the "
                                   "parameters inferred from training / augmented / augmented + training data to --out, "
                                   "and print the stopping epoch (and the MSEs when a truth is known).")
    p.add_argument("data", type=_existing_file, help="an .npz (array 'spins', or --key) or .npy of shape (M, N)")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--key", default=None, help="name of the data array inside the .npz (default: 'spins')")
    p.add_argument("--encoding", choices=("spins", "binary"), default="spins",
                   help="values are spins {-1,+1} or binary {0,1} (default spins)")
    p.add_argument("--test", type=_existing_file, default=None,
                   help="held-out test data (.npz/.npy); default: split --test-fraction off the data")
    p.add_argument("--test-fraction", type=float, default=0.125,
                   help="fraction of the data held out for the stopping rule when --test is not given (default 0.125)")
    p.add_argument("--generator", default="ddpm", help="ddpm (default), rbm, vae or gan")
    p.add_argument("--n-augmented", type=_positive_int, default=None,
                   help="number of generated samples (default: 10x the training size)")
    p.add_argument("--truth", type=_existing_file, default=None,
                   help="an .npz with the true 'h' and 'J' (default: those stored in the data file, if any)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override an AugmentConfig field, e.g. --set n_epochs=200 (repeatable)")
    p.add_argument("--generator-set", action="append", default=[], metavar="KEY=VALUE", dest="gen_overrides",
                   help="override a field of the generator's config, e.g. --generator-set learning_rate=3e-4")
    p.add_argument("--checkpoint-dir", default=None, help="folder for generator checkpoints (resume on rerun)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def _load_params(path: Path, parser: argparse.ArgumentParser):
    import numpy as np

    from ising_diffusion.ising import IsingParams

    with np.load(path) as f:
        if "h" not in f or "J" not in f:
            parser.error(f"{path} must hold arrays 'h' and 'J' (it has {list(f.keys())})")
        h, J = np.asarray(f["h"], np.float32), np.asarray(f["J"], np.float32)
    if h.ndim != 1 or J.shape != (h.shape[0], h.shape[0]):
        parser.error(f"{path}: need h of shape (N,) and J of shape (N, N); got {h.shape} and {J.shape}")
    if not np.allclose(J, J.T) or np.any(np.diag(J) != 0):
        parser.error(f"{path}: J must be symmetric with a zero diagonal")
    import jax.numpy as jnp

    return IsingParams(jnp.asarray(h), jnp.asarray(J))


def _stored_truth(path: Path):
    import numpy as np

    if path.suffix != ".npz":
        return None
    with np.load(path) as f:
        return path if ("h" in f and "J" in f) else None


def _load_spins(path: Path, key, encoding, parser):
    from ising_diffusion.data import load_npz

    try:
        return load_npz(path, key, encoding=encoding)
    except ValueError as e:
        parser.error(str(e))


def _cmd_sample(args, parser) -> int:
    import jax

    from ising_diffusion.data import save_npz
    from ising_diffusion.experiments_lib.synthetic import SamplerConfig, data_key, observed_samples, truth_key
    from ising_diffusion.ising import MAX_ENUMERATION_SPINS, sk_params

    key = jax.random.key(args.seed)
    params = _load_params(args.params, parser) if args.params else sk_params(truth_key(key), args.n_spins, args.g)
    n = params.h.shape[0]
    if args.sampler == "exact" and n > MAX_ENUMERATION_SPINS:
        parser.error(f"--sampler exact needs N <= {MAX_ENUMERATION_SPINS}; this model has N={n}")
    limit = {"auto": 20, "exact": MAX_ENUMERATION_SPINS, "metropolis": 0}[args.sampler]
    cfg = SamplerConfig(exact_max_spins=limit, n_chains=args.n_chains, burn_in=args.burn_in, thin=args.thin)
    t0 = time.perf_counter()
    spins = jax.block_until_ready(jax.jit(observed_samples, static_argnums=(2, 3))(data_key(key), params,
                                                                                    args.n_samples, cfg))
    how = "exact" if n <= limit else "metropolis"
    save_npz(args.out, spins=spins, h=params.h, J=params.J)
    print(f"wrote {args.n_samples} samples of N={n} spins ({how} sampling, {time.perf_counter() - t0:.1f} s) "
          f"with the model's h and J to {args.out}")
    return 0


def _infer(spins, method: str, parser):
    try:
        from ising_diffusion import infer  # the solver suite (issue 3)
    except ImportError:
        infer = None
    if infer is not None:
        try:
            return infer(spins, method=method)
        except ValueError as e:
            parser.error(str(e))
    if method != "erasure":
        parser.error(f"unknown --method {method!r}: this build has only 'erasure'")
    from ising_diffusion.inference import erasure_machine_auto

    return erasure_machine_auto(spins).params


def _cmd_infer(args, parser) -> int:
    from ising_diffusion.data import save_npz
    from ising_diffusion.ising import parameter_mse

    spins = _load_spins(args.data, args.key, args.encoding, parser)
    truth_path = args.truth or _stored_truth(args.data)
    truth = _load_params(truth_path, parser) if truth_path else None
    if truth is not None and truth.h.shape[0] != spins.shape[1]:
        parser.error(f"the truth has N={truth.h.shape[0]} spins but the data have {spins.shape[1]}")
    t0 = time.perf_counter()
    result = _infer(spins, args.method, parser)
    params = getattr(result, "params", result)
    elapsed = time.perf_counter() - t0
    print(f"inferred h ({params.h.shape[0]},) and J from {spins.shape[0]} samples with {args.method} "
          f"in {elapsed:.2f} s")
    if truth is not None:
        print(f"MSE against the truth ({truth_path}): {float(parameter_mse(truth, params)):.6g}")
    if args.out:
        save_npz(args.out, h=params.h, J=params.J)
        print(f"wrote h and J to {args.out}")
    return 0


def _cmd_augment(args, parser) -> int:
    import jax
    import numpy as np

    import ising_diffusion
    from ising_diffusion.data import save_npz, train_test_split
    from ising_diffusion.experiments_lib.entry import apply_overrides
    from ising_diffusion.experiments_lib.figures import make_generator_config

    if not hasattr(ising_diffusion, "augment"):
        parser.error("this build has no ising_diffusion.augment (the diffusion module is missing)")
    spins = _load_spins(args.data, args.key, args.encoding, parser)
    key = jax.random.key(args.seed)
    if args.test is not None:
        train, test = spins, _load_spins(args.test, args.key, args.encoding, parser)
    else:
        if not 0 < args.test_fraction < 1:
            parser.error(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
        try:
            train, test = train_test_split(jax.random.fold_in(key, 0), spins, args.test_fraction)
        except ValueError as e:
            parser.error(str(e))
    truth_path = args.truth or _stored_truth(args.data)
    truth = _load_params(truth_path, parser) if truth_path else None
    try:
        config = apply_overrides(ising_diffusion.AugmentConfig(), args.overrides) if args.overrides else None
        gen_over = apply_overrides({}, args.gen_overrides)
        gen_config = make_generator_config(args.generator, gen_over)
        res = ising_diffusion.augment(jax.random.fold_in(key, 1), train, test, generator=args.generator,
                                      n_augmented=args.n_augmented, config=config, generator_config=gen_config,
                                      true_params=truth, checkpoint_dir=args.checkpoint_dir,
                                      progress=not args.no_progress)
    except ValueError as e:
        parser.error(str(e))
    out = {"samples": res.samples, "train": train, "test": test}
    for part in ("train", "augmented", "combined"):
        p = getattr(res, f"params_{part}")
        out[f"h_{part}"], out[f"J_{part}"] = p.h, p.J
    save_npz(args.out, **out)
    print(f"trained {args.generator} on {train.shape[0]} samples (test {test.shape[0]}); stopped at epoch "
          f"{int(np.asarray(res.stop_epoch))}; wrote {res.samples.shape[0]} generated samples and the inferred "
          f"parameters to {args.out}")
    if truth is not None:
        for part in ("train", "augmented", "combined"):
            print(f"  MSE {part:>9}: {float(np.asarray(res.mse[part])):.6g}")
    return 0


def _run_entry(module: str, argv: Sequence[str], parser) -> int:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name in (module, module.split(".")[0]):
            parser.error(f"{module} is not available in this installation")
        raise
    mod.main(list(argv))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ising-diffusion`` console script.

    Args:
      argv: arguments (default ``sys.argv[1:]``).

    Returns:
      process exit status (argparse exits with status 2 on bad arguments).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # the entry points parse their own options (including --help), so hand them everything after the name
    if argv[:1] == ["main"]:
        return _run_entry("experiments.main", argv[1:], parser)
    if argv[:1] == ["run"] and len(argv) >= 2 and argv[1] in FIGURES:
        return _run_entry(f"experiments.{argv[1]}", argv[2:], parser)
    args = parser.parse_args(argv)
    if args.command == "run":  # only reached without a valid figure: argparse has reported it
        parser.error("run needs a figure name")
    return {"sample": _cmd_sample, "infer": _cmd_infer, "augment": _cmd_augment}[args.command](
        args, parser.subcommands[args.command])


if __name__ == "__main__":
    sys.exit(main())
