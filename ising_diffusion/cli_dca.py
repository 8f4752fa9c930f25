"""The ``ising-diffusion dca`` command: its parser and the glue that calls :func:`ising_diffusion.dca_job.run_dca_file`
and prints the result. Nothing here imports JAX before the command runs.
"""

from __future__ import annotations

import argparse
import time

from ising_diffusion.cli_paths import existing_file

__all__ = ["add_dca_parser", "cmd_dca", "parse_max_gap"]

_ALPHABETS = {"protein": "PROTEIN_ALPHABET", "rna": "RNA_ALPHABET"}
_N_SHOWN = 10


def parse_max_gap(text: str) -> tuple[float, float]:
    """``--max-gap`` text to ``(max_seq_gap, max_col_gap)``: ``F`` (both), ``seq=F``, ``col=F`` or ``seq=F,col=G``."""
    seq = col = 1.0
    try:
        if "=" not in text:
            seq = col = float(text)
        else:
            for part in text.split(","):
                name, _, value = part.partition("=")
                if name.strip() not in ("seq", "col"):
                    raise ValueError
                if name.strip() == "seq":
                    seq = float(value)
                else:
                    col = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected F, seq=F, col=F or seq=F,col=G with fractions F, G in [0, 1], "
                                         f"got {text!r}") from None
    if not (0.0 <= seq <= 1.0 and 0.0 <= col <= 1.0):
        raise argparse.ArgumentTypeError(f"gap fractions must lie in [0, 1], got {text!r}")
    return seq, col


def add_dca_parser(sub, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``dca`` subcommand to ``sub`` (``parents``: the common flags and ``--option``)."""
    p = sub.add_parser("dca", parents=parents, help="direct coupling analysis of a protein (or RNA) alignment",
                       description="Fit a q-state Potts model to an aligned FASTA / a2m / a3m file (.gz allowed) by "
                                   "pseudolikelihood (plmDCA) or mean-field DCA, and write every column pair with its "
                                   "APC-corrected Frobenius score as CSV rows 'i,j,score' (1-based columns of the "
                                   "input alignment, best first). See docs/potts.md.")
    p.add_argument("alignment", type=existing_file,
                   help="aligned FASTA, a2m or a3m file (lower-case insertions and '.' are dropped)")
    p.add_argument("--out", default=None, help="CSV of the ranked pairs (default: only print the top pairs)")
    p.add_argument("--params-out", default=None, help=".npz with the fitted h (L, q), J (L, L, q, q) in the zero-sum "
                                                      "gauge, alphabet, columns (1-based) and the sequence weights")
    p.add_argument("--method", choices=("plm", "mf"), default="plm",
                   help="plm: weighted pseudolikelihood (plmDCA; --option l2=cv picks the coupling penalty by "
                        "cross-validation, with cv_groups=identity holding near-identical sequences out together; "
                        "--option penalty=plmc symmetric=true lambda_J=16 is plmc's objective); "
                        "mf: mean-field DCA, fast (default plm)")
    p.add_argument("--theta", type=float, default=0.8,
                   help="sequence identity threshold of the weights (plmc -t 0.2 is theta 0.8; default 0.8)")
    p.add_argument("--max-gap", type=parse_max_gap, default=(1.0, 1.0), metavar="F|seq=F,col=G",
                   help="drop sequences, then columns, whose gap fraction exceeds F (both), or seq=F / col=G for one "
                        "of them; scores keep the input's column numbers (default: keep all)")
    p.add_argument("--alphabet", default="protein",
                   help="protein (gap + 20 amino acids, q = 21), rna (q = 5), or the state characters with '-' first "
                        "(default protein; write --alphabet=-ACD when it starts with the gap)")
    p.add_argument("--contacts", type=existing_file, default=None, metavar="TABLE",
                   help="distance table 'i j x d' (1-based input columns) to print the top-L/5, L/2, L precisions "
                        "at separation >= 5")
    p.add_argument("--cutoff", type=float, default=8.0, help="contact distance for a --contacts distance table (default 8.0; a list of contact pairs is used as it is)")
    return p


def cmd_dca(args, parser) -> int:
    import ising_diffusion.io.alignment as alignment_io
    from ising_diffusion.dca import dca_option_defaults
    from ising_diffusion.dca_job import run_dca_file
    from ising_diffusion.options import parse_options

    alphabet = getattr(alignment_io, _ALPHABETS[args.alphabet]) if args.alphabet in _ALPHABETS else args.alphabet
    try:
        options = parse_options(args.method, args.options, known=dca_option_defaults(args.method))
        t0 = time.perf_counter()
        job = run_dca_file(args.alignment, out=args.out, params_out=args.params_out, method=args.method,
                           options=options, theta=args.theta, max_seq_gap=args.max_gap[0], max_col_gap=args.max_gap[1],
                           alphabet=alphabet, contacts=args.contacts, cutoff=args.cutoff,
                           progress=False if args.no_progress else None)
    except (ValueError, FileNotFoundError, TypeError) as e:
        parser.error(str(e))
    seconds = time.perf_counter() - t0
    (m, length), kept = job.n_input, (job.rows.size, job.columns.size)
    shown = ", ".join(f"{k}={v}" for k, v in options.items())
    print(f"read {m} sequences x {length} columns from {args.alignment}; kept {kept[0]} x {kept[1]} after the gap "
          f"filters; M_eff = {job.m_eff:.1f} at theta {args.theta}")
    print(f"fitted {args.method}{' (' + shown + ')' if shown else ''} in {seconds:.1f} s")
    if job.precision is not None:
        print("contact precision (separation >= 5): "
              + ", ".join(f"top {k} {v:.3f}" for k, v in job.precision.items()))
    if args.out:
        print(f"wrote {job.pairs.shape[0]} pairs (i, j, score; 1-based input columns, best first) to {args.out}")
    else:
        print("top pairs (i, j, score):\n" + "\n".join(f"  {int(i)} {int(j)} {s:.4f}" for i, j, s in
                                                       job.pairs[:_N_SHOWN]))
    if args.params_out:
        print(f"wrote h, J, alphabet, columns and weights to {args.params_out}")
    return 0
