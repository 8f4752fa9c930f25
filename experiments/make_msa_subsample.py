"""Write the committed PF00014 test subsample (tests/data/msa/PF00014_sub300/) from ../shared/data/msa/.

    PYTHONPATH=. python experiments/make_msa_subsample.py        # seconds; needs ../shared/data/msa/PF00014/

300 sequences drawn without replacement (numpy ``default_rng(seed)``, kept in file order) go to a gzip FASTA with
their original headers. The distance table is not copied (138 KB; the source's MIT licence asks for its notice on
copies): only the contact pairs (``d < 8`` A, any separation) are written, as 1-based ``i j`` lines, which is all the
tests need. A README beside the files says where they come from.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ising_diffusion.io.atomic import atomic_write
from ising_diffusion.datasets.msa import find_msa_family, load_msa_family
from ising_diffusion.io.alignment import write_alignment

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "msa"

README = """# PF00014 test subsample

Made by `experiments/make_msa_subsample.py` (`--n {n} --seed {seed}`) from `../shared/data/msa/PF00014/`, which is
not part of this repository.

- `{name}.fasta.gz`: {n} of the 13,600 aligned sequences of PF00014 (Kunitz/BPTI domain, L = 53), drawn at random
  without replacement (numpy `default_rng({seed})`), in their original order, with their original headers.
- `{name}_contacts.txt`: the {k} residue pairs `i j` (1-based alignment columns, `i < j`) whose distance in the
  family's structure table is below 8 Angstrom, at any sequence separation. The distances themselves are not copied.

Source: the companion data of ArDCA (Trinquier, Uguzzoni, Pagnani, Zamponi, Weigt, "Efficient generative modeling of
protein sequences using simple autoregressive models", Nat. Commun. 12, 5800, 2021; MIT licence); the alignment
derives from Pfam (public domain). Cite them when you publish results from these data.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="PF00014")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", default=None, help="folder holding the family folder (default ../shared/data/msa)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    family = load_msa_family(args.name, args.root)
    if family.distances is None:
        raise SystemExit(f"{find_msa_family(args.name, args.root)[1]} is a contact list; the subsample needs the "
                         "full distance table")
    rows = np.sort(np.random.default_rng(args.seed).choice(family.seqs.shape[0], size=args.n, replace=False))
    name = f"{args.name}_sub{args.n}"
    folder = args.out / name
    write_alignment(folder / f"{name}.fasta.gz", family.seqs[rows], [family.ids[r] for r in rows])
    i, j = np.nonzero(np.triu(family.contacts, 1))
    lines = "# i j (1-based alignment columns), residue pairs closer than 8 Angstrom in PF00014_struct.dat\n"
    lines += "".join(f"{a + 1} {b + 1}\n" for a, b in zip(i, j))
    atomic_write(folder / f"{name}_contacts.txt", lambda f: f.write(lines), mode="w")
    text = README.format(n=args.n, seed=args.seed, name=name, k=len(i))
    atomic_write(folder / "README.md", lambda f: f.write(text), mode="w")
    print(f"wrote {folder}: {args.n} sequences x {family.length} columns, {len(i)} contact pairs")


if __name__ == "__main__":
    main()
