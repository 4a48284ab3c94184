"""Choice models: multinomial, latent class and mixed logit, hierarchical Bayes; results; specs."""

from offerlab.models._hb import HBResults, HierarchicalBayes
from offerlab.models._latent_class import (
    ClassCountTable,
    LatentClassLogit,
    LatentClassResults,
    latent_class_table,
)
from offerlab.models._matrix import ConjointCoding, ModelMatrix
from offerlab.models._maxdiff import (
    MaxDiffAnswers,
    MaxDiffHB,
    MaxDiffHBResults,
    MaxDiffLogit,
    MaxDiffResults,
    maxdiff_answers,
    maxdiff_counts,
)
from offerlab.models._mnl import MultinomialLogit
from offerlab.models._mxl import MixedLogit
from offerlab.models._mxl_results import MixedLogitResults
from offerlab.models._results import MNLResults, Summary
from offerlab.models._spec import ModelSpec, load_spec, parse_spec

__all__ = [
    "ClassCountTable",
    "ConjointCoding",
    "HBResults",
    "HierarchicalBayes",
    "LatentClassLogit",
    "LatentClassResults",
    "MNLResults",
    "MaxDiffAnswers",
    "MaxDiffHB",
    "MaxDiffHBResults",
    "MaxDiffLogit",
    "MaxDiffResults",
    "MixedLogit",
    "MixedLogitResults",
    "ModelMatrix",
    "ModelSpec",
    "MultinomialLogit",
    "Summary",
    "latent_class_table",
    "load_spec",
    "maxdiff_answers",
    "maxdiff_counts",
    "parse_spec",
]
