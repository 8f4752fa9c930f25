"""Users' data files: every format read (gaps into a mask, bad values named by file/row/column), written back
atomically and read again unchanged; completion marginals against exact enumeration."""

import itertools
from functools import partial

import jax
import numpy as np
import pytest
import scipy.io

from ising_diffusion.io import load_npz, load_spins, read_spin_file, save_matrix, save_spins
from ising_diffusion.datasets.retina import load_retina_binary
from ising_diffusion.impute import completion_marginals, fit_with_missing, impute
from ising_diffusion.inference import infer
from ising_diffusion.ising import exact_sample, parameter_mse, sk_params
from ising_diffusion.reconstruct import complete_missing

FORMATS = ("npz", "npy", "mat", "csv", "tsv", "txt")


def _planted(m=7, n=5, seed=0):
    rng = np.random.default_rng(seed)
    spins = rng.choice([-1.0, 1.0], (m, n)).astype(np.float32)
    mask = rng.random((m, n)) < 0.2
    mask[0, 0] = mask[1, :] = True  # a row with every entry missing
    return spins, mask


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("encoding", ["spins", "binary"])
def test_roundtrip_every_format(tmp_path, ext, encoding):
    spins, mask = _planted()
    path = save_spins(tmp_path / f"d.{ext}", spins, mask, encoding=encoding)
    f = read_spin_file(path)
    assert f.encoding == encoding and f.format == {"txt": "text"}.get(ext, ext)
    np.testing.assert_array_equal(f.mask, mask)
    np.testing.assert_array_equal(np.where(mask, 0, f.spins), np.where(mask, 0, spins))
    assert np.all(np.isnan(f.spins[mask]))
    # without gaps the plain reader returns the spins themselves
    save_spins(path, spins, encoding=encoding)
    np.testing.assert_array_equal(load_spins(path), spins)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


@pytest.mark.parametrize("ext", FORMATS)
def test_bad_value_names_file_row_and_column(tmp_path, ext):
    arr = np.ones((4, 5))
    arr[0, 0] = -1
    arr[2, 3] = 0.5
    path = tmp_path / f"bad.{ext}"
    if ext == "npy":
        np.save(path, arr)
    elif ext == "npz":
        np.savez(path, spins=arr)
    elif ext == "mat":
        scipy.io.savemat(path, {"spins": arr})
    else:
        sep = {"csv": ",", "tsv": "\t", "txt": " "}[ext]
        path.write_text("\n".join(sep.join(f"{v:g}" for v in row) for row in arr) + "\n")
    with pytest.raises(ValueError, match=r"bad\.%s.*row 3.*column 4: value 0\.5" % ext):
        read_spin_file(path)
    if ext in ("csv", "txt"):  # a word where a number belongs, after a header row and a comment
        sep = "," if ext == "csv" else " "
        path.write_text(f"# answers\nq1{sep}q2\n1{sep}-1\n1{sep}yes\n")
        with pytest.raises(ValueError, match=r"row 2 \(line 4\), column 2: 'yes' is not a number"):
            read_spin_file(path)


def test_gaps_header_and_index_column(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("id,a,b,c\nr1,1,,-1\nr2,NA,-1,nan\nr3,1,NaN,1\n")
    f = read_spin_file(path, index_col=True)
    assert f.columns == ("id", "a", "b", "c") and f.index == ("r1", "r2", "r3") and f.encoding == "spins"
    np.testing.assert_array_equal(f.mask, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    spins, mask = load_spins(path, index_col=True, allow_missing=True)
    np.testing.assert_array_equal(np.where(mask, 0, spins), [[1, 0, -1], [0, -1, 0], [1, 0, 1]])
    with pytest.raises(ValueError, match="4 missing entries.*row 1, column 2"):
        load_spins(path, index_col=True)
    # header and index are written back, and the file reads back the same
    out = save_spins(tmp_path / "back.csv", spins, mask, columns=f.columns, index=f.index)
    assert out.read_text().splitlines()[:2] == ["id,a,b,c", "r1,1,,-1"]
    g = read_spin_file(out, index_col=True)
    assert g.columns == f.columns and g.index == f.index
    np.testing.assert_array_equal(g.mask, mask)
    # whitespace text with NA, and an .npy with NaN
    (tmp_path / "g.txt").write_text("1 NA\n-1 1\n")
    np.testing.assert_array_equal(read_spin_file(tmp_path / "g.txt").mask, [[0, 1], [0, 0]])
    np.save(tmp_path / "g.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    f = read_spin_file(tmp_path / "g.npy")
    assert f.encoding == "binary" and f.mask.tolist() == [[False, True], [False, False]]


def test_encoding_detection_and_missing_zero(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("0 0\n0 0\n")
    assert read_spin_file(path).encoding == "binary"  # 0 is never a spin
    path.write_text("1 1\n1 1\n")
    with pytest.raises(ValueError, match="every observed value is \\+1.*--encoding"):
        read_spin_file(path)
    assert read_spin_file(path, encoding="spins").encoding == "spins"
    path.write_text("1 -1\n0 1\n")
    with pytest.raises(ValueError, match="row 2 \\(line 2\\), column 1.*--missing-zero"):
        read_spin_file(path)
    f = read_spin_file(path, missing_zero=True)
    assert f.encoding == "spins" and f.mask.tolist() == [[False, False], [True, False]]
    with pytest.raises(ValueError, match="--encoding binary"):
        read_spin_file(path, encoding="spins")
    with pytest.raises(ValueError, match="binary file 0 is a value"):
        read_spin_file(path, encoding="binary", missing_zero=True)
    path.write_text("1 -1\n1\n")
    with pytest.raises(ValueError, match="line 2 has 1 fields, expected 2"):
        read_spin_file(path)


def test_npz_and_mat_keys_and_the_retina_layout(tmp_path):
    x = np.array([[1, -1], [-1, -1]], np.int8)
    np.savez(tmp_path / "k.npz", a=x, b=x)
    with pytest.raises(ValueError, match="several arrays"):
        read_spin_file(tmp_path / "k.npz")
    np.testing.assert_array_equal(load_spins(tmp_path / "k.npz", key="b"), x)
    np.testing.assert_array_equal(load_npz(tmp_path / "k.npz", "a", encoding="spins"), x)  # the old reader works
    bint = (np.random.default_rng(0).random((2, 3, 4)) < 0.5).astype(np.float64)
    scipy.io.savemat(tmp_path / "bint_fishmovie32_100.mat", {"bint": bint})
    f = read_spin_file(tmp_path / "bint_fishmovie32_100.mat")
    binary, _ = load_retina_binary(tmp_path / "bint_fishmovie32_100.mat")
    assert f.key == "bint" and f.encoding == "binary"
    np.testing.assert_array_equal(f.spins, 2.0 * binary - 1.0)


def test_writes_are_atomic(tmp_path):
    path = save_spins(tmp_path / "d.csv", np.ones((2, 2)))
    before = path.read_text()
    with pytest.raises(ValueError):
        save_spins(path, np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="2 names for 3 columns"):
        save_spins(path, np.ones((2, 2)), columns=("a", "b"), index=("x", "y"))
    assert path.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["d.csv"]
    save_matrix(tmp_path / "p.tsv", np.array([[0.25, np.nan]]))
    assert (tmp_path / "p.tsv").read_text() == "0.25\t\n"


def test_completion_marginals_are_exact():
    n = 7
    params = sk_params(jax.random.key(3), n, 1.2)
    h, J = np.asarray(params.h, np.float64), np.asarray(params.J, np.float64)
    rng = np.random.default_rng(1)
    spins = rng.choice([-1.0, 1.0], (6, n))
    hidden = rng.random((6, n)) < 0.5
    hidden[0] = True
    hidden[1] = False
    res = impute(params, np.where(hidden, np.nan, spins), hidden)
    for m in range(6):
        cells = np.flatnonzero(hidden[m])
        np.testing.assert_array_equal(res.prob_plus[m, ~hidden[m]], (spins[m, ~hidden[m]] + 1) / 2)
        if not len(cells):
            continue
        weights, plus = [], []
        for x in itertools.product([-1.0, 1.0], repeat=len(cells)):
            s = spins[m].copy()
            s[cells] = x
            weights.append(np.exp(h @ s + 0.5 * s @ J @ s))
            plus.append(np.array(x) > 0)
        weights = np.array(weights)
        np.testing.assert_allclose(res.prob_plus[m, cells], weights @ np.array(plus) / weights.sum(), atol=2e-5)
        best = np.array(list(itertools.product([-1.0, 1.0], repeat=len(cells))))[np.argmax(weights)]
        np.testing.assert_array_equal(res.spins[m, cells], best)
    assert res.exact.all()
    # beyond max_exact: the library's approximate fill and mean-field probabilities
    approx = impute(params, spins, hidden, max_exact=2)
    np.testing.assert_array_equal(approx.spins, complete_missing(params, spins, hidden, max_exact=2).spins)
    assert not approx.exact[0] and np.all((approx.prob_plus >= 0) & (approx.prob_plus <= 1))
    np.testing.assert_allclose(completion_marginals(params, spins, hidden), res.prob_plus)


def test_fit_with_missing_beats_dropping_rows_and_the_independent_fill():
    n, m = 6, 600
    truth = sk_params(jax.random.key(2), n, 1.0)
    spins = np.asarray(exact_sample(jax.random.key(12), truth, m))
    hidden = np.random.default_rng(2).random((m, n)) < 0.25  # about 100 complete rows
    fit = partial(infer, method="pseudolikelihood", l2=1e-3)
    start = fit_with_missing(fit, jax.random.key(1), spins, hidden, n_rounds=0)
    em = fit_with_missing(fit, jax.random.key(1), spins, hidden, n_rounds=6)
    dropped = fit(spins[~hidden.any(axis=1)])
    mse = {k: float(parameter_mse(truth, p)) for k, p in [("start", start), ("em", em), ("dropped", dropped)]}
    assert mse["em"] < 0.8 * mse["start"] and mse["em"] < 0.8 * mse["dropped"], mse


def test_a_column_never_observed_is_refused():
    """Its field and couplings would be whatever the fill made them (J = -375 under mean field)."""
    spins = np.where(np.random.default_rng(0).random((30, 4)) < 0.5, -1.0, 1.0)
    hidden = np.zeros(spins.shape, bool)
    hidden[:, 2] = True
    with pytest.raises(ValueError, match=r"column\(s\) 3 \(1-based\) have no observed entry"):
        fit_with_missing(lambda x: infer(x, method="mean_field"), jax.random.key(0), spins, hidden, n_rounds=1)
