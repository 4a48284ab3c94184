"""Choice models: the multinomial logit, its results, and model specification files."""

from offerlab.models._matrix import ConjointCoding, ModelMatrix
from offerlab.models._mnl import MultinomialLogit
from offerlab.models._results import MNLResults, Summary
from offerlab.models._spec import ModelSpec, load_spec, parse_spec

__all__ = [
    "ConjointCoding",
    "MNLResults",
    "ModelMatrix",
    "ModelSpec",
    "MultinomialLogit",
    "Summary",
    "load_spec",
    "parse_spec",
]
