"""The ``msa`` presets (issue 23, item 4): DCA contact precision on shallow random subsamples of protein families.

Per family (each one found under ``data_root``), depth ``M`` and seeded random subsample: pseudolikelihood at plmDCA's
fixed penalties (``"plm"``), with the coupling penalty chosen by cross-validation (``"plm_cv"``), mean-field DCA
(``"mf"``), and ``"augment:<generator>"`` (:mod:`ising_diffusion.experiments.msa_augment`: ``augment`` with a
q-state generator on a held-out split of the subsample, two rows); the full alignment's fixed-penalty fit is the
ceiling.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ising_diffusion.checks import check_scalar_fields, is_int

__all__ = ["Q", "AUGMENT_PREFIX", "MIX_SUFFIX", "MIN_HELDOUT", "BASE_METHODS", "SPLIT_METHODS", "GROWABLE", "PRESETS",
           "MSAConfig", "get_config", "TINY_DATA_ROOT"]

PRESETS = ("quick", "paper", "tiny")
#: the alphabet size of protein alignments (20 amino acids + gap, the gap state 0)
Q = 21

#: method name -> the ``dca`` call it makes (besides the config's per-method options): plmDCA's fixed penalties
#: (``lambda_h = lambda_J = 0.01``), the same objective with ``lambda_J`` by 5-fold cross-validation, mean-field DCA.
BASE_METHODS = {"plm": {"method": "plm"}, "plm_cv": {"method": "plm", "l2": "cv"}, "mf": {"method": "mf"},
                "plm_cv_train": {"method": "plm", "l2": "cv"}}
#: base methods fitted to the ``augment:`` methods' training split of the subsample (the sequences ``augment``'s
#: generator and training fit see, the held-out ones left out) with another method's options: ``"plm_cv_train"`` is
#: ``"plm_cv"`` there, the reference that isolates what the generated sequences of an ``":mix"`` row add
SPLIT_METHODS = {"plm_cv_train": "plm_cv"}
#: ``"augment:<generator>"``: the fit ``augment`` answers with (a q-state generator); its companion row
#: ``"augment:<generator>:mix"`` is CV pseudolikelihood on training + generated sequences whatever ``augment`` decided.
AUGMENT_PREFIX = "augment:"
MIX_SUFFIX = ":mix"
#: the fewest held-out sequences of an ``augment:`` split (their weighted pseudolikelihood is the held-out score)
MIN_HELDOUT = 4
#: the fields a run folder may grow when resumed (:func:`~ising_diffusion.experiments.runner.open_run`): a row depends
#: on its family, depth, subsample and method only, so more subsamples, depths or methods add rows to the saved ones
GROWABLE = ("depths", "n_seeds", "methods")
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
        ``default_rng([seed, M, k]).choice(M_family, M, replace=False)``, the same for every method (paired). A run
        folder of fewer subsamples is extended by rerunning it with more (:data:`GROWABLE`).
      seed: base seed of the subsamples.
      methods: ``"plm"``, ``"plm_cv"``, ``"mf"``, ``"plm_cv_train"`` (:data:`BASE_METHODS`, :data:`SPLIT_METHODS`)
        and ``"augment:<generator>"`` entries.
      theta: identity threshold of the sequence weights (0.8 = plmc's ``-t 0.2``).
      ceiling: fit the full alignment with ``"plm"`` once per family (the horizontal line of the figure).
      ceiling_options: extra ``dca`` options of the ceiling's fit, over ``"plm"``'s (e.g. an iteration cap: the full
        PF00014 alignment has 8,871 distinct sequences).
      method_options: method name -> extra ``dca`` options (e.g. ``{"plm_cv": {"cv_folds": 3}}``); the
        ``augment:`` methods and ``"plm_cv_train"`` fit with ``"plm_cv"``'s.
      augment: ``AugmentConfig`` keywords of the ``augment:`` methods (the flat names of
        ``ising_diffusion.augment.FLAT_FIELDS``: budget and selection, e.g. ``{"n_steps": 2000, "mix_grid": (0, 1)}``);
        ``{}``: ``augment``'s defaults.
      generator_options: generator name -> its config's fields (e.g. ``{"d3pm_categorical": {"n_timesteps": 50}}``);
        ``n_states`` is always 21.
      heldout_fraction: the share of each subsample ``augment`` holds out (at least :data:`MIN_HELDOUT` sequences,
        :meth:`heldout_size`): its held-out score decides; the generator and the fits see the rest.
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
    augment: dict = dataclasses.field(default_factory=dict)
    generator_options: dict = dataclasses.field(default_factory=dict)
    heldout_fraction: float = 0.2

    def __post_init__(self):
        check_scalar_fields(self)  # n_seeds >= 1 among them
        for name in ("families", "methods"):  # "a,b" from --set methods=a,b (a comma-free word stays one name)
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, tuple(v.strip() for v in value.split(",") if v.strip()))
        if isinstance(self.depths, int):
            object.__setattr__(self, "depths", (self.depths,))
        if not self.depths or any(not is_int(d, 5) for d in self.depths) or len(set(self.depths)) != len(
                self.depths):
            raise ValueError(f"depths must be distinct integers >= 5, got {self.depths!r}")
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
        own = tuple(m for m in BASE_METHODS if m not in SPLIT_METHODS)
        unknown = sorted(set(self.method_options) - set(BASE_METHODS))
        if unknown:
            raise ValueError(f"method_options for unknown method(s) {unknown}; options go to {own}")
        borrowed = sorted(set(self.method_options) & set(SPLIT_METHODS))
        if borrowed:
            raise ValueError(f"method_options for {borrowed}: they fit with "
                             f"{sorted({SPLIT_METHODS[m] for m in borrowed})}'s options; set those instead")
        if not isinstance(self.ceiling_options, dict) or any(
                not isinstance(v, dict) for v in self.method_options.values()):
            raise ValueError(f"method_options values must be dicts of dca options, got {self.method_options!r}")
        if not isinstance(self.augment, dict) or not isinstance(self.generator_options, dict) or any(
                not isinstance(v, dict) for v in self.generator_options.values()):
            raise ValueError(f"augment must be a dict of AugmentConfig keywords and generator_options a dict of "
                             f"dicts, got {self.augment!r} and {self.generator_options!r}")
        if not 0.0 < self.heldout_fraction < 0.5:
            raise ValueError(f"heldout_fraction must be in (0, 0.5), got {self.heldout_fraction}")
        if self.augment_methods() or set(SPLIT_METHODS) & set(self.methods):
            if self.augment_methods() and "plm_cv" not in self.methods:
                raise ValueError("the augment: methods need 'plm_cv' among the methods: its fit on the whole subsample "
                                 "is their answer when augment declines, and the reference of every paired difference")
            folds = self.method_options.get("plm_cv", {}).get("cv_folds", 5)  # a bad one: check_nested_settings
            short = [d for d in self.depths if is_int(folds) and d - self.heldout_size(d) < max(folds, 2)]
            if short:
                raise ValueError(f"depths {short} leave fewer than {max(folds, 2)} training sequences (cv_folds) "
                                 f"after holding out {self.heldout_fraction:g} (at least {MIN_HELDOUT}); choose "
                                 "larger depths for the augment: and split methods")

    def dca_options(self, method: str) -> dict:
        """The ``dca`` keyword arguments of a base method (``q`` and the weights are added by the experiment)."""
        if method not in BASE_METHODS:
            raise ValueError(f"{method!r} is not a dca method; choose from {tuple(BASE_METHODS)}")
        if method in SPLIT_METHODS:
            return self.dca_options(SPLIT_METHODS[method])
        return {**BASE_METHODS[method], **self.method_options.get(method, {})}

    def ceiling_dca_options(self) -> dict:
        """The ``dca`` keyword arguments of the full alignment's fit: ``"plm"``'s with :attr:`ceiling_options`."""
        return {**self.dca_options("plm"), **self.ceiling_options}

    def augment_methods(self) -> tuple:
        """The generators of the ``"augment:<generator>"`` entries of :attr:`methods`."""
        return tuple(m[len(AUGMENT_PREFIX):] for m in self.methods if m.startswith(AUGMENT_PREFIX))

    def row_methods(self) -> tuple:
        """The methods of the rows: :attr:`methods`, each ``"augment:<generator>"`` followed by its
        ``"augment:<generator>:mix"``."""
        return tuple(n for m in self.methods for n in ((m, m + MIX_SUFFIX) if m.startswith(AUGMENT_PREFIX) else (m,)))

    def heldout_size(self, depth: int) -> int:
        """Sequences held out of a subsample of ``depth`` by the ``augment:`` methods:
        ``max(MIN_HELDOUT, round(heldout_fraction * depth))``."""
        return max(MIN_HELDOUT, int(round(self.heldout_fraction * depth)))

    def augment_solver_options(self) -> dict:
        """The Potts solver options of the ``augment:`` methods: ``"plm_cv"``'s ``dca`` options less ``method``."""
        return {k: v for k, v in self.dca_options("plm_cv").items() if k != "method"}


def get_config(preset: str = "quick") -> MSAConfig:
    """``quick``: depths {50, 100}, 3 subsamples, plm / plm_cv / mf, the ceiling at most 100 L-BFGS iterations (plmc's
    ``-m 100``): under an hour on 2 loaded CPU cores, where one ``l2="cv"`` fit at M = 50 took 220-310 s; its
    ``augment`` budget (2,000 steps, a point every 200, 400 generated sequences) is there for ``--set
    methods=...,augment:<generator>`` and is not in that hour.
    ``paper``: depths {50, 100, 200, 500, 1000}, 5 subsamples, the ceiling fitted to convergence, and
    ``augment:d3pm_categorical`` and ``augment:ddpm_onehot`` at ``augment``'s default budget (4,000 steps, a point
    every 200, 1,000 monitor samples, 10x the training size generated at the end; an accelerator's job).
    ``tiny``: the committed 300-sequence subsample of PF00014 (a checkout's ``tests/data/msa``), depth 50, 2
    subsamples, short fits: a smoke test of a minute; its ``augment`` budget (4 steps, 40 sequences, small networks)
    only checks that the ``augment:`` methods run."""
    if preset == "quick":
        return MSAConfig(depths=(50, 100), ceiling_options={"max_iter": 100},
                         augment={"n_steps": 2000, "monitor_steps": 200, "n_monitor_samples": 400,
                                  "n_augmented": 400, "mix_grid": (0.0, 0.5, 1.0, 2.0)})
    if preset == "paper":
        return MSAConfig(depths=(50, 100, 200, 500, 1000), n_seeds=5,
                         methods=("plm", "plm_cv", "mf", "augment:d3pm_categorical", "augment:ddpm_onehot"),
                         augment={"n_steps": 4000, "monitor_steps": 200, "n_monitor_samples": 1000,
                                  "mix_grid": (0.0, 0.5, 1.0, 2.0, 4.0)})
    if preset == "tiny":
        short = {"max_iter": 50}
        small_net = {"widths": (32, 32), "time_embed_dim": 8, "n_timesteps": 10, "batch_size": 32}
        return MSAConfig(families=("PF00014_sub300",), data_root=TINY_DATA_ROOT, depths=(50,), n_seeds=2,
                         ceiling_options=short,
                         method_options={"plm": short, "plm_cv": {**short, "cv_folds": 3,
                                                                  "lambda_grid": (1e-3, 1e-2, 0.1)}},
                         augment={"n_steps": 4, "monitor_steps": 2, "n_monitor_samples": 40, "n_augmented": 40,
                                  "n_bootstrap": 20, "mix_grid": (0.0, 1.0)},
                         generator_options={"d3pm_categorical": small_net,
                                            "ddpm_onehot": {**small_net, "ddim_steps": 5}})
    raise ValueError(f"unknown preset {preset!r}; choose from {PRESETS}")
