"""Alignment files: FASTA / a2m / a3m (plain and gzip) to int8 states, and back."""

import gzip
import warnings

import numpy as np
import pytest

from ising_diffusion.io.alignment import (
    PROTEIN_ALPHABET,
    RNA_ALPHABET,
    decode_sequences,
    read_alignment,
    write_alignment,
)


def _states(strings, alphabet=PROTEIN_ALPHABET):
    return np.array([[alphabet.index(c) for c in s] for s in strings], dtype=np.int8)


def test_fasta_multiline_and_states(tmp_path):
    path = tmp_path / "a.fasta"
    path.write_text(">s1 first\nAC-D\nEF\n\n>s2\nWY--GH\n")
    aln = read_alignment(path)
    assert aln.seqs.dtype == np.int8
    np.testing.assert_array_equal(aln.seqs, _states(["AC-DEF", "WY--GH"]))
    assert aln.ids == ["s1 first", "s2"]
    assert aln.alphabet == PROTEIN_ALPHABET


def test_a2m_insertions_dropped(tmp_path):
    # a2m: lower-case letters and '.' are insert columns; upper-case and '-' are the 5 match columns.
    path = tmp_path / "a.a2m"
    path.write_text(">q\nAC..DEF\n>h1\nAcgC-E.F\n>h2\nA..-DEw.F\n")
    np.testing.assert_array_equal(read_alignment(path).seqs, _states(["ACDEF", "AC-EF", "A-DEF"]))
    # a2m as aligners write it: every record as long, the insert columns at the same positions
    path.write_text(">q\nAC..DEF\n>h1\nACgc-EF\n>h2\nA-.wDEF\n")
    np.testing.assert_array_equal(read_alignment(path).seqs, _states(["ACDEF", "AC-EF", "A-DEF"]))


def test_a3m_insertions_dropped_gzip_and_comment(tmp_path):
    # a3m: insertions are lower-case only (no '.' padding), a '#' line may open the file.
    path = tmp_path / "a.a3m.gz"
    path.write_bytes(gzip.compress(b"#A3M header\n>q\nMKV-L\n>h\nMkkKVaaa-L\n>h2\nM-VqL-\n"))
    np.testing.assert_array_equal(read_alignment(path).seqs, _states(["MKV-L", "MKV-L", "M-VL-"]))


def test_unknown_letters_are_gaps_unless_strict(tmp_path):
    path = tmp_path / "a.fasta"
    path.write_text(">a\nAXBZC\n>b\nACDEF\n")
    with pytest.warns(UserWarning, match=r"3 of 10 match cells \(30.0%\) hold letters outside"):
        np.testing.assert_array_equal(read_alignment(path).seqs, _states(["A---C", "ACDEF"]))
    with pytest.raises(ValueError, match=r"record 1 \('a'\) has 'X' at match column 2"):
        read_alignment(path, strict=True)


def test_many_unknown_letters_warn_a_few_do_not(tmp_path):
    """A DNA file read as RNA: every T becomes a gap, and the reader says so; one X among 200 cells stays silent."""
    path = tmp_path / "dna.fa"
    path.write_text(">a\nACGTT\n>b\nTTGCA\n")
    with pytest.warns(UserWarning, match=r"4 of 10 match cells.*'T' x 4.*right alphabet"):
        read_alignment(path, alphabet=RNA_ALPHABET)
    path.write_text(">a\n" + "A" * 99 + "X\n>b\n" + "C" * 100 + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_alignment(path).seqs[0, 99] == 0  # X: a gap, silently (0.5% of cells)


def test_a_bom_is_skipped_and_bad_bytes_are_named(tmp_path):
    path = tmp_path / "bom.fasta"
    path.write_bytes(b"\xef\xbb\xbf>a\nACDE\n>b\nACDF\n")  # a UTF-8 byte order mark, as some editors write
    np.testing.assert_array_equal(read_alignment(path).seqs, _states(["ACDE", "ACDF"]))
    path.write_text(">a\nAC\u03a9E\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"record 1 \('a'\) has '\u03a9' \(U\+03A9\) at character 3"):
        read_alignment(path)
    gz = tmp_path / "bad.fa.gz"
    gz.write_bytes(gzip.compress(b">a\nACDE\n" * 50)[:12] + b"\x00garbage" * 20)  # a valid header, a broken body
    with pytest.raises(ValueError, match="corrupt gzip file"):
        read_alignment(gz)


def test_rna_alphabet(tmp_path):
    path = tmp_path / "r.fa"
    path.write_text(">r1\nACGU-\n>r2\nAcGGNU\n")
    with pytest.warns(UserWarning, match="'N' x 1"):  # 1 of 10 cells: the reader says what became a gap
        aln = read_alignment(path, alphabet=RNA_ALPHABET)
    np.testing.assert_array_equal(aln.seqs, _states(["ACGU-", "AGG-U"], RNA_ALPHABET))


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("\n  \n", "empty"),
    ("# only a comment\n", "no sequences"),
    ("ACDE\n>a\nACDE\n", "before the first '>'"),
    (">a\nACDE\n>b\n>c\nACDE\n", r"record 2 \('b'\) has no sequence"),
    (">a\nACDE\n>b\nACD\n", r"ragged alignment: record 2 \('b'\) has 3 match columns.*first record has 4"),
    (">a\nacde\n>b\nACD\n", "no match columns"),
    (">a\nAC1E\n", r"'1' at match column 3, which cannot appear"),
    # same counts of match columns, but from other positions: read as columns shifted against each other before
    (">a\nAcDEF-\n>b\nACDEf-\n", r"record 2 \('b'\) has a lower-case letter or '\.' at character 2"),
    (">a\nAC.DE\n>b\nA.CDE\n", r"record 2 \('b'\) has a lower-case letter or '\.' at character 2"),
])
def test_bad_files(tmp_path, text, message):
    path = tmp_path / "bad.fasta"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_alignment(path)


def test_bad_alphabet(tmp_path):
    path = tmp_path / "a.fasta"
    path.write_text(">a\nAC\n")
    with pytest.raises(ValueError, match="no gap"):
        read_alignment(path, alphabet="ACGU")
    with pytest.raises(ValueError, match="repeats"):
        read_alignment(path, alphabet="-AAC")
    with pytest.raises(ValueError, match=r"lower-case letters or '\.'.*'-ACGU'"):  # read an upper-case file as gaps
        read_alignment(path, alphabet="-acgu")


@pytest.mark.parametrize("name", ["out.fasta", "out.fasta.gz"])
def test_write_read_roundtrip(tmp_path, name):
    rng = np.random.default_rng(0)
    seqs = rng.integers(0, len(PROTEIN_ALPHABET), size=(7, 11)).astype(np.int8)
    ids = [f"seq{k}/1-11 some text" for k in range(7)]
    path = write_alignment(tmp_path / name, seqs, ids)
    aln = read_alignment(path)
    np.testing.assert_array_equal(aln.seqs, seqs)
    assert aln.ids == ids
    assert decode_sequences(seqs)[0] == "".join(PROTEIN_ALPHABET[s] for s in seqs[0])
    with pytest.raises(ValueError, match="states"):
        write_alignment(tmp_path / "x.fasta", seqs + 30)
    with pytest.raises(ValueError, match="ids"):
        write_alignment(tmp_path / "x.fasta", seqs, ids[:3])
