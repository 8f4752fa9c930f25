"""The ``ising-diffusion`` command line.

Subcommands::

    ising-diffusion main                                  # the paper's core result at CPU scale (minutes)
    ising-diffusion run fig3 --preset quick --out runs/fig3   # any figure: fig2 .. fig6
    ising-diffusion sample --n-spins 20 --g 1 --n-samples 1000 --out data.npz
    ising-diffusion infer data.npz --method erasure [--truth truth.npz] [--out params.npz|params.json]
    ising-diffusion infer answers.csv --method pseudolikelihood --option l2=0.01 --out params.json
    ising-diffusion augment data.npz --solver erasure --option eps_grid=0.4,0.5,0.6 --out augmented.npz
    ising-diffusion impute answers.txt --out filled.txt [--params params.npz] [--holdout 2]

Data files may be .npz, .npy, MATLAB .mat, .csv, .tsv or whitespace-separated text (docs/data.md), spins {-1,+1} or
binary {0,1} (--encoding, detected when unambiguous), with missing entries (empty, NA, NaN) for ``impute``.

Every subcommand explains its options with ``--help``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from ising_diffusion.impute import RECOMMENDED_METHOD  # what impute fits unless --method / --option say otherwise

__all__ = ["main", "build_parser"]

FIGURES = ("fig2", "fig3", "fig4", "fig5", "fig6", "map")


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


_DATA_HELP = ("data file (M rows of N spins): .npz (array 'spins', or --key), .npy, .mat (variable --key), .csv, "
              ".tsv, or whitespace-separated text; values -1/+1 or 0/1 (--encoding)")


def _add_reader_options(p: argparse.ArgumentParser) -> None:
    """The options of :func:`ising_diffusion.data.read_spin_file`, for every subcommand that reads data."""
    p.add_argument("--key", default=None, help="array (.npz) or variable (.mat) to read (default: 'spins', 'data' or "
                                               "the only one)")
    p.add_argument("--encoding", choices=("spins", "binary", "auto"), default="auto",
                   help="values are spins {-1,+1} or binary {0,1} (mapped by s = 2x - 1); auto decides only when the "
                        "file says (a -1 means spins, a 0 binary) and otherwise asks (default auto)")
    p.add_argument("--missing-zero", action="store_true", help="read 0 as a missing entry of a spins file")
    p.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                   help="text files: the first row is a header (auto: when none of its fields is a number)")
    p.add_argument("--index-col", action="store_true", help="text files: the first column holds row labels")
    p.add_argument("--delimiter", default=None,
                   help="text files: field delimiter, 'tab' or '\\t' for a tab (default ',' for .csv, tab for .tsv, "
                        "blanks otherwise)")


def _add_option_argument(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", dest="options",
                   help=f"an option of {what} (a keyword of its function in ising_diffusion.inference), typed as its "
                        "default: e.g. --option l2=0.01, --option max_iter=200, --option eps_grid=0.4,0.5,0.6, "
                        "--option l2=cv (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ising-diffusion",
        description="Diffusion-model data augmentation for inverse Ising inference (Lim, Lee & Jo, PRE 2025).",
        epilog="Start with 'ising-diffusion main'. Each subcommand has its own --help.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.subcommands = sub.choices  # name -> subparser, so errors are reported with the subcommand's usage

    p = sub.add_parser("main", help="run the paper's core result on synthetic data (CPU, minutes)",
                       description="Run the main job (ising_diffusion.experiments.main); the remaining options are "
                                   "passed to it. See 'ising-diffusion main --help'.", add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER, help="options of the main job (--preset, --out, --seeds, ...)")

    p = sub.add_parser("run", help="run a figure's experiment (fig2 .. fig6)",
                       description="Run one figure's experiment; options after the figure name go to it "
                                   "(e.g. 'ising-diffusion run fig3 --help').")
    p.add_argument("figure", choices=FIGURES, help="which figure: fig2 (stopping curve), fig3 (MSE vs g), fig4 (MSE "
                                                  "vs training/augmented size), fig5 (generators), fig6 (retina), "
                                                  "map (issue 14: truth kind x g x M x generator)")
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
    p.add_argument("data", type=_existing_file, help=_DATA_HELP)
    p.add_argument("--method", default="erasure",
                   help="inference method: erasure (the paper's erasure machine with automatic eps; the default, "
                        "for reproducing the paper), or any method of ising_diffusion.infer such as pseudolikelihood, "
                        "mle_exact, mle_mcmc, mean_field, tap, independent. The most accurate estimate in our planted "
                        "tests (docs/inference.md) is pseudolikelihood with a cross-validated penalty: "
                        "--method pseudolikelihood --option l2=cv; at N <= 20, --method mle_exact --option l2=cv was "
                        "7-14%% lower still, at under a minute per data set (default erasure)")
    _add_option_argument(p, "the method")
    _add_reader_options(p)
    p.add_argument("--truth", type=_existing_file, default=None,
                   help="an .npz or .json with the true 'h' and 'J' to score")
    p.add_argument("--out", default=None, help="output .npz or .json for the inferred 'h' and 'J'")
    p.add_argument("--seed", type=int, default=0, help="random seed of stochastic methods (mle_mcmc) (default 0)")

    p = sub.add_parser("augment", help="train a generator on data and write augmented samples",
                       description="Split the data into training and held-out test sets, train the generator with the "
                                   "energy-variance stopping rule, fit the solver to the training data and to the "
                                   "augmented + training data, and write to --out the selected parameters ('h', 'J'), "
                                   "every fit, and the generated samples ('samples') when augmentation is recommended "
                                   "(else only with --write-unrecommended). Prints the stopping epoch, which fit was "
                                   "selected and why (and the MSEs when a truth is known).")
    p.add_argument("data", type=_existing_file, help=_DATA_HELP)
    p.add_argument("--out", required=True, help="output .npz")
    _add_reader_options(p)
    p.add_argument("--test", type=_existing_file, default=None,
                   help="held-out test data (any data format); default: split --test-fraction off the data")
    p.add_argument("--test-fraction", type=float, default=0.125,
                   help="fraction of the data held out for the stopping rule when --test is not given (default 0.125)")
    p.add_argument("--generator", default="ddpm", help="ddpm (default), rbm, vae or gan")
    p.add_argument("--solver", default=None,
                   help="inference method fitted to the training and augmented data (a method of "
                        "ising_diffusion.infer; default: pseudolikelihood with a cross-validated l2, the library's "
                        "default and the most accurate in our tests; erasure is the paper's)")
    _add_option_argument(p, "the solver")
    p.add_argument("--n-augmented", type=_positive_int, default=None,
                   help="number of generated samples (default: 10x the training size)")
    p.add_argument("--truth", type=_existing_file, default=None,
                   help="an .npz or .json with the true 'h' and 'J' (default: those stored in the data file, if any)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override an AugmentConfig field, e.g. --set n_epochs=200 (repeatable)")
    p.add_argument("--generator-set", action="append", default=[], metavar="KEY=VALUE", dest="gen_overrides",
                   help="override a field of the generator's config, e.g. --generator-set learning_rate=3e-4")
    p.add_argument("--write-unrecommended", action="store_true",
                   help="write the generated samples even when the augmented set is not recommended")
    p.add_argument("--checkpoint-dir", default=None, help="folder for generator checkpoints (resume on rerun)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    method, options = RECOMMENDED_METHOD
    p = sub.add_parser("impute", help="fill the missing entries of a data file with a pairwise Ising model",
                       description="Fit a model to the complete rows (or load --params), fill each row's missing "
                                   "entries (empty, NA, NaN; 0 with --missing-zero) by their most probable joint "
                                   "completion (exact up to --max-exact missing per row; beyond, iterated conditional "
                                   "modes) and write the filled file in the format of --out, plus the probabilities "
                                   "P(s=+1 | observed entries) of every entry (exact up to --max-exact missing per "
                                   "row; beyond, conditional mean field) to --prob-out. --holdout K first scores the "
                                   "model against the independent-spin model on entries hidden on purpose.")
    p.add_argument("data", type=_existing_file, help=_DATA_HELP)
    p.add_argument("--out", required=True, help="the filled file (format by extension; use the input's)")
    p.add_argument("--prob-out", default=None,
                   help="file for P(s=+1 | observed) per entry (default: --out's stem + '_prob' + its extension)")
    p.add_argument("--params", type=_existing_file, default=None,
                   help="an .npz or .json with 'h' and 'J' to use instead of fitting")
    p.add_argument("--method", default=None,
                   help=f"inference method of the fit (default {method} with "
                        f"{', '.join(f'{k}={v}' for k, v in options.items())}; --option overrides those)")
    _add_option_argument(p, "the method")
    _add_reader_options(p)
    p.add_argument("--fit-rows", choices=("auto", "complete", "all"), default="auto",
                   help="fit on the complete rows, or on all rows with the missing entries treated as hidden "
                        "(stochastic EM, an approximation; see docs/data.md); auto: the complete rows when they are "
                        "at least 80%% of the rows and at least max(50, 2N), else all (default auto)")
    p.add_argument("--holdout", type=_positive_int, default=None, metavar="K",
                   help="hide K known entries per row of a test split of the complete rows and print accuracy and "
                        "conditional log-likelihood per hidden entry, model against independent spins")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="fraction of the complete rows held out by --holdout (default 0.2)")
    p.add_argument("--max-exact", type=_nonneg_int, default=20,
                   help="rows missing up to this many entries are solved exactly (default 20, at most 24)")
    p.add_argument("--save-params", default=None, help="also write the fitted 'h' and 'J' (.npz or .json)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the holdout split (default 0)")
    return parser


def _load_params(path: Path, parser: argparse.ArgumentParser):
    import numpy as np

    from ising_diffusion.ising import IsingParams

    if path.suffix.lower() == ".json":
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            parser.error(f"cannot read {path} as JSON: {e}")
        if not isinstance(stored, dict) or "h" not in stored or "J" not in stored:
            parser.error(f"{path} must hold an object with 'h' and 'J'")
        h, J = np.asarray(stored["h"], np.float32), np.asarray(stored["J"], np.float32)
    else:
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


def _save_params(path: str, params, **meta) -> None:
    """``h`` and ``J`` (and ``meta``) to an .npz, or to a .json object when ``path`` ends in .json."""
    import numpy as np

    from ising_diffusion.data import atomic_write, save_npz

    h, J = np.asarray(params.h, np.float64), np.asarray(params.J, np.float64)
    if Path(path).suffix.lower() == ".json":
        doc = {"h": h.tolist(), "J": J.tolist(), **meta}
        atomic_write(path, lambda f: json.dump(doc, f, indent=1, default=str), mode="w")
    else:
        save_npz(path, h=h.astype(np.float32), J=J.astype(np.float32),
                 **{k: np.asarray(json.dumps(v, default=str) if isinstance(v, dict) else v) for k, v in meta.items()})


def _stored_truth(path: Path):
    import numpy as np

    if path.suffix != ".npz":
        return None
    with np.load(path) as f:
        return path if ("h" in f and "J" in f) else None


def _read_file(path: Path, args, parser, *, allow_missing: bool = False):
    """Read a data file with the reader options in ``args``; a :class:`ising_diffusion.data.SpinFile`."""
    from ising_diffusion.data import read_spin_file

    delimiter = "\t" if args.delimiter in ("\\t", "tab") else args.delimiter  # a shell passes a tab as '\t'
    try:
        f = read_spin_file(path, key=args.key, encoding=args.encoding, missing_zero=args.missing_zero,
                           header={"auto": None, "yes": True, "no": False}[args.header], index_col=args.index_col,
                           delimiter=delimiter)
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    if not allow_missing and f.mask.any():
        r, c = (int(i) + 1 for i in next(zip(*f.mask.nonzero())))
        parser.error(f"{path} has {int(f.mask.sum())} missing entries (the first in row {r}, column {c}); fill them "
                     f"with 'ising-diffusion impute {path} --out FILLED' first")
    return f


def _load_spins(path: Path, args, parser):
    import jax.numpy as jnp

    return jnp.asarray(_read_file(path, args, parser).spins)


def _parse_scalar(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def _method_options(method: str) -> dict | None:
    """Keyword options of ``method`` (its core's and ``infer``'s own) -> ``inspect.Parameter``; ``None`` if unknown."""
    from ising_diffusion.inference import CV_METHODS, METHODS, infer

    def parameters(core):
        fn = getattr(core, "__wrapped__", None)
        if fn is None and getattr(core, "__closure__", None):  # the key-less cores wrap the solver function
            fn = next((c.cell_contents for c in core.__closure__ if callable(c.cell_contents)), None)
        return inspect.signature(fn or core).parameters

    core = METHODS.get(method)
    if core is None:
        return None
    params = dict(parameters(core))
    if any(q.kind is q.VAR_KEYWORD for q in params.values()):
        return None
    if method in CV_METHODS:  # l2=cv: the cross-validation options (cv_folds, l2_grid, cv_rule) too
        params.update({k: q for k, q in parameters(CV_METHODS[method]).items() if k not in params})
    known = {k: q for k, q in params.items() if k not in ("key", "spins")}
    known.update({k: q for k, q in inspect.signature(infer).parameters.items()
                  if q.kind is q.KEYWORD_ONLY and k not in ("key", "encoding", "return_info")})
    return known


def _parse_options(method: str, items: Sequence[str], parser, flag: str = "--option") -> dict:
    """``NAME=VALUE`` strings to keyword options of ``method``, typed like the option's default.

    Values: ``true``/``false``, ``none``, integers, numbers, comma-separated tuples (``eps_grid=0.4,0.5``), and any
    other word as a string (``l2=cv``), which the method itself validates.
    """
    known = _method_options(method)
    options = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            parser.error(f"{flag} expects NAME=VALUE, got {item!r}")
        if known is not None and name not in known:
            parser.error(f"{flag} {name}: method {method!r} has no option {name!r}; its options are {sorted(known)}")
        parts = [_parse_scalar(t) for t in text.split(",") if t.strip()]
        value = tuple(parts) if "," in text else parts[0]
        default = known[name].default if known is not None else inspect.Parameter.empty

        def expect(what):
            parser.error(f"{flag} {name}={text}: expected {what} (the default is {default!r})")

        def number(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        if isinstance(value, str) or default is inspect.Parameter.empty or default is None:
            pass  # strings (e.g. l2=cv) and untyped options are checked by the method
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                expect("true or false")
        elif isinstance(default, int):
            if not (isinstance(value, int) and not isinstance(value, bool)):
                expect("an integer")
        elif isinstance(default, float):
            if not number(value):
                expect("a number")
            value = float(value)
        elif isinstance(default, tuple):
            value = value if isinstance(value, tuple) else (value,)
            if not all(number(v) for v in value):
                expect("numbers separated by commas")
            value = tuple(float(v) for v in value)
        options[name] = value
    return options


def _cmd_sample(args, parser) -> int:
    import jax

    from ising_diffusion.data import save_npz
    from ising_diffusion.ising import MAX_ENUMERATION_SPINS, sk_params
    from ising_diffusion.synthetic import SamplerConfig, data_key, observed_samples, truth_key

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


def _infer(spins, method: str, options: dict, parser, seed: int = 0):
    import jax

    from ising_diffusion import infer

    try:
        return infer(spins, method=method, key=jax.random.key(seed), **options)
    except (ValueError, TypeError) as e:
        what = ", ".join(f"{k}={v}" for k, v in options.items()) or "default options"
        hint = ""
        if "cv" in options.values():
            hint = (" (a 'cv' option needs the cross-validation of ising_diffusion.infer; if this build lacks it "
                    "pass a number, e.g. --option l2=0.01)")
        parser.error(f"infer with method {method!r} ({what}) failed: {e}{hint}")


def _cmd_infer(args, parser) -> int:
    from ising_diffusion.ising import parameter_mse

    spins = _load_spins(args.data, args, parser)
    options = _parse_options(args.method, args.options, parser)
    truth_path = args.truth or _stored_truth(args.data)
    truth = _load_params(truth_path, parser) if truth_path else None
    if truth is not None and truth.h.shape[0] != spins.shape[1]:
        parser.error(f"the truth has N={truth.h.shape[0]} spins but the data have {spins.shape[1]}")
    t0 = time.perf_counter()
    params = _infer(spins, args.method, options, parser, args.seed)
    elapsed = time.perf_counter() - t0
    shown = "".join(f", {k}={v}" for k, v in options.items())
    print(f"inferred h ({params.h.shape[0]},) and J from {spins.shape[0]} samples with {args.method}{shown} "
          f"in {elapsed:.2f} s")
    if truth is not None:
        print(f"MSE against the truth ({truth_path}): {float(parameter_mse(truth, params)):.6g}")
    if args.out:
        _save_params(args.out, params, method=args.method, options=options)
        print(f"wrote h and J to {args.out}")
    return 0


def _cmd_augment(args, parser) -> int:
    import jax
    import numpy as np

    import ising_diffusion
    from ising_diffusion.data import save_npz, train_test_split
    from ising_diffusion.experiments.entry import apply_overrides
    from ising_diffusion.generative import make_generator_config

    spins = _load_spins(args.data, args, parser)
    from ising_diffusion.augment import DEFAULT_SOLVER

    solver_options = _parse_options(args.solver or DEFAULT_SOLVER, args.options, parser)
    key = jax.random.key(args.seed)
    if args.test is not None:
        train, test = spins, _load_spins(args.test, args, parser)
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
                                      progress=not args.no_progress, solver=args.solver,
                                      solver_options=solver_options or None)
    except ValueError as e:
        parser.error(str(e))
    recommended = bool(np.asarray(res.recommended))
    selected = res.params_selected if recommended else res.params_train
    out = {"h": selected.h, "J": selected.J, "selected": np.asarray(res.selected if recommended else "train"),
           "recommended": np.asarray(recommended), "reason": np.asarray(str(res.reason)), "train": train,
           "test": test}
    for part in ("train", "augmented", "combined"):
        p = getattr(res, f"params_{part}")
        out[f"h_{part}"], out[f"J_{part}"] = p.h, p.J
    write_samples = recommended or args.write_unrecommended
    if write_samples:
        out["samples"] = res.samples
    save_npz(args.out, **out)
    print(f"trained {args.generator} on {train.shape[0]} samples (test {test.shape[0]}); solver {res.solver}")
    if recommended:
        print(f"selected: {res.selected} parameters from the model of optimiser step {int(np.asarray(res.stop_step))}"
              f" ({res.reason})")
    else:
        print(f"the augmented set is not recommended: {res.reason}")
        print("selected: the training-only fit ('h', 'J' in the output)")
    if write_samples:
        print(f"wrote {res.samples.shape[0]} generated samples and the inferred parameters to {args.out}")
    else:
        print(f"wrote the inferred parameters to {args.out}; the generated samples are not written "
              "(pass --write-unrecommended to write them anyway)")
    if truth is not None and res.mse is not None:
        for part in ("train", "augmented", "combined", "selected"):
            print(f"  MSE {part:>9}: {float(np.asarray(res.mse[part])):.6g}")
    return 0


def _cmd_impute(args, parser) -> int:
    import jax
    import numpy as np

    from ising_diffusion import infer
    from ising_diffusion.data import save_matrix, save_spins, spin_file_format
    from ising_diffusion.impute import fit_with_missing, holdout_scores, impute

    f = _read_file(args.data, args, parser, allow_missing=True)
    mask, spins = f.mask, f.spins
    m, n = spins.shape
    complete = ~mask.any(axis=1)
    n_complete = int(complete.sum())
    print(f"read {m} rows of {n} spins from {args.data} ({f.format}, {f.encoding}): {int(mask.sum())} missing "
          f"entries in {m - n_complete} rows")
    if args.method is None or args.method == RECOMMENDED_METHOD[0]:
        method, options = RECOMMENDED_METHOD[0], dict(RECOMMENDED_METHOD[1])
    else:
        method, options = args.method, {}
    options.update(_parse_options(method, args.options, parser))
    if not 0 <= args.max_exact <= 24:
        parser.error(f"--max-exact must be between 0 and 24, got {args.max_exact}")
    params = _load_params(args.params, parser) if args.params else None
    if params is not None and params.h.shape[0] != n:
        parser.error(f"{args.params} has N={params.h.shape[0]} spins but the data have {n}")
    shown = f"{method}" + "".join(f", {k}={v}" for k, v in options.items())
    key = jax.random.key(args.seed)
    if args.holdout is not None:
        if not 0 < args.test_fraction < 1:
            parser.error(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
        if args.holdout > min(n, 20):
            parser.error(f"--holdout hides K entries per row: K must be at most min(N, 20) = {min(n, 20)}")
        rows = np.asarray(jax.random.permutation(jax.random.fold_in(key, 0), np.flatnonzero(complete)))
        n_test = int(round(args.test_fraction * len(rows)))
        if n_test < 1 or len(rows) - n_test < 2:
            parser.error(f"--holdout needs complete rows to split: {len(rows)} complete rows give {n_test} for testing")
        test, train = spins[rows[:n_test]], spins[rows[n_test:]]
        model = params if params is not None else _infer(train, method, options, parser)
        indep = infer(train, method="independent_exact")
        sc = holdout_scores(jax.random.fold_in(key, 1), model, indep, test, args.holdout)
        which = f"--params {args.params}" if params is not None else f"{shown} fitted to {len(train)} rows"
        print(f"holdout: {args.holdout} known entries hidden in each of {sc.n_rows} complete test rows")
        print(f"  pairwise model ({which}): accuracy {sc.accuracy:.4f}, log-likelihood per hidden entry "
              f"{sc.log_likelihood:.4f} nats")
        print(f"  independent spins:        accuracy {sc.accuracy_independent:.4f}, log-likelihood per hidden entry "
              f"{sc.log_likelihood_independent:.4f} nats")
        gain = sc.log_likelihood - sc.log_likelihood_independent
        print(f"  the pairwise model {'gains' if gain > 0 else 'loses'} {abs(gain):.4f} nats per hidden entry")
    if params is None:
        enough = n_complete >= max(50, 2 * n) and n_complete >= 0.8 * m
        rows = args.fit_rows if args.fit_rows != "auto" else ("complete" if enough else "all")
        if rows == "complete":
            if n_complete < 2:
                parser.error(f"only {n_complete} of {m} rows are complete: use --fit-rows all or --params")
            print(f"fitting {shown} on the {n_complete} complete rows of {m}")
            params = _infer(spins[complete], method, options, parser)
        else:
            print(f"fitting {shown} on all {m} rows ({n_complete} complete), the missing entries treated as hidden "
                  "(stochastic EM: Gibbs-fill them from the current fit, refit, average the later rounds)")
            params = fit_with_missing(lambda x: _infer(x, method, options, parser), jax.random.fold_in(key, 2),
                                      spins, mask)
        if args.save_params:
            _save_params(args.save_params, params, method=method, options=options)
            print(f"wrote the fitted h and J to {args.save_params}")
    try:
        res = impute(params, spins, mask, max_exact=args.max_exact)
    except ValueError as e:
        parser.error(str(e))
    out = Path(args.out)
    prob_out = Path(args.prob_out) if args.prob_out else out.with_name(f"{out.stem}_prob{out.suffix}")
    same = spin_file_format(out) == f.format
    layout = dict(columns=f.columns if same else None, index=f.index if same else None,
                  delimiter=f.delimiter if same else None)
    try:
        save_spins(out, res.spins, encoding=f.encoding, key=f.key or "spins", **layout)
        save_matrix(prob_out, res.prob_plus, key="prob_plus", text_format="%.6f", **layout)
    except ValueError as e:
        parser.error(str(e))
    n_approx = int(np.sum(~res.exact & (res.n_missing > 0)))
    print(f"filled {int(mask.sum())} entries in {int(np.sum(res.n_missing > 0))} rows: most probable joint "
          f"completion, exact for rows missing <= {args.max_exact}"
          + (f"; {n_approx} rows missing more use iterated conditional modes and mean-field probabilities"
             if n_approx else ""))
    print(f"wrote {out} ({spin_file_format(out)}, {f.encoding}) and P(s=+1 | observed) to {prob_out}")
    return 0


def _run_entry(name: str, argv: Sequence[str]) -> int:
    """Run the experiment ``name`` (``"main"`` or a figure) with its own command line ``argv``."""
    from ising_diffusion.experiments import fig2, fig3, fig4, fig5, fig6
    from ising_diffusion.experiments import main as main_job
    from ising_diffusion.experiments import map as map_job

    entries = {"fig2": fig2, "fig3": fig3, "fig4": fig4, "fig5": fig5, "fig6": fig6, "main": main_job, "map": map_job}
    entries[name].main(list(argv))
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
        return _run_entry("main", argv[1:])
    if argv[:1] == ["run"] and len(argv) >= 2 and argv[1] in FIGURES:
        return _run_entry(argv[1], argv[2:])
    args = parser.parse_args(argv)
    if args.command == "run":  # only reached without a valid figure: argparse has reported it
        parser.error("run needs a figure name")
    commands = {"sample": _cmd_sample, "infer": _cmd_infer, "augment": _cmd_augment, "impute": _cmd_impute}
    return commands[args.command](args, parser.subcommands[args.command])


if __name__ == "__main__":
    sys.exit(main())
