"""The study: the offer as attributes and levels, the tasks, prohibitions, in four languages."""

from offerlab.study._checks import count_allowed_concepts
from offerlab.study._load import example_path, load_study, parse_study
from offerlab.study._model import (
    Attribute,
    CategoricalAttribute,
    DesignSettings,
    HoldoutTask,
    Level,
    NoneOption,
    NumericAttribute,
    PriceAttribute,
    PriorSpec,
    Study,
    TaskRules,
    TaskSettings,
)

__all__ = [
    "Attribute",
    "CategoricalAttribute",
    "DesignSettings",
    "HoldoutTask",
    "Level",
    "NoneOption",
    "NumericAttribute",
    "PriceAttribute",
    "PriorSpec",
    "Study",
    "TaskRules",
    "TaskSettings",
    "count_allowed_concepts",
    "example_path",
    "load_study",
    "parse_study",
]
