"""Distance tables and contact maps (io/contacts.py)."""

import warnings

import numpy as np
import pytest

from ising_diffusion.io.contacts import (
    as_contact_map,
    contact_map,
    pairs_contact_map,
    read_contact_pairs,
    read_distance_table,
)

TABLE = """# i j x d
1.000000e+00 5.000000e+00 0.3 7.5
2 7 0.1 8.0
1 3 -4 2.0
3 7 0.0 12.25
"""


@pytest.mark.filterwarnings("ignore:the distance table lacks")  # a 4-line table: its missing pairs are the point
def test_read_and_map(tmp_path):
    path = tmp_path / "t.dat"
    path.write_text(TABLE)
    table = read_distance_table(path)
    np.testing.assert_allclose(table, [[0, 4, 7.5], [1, 6, 8.0], [0, 2, 2.0], [2, 6, 12.25]])
    cmap = contact_map(table, 7)
    want = np.zeros((7, 7), bool)
    for i, j in [(0, 4), (0, 2)]:  # d < 8 strictly: (1, 6) at 8.0 is not a contact
        want[i, j] = want[j, i] = True
    np.testing.assert_array_equal(cmap, want)
    np.testing.assert_array_equal(contact_map(table, 7, cutoff=12.5).sum(), 8)
    np.testing.assert_array_equal(as_contact_map(path, 7), want)
    np.testing.assert_array_equal(as_contact_map(want), want)
    np.testing.assert_array_equal(as_contact_map(want.astype(int), 7), want)


def test_contact_pairs(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("# contacts\n1 5\n1 3\n")
    pairs = read_contact_pairs(path)
    np.testing.assert_array_equal(pairs, [[0, 4], [0, 2]])
    cmap = pairs_contact_map(pairs, 7)
    assert cmap[4, 0] and cmap[0, 4] and cmap[2, 0] and cmap.sum() == 4


@pytest.mark.parametrize("text, message", [
    ("", "no pairs"),
    ("# nothing\n", "no pairs"),
    ("1 2 0.5\n", "line 1 has 3 columns"),
    ("1 2 x 5.0\n", "line 1 is not numeric"),
    ("1 2 0 5\n0 3 0 4\n", "line 2: columns i, j must be 1-based"),
    ("1.5 2 0 5\n", "1-based positive integers"),
    ("2 2 0 5\n", "with itself"),
    ("1 2 0 -1\n", "finite and >= 0"),
    ("1 2 0 nan\n", "finite and >= 0"),
])
def test_bad_tables(tmp_path, text, message):
    path = tmp_path / "bad.dat"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_distance_table(path)


def test_bad_maps():
    table = np.array([[0.0, 9.0, 3.0]])
    with pytest.raises(ValueError, match=r"in \[0, 5\)"):
        contact_map(table, 5)
    with pytest.raises(ValueError, match="length"):
        as_contact_map(table)
    with pytest.raises(ValueError, match="symmetric"):
        as_contact_map(np.triu(np.ones((4, 4), bool), 1))
    with pytest.raises(ValueError, match="square"):
        as_contact_map(np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="alignment has length 3"):
        as_contact_map(np.zeros((4, 4), bool), 3)
    with pytest.raises(ValueError, match="boolean"):
        as_contact_map(np.full((4, 4), 0.5))


def test_a_table_missing_pairs_says_they_count_as_non_contacts():
    """A structure with unresolved residues lists fewer pairs; those become non-contacts, which can understate the
    precision of a prediction that ranks them: the map says how many, at separation >= 5 (pairs closer are never
    scored)."""
    length = 8
    full = np.array([(i, j, 5.0 if j - i == 5 else 12.0) for i in range(length) for j in range(i + 1, length)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        complete = contact_map(full, length)  # every pair listed: no warning
    partial = full[~((full[:, 0] == 0) & (full[:, 1] >= 5))]  # residue 0's pairs with 5, 6, 7 unresolved
    with pytest.warns(UserWarning, match="lacks 3 of 6 residue pairs at separation >= 5"):
        got = contact_map(partial, length)
    assert complete[0, 5] and not got[0, 5] and np.array_equal(got[1:, 1:], complete[1:, 1:])
