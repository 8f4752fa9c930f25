"""``ising-diffusion dca``: ranked 1-based pairs, the column map after the gap filters, parameters out, contacts
precision, clean errors; on the committed PF00014 subsample and on a planted Potts chain written as FASTA."""

import csv
import re
from pathlib import Path

import jax
import numpy as np
import pytest

from ising_diffusion import cli, potts
from ising_diffusion.contacts import contact_precision
from ising_diffusion.dca import dca
from ising_diffusion.dca_job import run_dca_file
from ising_diffusion.io.alignment import read_alignment, write_alignment
from ising_diffusion.io.contacts import pairs_contact_map, read_contact_pairs
from ising_diffusion.msa import identity_groups, sequence_weights

SUB = Path(__file__).parent / "data" / "msa" / "PF00014_sub300"
ALPHABET = "-ACD"  # q = 4, gap first


def _run(argv, capsys):
    code = cli.main(argv)
    return code, capsys.readouterr().out


def _read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["i", "j", "score"]
    return np.array([[float(v) for v in r] for r in rows[1:]])


@pytest.fixture(scope="module")
def planted_fasta(tmp_path_factory):
    """A planted chain over 7 columns, written with two extra columns: an all-gap column in front and a half-gap
    column between the chain's columns 3 and 4 (input columns 1 and 5, 1-based); chain edge (k, k+1) of the model is
    the input pair (col[k], col[k+1]) with col = [2, 3, 4, 6, 7, 8, 9]."""
    length, q, m = 7, len(ALPHABET) - 1, 3000
    params, graph = potts.potts_chain_params(jax.random.key(0), length, q, g=1.2)
    seqs = np.asarray(potts.potts_exact_sample(jax.random.key(1), params, m)) + 1  # the letters, never a gap
    # a gap in every row's column 1 and in the even rows' column 5: 2/9 gaps in even rows, 1/9 in odd rows
    gappy = np.where(np.arange(m) % 2 == 0, 0, 1)[:, None]
    full = np.concatenate([np.zeros((m, 1), int), seqs[:, :3], gappy, seqs[:, 3:]], axis=1)
    path = write_alignment(tmp_path_factory.mktemp("planted") / "chain.fasta", full, alphabet=ALPHABET)
    columns = np.array([2, 3, 4, 6, 7, 8, 9])
    edges = {(int(columns[k]), int(columns[k + 1])) for k in range(length - 1)}
    return path, edges, full


def test_planted_chain_pairs_are_sorted_one_based_and_mapped_back_through_the_column_filter(planted_fasta, tmp_path,
                                                                                          capsys):
    path, edges, full = planted_fasta
    out, params_out = tmp_path / "scores.csv", tmp_path / "params.npz"
    code, printed = _run(["dca", str(path), "--out", str(out), "--params-out", str(params_out),
                          f"--alphabet={ALPHABET}", "--max-gap", "col=0.4", "--method", "mf", "--no-progress"], capsys)
    assert code == 0 and "kept 3000 x 7" in printed
    rows = _read_csv(out)
    assert rows.shape == (7 * 6 // 2, 3)
    assert np.all(np.diff(rows[:, 2]) <= 0)  # best first
    assert np.all(rows[:, 0] < rows[:, 1])
    assert set(rows[:, :2].astype(int).ravel()) == {2, 3, 4, 6, 7, 8, 9}  # 1-based input columns, filtered ones gone
    top = {(int(i), int(j)) for i, j in rows[: len(edges), :2]}
    assert len(top & edges) >= len(edges) - 1  # a weak random block may rank below one next-nearest pair
    saved = np.load(params_out)
    assert saved["h"].shape == (7, 4) and saved["J"].shape == (7, 7, 4, 4)
    assert str(saved["alphabet"]) == ALPHABET
    np.testing.assert_array_equal(saved["columns"], [2, 3, 4, 6, 7, 8, 9])


def test_the_sequence_filter_drops_rows_and_the_pseudolikelihood_path_agrees(planted_fasta):
    path, edges, full = planted_fasta
    job = run_dca_file(path, method="plm", alphabet=ALPHABET, max_seq_gap=0.15, max_col_gap=0.95,
                       options={"max_iter": 60, "lambda_J": 0.005})
    np.testing.assert_array_equal(job.rows, np.arange(1, full.shape[0], 2))  # the odd rows (1/9 gaps)
    np.testing.assert_array_equal(job.columns, np.arange(1, 9))  # only the all-gap column 1 (1-based) goes
    top = {(int(i), int(j)) for i, j in job.pairs[: len(edges), :2]}
    assert len(top & edges) >= len(edges) - 1


def test_pf00014_subsample_precision_matches_the_library_and_options_are_typed(tmp_path, capsys):
    out = tmp_path / "s.csv"
    contacts = SUB / "PF00014_sub300_contacts.txt"
    code, printed = _run(["dca", str(SUB / "PF00014_sub300.fasta.gz"), "--out", str(out), "--contacts",
                          str(contacts), "--option", "max_iter=40", "--option", "lambda_J=0.02", "--no-progress"],
                         capsys)
    assert code == 0 and "top L/2" in printed and "max_iter=40" in printed
    rows = _read_csv(out)
    assert rows.shape == (53 * 52 // 2, 3) and np.all(np.diff(rows[:, 2]) <= 0)
    # the printed precision is the one of the written ranking against the pair list
    truth = pairs_contact_map(read_contact_pairs(contacts), 53)
    scores = np.zeros((53, 53))
    i, j = rows[:, 0].astype(int) - 1, rows[:, 1].astype(int) - 1
    scores[i, j] = scores[j, i] = rows[:, 2]
    p = contact_precision(scores, truth, top="L/2")
    assert f"top L/2 {p:.3f}" in printed
    assert p > 0.8  # 300 sequences; a random ranking scores about 464 / 1128 = 0.41 at separation >= 5


def test_cv_groups_identity_is_the_library_grouping():
    opts = {"l2": "cv", "cv_folds": 2, "lambda_grid": (0.01, 0.1), "max_iter": 5}
    job = run_dca_file(SUB / "PF00014_sub300.fasta.gz", options={**opts, "cv_groups": "identity"}, progress=False)
    seqs = read_alignment(SUB / "PF00014_sub300.fasta.gz").seqs[job.rows][:, job.columns]
    groups = identity_groups(seqs, 0.8)
    assert groups.max() + 1 < len(seqs)  # some near-twins: the split differs from the position one
    ref = dca(seqs, sequence_weights(seqs, 0.8), q=21, progress=False, **opts, cv_groups=groups)
    np.testing.assert_array_equal(np.asarray(job.result.info.fold_scores), np.asarray(ref.info.fold_scores))


@pytest.mark.parametrize("argv,match", [
    (["--option", "l2=cv", "--option", "cv_groups=clusters"], "cv_groups must be 'identity'"),
    (["--option", "lambda_J=abc"], "lambda_J must be finite"),
    (["--option", "no_such=1"], "no option 'no_such'"),
    (["--method", "mf", "--option", "l2=cv"], "no option 'l2'"),
    (["--max-gap", "col=2"], "gap fractions"),
    (["--theta", "0"], "theta"),
    (["--max-gap", "0.0"], "no sequence left"),
])
def test_bad_options_exit_with_a_message(planted_fasta, argv, match, capsys):
    path, _, _ = planted_fasta
    with pytest.raises(SystemExit) as e:
        cli.main(["dca", str(path), f"--alphabet={ALPHABET}", "--no-progress"] + argv)
    assert e.value.code == 2 and match in capsys.readouterr().err


@pytest.mark.parametrize("text,match", [
    ("", "is empty"),
    (">a\nACD\n>b\nAC\n", "ragged|length"),
    ("just text, no header\n", "header|record|sequence"),
])
def test_bad_alignment_files_exit_with_a_message(tmp_path, text, match, capsys):
    path = tmp_path / "bad.fasta"
    path.write_text(text)
    with pytest.raises(SystemExit) as e:
        cli.main(["dca", str(path), "--no-progress"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    assert re.search(match, err, re.IGNORECASE), err


def test_missing_file_exits_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["dca", str(tmp_path / "nope.fasta")])
    assert e.value.code == 2 and "nope.fasta" in capsys.readouterr().err


def test_precision_counts_separation_in_the_input_columns_after_a_column_filter(planted_fasta, tmp_path):
    """Kept columns [2, 3, 4, 6, 7, 8, 9] (1-based): pairs 5 or more input columns apart are (2, 7) ... (4, 9), six of
    them; counted on the kept columns' own indices only three would be eligible."""
    path, _, _ = planted_fasta
    table = tmp_path / "pairs.txt"
    table.write_text("2 7\n3 8\n4 9\n")
    job = run_dca_file(path, alphabet=ALPHABET, max_col_gap=0.4, method="mf", contacts=table)
    cols = job.columns + 1
    score = {(int(i), int(j)): s for i, j, s in job.pairs}
    eligible = sorted(((i, j) for i, j in score if j - i >= 5), key=lambda p: -score[p])
    assert len(eligible) == 6
    truth = {(2, 7), (3, 8), (4, 9)}
    for top, k in (("L/5", len(cols) // 5), ("L/2", len(cols) // 2), ("L", len(cols))):
        assert job.precision[top] == np.mean([p in truth for p in eligible[:k]]), top
