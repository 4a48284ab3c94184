"""Choice models: multinomial logit, latent classes, their results, and model spec files."""

from offerlab.models._latent_class import (
    ClassCountTable,
    LatentClassLogit,
    LatentClassResults,
    latent_class_table,
)
from offerlab.models._matrix import ConjointCoding, ModelMatrix
from offerlab.models._mnl import MultinomialLogit
from offerlab.models._results import MNLResults, Summary
from offerlab.models._spec import ModelSpec, load_spec, parse_spec

__all__ = [
    "ClassCountTable",
    "ConjointCoding",
    "LatentClassLogit",
    "LatentClassResults",
    "MNLResults",
    "ModelMatrix",
    "ModelSpec",
    "MultinomialLogit",
    "Summary",
    "latent_class_table",
    "load_spec",
    "parse_spec",
]
