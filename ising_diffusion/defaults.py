"""The library's recommended choices, in a module that imports nothing (the command line shows them in its help
before any heavy import)."""

__all__ = ["RECOMMENDED_METHOD"]

#: The inference method (and options) ``impute`` fits with unless told otherwise: pseudolikelihood with its L2
#: strength chosen by cross-validation (docs/inference.md says why: it is the accurate method that scales).
RECOMMENDED_METHOD = ("pseudolikelihood", {"l2": "cv"})
