"""``ising-diffusion augment`` on an alignment file: the glue that reads the alignment, holds out test sequences, calls
:func:`ising_diffusion.augment.augment` with a q-state generator and the Potts solver, and writes the result (the
``.npz``, the selected fit's contact scores in ``dca``'s columns, the generated sequences as FASTA). The parser is
:mod:`ising_diffusion.cli`; nothing here imports JAX before the command runs.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ALIGNMENT_SUFFIXES", "is_alignment_file", "cmd_augment_alignment"]

#: File endings read as alignments (also with ``.gz``); anything else is a spin data file.
ALIGNMENT_SUFFIXES = (".fasta", ".fa", ".faa", ".afa", ".a2m", ".a3m")
_ALPHABETS = {"protein": "PROTEIN_ALPHABET", "rna": "RNA_ALPHABET"}


def is_alignment_file(path) -> bool:
    """Whether ``path`` names an aligned FASTA / a2m / a3m file (by its ending, ``.gz`` allowed)."""
    name = str(path).lower()
    name = name[:-3] if name.endswith(".gz") else name
    return name.endswith(ALIGNMENT_SUFFIXES)


def cmd_augment_alignment(args, parser) -> int:
    """Run ``augment`` on the alignment ``args.data`` (see the ``augment`` subcommand's help)."""
    import jax
    import numpy as np

    import ising_diffusion.io.alignment as alignment_io
    from ising_diffusion.augment import AugmentConfig, augment
    from ising_diffusion.augment.sequences import DEFAULT_SEQUENCE_GENERATOR, is_sequence_generator
    from ising_diffusion.contacts import contact_scores
    from ising_diffusion.dca import dca_option_defaults
    from ising_diffusion.dca_job import ranked_pairs, write_pair_scores
    from ising_diffusion.experiments.entry import apply_overrides
    from ising_diffusion.generative import make_generator_config
    from ising_diffusion.io import save_augmented
    from ising_diffusion.options import parse_options
    from ising_diffusion.spins import split_rows

    generator = args.generator or DEFAULT_SEQUENCE_GENERATOR
    if not is_sequence_generator(generator):
        parser.error(f"{args.data} is an alignment: --generator must be a q-state generator (d3pm_categorical, "
                     f"ddpm_onehot), got {generator!r}")
    if args.truth is not None:
        parser.error("--truth is for spin data; an alignment has no planted truth to score against")
    alphabet = getattr(alignment_io, _ALPHABETS[args.alphabet]) if args.alphabet in _ALPHABETS else args.alphabet
    key = jax.random.key(args.seed)
    try:
        aln = alignment_io.read_alignment(args.data, alphabet)
        q, seqs = len(aln.alphabet), aln.seqs
        if args.test is not None:
            train, test = seqs, alignment_io.read_alignment(args.test, alphabet).seqs
        else:
            try:  # augment scores on >= 2 held-out sequences and trains on >= 2
                tr, te = split_rows(jax.random.fold_in(key, 0), np.arange(seqs.shape[0]), args.test_fraction,
                                    min_train=2, min_test=2)
            except ValueError as e:
                raise ValueError(f"{args.data}: {e}; give more sequences, a larger --test-fraction, or a held-out "
                                 "alignment with --test") from None
            train, test = seqs[np.sort(tr)], seqs[np.sort(te)]
        options = parse_options("plm", args.options, known=dca_option_defaults("plm"))
        config = apply_overrides(AugmentConfig(), args.overrides) if args.overrides else None
        overrides = apply_overrides({}, args.gen_overrides)
        gen_config = make_generator_config(generator, {"n_states": q} | overrides)
        res = augment(jax.random.fold_in(key, 1), train, test, generator=generator, n_augmented=args.n_augmented,
                      config=config, generator_config=gen_config, checkpoint_dir=args.checkpoint_dir,
                      progress=not args.no_progress, solver=args.solver, solver_options=options or None, q=q,
                      theta=args.theta)
    except (ValueError, FileNotFoundError, TypeError) as e:
        parser.error(str(e))
    recommended = bool(res.recommended)
    write_samples = recommended or args.write_unrecommended
    save_augmented(args.out, res, train, test, write_samples=write_samples)
    print(f"read {seqs.shape[0]} sequences x {seqs.shape[1]} columns (q = {q}) from {args.data}; trained {generator} "
          f"on {train.shape[0]} (test {test.shape[0]}); solver {res.solver} "
          f"({', '.join(f'{k}={v}' for k, v in (options or {'l2': 'cv'}).items())}), lambda_J {res.solver_l2:.4g}")
    print(f"held-out weighted log-pseudolikelihood per sequence: training only {res.score['train']:.4f}, best "
          f"monitored fit with generated sequences {np.max(res.curve.score[:, 1:]):.4f}")
    if recommended:
        print(f"selected: training + {res.stop_mix:g}x generated sequences ({res.reason})")
    else:
        print(f"the augmented set is not recommended: {res.reason}")
    qual = res.quality
    print(f"generator quality (generated vs held-out, over training vs held-out): single-site {qual.single_ratio:.3f}"
          f", pair correlations {qual.pair_ratio:.3f}; identical to a training sequence {qual.identical_fraction:.3f}"
          f", copies or near-copies {qual.copy_fraction:.3f}"
          f"; median Hamming distance to the nearest training sequence {qual.distance_quantiles[3]:g} (held-out: "
          f"{qual.heldout_distance_quantiles[3]:g})")
    print(f"wrote the selected fit and every fit to {args.out}")
    if args.scores_out:
        gap = alphabet.find("-")
        scores = contact_scores(res.params_selected, gap_state=gap if gap >= 0 else None)
        pairs = ranked_pairs(np.asarray(scores), np.arange(seqs.shape[1]))
        write_pair_scores(args.scores_out, pairs)
        print(f"wrote {pairs.shape[0]} pairs of the selected fit (i, j, score; 1-based columns, best first) to "
              f"{args.scores_out}")
    if write_samples:
        path = Path(args.fasta_out)  # named after --out when not given (cli_paths.name_derived_outputs)
        n = res.samples.shape[0]
        alignment_io.write_alignment(path, np.asarray(res.samples), ids=[f"generated_{k + 1}" for k in range(n)],
                                     alphabet=alphabet)
        print(f"wrote {n} generated sequences to {path}")
    else:
        print("the generated sequences are not written (pass --write-unrecommended to write them anyway)")
    return 0
