"""The command line's file arguments are checked before any work: an output that would overwrite an input or another
output, or that is a folder, a missing input, a folder given as input, and a seed JAX cannot take are usage errors
(exit status 2, a message naming the flag), and the input is left as it was."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from ising_diffusion import cli

SUB = Path(__file__).parent / "data" / "msa" / "PF00014_sub300"


@pytest.fixture
def fasta(tmp_path):
    return Path(shutil.copy(SUB / "PF00014_sub300.fasta.gz", tmp_path / "family.fasta.gz"))


@pytest.fixture
def spins(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, spins=np.where(np.random.default_rng(0).random((40, 5)) < 0.5, -1, 1))
    return path


def _usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    return err


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(fasta, spins, capsys):
    before = fasta.read_bytes()
    err = _usage_error(["dca", str(fasta), "--method", "mf", "--out", str(fasta), "--no-progress"], capsys)
    assert "--out" in err and "is the input file of alignment" in err and fasta.read_bytes() == before
    before = spins.read_bytes()
    err = _usage_error(["infer", str(spins), "--out", str(spins), "--no-progress"], capsys)
    assert "is the input file of data" in err and spins.read_bytes() == before
    # the same file under another name (a relative path through a folder) is the same file
    other = spins.parent / "sub" / ".." / spins.name
    (spins.parent / "sub").mkdir()
    assert "is the input file of data" in _usage_error(["infer", str(spins), "--out", str(other)], capsys)


def test_two_outputs_on_one_file_and_an_output_folder_are_refused(fasta, tmp_path, capsys):
    out = tmp_path / "x.csv"
    err = _usage_error(["dca", str(fasta), "--out", str(out), "--params-out", str(out)], capsys)
    assert "--out and --params-out are the same file" in err and not out.exists()
    assert "--out" in (err := _usage_error(["dca", str(fasta), "--out", str(tmp_path)], capsys)) and "folder" in err


def test_missing_or_folder_inputs_and_bad_seeds_are_usage_errors(fasta, tmp_path, capsys):
    assert "is a folder, not a file" in _usage_error(["dca", str(tmp_path)], capsys)
    assert "no such file" in _usage_error(["dca", str(fasta), "--contacts", str(tmp_path / "nope.dat")], capsys)
    assert "seed must be in [0, 2**32)" in _usage_error(["sample", "--out", str(tmp_path / "s.npz"),
                                                         "--seed", str(2**32)], capsys)  # = seed 0 in JAX
    assert "seed must be in" in _usage_error(["sample", "--out", str(tmp_path / "s.npz"), "--seed", "-1"], capsys)
