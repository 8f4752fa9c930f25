"""Grouped cross-validation folds: identity clusters of sequences, folds that keep them whole, and the CV leak they
close (near-duplicates on both sides of a position split pick too weak a penalty)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ising_diffusion import potts
from ising_diffusion.augment.potts_solver import parent_folds, potts_model, resolve_potts_solver
from ising_diffusion.inference.grouped_folds import grouped_folds
from ising_diffusion.inference.potts_pseudolikelihood import potts_pseudolikelihood_cv
from ising_diffusion.msa import identity_groups


def test_singleton_groups_are_the_position_split():
    for m, f in ((12, 5), (7, 2), (50, 5)):
        np.testing.assert_array_equal(grouped_folds(np.arange(m), f), np.arange(m) % f)
        # labels are names, not positions: any distinct labels give the same split
        np.testing.assert_array_equal(grouped_folds(np.arange(m)[::-1] * 3 + 7, f), np.arange(m) % f)


def test_groups_stay_whole_and_folds_balance():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 40, 300)
    folds = grouped_folds(groups, 5)
    for g in np.unique(groups):
        assert np.unique(folds[groups == g]).size == 1
    sizes = np.bincount(folds, minlength=5)
    assert sizes.min() > 0
    assert sizes.max() - sizes.min() <= np.bincount(groups).max()


def test_grouped_folds_bad_input():
    with pytest.raises(ValueError, match="3 group"):
        grouped_folds(np.array([0, 0, 1, 2, 2]), 5)
    with pytest.raises(ValueError, match="integer labels"):
        grouped_folds(np.array([0.0, 1.0, 2.0]), 2)
    with pytest.raises(ValueError, match="1-D"):
        grouped_folds(np.zeros((2, 3), int), 2)
    with pytest.raises(ValueError, match="cv_folds"):
        grouped_folds(np.arange(5), 1)


def test_identity_groups_find_planted_families_and_chains():
    rng = np.random.default_rng(1)
    parents = rng.integers(0, 21, (6, 30))
    mutants = np.repeat(parents, 4, axis=0)
    mutants[np.arange(24), rng.integers(0, 30, 24)] = rng.integers(0, 21, 24)  # at most one site changed
    order = rng.permutation(30)
    seqs = np.concatenate([parents, mutants])[order]
    family = np.concatenate([np.arange(6), np.repeat(np.arange(6), 4)])[order]
    groups = identity_groups(seqs, 0.8)
    # one group per planted family (random parents share ~1/21 of their sites), numbered by first appearance
    for fam in range(6):
        assert np.unique(groups[family == fam]).size == 1
    assert np.unique(groups).size == 6
    first = [groups[np.flatnonzero(groups == g)[0]] for g in range(6)]
    assert first == sorted(first) and groups[0] == 0
    # single linkage: a -> b -> c one neighbour step apart (6 of 30 sites each) joins a and c (12 sites apart)
    a = rng.integers(0, 21, 30)
    b, c = a.copy(), a.copy()
    b[:6] = (a[:6] + 1) % 21
    c[:12] = (a[:12] + 1) % 21
    labels = identity_groups(np.stack([a, c, b]), 0.8)
    np.testing.assert_array_equal(labels, [0, 0, 0])
    np.testing.assert_array_equal(identity_groups(np.stack([a, c]), 0.8), [0, 1])


def test_grouped_cv_closes_the_copy_leak():
    """Independent sites (no couplings) and 5 copies of each of 60 sequences: position folds hold a sequence out with
    its copies in the training part, so weak penalties score best; grouped folds hold all copies out together and
    choose the penalty CV on the distinct sequences chooses. With singleton groups the grouped path is the position
    path, to the last digit."""
    params = potts.PottsParams(np.asarray(jax.random.normal(jax.random.key(0), (8, 4)), np.float32),
                               np.zeros((8, 8, 4, 4), np.float32))
    base = np.asarray(potts.potts_exact_sample(jax.random.key(1), params, 60))
    seqs = np.repeat(base, 5, axis=0)
    grid = (1e-4, 1e-3, 1e-2, 0.1, 1.0)
    opts = dict(q=4, lambda_grid=grid, cv_folds=5, max_iter=100, patience=None)
    leaky, by_position = potts_pseudolikelihood_cv(seqs, **opts)
    fit, grouped = potts_pseudolikelihood_cv(seqs, cv_groups=np.repeat(np.arange(60), 5), **opts)
    fit0, info0 = potts_pseudolikelihood_cv(base, **opts)
    # grouped CV on the copies chooses what CV on the 60 distinct sequences chooses, position CV 1000x less
    assert float(grouped.l2) == float(info0.l2) >= 999 * float(by_position.l2)
    mse = {k: float(potts.potts_parameter_mse(params, f)) for k, f in (("position", leaky), ("grouped", fit))}
    assert mse["grouped"] < mse["position"] / 10
    fit1, info1 = potts_pseudolikelihood_cv(base, cv_groups=np.arange(60) + 100, **opts)
    np.testing.assert_array_equal(np.asarray(info0.fold_scores), np.asarray(info1.fold_scores))
    np.testing.assert_array_equal(np.asarray(fit0.J), np.asarray(fit1.J))
    with pytest.raises(ValueError, match="one label per sequence"):
        potts_pseudolikelihood_cv(base, cv_groups=np.arange(59), **opts)


def test_parent_folds_put_near_copies_with_their_training_sequence():
    rng = np.random.default_rng(2)
    train = rng.integers(0, 21, (12, 40))
    mutant = train[7].copy()
    mutant[:5] = (mutant[:5] + 1) % 21  # 35 of 40 sites kept: a neighbour at theta 0.8 (32 needed)
    far = train[2].copy()
    far[:9] = (far[:9] + 1) % 21  # 31 kept: not a neighbour
    generated = np.stack([train[3], rng.integers(0, 21, 40), mutant, far])
    folds = np.asarray(parent_folds(generated, train, cv_folds=5, theta=0.8))
    position = np.arange(16) % 5
    np.testing.assert_array_equal(folds[4:], position[4:])  # training rows keep the position split
    assert folds[0] == position[4 + 3] and folds[2] == position[4 + 7]
    assert folds[1] == position[1] and folds[3] == position[3]
    # no near-copy: the position split exactly
    novel = rng.integers(0, 21, (6, 40))
    np.testing.assert_array_equal(parent_folds(novel, train, cv_folds=5, theta=0.8), np.arange(18) % 5)


def test_augment_combined_fit_of_copies_keeps_the_training_penalty():
    """``augment``'s combined fit for alignments (``params_combined``): 4 copies of each of 60 training sequences
    (a memorising generator) leave the cross-validated penalty where CV on the training sequences put it; the
    position split of the same rows chooses one 1000x weaker."""
    params = potts.PottsParams(np.asarray(jax.random.normal(jax.random.key(0), (8, 4)), np.float32),
                               np.zeros((8, 8, 4, 4), np.float32))
    train = jnp.asarray(potts.potts_exact_sample(jax.random.key(1), params, 60), jnp.int32)
    copies = jnp.repeat(train, 4, axis=0)
    _, options = resolve_potts_solver(None, {"l2": "cv", "lambda_grid": (1e-4, 1e-3, 1e-2, 0.1, 1.0),
                                             "max_iter": 100}, n_train=60)
    fits = potts_model(options, q=4, theta=0.8).fits
    key = jax.random.key(0)
    _, l2_train, _ = jax.jit(fits.full)(key, train)
    _, l2_grouped, _ = jax.jit(fits.fit_combined)(key, copies, train)
    _, l2_position, _ = jax.jit(fits.full)(key, jnp.concatenate([copies, train]))
    assert float(l2_grouped) == float(l2_train) >= 999 * float(l2_position)
