"""Cross-validation folds that keep groups of samples together (grouped K-fold).

Position folds (sample ``m`` in fold ``m % F``, :func:`~ising_diffusion.inference.cv.fold_weights`) treat the samples
as exchangeable draws. An alignment is not: close homologues, and a generator's copies or near-copies of its training
sequences, land on both sides of a position split, and each held-out sequence is then predicted by its near-twin in
the fold's training part. The held-out score rewards weak penalties: on PF00014 subsamples with ten one-site mutants
of every training sequence, position-fold CV chose the grid's smallest ``lambda_J`` and lost a quarter of the top-L/2
precision (``experiments/near_copy_cv.py``, docs/msa.md). Grouped folds put every member of a group in one fold, so a
sequence and its near-twins are held out together.

:func:`grouped_folds` takes the groups in the order of their first member and gives each, whole, to the fold with
the fewest samples so far (ties: the lowest fold index). When every group is a single sample this is exactly the
position split ``m % F``, so grouping changes a split only where groups exist. A group larger than ``M / F`` makes
its fold larger than the others (its training part smaller): single-linkage clusters of a deep, redundant alignment
can do that, so look at the group sizes (``np.bincount(groups)``) before trusting such a split.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grouped_folds"]


def grouped_folds(groups, cv_folds: int) -> np.ndarray:
    """Fold index of every sample, each group of samples whole in one fold, the folds balanced in size.

    Args:
      groups: ``(M,)`` integer group labels (any values; equal labels = one group), e.g.
        :func:`ising_diffusion.msa.identity_groups`.
      cv_folds: number of folds ``F >= 2``.

    Returns:
      ``(M,)`` int32 fold indices in ``[0, F)``; every fold holds at least one group.

    Raises:
      ValueError: ``groups`` not a non-empty 1-D integer array, ``cv_folds`` not an integer ``>= 2``, or fewer groups
        than folds (a fold would have nothing to hold out).
    """
    g = np.asarray(groups)
    if g.ndim != 1 or g.size == 0:
        raise ValueError(f"groups must be a non-empty 1-D array of labels, got shape {g.shape}")
    if not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"groups must be integer labels, got dtype {g.dtype}")
    if isinstance(cv_folds, bool) or int(cv_folds) != cv_folds or cv_folds < 2:
        raise ValueError(f"cv_folds must be an integer >= 2, got {cv_folds!r}")
    cv_folds = int(cv_folds)
    _, first, inverse = np.unique(g, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if first.size < cv_folds:
        raise ValueError(f"{first.size} group(s) for cv_folds={cv_folds}: every fold needs a group to hold out")
    sizes = np.bincount(inverse, minlength=first.size)
    counts = np.zeros(cv_folds, np.int64)
    fold_of_group = np.empty(first.size, np.int32)
    for k in np.argsort(first, kind="stable"):
        f = int(np.argmin(counts))
        fold_of_group[k] = f
        counts[f] += sizes[k]
    return fold_of_group[inverse]
