"""The ``msa`` presets (issue 23, item 4): DCA contact precision on shallow random subsamples of protein families.

Per family (each one found under ``data_root``), depth ``M`` and seeded random subsample: pseudolikelihood at plmDCA's
fixed penalties (``"plm"``), with the coupling penalty chosen by cross-validation (``"plm_cv"``), mean-field DCA
(``"mf"``), and, once augmentation takes alignments, ``"augment:<generator>"``; the full alignment's fixed-penalty fit
is the ceiling.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

__all__ = ["AUGMENT_PREFIX", "BASE_METHODS", "PRESETS", "MSAConfig", "get_config", "TINY_DATA_ROOT"]

PRESETS = ("quick", "paper", "tiny")

#: method name -> the ``dca`` call it makes (besides the config's per-method options): plmDCA's fixed penalties
#: (``lambda_h = lambda_J = 0.01``), the same objective with ``lambda_J`` by 5-fold cross-validation, mean-field DCA.
BASE_METHODS = {"plm": {"method": "plm"}, "plm_cv": {"method": "plm", "l2": "cv"}, "mf": {"method": "mf"}}
#: ``"augment:<generator>"``: CV pseudolikelihood on training + generated sequences (a q-state generator).
AUGMENT_PREFIX = "augment:"
#: the committed 300-sequence subsample of PF00014 (a checkout's ``tests/data/msa``; not installed with the package)
TINY_DATA_ROOT = str(Path(__file__).resolve().parents[3] / "tests" / "data" / "msa")


@dataclasses.dataclass(frozen=True)
class MSAConfig:
    """The ``msa`` experiment: one sweep point per (family, depth, method), one row per subsample.

    Attributes:
      families: family names (folders under ``data_root``); ``()``: every family found there.
      data_root: folder holding family folders; ``None``: ``$ISING_DIFFUSION_MSA`` or ``../shared/data/msa``.
      depths: subsample sizes ``M`` (each must not exceed the family's alignment).
      n_seeds: random subsamples per depth; subsample ``k`` of depth ``M`` is
        ``default_rng([seed, M, k]).choice(M_family, M, replace=False)``, the same for every method (paired).
      seed: base seed of the subsamples.
      methods: ``"plm"``, ``"plm_cv"``, ``"mf"`` (:data:`BASE_METHODS`) and ``"augment:<generator>"`` entries.
      theta: identity threshold of the sequence weights (0.8 = plmc's ``-t 0.2``).
      ceiling: fit the full alignment with ``"plm"`` once per family (the horizontal line of the figure).
      ceiling_options: extra ``dca`` options of the ceiling's fit, over ``"plm"``'s (e.g. an iteration cap: the full
        PF00014 alignment has 8,871 distinct sequences).
      method_options: method name -> extra ``dca`` options (e.g. ``{"plm_cv": {"cv_folds": 3}}``).
    """

    families: tuple = ()
    data_root: str | None = None
    depths: tuple = (50, 100, 200)
    n_seeds: int = 3
    seed: int = 0
    methods: tuple = ("plm", "plm_cv", "mf")
    theta: float = 0.8
    ceiling: bool = True
    ceiling_options: dict = dataclasses.field(default_factory=dict)
    method_options: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for name in ("families", "methods"):  # "a,b" from --set methods=a,b (a comma-free word stays one name)
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, tuple(v.strip() for v in value.split(",") if v.strip()))
        if isinstance(self.depths, int):
            object.__setattr__(self, "depths", (self.depths,))
        if not self.depths or any(int(d) != d or d < 5 for d in self.depths) or len(set(self.depths)) != len(
                self.depths):
            raise ValueError(f"depths must be distinct integers >= 5, got {self.depths!r}")
        if self.n_seeds < 1:
            raise ValueError(f"n_seeds (subsamples per depth) must be >= 1, got {self.n_seeds}")
        if not 0.0 < self.theta <= 1.0:
            raise ValueError(f"theta must be in (0, 1], got {self.theta}")
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods must be a non-empty list without repeats, got {self.methods!r}")
        for m in self.methods:
            if m not in BASE_METHODS and not (isinstance(m, str) and m.startswith(AUGMENT_PREFIX)
                                              and len(m) > len(AUGMENT_PREFIX)):
                raise ValueError(f"unknown method {m!r}; choose from {tuple(BASE_METHODS)} or "
                                 f"'{AUGMENT_PREFIX}<generator>'")
        if not isinstance(self.method_options, dict):
            raise ValueError(f"method_options must be a dict, got {self.method_options!r}")
        unknown = sorted(set(self.method_options) - set(BASE_METHODS))
        if unknown:
            raise ValueError(f"method_options for unknown method(s) {unknown}; options go to {tuple(BASE_METHODS)}")
        if not isinstance(self.ceiling_options, dict) or any(
                not isinstance(v, dict) for v in self.method_options.values()):
            raise ValueError(f"method_options values must be dicts of dca options, got {self.method_options!r}")

    def dca_options(self, method: str) -> dict:
        """The ``dca`` keyword arguments of a base method (``q`` and the weights are added by the experiment)."""
        if method not in BASE_METHODS:
            raise ValueError(f"{method!r} is not a dca method; choose from {tuple(BASE_METHODS)}")
        return {**BASE_METHODS[method], **self.method_options.get(method, {})}

    def ceiling_dca_options(self) -> dict:
        """The ``dca`` keyword arguments of the full alignment's fit: ``"plm"``'s with :attr:`ceiling_options`."""
        return {**self.dca_options("plm"), **self.ceiling_options}

    def augment_methods(self) -> tuple:
        """The generators of the ``"augment:<generator>"`` entries of :attr:`methods`."""
        return tuple(m[len(AUGMENT_PREFIX):] for m in self.methods if m.startswith(AUGMENT_PREFIX))


def get_config(preset: str = "quick") -> MSAConfig:
    """``quick``: depths {50, 100}, 3 subsamples, plm / plm_cv / mf, the ceiling at most 100 L-BFGS iterations (plmc's
    ``-m 100``): under an hour on 2 loaded CPU cores, where one ``l2="cv"`` fit at M = 50 took 220-310 s.
    ``paper``: depths {50, 100, 200, 500, 1000}, 5 subsamples, the ceiling fitted to convergence. ``tiny``: the committed 300-sequence subsample of
    PF00014 (a checkout's ``tests/data/msa``), depth 50, 2 subsamples, short fits: a smoke test of a minute."""
    if preset == "quick":
        return MSAConfig(depths=(50, 100), ceiling_options={"max_iter": 100})
    if preset == "paper":
        return MSAConfig(depths=(50, 100, 200, 500, 1000), n_seeds=5)
    if preset == "tiny":
        short = {"max_iter": 50}
        return MSAConfig(families=("PF00014_sub300",), data_root=TINY_DATA_ROOT, depths=(50,), n_seeds=2,
                         ceiling_options=short,
                         method_options={"plm": short, "plm_cv": {**short, "cv_folds": 3,
                                                                  "lambda_grid": (1e-3, 1e-2, 0.1)}})
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
