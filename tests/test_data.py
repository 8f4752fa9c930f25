import jax
import numpy as np
import pytest

import ising_diffusion as idf


def test_as_spins_accepts_spins_and_binary():
    x = np.array([[1, -1], [-1, -1]])
    np.testing.assert_array_equal(idf.as_spins(x), x.astype(np.float32))
    b = np.array([[1, 0], [0, 0]], np.uint8)
    np.testing.assert_array_equal(idf.as_spins(b, encoding="binary"), x.astype(np.float32))


@pytest.mark.parametrize(
    "data, encoding, match",
    [
        (np.ones(4), "spins", "2-D"),
        (np.ones((0, 4)), "spins", "empty"),
        (np.array([[1.0, np.nan]]), "spins", "NaN"),
        (np.array([[1, 0]]), "spins", "encoding='binary'"),
        (np.array([[1, 2]]), "binary", r"\{0, 1\}"),
        (np.array([[0.5, 1]]), "spins", r"\{-1, 1\}"),
        (np.array([["a", "b"]]), "spins", "numeric"),
    ],
)
def test_as_spins_rejects_bad_input(data, encoding, match):
    with pytest.raises(ValueError, match=match):
        idf.as_spins(data, encoding=encoding)


def test_as_spins_wrong_n_and_bad_encoding():
    with pytest.raises(ValueError, match="expected 3"):
        idf.as_spins(np.ones((2, 4)), n_spins=3)
    with pytest.raises(ValueError, match="encoding"):
        idf.as_spins(np.ones((2, 4)), encoding="bits")


def test_split_is_a_reproducible_partition():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    tr, te = idf.train_test_split(jax.random.key(0), x, n_test=5)
    assert tr.shape == (15, 2) and te.shape == (5, 2)
    rows = sorted(map(tuple, np.concatenate([tr, te]).tolist()))
    assert rows == sorted(map(tuple, x.tolist()))
    tr2, _ = idf.train_test_split(jax.random.key(0), x, n_test=5)
    np.testing.assert_array_equal(tr, tr2)
    tr3, te3 = idf.train_test_split(jax.random.key(1), x, n_test=5)  # the key shuffles: not a head / tail cut
    assert not np.array_equal(te3, te) and not np.array_equal(te, x[-5:]) and not np.array_equal(tr, x[:15])
    with pytest.raises(ValueError, match="cannot split"):
        idf.train_test_split(jax.random.key(0), x, n_test=30)


def test_spins_to_binary_inverts_the_binary_reading():
    s = np.array([[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]], np.float32)
    b = idf.spins_to_binary(s)
    assert b.dtype == np.uint8 and b.tolist() == [[0, 1, 1], [1, 0, 0]]
    np.testing.assert_array_equal(idf.as_spins(b, encoding="binary"), s)


def test_npz_roundtrip_and_atomic(tmp_path):
    path = tmp_path / "d.npz"
    x = np.array([[1, -1], [1, 1]], np.float32)
    idf.save_npz(path, spins=x)
    np.testing.assert_array_equal(idf.load_npz(path, encoding="spins"), x)

    class Boom(Exception):
        pass

    class Bad:
        def __array__(self, *a, **k):
            raise Boom()

    with pytest.raises(Boom):
        idf.save_npz(path, spins=Bad())
    # the earlier file is intact and no temporary file is left behind
    np.testing.assert_array_equal(idf.load_npz(path), x)
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]
    with pytest.raises(FileNotFoundError):
        idf.load_npz(tmp_path / "missing.npz")


@pytest.mark.parametrize("n_test,n_train", [(2.5, None), (4, 2.5), (None, None), ("4", None)])
def test_train_test_split_refuses_a_fractional_row_count(n_test, n_train):
    """2.5 test rows was cut to 2; a fraction in (0, 1) and whole counts still split as before."""
    x = np.ones((20, 3), np.float32)
    with pytest.raises(ValueError, match="n_test must be a fraction"):
        idf.train_test_split(jax.random.key(0), x, n_test, n_train)
    assert [a.shape[0] for a in idf.train_test_split(jax.random.key(0), x, 0.25)] == [15, 5]
    assert [a.shape[0] for a in idf.train_test_split(jax.random.key(0), x, np.int64(5), 10)] == [10, 5]


def test_train_test_split_names_a_fraction_that_rounds_to_no_test_row():
    """0.125 of 2 samples is 0.25 rows: the message names the fraction and the count, not an n_test the user never
    gave."""
    with pytest.raises(ValueError, match="a test fraction of 0.125 of 2 samples rounds to 0 test rows"):
        idf.train_test_split(jax.random.key(0), np.ones((2, 3), np.float32), 0.125)
    assert [a.shape[0] for a in idf.train_test_split(jax.random.key(0), np.ones((8, 3), np.float32), 0.125)] == [7, 1]
