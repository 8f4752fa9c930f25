"""augment on alignments (issue 23 item 2): bad input, the Potts adapter's options and weighted held-out score, an
end-to-end run on a planted Potts chain that declines a useless generator, and the CLI on an alignment file."""

import warnings

import jax
import numpy as np
import pytest

from ising_diffusion.augment import AugmentConfig, AugmentationNotRecommendedWarning, augment
from ising_diffusion.augment.potts_solver import POTTS_SOLVER, potts_held_out_terms, resolve_potts_solver
from ising_diffusion.cli import main
from ising_diffusion.cli_augment_msa import is_alignment_file
from ising_diffusion.generative import CategoricalD3PMConfig
from ising_diffusion.inference.potts_pseudolikelihood import potts_log_pseudolikelihood
from ising_diffusion.io.alignment import write_alignment
from ising_diffusion.msa import sequence_weights, traced_sequence_weights
from ising_diffusion.potts import potts_chain_params, potts_exact_sample

L, Q = 6, 3
GCFG = CategoricalD3PMConfig(n_states=Q, widths=(16, 16), time_embed_dim=8, n_timesteps=10, batch_size=32)


@pytest.fixture(scope="module")
def noise():
    """Uniform random sequences and a planted chain truth (no sampler to compile: the fast tests use these)."""
    truth, _ = potts_chain_params(jax.random.key(0), L, Q, g=1.0)
    x = np.random.default_rng(0).integers(0, Q, (100, L)).astype(np.int8)
    return truth, None, x[:80], x[80:]


@pytest.fixture(scope="module")
def planted():
    truth, graph = potts_chain_params(jax.random.key(0), L, Q, g=1.0)
    x = np.asarray(potts_exact_sample(jax.random.key(1), truth, 500), np.int8)
    return truth, graph, x[:400], x[400:]


def test_bad_sequences_raise(noise):
    _, _, train, test = noise
    kw = dict(generator="d3pm_categorical", generator_config=GCFG, progress=False)
    with pytest.raises(ValueError, match="integer states"):
        augment(jax.random.key(0), train.astype(np.float32) + 0.5, test, **kw)
    with pytest.raises(ValueError, match=r"\[0, q=3\)"):
        augment(jax.random.key(0), np.where(train == 2, 3, train), test, **kw)
    with pytest.raises(ValueError, match="same length"):
        augment(jax.random.key(0), train, test[:, :-1], **kw)
    with pytest.raises(ValueError, match="n_states"):
        augment(jax.random.key(0), train, test, q=4, **kw)
    with pytest.raises(ValueError, match="q-state generator"):  # sequences given to a spin generator
        augment(jax.random.key(0), train, test, progress=False)
    with pytest.raises(ValueError, match="alignments"):  # q with a spin generator
        augment(jax.random.key(0), 2.0 * (train > 0) - 1, 2.0 * (test > 0) - 1, q=3, progress=False)


def test_potts_solver_options():
    assert resolve_potts_solver(None, None, n_train=10) == (POTTS_SOLVER, (("l2", "cv"),))
    assert resolve_potts_solver("plm", {"lambda_J": 0.05}, n_train=10)[1] == (("lambda_J", 0.05),)
    for bad, match in (({"l2": 0.1}, "l2 must be"), ({"l2": "cv", "lambda_J": 0.1}, "not both"),
                       ({"lambda_grid": (0.1,)}, "need l2='cv'"), ({"l2": "cv", "cv_folds": 11}, "cv_folds"),
                       ({"eps": 1}, "unknown"), ({"penalty": "x"}, "penalty"),
                       ({"l2": "cv", "cv_folds": None}, "cv_folds"), ({"l2": "cv", "cv_folds": "x"}, "cv_folds"),
                       ({"l2": "cv", "lambda_grid": "abc"}, "lambda_grid"), ({"memory_size": 0}, "memory_size"),
                       ({"memory_size": 2.5}, "memory_size"), ({"symmetric": "no"}, "symmetric")):
        with pytest.raises(ValueError, match=match):
            resolve_potts_solver(None, bad, n_train=10)
    with pytest.raises(ValueError, match="weighted pseudolikelihood"):
        resolve_potts_solver("erasure", None, n_train=10)
    # a single penalty is a grid of one
    assert dict(resolve_potts_solver(None, {"l2": "cv", "lambda_grid": 0.1}, n_train=10)[1])["lambda_grid"] == (0.1,)


def test_held_out_terms_are_weighted_pseudolikelihood(noise):
    """The mean of the held-out terms is the weighted mean log-pseudolikelihood, with plmc's weights at theta over
    the test set (a duplicated test sequence counts once)."""
    truth, _, _, test = noise
    test = np.concatenate([test, test[:10]])  # duplicates: their weights halve
    w = np.asarray(sequence_weights(test, 0.8), np.float64)
    np.testing.assert_allclose(np.asarray(traced_sequence_weights(test, 0.8)), w)
    assert w.min() < 1
    pl = np.asarray(potts_log_pseudolikelihood(truth, test), np.float64)
    terms = np.asarray(potts_held_out_terms(truth, np.asarray(test, np.int32), theta=0.8))
    assert terms.shape == (test.shape[0],)
    np.testing.assert_allclose(terms.mean(), np.dot(w, pl) / w.sum(), rtol=1e-5)
    assert not np.isclose(terms.mean(), pl.mean(), rtol=1e-4)  # the weights matter here


def test_alignment_file_names():
    assert all(is_alignment_file(p) for p in ("a.fasta", "A.FA", "x.a2m", "x.a3m.gz", "d/f.faa"))
    assert not any(is_alignment_file(p) for p in ("a.npz", "a.csv", "a.txt", "fasta.npz"))


@pytest.mark.slow  # ~3-4 min on a loaded 2-core machine (the Potts fits and the generator compile)
def test_augment_on_alignment_declines_a_useless_generator(planted):
    """Planted chain, 400 training sequences: two optimiser steps leave the categorical D3PM a noise source. Adding
    as many of its sequences can only hurt the held-out weighted pseudolikelihood, so augment recommends the training
    fit, which is also the better one in parameter MSE; the quality numbers say the samples are worse than the data."""
    truth, _, train, test = planted
    cfg = AugmentConfig(n_steps=2, monitor_steps=1, n_monitor_samples=400, n_bootstrap=20, mix_grid=(0, 1))
    with pytest.warns(AugmentationNotRecommendedWarning):
        r = augment(jax.random.key(2), train, test, generator="d3pm_categorical", generator_config=GCFG,
                    config=cfg, n_augmented=200, progress=False, true_params=truth,
                    solver_options={"lambda_J": 0.01})
    assert r.solver == POTTS_SOLVER and np.isclose(r.solver_l2, 0.01) and np.isclose(r.solver_l2_combined, 0.01)
    assert r.samples.shape == (200, L) and r.samples.dtype == np.int8
    assert r.params_selected.J.shape == (L, L, Q, Q)
    # the held-out score of the training fit is the weighted mean PL of the test sequences under it
    w = np.asarray(sequence_weights(test, 0.8), np.float64)
    pl = np.asarray(potts_log_pseudolikelihood(r.params_train, test), np.float64)
    np.testing.assert_allclose(r.score["train"], np.dot(w, pl) / w.sum(), rtol=1e-4)
    assert r.curve.score.shape == (2, 2) and np.all(r.curve.score[:, 1] < r.score["train"])
    assert r.recommended is False and r.selected == "train" and "not recommended" in r.reason
    jax.tree.map(np.testing.assert_array_equal, r.params_selected, r.params_train)
    assert r.mse["selected"] == r.mse["train"] < r.mse["combined"]
    assert r.quality.pair_ratio > 1.0 and r.quality.single_ratio > 1.0 and r.moment_rms is None


@pytest.mark.slow  # ~4 min on a loaded 2-core machine
def test_cli_augment_alignment_writes_dca_scores(tmp_path, planted, capsys):
    """On a planted chain alignment, the CLI writes the selected fit's scores in dca's columns (i < j, 1-based,
    sorted by score), the chain's edges on top, and the generated sequences as FASTA with --write-unrecommended."""
    _, graph, train, test = planted
    path = tmp_path / "planted.fasta"
    write_alignment(path, np.concatenate([train, test]), alphabet="-AC")
    out, scores, fasta = tmp_path / "aug.npz", tmp_path / "scores.csv", tmp_path / "gen.fasta"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AugmentationNotRecommendedWarning)
        assert main(["augment", str(path), "--alphabet=-AC", "--out", str(out), "--scores-out", str(scores),
                     "--fasta-out", str(fasta), "--write-unrecommended", "--n-augmented", "50", "--no-progress",
                     "--option", "lambda_J=0.01", "--set", "n_steps=2", "--set", "monitor_steps=1",
                     "--set", "n_monitor_samples=100", "--set", "n_bootstrap=20", "--set", "mix_grid=0,1",
                     "--generator-set", "widths=16,16", "--generator-set", "n_timesteps=10"]) == 0
    lines = scores.read_text().splitlines()
    assert lines[0] == "i,j,score" and len(lines) == 1 + L * (L - 1) // 2
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert np.all(rows[:, 0] < rows[:, 1]) and rows[:, :2].min() == 1 and rows[:, :2].max() == L
    assert np.all(np.diff(rows[:, 2]) <= 0)
    top = {(int(i), int(j)) for i, j in rows[: L - 1, :2]}
    assert top == {(i + 1, i + 2) for i in range(L - 1)}  # the chain's edges rank first
    assert fasta.read_text().count(">") == 50
    with np.load(out) as z:
        assert z["J"].shape == (L, L, Q, Q) and not bool(z["recommended"])
    assert "generator quality" in capsys.readouterr().out


@pytest.mark.parametrize("n_seqs", [1, 6])
def test_cli_augment_too_few_sequences_for_the_split_says_what_to_change(tmp_path, noise, n_seqs, capsys):
    """6 sequences at the default test fraction (0.2) leave 1 held out, and augment scores on at least 2: the split
    says so, with the file's name and the ways out, before any fit (it used to pass 1 on to augment's own check)."""
    path = tmp_path / "few.fasta"
    write_alignment(path, noise[2][:n_seqs], alphabet="-AC")
    with pytest.raises(SystemExit) as e:
        main(["augment", str(path), "--alphabet=-AC", "--out", str(tmp_path / "a.npz"), "--no-progress"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "few.fasta" in err and "(at least 2 and 2 needed)" in err and "--test" in err


@pytest.mark.parametrize("validate", [True, False])
def test_augment_seeds_takes_trusted_sequences_as_sequences(noise, monkeypatch, validate):
    """``augment_seeds(validate=False)`` skips only the host check: a q-state generator still gets int32 sequences
    and its SequenceData (q, theta), as with ``validate=True`` (it used to take them as float spins)."""
    from ising_diffusion.augment import augment_seeds, driver

    _, _, train, test = noise
    seen = {}
    monkeypatch.setattr(driver, "_run", lambda keys, tr, te, **kw: seen.update(tr=tr, te=te, **kw))
    keys = jax.random.split(jax.random.key(0), 2)
    augment_seeds(keys, np.stack([train, train]), np.stack([test, test]), generator="d3pm_categorical",
                  generator_config=GCFG, theta=0.7, validate=validate, progress=False)
    assert seen["sequences"].q == Q and seen["sequences"].theta == 0.7
    assert seen["tr"].dtype == seen["te"].dtype == np.int32 and seen["tr"].shape == (2,) + train.shape
    np.testing.assert_array_equal(np.asarray(seen["tr"][1]), train)
    assert seen["generator_config"].n_states == Q
    with pytest.raises(ValueError, match="theta"):
        augment_seeds(keys, np.stack([train, train]), np.stack([test, test]), generator="d3pm_categorical",
                      generator_config=GCFG, theta=1.5, validate=validate, progress=False)


def test_a_checkpointed_alignment_run_loads_its_generator_state(noise, tmp_path):
    """``load_checkpointed_state`` restores a q-state generator's state from an alignment run (its template held the
    spin fit's shapes, so orbax refused the run's Potts fit): each monitor point's own state, and it samples states."""
    from ising_diffusion.augment import load_checkpointed_state
    from ising_diffusion.generative import make_generator

    _, _, train, test = noise
    cfg = AugmentConfig(n_steps=2, monitor_steps=1, n_monitor_samples=8, mix_grid=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        augment(jax.random.key(0), train[:24], test[:12], generator="d3pm_categorical", generator_config=GCFG,
                config=cfg, n_augmented=8, progress=False, solver_options={"lambda_J": 0.05},
                checkpoint_dir=tmp_path)
    load = lambda step: load_checkpointed_state(tmp_path, step=step, n_spins=L, generator="d3pm_categorical",  # noqa
                                                generator_config=GCFG)
    state, first = load(2), load(1)
    assert int(state.step) == 2 and int(first.step) == 1  # each point's own state, one optimiser step apart
    assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(first)))
    jax.tree.map(np.testing.assert_array_equal, load(2), state)
    draws = make_generator("d3pm_categorical", GCFG, L).sample(jax.random.key(5), state, 16)
    assert draws.shape == (16, L) and int(draws.min()) >= 0 and int(draws.max()) < Q


def test_augment_seeds_takes_raw_uint32_keys_as_augment_does(noise, monkeypatch):
    """Keys from ``jax.random.split(jax.random.PRNGKey(0), S)`` are ``(S, 2)`` uint32: the seed-axis check read
    their shape as a mismatch (``validate=False`` and ``augment`` took them)."""
    from ising_diffusion.augment import augment_seeds, driver

    _, _, train, test = noise
    seen = {}
    monkeypatch.setattr(driver, "_run", lambda keys, tr, te, **kw: seen.update(keys=keys))
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    augment_seeds(keys, np.stack([train, train]), np.stack([test, test]), generator="d3pm_categorical",
                  generator_config=GCFG, progress=False)
    assert np.shape(seen["keys"]) == (2, 2)
    with pytest.raises(ValueError, match="seed axis S=2"):
        augment_seeds(keys[:1], np.stack([train, train]), np.stack([test, test]), generator="d3pm_categorical",
                      generator_config=GCFG, progress=False)
