"""The ``ising-diffusion`` command line: argument parsing and printing; every job is a library call.

Subcommands::

    ising-diffusion main                                  # the paper's core result at CPU scale (minutes)
    ising-diffusion run fig3 --preset quick --out runs/fig3   # any figure: fig2 .. fig6, map
    ising-diffusion run fig3 --config configs/fig3.py:paper   # a config file (the repository's configs/ or a copy)
    ising-diffusion sample --n-spins 20 --g 1 --n-samples 1000 --out data.npz
    ising-diffusion infer data.npz --method erasure [--truth truth.npz] [--out params.npz|params.json]
    ising-diffusion infer answers.csv --method pseudolikelihood --option l2=0.01 --out params.json
    ising-diffusion augment data.npz --solver erasure --option eps_grid=0.4,0.5,0.6 --out augmented.npz
    ising-diffusion augment family.fasta --out aug.npz --scores-out scores.csv   # an alignment: Potts solver
    ising-diffusion impute answers.txt --out filled.txt [--params params.npz] [--holdout 2]
    ising-diffusion dca family.fasta --out scores.csv [--method plm|mf] [--option l2=cv] [--contacts TABLE]

Data files may be .npz, .npy, MATLAB .mat, .csv, .tsv or whitespace-separated text (docs/data.md), spins {-1,+1} or
binary {0,1} (--encoding, detected when unambiguous), with missing entries (empty, NA, NaN) for ``impute``. Every
command takes ``--seed`` and ``--no-progress``, and explains its options with ``--help``. Nothing heavy (JAX) is
imported before the arguments are read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ising_diffusion.cli_commands import COMMANDS
from ising_diffusion.cli_dca import add_dca_parser, cmd_dca
from ising_diffusion.cli_paths import existing_file, name_derived_outputs, path_conflict, seed_value
from ising_diffusion.compile_cache import enable_compilation_cache
from ising_diffusion.defaults import RECOMMENDED_METHOD
from ising_diffusion.experiments.registry import EXPERIMENTS, FIGURES, run_experiment

__all__ = ["main", "build_parser"]


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
_positive_float = _bounded(float, "a finite positive number", lambda v: 0 < v < float("inf"))


_DATA_HELP = ("data file (M rows of N spins): .npz (array 'spins', or --key), .npy, .mat (variable --key), .csv, "
              ".tsv, or whitespace-separated text; values -1/+1 or 0/1 (--encoding)")
_TRUTH_HELP = "an .npz or .json with the true 'h' and 'J' to score (default: those stored in the data file, if any)"


def _parents() -> dict[str, argparse.ArgumentParser]:
    """Option groups shared by the subcommands: the common flags, the file reader's options, ``--option``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=seed_value, default=0, help="random seed, an integer >= 0 (default 0)")
    common.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    reader = argparse.ArgumentParser(add_help=False)  # the options of ising_diffusion.io.read_spin_file
    reader.add_argument("--key", default=None, help="array (.npz) or variable (.mat) to read (default: 'spins', "
                                                    "'data' or the only one)")
    reader.add_argument("--encoding", choices=("spins", "binary", "auto"), default="auto",
                        help="values are spins {-1,+1} or binary {0,1} (mapped by s = 2x - 1); auto decides only when "
                             "the file says (a -1 means spins, a 0 binary) and otherwise asks (default auto)")
    reader.add_argument("--missing-zero", action="store_true", help="read 0 as a missing entry of a spins file")
    reader.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                        help="text files: the first row is a header (auto: when none of its fields is a number)")
    reader.add_argument("--index-col", action="store_true", help="text files: the first column holds row labels")
    reader.add_argument("--delimiter", default=None, help="text files: field delimiter, one character; 'tab' or '\\t' "
                                                          "for a tab, ' ' for runs of blanks (default ',' for .csv, tab "
                                                          "for .tsv, blanks otherwise)")
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", dest="options",
                        help="an option of the inference method (a keyword of its function in "
                             "ising_diffusion.inference), typed as its default: e.g. --option l2=0.01, --option "
                             "max_iter=200, --option eps_grid=0.4,0.5,0.6, --option l2=cv (repeatable)")
    return {"common": common, "reader": reader, "option": option}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ising-diffusion",
        description="Diffusion-model data augmentation for inverse Ising inference (Lim, Lee & Jo, PRE 2025).",
        epilog="Start with 'ising-diffusion main'. Each subcommand has its own --help. Compiled programs are kept "
               "in JAX's persistent compilation cache (~/.cache/ising_diffusion/jax, or JAX_COMPILATION_CACHE_DIR) "
               "so the next run starts faster with the same results; ISING_DIFFUSION_NO_CACHE=1 turns it off.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.subcommands = sub.choices  # name -> subparser, so errors are reported with the subcommand's usage
    par = _parents()
    p = sub.add_parser("main", help=EXPERIMENTS["main"], add_help=False,
                       description="Run the main job (ising_diffusion.experiments.main); the remaining options are "
                                   "passed to it. See 'ising-diffusion main --help'.")
    p.add_argument("args", nargs=argparse.REMAINDER, help="options of the main job (--preset, --out, --seeds, ...)")
    p = sub.add_parser("run", help=f"run a figure's experiment ({', '.join(FIGURES)})",
                       description="Run one figure's experiment; options after the figure name go to it "
                                   "(e.g. 'ising-diffusion run fig3 --help').")
    p.add_argument("figure", choices=FIGURES, help="which figure: " + ", ".join(f"{k} ({EXPERIMENTS[k]})"
                                                                               for k in FIGURES))
    p.add_argument("args", nargs=argparse.REMAINDER, help="options of the figure (--preset quick|paper|tiny, --config "
                                                          "FILE.py[:NAME], --out DIR, --seeds S, --set KEY=VALUE)")
    p = sub.add_parser("sample", parents=[par["common"]], help="draw Ising samples (SK truth or a params file)",
                       description="Draw samples of a pairwise Ising model into an .npz holding 'spins' (M, N) in "
                                   "{-1,+1} and the model's 'h' and 'J' (so 'infer' can score against them). The model "
                                   "is an SK truth (h, J ~ N(0, g^2/N)) unless --params gives one.")
    p.add_argument("--out", required=True, help="output .npz file")
    p.add_argument("--n-samples", type=_positive_int, default=1000, help="number of samples M (default 1000)")
    p.add_argument("--n-spins", type=_positive_int, default=20, help="N for an SK truth (default 20)")
    p.add_argument("--g", type=_positive_float, default=1.0, help="coupling scale g of the SK truth (default 1.0)")
    p.add_argument("--params", type=existing_file, default=None,
                   help="an .npz or .json with 'h' (N,) and 'J' (N, N) to sample instead of an SK truth")
    p.add_argument("--sampler", choices=("auto", "exact", "metropolis"), default="auto",
                   help="exact enumeration (N <= 24), Metropolis chains, or auto: exact for N <= 20 (default auto)")
    p.add_argument("--n-chains", type=_positive_int, default=256, help="Metropolis chains (default 256)")
    p.add_argument("--burn-in", type=_nonneg_int, default=1000, help="Metropolis burn-in sweeps (default 1000)")
    p.add_argument("--thin", type=_positive_int, default=10, help="sweeps between samples of a chain (default 10)")
    p = sub.add_parser("infer", parents=[par["common"], par["reader"], par["option"]],
                       help="infer Ising parameters (h, J) from data",
                       description="Infer fields and couplings from observed spins; writes 'h' and 'J' to --out and "
                                   "prints the MSE against the truth when one is known (--truth, or 'h'/'J' stored in "
                                   "the data file by 'sample').")
    p.add_argument("data", type=existing_file, help=_DATA_HELP)
    p.add_argument("--method", default="erasure",
                   help="inference method: erasure (the paper's erasure machine with automatic eps; the default, "
                        "for reproducing the paper), or any method of ising_diffusion.infer such as pseudolikelihood, "
                        "mle_exact, mle_mcmc, mean_field, tap, independent. The most accurate estimate in our planted "
                        "tests (docs/inference.md) is pseudolikelihood with a cross-validated penalty: "
                        "--method pseudolikelihood --option l2=cv; at N <= 20, --method mle_exact --option l2=cv was "
                        "7-14%% lower still, at under a minute per data set (default erasure)")
    p.add_argument("--truth", type=existing_file, default=None, help=_TRUTH_HELP)
    p.add_argument("--out", default=None, help="output .npz or .json for the inferred 'h' and 'J'")
    p = sub.add_parser("augment", parents=[par["common"], par["reader"], par["option"]],
                       help="train a generator on data and write augmented samples",
                       description="Split the data into training and held-out test sets, train the generator, pick "
                                   "the monitor point and mix by the held-out score (--set stopping=paper: the "
                                   "paper's energy-variance rule; robust: a smoothed variant), check a recommendation on 4 bootstrap replicates "
                                   "(spin data; --set guard=none skips it), fit the solver to the training data and "
                                   "to the augmented + training data, and write to --out the selected parameters ('h', 'J'), "
                                   "every fit, and the generated samples ('samples') when augmentation is recommended "
                                   "(else only with --write-unrecommended). Prints the stopping epoch, which fit was "
                                   "selected and why (and the MSEs when a truth is known). An aligned FASTA / a2m / "
                                   "a3m file (.gz allowed) is augmented with a q-state generator and fitted by weighted "
                                   "Potts pseudolikelihood (dca's plm options; default l2=cv); see docs/msa_generators.md.")
    p.add_argument("data", type=existing_file, help=_DATA_HELP + "; or an alignment (.fasta, .fa, .a2m, .a3m, .gz)")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--test", type=existing_file, default=None,
                   help="held-out test data (any data format); default: split --test-fraction off the data")
    p.add_argument("--test-fraction", type=float, default=0.125,
                   help="fraction of the data held out for the stopping rule when --test is not given (default 0.125)")
    p.add_argument("--generator", default=None, help="ddpm (default for spins), d3pm, rbm, vae or gan; for an alignment "
                                                     "d3pm_categorical (default) or ddpm_onehot")
    p.add_argument("--theta", type=float, default=0.8, help="alignments: identity threshold of the sequence weights "
                                                            "(default 0.8)")
    p.add_argument("--alphabet", default="protein", help="alignments: protein (q = 21), rna or the state characters, "
                                                         "gap first (default protein)")
    p.add_argument("--scores-out", default=None, help="alignments: CSV of the selected fit's contact scores (i,j,score "
                                                      "as 'dca' writes them)")
    p.add_argument("--fasta-out", default=None, help="alignments: FASTA of the generated sequences (default: --out's "
                                                     "stem + '_generated.fasta'), written when recommended")
    p.add_argument("--solver", default=None,
                   help="inference method fitted to the training and augmented data (a method of "
                        "ising_diffusion.infer; default: pseudolikelihood with a cross-validated l2, the library's "
                        "default and the most accurate in our tests; erasure is the paper's)")
    p.add_argument("--n-augmented", type=_positive_int, default=None,
                   help="number of generated samples (default: 10x the training size)")
    p.add_argument("--truth", type=existing_file, default=None, help=_TRUTH_HELP)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override an AugmentConfig field, e.g. --set n_epochs=200 (repeatable)")
    p.add_argument("--generator-set", action="append", default=[], metavar="KEY=VALUE", dest="gen_overrides",
                   help="override a field of the generator's config, e.g. --generator-set learning_rate=3e-4")
    p.add_argument("--write-unrecommended", action="store_true",
                   help="write the generated samples even when the augmented set is not recommended")
    p.add_argument("--checkpoint-dir", default=None, help="folder for generator checkpoints (resume on rerun)")
    method, options = RECOMMENDED_METHOD
    p = sub.add_parser("impute", parents=[par["common"], par["reader"], par["option"]],
                       help="fill the missing entries of a data file with a pairwise Ising model",
                       description="Fit a model to the complete rows (or load --params), fill each row's missing "
                                   "entries (empty, NA, NaN; 0 with --missing-zero) by their most probable joint "
                                   "completion (exact up to --max-exact missing per row; beyond, iterated conditional "
                                   "modes) and write the filled file in the format of --out, plus the probabilities "
                                   "P(s=+1 | observed entries) of every entry (exact up to --max-exact missing per "
                                   "row; beyond, conditional mean field) to --prob-out. --holdout K first scores the "
                                   "model against the independent-spin model on entries hidden on purpose.")
    p.add_argument("data", type=existing_file, help=_DATA_HELP)
    p.add_argument("--out", required=True, help="the filled file (format by extension; use the input's)")
    p.add_argument("--prob-out", default=None,
                   help="file for P(s=+1 | observed) per entry (default: --out's stem + '_prob' + its extension)")
    p.add_argument("--params", type=existing_file, default=None,
                   help="an .npz or .json with 'h' and 'J' to use instead of fitting")
    p.add_argument("--method", default=None, help=f"inference method of the fit (default {method} with "
                                                  f"{', '.join(f'{k}={v}' for k, v in options.items())}; --option "
                                                  "overrides those)")
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
    add_dca_parser(sub, [par["common"], par["option"]])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ising-diffusion`` console script.

    Args:
      argv: arguments (default ``sys.argv[1:]``).

    Returns:
      process exit status (argparse exits with status 2 on bad arguments).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    enable_compilation_cache()  # before anything compiles; ISING_DIFFUSION_NO_CACHE=1 opts out
    # the experiments parse their own options (including --help), so hand them everything after the name
    if argv[:1] == ["main"]:
        run_experiment("main", argv[1:])
        return 0
    if argv[:1] == ["run"] and len(argv) >= 2 and argv[1] in FIGURES:
        run_experiment(argv[1], argv[2:])
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":  # only reached without a valid figure: argparse has reported it
        parser.error("run needs a figure name")
    sub = parser.subcommands[args.command]
    name_derived_outputs(args)
    problem = path_conflict(args)
    if problem:
        sub.error(problem)
    command = cmd_dca if args.command == "dca" else COMMANDS[args.command]
    try:
        return command(args, sub)
    except OSError as e:  # a disk full, a permission changed under us: a message, not a traceback
        sub.error(f"a file could not be read or written: {e}")


if __name__ == "__main__":
    sys.exit(main())
