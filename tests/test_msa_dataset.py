"""Protein family loader (datasets/msa.py) on the committed PF00014 subsample; against ../shared when present."""

from pathlib import Path

import numpy as np
import pytest

from ising_diffusion.datasets.msa import MSA_ENV_VAR, find_msa_family, load_msa_family
from ising_diffusion.io.alignment import write_alignment
from ising_diffusion.msa import effective_count, sequence_weights

SUBSAMPLE_ROOT = Path(__file__).parent / "data" / "msa"
SUB = "PF00014_sub300"


def _full_family():
    try:
        return load_msa_family("PF00014")
    except FileNotFoundError:
        pytest.skip("../shared/data/msa/PF00014 not available")


def test_subsample_loads_without_shared(monkeypatch):
    monkeypatch.delenv(MSA_ENV_VAR, raising=False)
    fam = load_msa_family(SUB, SUBSAMPLE_ROOT)
    assert fam.seqs.shape == (300, fam.length) and fam.length == 53 and fam.distances is None
    np.testing.assert_array_equal(fam.contacts, fam.contacts.T)
    assert not fam.contacts.diagonal().any()
    # every line of the pair list is one contact of the upper triangle
    n_pairs = sum(1 for line in (SUBSAMPLE_ROOT / SUB / f"{SUB}_contacts.txt").read_text().splitlines()
                  if line and not line.startswith("#"))
    assert np.triu(fam.contacts, 1).sum() == n_pairs
    # the environment variable is honoured, and it may name the family folder itself
    monkeypatch.setenv(MSA_ENV_VAR, str(SUBSAMPLE_ROOT / SUB))
    np.testing.assert_array_equal(load_msa_family(SUB).seqs, fam.seqs)


def test_subsample_weights_brute_force():
    seqs = load_msa_family(SUB, SUBSAMPLE_ROOT).seqs
    ident = (seqs[:, None, :] == seqs[None, :, :]).sum(-1)
    want = 1.0 / (ident >= 0.8 * seqs.shape[1]).sum(1)
    got = np.asarray(sequence_weights(seqs, 0.8))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert effective_count(got) == pytest.approx(want.sum(), rel=1e-6)
    assert effective_count(got) < seqs.shape[0]  # PF00014 has near-duplicate sequences at 80% identity


def test_subsample_matches_full_family():
    full = _full_family()
    sub = load_msa_family(SUB, SUBSAMPLE_ROOT)
    np.testing.assert_array_equal(sub.contacts, full.contacts)
    index = {name: k for k, name in enumerate(full.ids)}
    rows = [index[name] for name in sub.ids]
    np.testing.assert_array_equal(sub.seqs, full.seqs[rows])
    assert full.seqs.shape == (13_600, 53)
    off = ~np.eye(53, dtype=bool)
    np.testing.assert_array_equal(full.contacts[off], full.distances[off] < 8.0)


def test_missing_family_and_bad_truth(tmp_path):
    with pytest.raises(FileNotFoundError, match="ISING_DIFFUSION_MSA"):
        find_msa_family("PF99999", tmp_path)
    fam = tmp_path / "FAM"
    write_alignment(fam / "FAM.fasta", np.zeros((2, 4), np.int8))
    (fam / "FAM_struct.dat").write_text("1 9 0 3.0\n")
    with pytest.raises(ValueError, match=r"does not fit the alignment.*L = 4"):
        load_msa_family("FAM", tmp_path)
    (fam / "FAM_struct.dat").write_text("1 3 0 3.0\n2 4 0 9.0\n")
    out = load_msa_family("FAM", tmp_path)
    assert out.contacts[0, 2] and not out.contacts[1, 3] and out.distances[3, 1] == 9.0
    assert np.isnan(out.distances[0, 1])
