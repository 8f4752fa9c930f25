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


def test_outputs_named_after_out_are_checked_too(fasta, spins, tmp_path, capsys):
    """impute's default --prob-out (<out>_prob<ext>) and augment's default FASTA (<out>_generated.fasta) were written
    without the checks: with the input named like them, each command overwrote its own input."""
    data = tmp_path / "m_prob.csv"
    data.write_text("1,-1,1\n-1,,1\n1,1,-1\n-1,-1,1\n")
    before = data.read_bytes()
    err = _usage_error(["impute", str(data), "--out", str(tmp_path / "m.csv"), "--no-progress"], capsys)
    assert "--prob-out" in err and "is the input file of data" in err and data.read_bytes() == before
    named = Path(shutil.copy(fasta, tmp_path / "x_generated.fasta"))
    before = named.read_bytes()
    err = _usage_error(["augment", str(named), "--out", str(tmp_path / "x.npz"), "--no-progress"], capsys)
    assert "--fasta-out" in err and "is the input file of data" in err and named.read_bytes() == before


def test_outputs_in_an_unwritable_place_or_of_the_wrong_format_are_refused_before_any_work(spins, tmp_path, capsys):
    """A file where a folder should be was found only when the result was written (after the training), and an .npz
    archive was written under a .csv name that no reader then took."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    err = _usage_error(["augment", str(spins), "--out", str(blocker / "aug.npz")], capsys)
    assert "--out" in err and "is a file, not a folder" in err
    err = _usage_error(["augment", str(spins), "--out", str(tmp_path / "a.npz"), "--checkpoint-dir", str(blocker)],
                       capsys)
    assert "--checkpoint-dir" in err and "is a file, not a folder" in err
    for argv, flag, ending in (
            (["sample", "--out", str(tmp_path / "s.csv")], "--out", ".npz"),
            (["augment", str(spins), "--out", str(tmp_path / "a.json")], "--out", ".npz"),
            (["infer", str(spins), "--out", str(tmp_path / "p.txt")], "--out", ".npz or .json")):
        err = _usage_error(argv, capsys)
        assert f"{flag} " in err and f"writes {ending} there" in err
    assert not list(tmp_path.glob("[spa].*"))


def test_bad_numbers_and_delimiters_are_usage_errors(spins, tmp_path, capsys):
    assert "finite" in _usage_error(["sample", "--out", str(tmp_path / "s.npz"), "--g", "inf"], capsys)
    text = tmp_path / "d.txt"
    text.write_text("1  -1 1\n-1 1  1\n1 1 -1\n")  # what np.savetxt(fmt="%2d") writes: blanks of uneven width
    assert "one character" in _usage_error(["infer", str(text), "--delimiter", "::"], capsys)
    assert cli.main(["infer", str(text), "--delimiter", " ", "--method", "mean_field"]) == 0
    assert "from 3 samples" in capsys.readouterr().out  # 3 columns, no made-up missing entries
    csv = tmp_path / "blank.csv"
    csv.write_text("1 -1 1\n-1 1  1\n1 1 -1\n")  # a .csv written with blanks: ' ' overrides the extension's ','
    assert cli.main(["infer", str(csv), "--delimiter", " ", "--method", "mean_field"]) == 0


def test_params_given_and_save_params_is_a_usage_error(spins, tmp_path, capsys):
    params = tmp_path / "p.json"
    params.write_text('{"h": [0, 0, 0, 0, 0], "J": ' + str(np.zeros((5, 5)).tolist()) + "}")
    err = _usage_error(["impute", str(spins), "--out", str(tmp_path / "f.npz"), "--params", str(params),
                        "--save-params", str(tmp_path / "q.json")], capsys)
    assert "--save-params" in err and not (tmp_path / "q.json").exists()
