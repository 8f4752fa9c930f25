"""Fig. 4 presets: MSE against training size (N = 20, 40, 100) and against the number of augmented samples."""

from __future__ import annotations

import dataclasses

from ising_diffusion.checks import check_int, check_sweep
from ising_diffusion.experiments.configs.base import ExperimentConfig, check_coupling
from ising_diffusion.experiments.configs.field_checks import check_fraction, held_out_size
from ising_diffusion.experiments.configs.paper import PAPER_AUGMENT, PAPER_GENERATOR
from ising_diffusion.experiments.configs.quick import QUICK_AUGMENT, QUICK_GENERATOR
from ising_diffusion.experiments.configs.tiny import TINY

PRESETS = ("quick", "paper", "tiny")


@dataclasses.dataclass(frozen=True)
class Fig4Config(ExperimentConfig):
    """Fig. 4: (a-c) MSE against training size for each N; (d-f) against the number of augmented samples.

    Attributes:
      sizes: ``(N, (n_train, ...))`` pairs for panels (a-c), one per N.
      aug_n_train: ``(N, n_train)`` pairs: the training size of panels (d-f), one per N.
      aug_counts: numbers of augmented samples for panels (d-f), as multiples of that training size (rounded,
        :meth:`counts`; two factors that round to one count at some training size are refused).
      test_fraction: held-out test size as a fraction of the training size (METHODS.md: one eighth).
    """

    g: float = 1.0
    sizes: tuple = ((20, (100, 200, 400, 800)), (40, (1000, 2000)))
    aug_n_train: tuple = ((20, 400),)
    aug_counts: tuple = (0.5, 1.0, 2.0, 5.0, 10.0)
    test_fraction: float = 0.125

    def __post_init__(self):
        super().__post_init__()
        check_coupling(self)
        check_fraction("Fig4Config", "test_fraction", self.test_fraction)
        sizes = tuple(self._pair("sizes", p, lambda ms: check_sweep("Fig4Config", "sizes", ms, integer=True,
                                                                     minimum=2)) for p in _items("sizes", self.sizes))
        aug = tuple(self._pair("aug_n_train", p, lambda m: check_int("Fig4Config", "aug_n_train", m, 2))
                    for p in _items("aug_n_train", self.aug_n_train))
        for field, pairs in (("sizes", sizes), ("aug_n_train", aug)):
            ns = [n for n, _ in pairs]
            if len(set(ns)) != len(ns):
                raise ValueError(f"Fig4Config.{field} must name each N once, got {getattr(self, field)!r}")
        if not sizes and not aug:
            raise ValueError("Fig4Config: sizes and aug_n_train are both empty (no sweep point)")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "aug_n_train", aug)
        object.__setattr__(self, "aug_counts", check_sweep("Fig4Config", "aug_counts", self.aug_counts))
        for n, m in aug:  # rows are told apart by their count: two factors of one count would be one point twice
            counts = self.counts(m)
            if len(set(counts)) != len(counts):
                raise ValueError(f"Fig4Config.aug_counts {self.aug_counts} give the counts {counts} at N={n}, M={m}: "
                                 "a count repeats after rounding; choose factors further apart")
        # each N's test set is test_fraction x its largest training size (rows.n_test); augment needs 2 samples
        for n, m in [(n, max(ms)) for n, ms in sizes] + [(n, max(dict(sizes).get(n, ()) + (m,))) for n, m in aug]:
            if held_out_size(self.test_fraction, m) < 2:
                raise ValueError(f"Fig4Config.test_fraction {self.test_fraction} leaves fewer than 2 test samples "
                                 f"at N={n}, M={m}")

    @staticmethod
    def _pair(field: str, pair, check_second) -> tuple:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"Fig4Config.{field} holds (N, ...) pairs, got {pair!r}")
        return check_int("Fig4Config", field, pair[0], 2), check_second(pair[1])

    def counts(self, n_train: int) -> list[int]:
        """The augmented-sample counts of the count panel at ``n_train``: each factor of :attr:`aug_counts` times
        ``n_train``, rounded, at least 1."""
        return [max(1, int(round(c * n_train))) for c in self.aug_counts]


def _items(field: str, value) -> tuple:
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"Fig4Config.{field} must be a tuple of (N, ...) pairs, got {value!r}")
    return tuple(value)


def get_config(preset: str = "quick") -> Fig4Config:
    """``quick``: N=20 (200-800 samples) and N=40 (1000-2000), the augmented-count sweep at N=20, 400 samples;
    3 seeds. ``paper``: METHODS.md's ranges for N = 20, 40, 100 and the count sweep for each N, 10 seeds.
    ``tiny``: seconds."""
    if preset == "quick":
        return Fig4Config(augment=QUICK_AUGMENT, generator_config=QUICK_GENERATOR)
    if preset == "paper":
        return Fig4Config(
            n_seeds=10,
            sizes=((20, (100, 200, 400, 800)), (40, (1000, 2000, 4000, 8000)), (100, (5000, 10000, 20000, 40000))),
            aug_n_train=((20, 400), (40, 2000), (100, 10000)),
            aug_counts=(0.5, 1.0, 2.0, 5.0, 10.0, 20.0), augment=PAPER_AUGMENT, generator_config=PAPER_GENERATOR)
    if preset == "tiny":
        return dataclasses.replace(Fig4Config(sizes=((8, (32, 64)),), aug_n_train=((8, 32),),
                                              aug_counts=(1.0, 2.0), n_seeds=2), **TINY)
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
