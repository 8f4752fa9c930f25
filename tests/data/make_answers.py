"""Regenerate the example data set ``answers.txt`` and its planted model ``answers_truth.npz``.

    PYTHONPATH=. python tests/data/make_answers.py

300 exact samples of an SK model with N = 12 spins and g = 1 (``sk_params``, key 0), written as whitespace-separated
0/1 text (binary encoding, as quiz answers right/wrong); each entry of the first 40 rows is blanked (``NA``) with
probability 0.1, and the first three entries of row 1 always (the command prints how many entries and rows). Used by
the README's "Your own data" example and by tests/test_cli.py.
"""

from pathlib import Path

import jax
import numpy as np

from ising_diffusion.io import save_npz, save_spins
from ising_diffusion.ising import exact_sample, sk_params

HERE = Path(__file__).parent


def main() -> None:
    key_truth, key_data, key_gap = jax.random.split(jax.random.key(0), 3)
    truth = sk_params(key_truth, 12, 1.0)
    spins = np.asarray(exact_sample(key_data, truth, 300))
    mask = np.zeros(spins.shape, bool)
    mask[:40] = np.asarray(jax.random.bernoulli(key_gap, 0.1, (40, 12)))
    mask[0, :3] = True  # at least one row missing several entries
    save_spins(HERE / "answers.txt", spins, mask, encoding="binary")
    save_npz(HERE / "answers_truth.npz", h=truth.h, J=truth.J)
    print(f"wrote {HERE / 'answers.txt'}: {spins.shape[0]} rows, {int(mask.sum())} missing entries in "
          f"{int(mask.any(1).sum())} rows")


if __name__ == "__main__":
    main()
