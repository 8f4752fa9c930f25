"""The commands of ``ising-diffusion`` that work on files (``sample``, ``infer``, ``augment``, ``impute``): each reads
its parsed arguments, calls the library and prints what it did. The parser is :mod:`ising_diffusion.cli`; nothing
here imports JAX before a command runs. Bad input becomes a usage error (``parser.error``, exit status 2).
"""

from __future__ import annotations

import time
from pathlib import Path

from ising_diffusion.cli_augment_msa import cmd_augment_alignment, is_alignment_file
from ising_diffusion.defaults import RECOMMENDED_METHOD

__all__ = ["COMMANDS"]


def _read(path: Path, args, parser, *, allow_missing: bool = False):
    """Read a data file with the reader options in ``args``: an :class:`ising_diffusion.io.SpinFile`."""
    from ising_diffusion.io import read_spin_file

    delimiter = "\t" if args.delimiter in ("\\t", "tab") else args.delimiter  # '\t' as a shell passes it
    if delimiter is not None and len(delimiter) != 1:  # ' ' reads runs of blanks, in a .csv too
        parser.error(f"--delimiter must be one character (or 'tab'), got {args.delimiter!r}")
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


def _call(parser, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, a ``ValueError`` (bad input, bad options) reported as a usage error."""
    try:
        return fn(*args, **kwargs)
    except ValueError as e:
        parser.error(str(e))


def _params(path, parser):
    from ising_diffusion.io import load_params

    return None if path is None else _call(parser, load_params, path)


def _truth(args, parser, n: int):
    from ising_diffusion.io import has_params

    path = args.truth or (args.data if has_params(args.data) else None)
    truth = _params(path, parser)
    if truth is not None and truth.h.shape[0] != n:
        parser.error(f"{path} has N={truth.h.shape[0]} spins but the data have {n}")
    return path, truth


def _infer(parser, spins, method: str, options: dict, seed: int = 0):
    import jax

    from ising_diffusion.inference import infer

    try:
        return infer(spins, method=method, key=jax.random.key(seed), **options)
    except (ValueError, TypeError) as e:
        parser.error(f"infer with method {method!r} ({_shown(options) or 'default options'}) failed: {e}")


def _shown(options: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items())


def _cmd_sample(args, parser) -> int:
    import jax

    from ising_diffusion.io import save_npz
    from ising_diffusion.ising import sk_params
    from ising_diffusion.synthetic import data_key, draw_samples, truth_key

    key = jax.random.key(args.seed)
    params = _params(args.params, parser) if args.params else sk_params(truth_key(key), args.n_spins, args.g)
    t0 = time.perf_counter()
    spins, how = _call(parser, draw_samples, data_key(key), params, args.n_samples, sampler=args.sampler,
                       n_chains=args.n_chains, burn_in=args.burn_in, thin=args.thin)
    save_npz(args.out, spins=spins, h=params.h, J=params.J)
    print(f"wrote {args.n_samples} samples of N={params.h.shape[0]} spins ({how} sampling, "
          f"{time.perf_counter() - t0:.1f} s) with the model's h and J to {args.out}")
    return 0


def _cmd_infer(args, parser) -> int:
    from ising_diffusion.io import save_params
    from ising_diffusion.ising import parameter_mse
    from ising_diffusion.options import parse_options

    spins = _read(args.data, args, parser).spins
    options = _call(parser, parse_options, args.method, args.options)
    truth_path, truth = _truth(args, parser, spins.shape[1])
    t0 = time.perf_counter()
    params = _infer(parser, spins, args.method, options, args.seed)
    print(f"inferred h ({params.h.shape[0]},) and J from {spins.shape[0]} samples with "
          f"{', '.join([args.method] + [_shown(options)] * bool(options))} in {time.perf_counter() - t0:.2f} s")
    if truth is not None:
        print(f"MSE against the truth ({truth_path}): {float(parameter_mse(truth, params)):.6g}")
    if args.out:
        save_params(args.out, params, method=args.method, options=options)
        print(f"wrote h and J to {args.out}")
    return 0


def _cmd_augment(args, parser) -> int:
    if is_alignment_file(args.data):
        return cmd_augment_alignment(args, parser)
    import jax
    import numpy as np

    import ising_diffusion
    from ising_diffusion.augment import DEFAULT_SOLVER
    from ising_diffusion.experiments.entry import apply_overrides
    from ising_diffusion.generative import make_generator_config
    from ising_diffusion.io import save_augmented
    from ising_diffusion.options import parse_options
    from ising_diffusion.spins import train_test_split

    spins = _read(args.data, args, parser).spins
    args.generator = args.generator or "ddpm"
    solver_options = _call(parser, parse_options, args.solver or DEFAULT_SOLVER, args.options)
    key = jax.random.key(args.seed)
    if args.test is not None:
        train, test = spins, _read(args.test, args, parser).spins
    elif not 0 < args.test_fraction < 1:
        parser.error(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
    else:
        train, test = _call(parser, train_test_split, jax.random.fold_in(key, 0), spins, args.test_fraction)
    _, truth = _truth(args, parser, spins.shape[1])
    config = _call(parser, apply_overrides, ising_diffusion.AugmentConfig(), args.overrides) if args.overrides else None
    gen_config = _call(parser, lambda: make_generator_config(args.generator, apply_overrides({}, args.gen_overrides)))
    res = _call(parser, ising_diffusion.augment, jax.random.fold_in(key, 1), train, test, generator=args.generator,
                n_augmented=args.n_augmented, config=config, generator_config=gen_config, true_params=truth,
                checkpoint_dir=args.checkpoint_dir, progress=not args.no_progress, solver=args.solver,
                solver_options=solver_options or None)
    recommended = bool(np.asarray(res.recommended))
    write_samples = recommended or args.write_unrecommended
    save_augmented(args.out, res, train, test, write_samples=write_samples)
    print(f"trained {args.generator} on {train.shape[0]} samples (test {test.shape[0]}); solver {res.solver}")
    if recommended:
        print(f"selected: {res.selected} parameters from the model of optimiser step {int(np.asarray(res.stop_step))}"
              f" ({res.reason})")
    else:
        print(f"the augmented set is not recommended: {res.reason}")
        print("selected: the training-only fit ('h', 'J' in the output)")
    print(f"wrote {res.samples.shape[0]} generated samples and the inferred parameters to {args.out}" if write_samples
          else f"wrote the inferred parameters to {args.out}; the generated samples are not written "
               "(pass --write-unrecommended to write them anyway)")
    for part in ("train", "augmented", "combined", "selected") if truth is not None and res.mse is not None else ():
        print(f"  MSE {part:>9}: {float(np.asarray(res.mse[part])):.6g}")
    return 0


def _cmd_impute(args, parser) -> int:
    import jax
    import numpy as np

    from ising_diffusion.impute import default_fit_rows, fit_for_imputation, holdout_scores, holdout_split, impute
    from ising_diffusion.inference import infer
    from ising_diffusion.io import save_matrix, save_params, save_spins, spin_file_format
    from ising_diffusion.options import parse_options

    if args.params and args.save_params:
        parser.error("--save-params writes the model fitted here; with --params nothing is fitted")
    f = _read(args.data, args, parser, allow_missing=True)
    mask, spins, (m, n) = f.mask, f.spins, f.spins.shape
    complete = ~mask.any(axis=1)
    n_complete = int(complete.sum())
    print(f"read {m} rows of {n} spins from {args.data} ({f.format}, {f.encoding}): {int(mask.sum())} missing "
          f"entries in {m - n_complete} rows")
    method = args.method or RECOMMENDED_METHOD[0]
    options = dict(RECOMMENDED_METHOD[1]) if method == RECOMMENDED_METHOD[0] else {}
    options.update(_call(parser, parse_options, method, args.options))
    if not 0 <= args.max_exact <= 24:
        parser.error(f"--max-exact must be between 0 and 24, got {args.max_exact}")
    params = _params(args.params, parser)
    if params is not None and params.h.shape[0] != n:
        parser.error(f"{args.params} has N={params.h.shape[0]} spins but the data have {n}")
    shown = ", ".join([method] + [_shown(options)] * bool(options))
    key = jax.random.key(args.seed)
    if args.holdout is not None:
        if args.holdout > min(n, 20):
            parser.error(f"--holdout hides K entries per row: K must be at most min(N, 20) = {min(n, 20)}")
        train, test = _call(parser, holdout_split, jax.random.fold_in(key, 0), spins, mask, args.test_fraction)
        model = params if params is not None else _infer(parser, train, method, options)
        sc = holdout_scores(jax.random.fold_in(key, 1), model, infer(train, method="independent_exact"), test,
                            args.holdout)
        gain = sc.log_likelihood - sc.log_likelihood_independent
        which = f"--params {args.params}" if params is not None else f"{shown} fitted to {len(train)} rows"
        print(f"holdout: {args.holdout} known entries hidden in each of {sc.n_rows} complete test rows\n"
              f"  pairwise model ({which}): accuracy {sc.accuracy:.4f}, log-likelihood per hidden entry "
              f"{sc.log_likelihood:.4f} nats\n"
              f"  independent spins:        accuracy {sc.accuracy_independent:.4f}, log-likelihood per hidden entry "
              f"{sc.log_likelihood_independent:.4f} nats\n"
              f"  the pairwise model {'gains' if gain > 0 else 'loses'} {abs(gain):.4f} nats per hidden entry")
    if params is None:
        rows = args.fit_rows if args.fit_rows != "auto" else default_fit_rows(mask)
        print(f"fitting {shown} on the {n_complete} complete rows of {m}" if rows == "complete" else
              f"fitting {shown} on all {m} rows ({n_complete} complete), the missing entries treated as hidden "
              "(stochastic EM: Gibbs-fill them from the current fit, refit, average the later rounds)")
        params = _call(parser, fit_for_imputation, lambda x: _infer(parser, x, method, options),
                       jax.random.fold_in(key, 2), spins, mask, rows)
        if args.save_params:
            save_params(args.save_params, params, method=method, options=options)
            print(f"wrote the fitted h and J to {args.save_params}")
    res = _call(parser, impute, params, spins, mask, max_exact=args.max_exact, progress=not args.no_progress)
    out = Path(args.out)
    prob_out = Path(args.prob_out)  # named after --out when not given (cli_paths.name_derived_outputs)
    same = spin_file_format(out) == f.format  # keep the input's header, labels and delimiter
    layout = {k: getattr(f, k) if same else None for k in ("columns", "index", "delimiter")}
    _call(parser, save_spins, out, res.spins, encoding=f.encoding, key=f.key or "spins", **layout)
    _call(parser, save_matrix, prob_out, res.prob_plus, key="prob_plus", text_format="%.6f", **layout)
    n_approx = int(np.sum(~res.exact & (res.n_missing > 0)))
    print(f"filled {int(mask.sum())} entries in {int(np.sum(res.n_missing > 0))} rows: most probable joint "
          f"completion, exact for rows missing <= {args.max_exact}"
          + (f"; {n_approx} rows missing more use iterated conditional modes and mean-field probabilities"
             if n_approx else ""))
    print(f"wrote {out} ({spin_file_format(out)}, {f.encoding}) and P(s=+1 | observed) to {prob_out}")
    return 0


#: command name -> ``command(args, parser) -> exit status``
COMMANDS = {"sample": _cmd_sample, "infer": _cmd_infer, "augment": _cmd_augment, "impute": _cmd_impute}
