"""Readers given damaged or unusual files: a clear ValueError naming the file (never a traceback from zipfile, zlib
or a codec, nor a silent wrong value), and the byte order mark that spreadsheet programs write is skipped."""

import json

import numpy as np
import pytest

from ising_diffusion.datasets.msa import distance_matrix
from ising_diffusion.io import has_params, load_params, read_spin_file
from ising_diffusion.io.contacts import contact_map
from ising_diffusion.io.text import read_text_table


def test_an_empty_or_truncated_npz_is_a_named_error(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, spins=np.ones((3, 4)))
    for name, payload in (("empty.npz", b""), ("cut.npz", good.read_bytes()[:40])):
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(ValueError, match=f"cannot read .*{name}"):
            read_spin_file(path)
        with pytest.raises(ValueError, match=f"cannot read .*{name}"):
            load_params(path)


def test_parameters_with_nan_are_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"h": [float("nan"), 0.0], "J": [[0.0, 1.0], [1.0, 0.0]]}))  # json writes NaN
    with pytest.raises(ValueError, match="must be finite"):
        load_params(path)
    np.savez(tmp_path / "q.npz", h=np.zeros(2), J=np.array([[0.0, np.inf], [np.inf, 0.0]]))
    with pytest.raises(ValueError, match="must be finite"):  # it said "J must be symmetric" for a NaN
        load_params(tmp_path / "q.npz")


def test_a_csv_with_a_byte_order_mark_reads_and_latin1_is_named(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xef\xbb\xbf1,-1,1\n-1,1,1\n")  # Excel's "CSV UTF-8"
    np.testing.assert_array_equal(read_spin_file(path).spins, [[1, -1, 1], [-1, 1, 1]])
    path.write_bytes("# caf\xe9\n1,-1\n-1,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"s\.csv: not UTF-8 text"):
        read_spin_file(path)


def test_a_pair_listed_twice_gets_its_smallest_distance_in_both_views():
    table = np.array([[0, 4, 3.0], [4, 0, 12.0], [1, 3, 9.0]])  # (0, 4) twice, in both orders
    d = distance_matrix(table, 5)
    assert d[0, 4] == d[4, 0] == 3.0 and d[1, 3] == 9.0 and np.isnan(d[0, 1])
    assert contact_map(table, 5)[0, 4] and (d < 8.0).sum() == contact_map(table, 5).sum() + 5  # + the diagonal


def test_sequence_ids_that_would_split_a_header_line_are_refused(tmp_path):
    from ising_diffusion.io.alignment import read_alignment, write_alignment

    seqs = np.zeros((2, 4), np.int8)
    for bad in ("p\x0cq", "p\u2028q", "p\nq"):  # every line break splitlines() knows, not only \n and \r
        with pytest.raises(ValueError, match="line breaks"):
            write_alignment(tmp_path / "a.fasta", seqs, ids=[bad, "b"])
    assert read_alignment(write_alignment(tmp_path / "a.fasta", seqs, ids=["", "b c"])).ids == ["", "b c"]


def test_a_trailing_delimiter_is_named_not_read_as_a_missing_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,-1,\n-1,1,\n")
    with pytest.raises(ValueError, match="column 3 is empty on every row"):
        read_spin_file(path)
    path.write_text("1,-1,\n-1,1,1\n")  # a column missing in one row only is a missing entry, as before
    values = read_text_table(path, delimiter=",").values
    assert np.isnan(values[0, 2]) and values[1, 2] == 1


def test_an_npy_named_npz_and_the_reverse_are_named_errors(tmp_path):
    """np.load decides by content: an .npy under an .npz name crashed in a `with` (TypeError), the reverse in a dtype
    lookup (AttributeError), an empty .npy with an EOFError."""
    arr = np.ones((3, 4))
    np.save(tmp_path / "a.npy", arr)
    np.savez(tmp_path / "b.npz", spins=arr)
    (tmp_path / "a.npy").rename(tmp_path / "a_as.npz")
    (tmp_path / "b.npz").rename(tmp_path / "b_as.npy")
    (tmp_path / "empty.npy").write_bytes(b"")
    for name, match in (("a_as.npz", "holds an .npy array, not an .npz archive; rename it to a_as.npy"),
                        ("b_as.npy", "holds an .npz archive, not an .npy array"),
                        ("empty.npy", "cannot read .*empty.npy as an .npy array")):
        with pytest.raises(ValueError, match=match):
            read_spin_file(tmp_path / name)


def test_a_parameter_file_of_another_kind_is_named(tmp_path):
    """A text file given as --params or --truth got NumPy's advice to load pickled data unsafely."""
    path = tmp_path / "p.txt"
    path.write_text("0 0\n0 0\n")
    with pytest.raises(ValueError, match=r"an \.npz .* or a \.json object, not a '\.txt' file"):
        load_params(path)


def test_fitted_parameters_are_not_taken_for_a_truth(tmp_path):
    """augment's output holds fitted h and J beside the training spins; infer on it printed an 'MSE against the
    truth' that compared a fit with a fit. Files from `sample` (h, J, spins) still count."""
    spins = np.where(np.random.default_rng(0).random((20, 3)) < 0.5, -1.0, 1.0)
    np.savez(tmp_path / "sampled.npz", spins=spins, h=np.zeros(3), J=np.zeros((3, 3)))
    np.savez(tmp_path / "augmented.npz", train=spins, h=np.zeros(3), J=np.zeros((3, 3)), recommended=False)
    (tmp_path / "broken.npz").write_bytes(b"PK")
    assert has_params(tmp_path / "sampled.npz")
    assert not has_params(tmp_path / "augmented.npz") and not has_params(tmp_path / "broken.npz")


def test_a_file_with_another_delimiter_says_which(tmp_path):
    """'1;-1;1' in a .csv was one unreadable field (and its first line a header) with no word on the delimiter."""
    path = tmp_path / "semi.csv"
    path.write_text("1;-1;1\n-1;1;1\n1;1;-1\n")
    with pytest.raises(ValueError, match="separated by ';', not by ',': pass --delimiter"):
        read_spin_file(path)
    assert read_spin_file(path, delimiter=";").spins.shape == (3, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,-1,1\n-1,x,1\n")
    with pytest.raises(ValueError, match=r"'x' is not a number or a missing-entry marker \(empty, NA, NaN\)$"):
        read_spin_file(bad)  # a bad value is not blamed on the delimiter
