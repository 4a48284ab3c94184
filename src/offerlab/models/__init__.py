"""Choice models: multinomial, latent class and mixed logit, hierarchical Bayes; results; specs."""

from offerlab.models._by_name import (
    DECISION_MODELS,
    DecisionFit,
    converging_hb,
    decision_model_title,
    fit_decision_model,
)
from offerlab.models._contract import ARRAYS, ChoiceResults, DesignSource
from offerlab.models._hb import HBResults, HierarchicalBayes
from offerlab.models._latent_class import ClassCountTable, LatentClassLogit, latent_class_table
from offerlab.models._latent_class_results import LatentClassResults
from offerlab.models._matrix import NONE_PARAM, ConjointCoding, ModelMatrix, build_model_matrix
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
from offerlab.models._results import LogitResults, MNLResults, Summary
from offerlab.models._spec import ModelSpec, load_spec, parse_spec

__all__ = [
    "ARRAYS",
    "DECISION_MODELS",
    "NONE_PARAM",
    "ChoiceResults",
    "ClassCountTable",
    "ConjointCoding",
    "DecisionFit",
    "DesignSource",
    "HBResults",
    "HierarchicalBayes",
    "LatentClassLogit",
    "LatentClassResults",
    "LogitResults",
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
    "build_model_matrix",
    "converging_hb",
    "decision_model_title",
    "fit_decision_model",
    "latent_class_table",
    "load_spec",
    "maxdiff_answers",
    "maxdiff_counts",
    "parse_spec",
]
