"""The study: the offer as attributes and levels, the tasks, prohibitions, in four languages.

Also the one safe YAML reader (:func:`parse_yaml`, :func:`load_yaml`) every file a user
gives offerlab goes through: study, population, market, scenario and model spec files.
"""

from offerlab.study._checks import FieldPath, count_allowed_concepts
from offerlab.study._load import (
    example_path,
    load_study,
    load_yaml_model,
    parse_study,
    parse_yaml_model,
    parse_yaml_model_located,
)
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
from offerlab.study._strict import StrictModel
from offerlab.study._yaml import (
    YAML_LIMITS,
    YamlDocument,
    YamlLimits,
    load_yaml,
    parse_yaml,
    read_text,
)

__all__ = [
    "YAML_LIMITS",
    "Attribute",
    "CategoricalAttribute",
    "DesignSettings",
    "FieldPath",
    "HoldoutTask",
    "Level",
    "NoneOption",
    "NumericAttribute",
    "PriceAttribute",
    "PriorSpec",
    "StrictModel",
    "Study",
    "TaskRules",
    "TaskSettings",
    "YamlDocument",
    "YamlLimits",
    "count_allowed_concepts",
    "example_path",
    "load_study",
    "load_yaml",
    "load_yaml_model",
    "parse_study",
    "parse_yaml",
    "parse_yaml_model",
    "parse_yaml_model_located",
    "read_text",
]
