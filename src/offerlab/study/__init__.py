"""The study: the offer as attributes and levels, the tasks, prohibitions, in four languages."""

from offerlab.study._load import load_study, parse_study
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
    "load_study",
    "parse_study",
]
