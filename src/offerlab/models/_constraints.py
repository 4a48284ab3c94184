"""Every estimator's parameters, checked from one declarative table (as scikit-learn's
``_parameter_constraints``): a wrong value is one plain message naming the parameter,
what it must be and what it got."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from offerlab.exceptions import OfferlabError

__all__ = [
    "COV_TYPES",
    "FIT_CONSTRAINTS",
    "ML_CONSTRAINTS",
    "POSITIVE",
    "Constraint",
    "CovKind",
    "check_parameters",
    "one_of",
    "optional",
    "whole",
]

CovKind = Literal["classic", "robust", "cluster"]
COV_TYPES: tuple[str, ...] = get_args(CovKind)


@dataclass(frozen=True)
class Constraint:
    """What a parameter must be, in words (``says``) and as a test (``holds``)."""

    says: str
    holds: Callable[[Any], bool]


def one_of(*values: object) -> Constraint:
    """One of a few values: "'a' or 'b'", or "one of (...)" for more."""
    says = " or ".join(map(repr, values)) if len(values) <= 2 else f"one of {values}"
    return Constraint(says, lambda v: isinstance(v, str | bool) and v in values)


def whole(low: int) -> Constraint:
    """A whole number of at least ``low``."""
    return Constraint(
        f"an int >= {low}",
        lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= low,
    )


def optional(constraint: Constraint) -> Constraint:
    """``None``, or what ``constraint`` asks."""
    return Constraint(f"None or {constraint.says}", lambda v: v is None or constraint.holds(v))


POSITIVE = Constraint(
    "a positive number",
    lambda v: (
        isinstance(v, float | int | np.floating | np.integer)
        and not isinstance(v, bool)
        and math.isfinite(v)
        and v > 0
    ),
)

#: The parameters every estimator shares with the fit-input front (conjoint coding,
#: dual response) and with the covariance it reports.
FIT_CONSTRAINTS: dict[str, Constraint] = {
    "level_coding": one_of("effects", "dummy"),
    "dual": one_of("sawtooth", "joint"),
}


#: The maximum-likelihood estimators' (MNL, latent class, mixed logit): the covariance
#: behind their tests and intervals, and when their optimiser stops.
ML_CONSTRAINTS: dict[str, Constraint] = {
    "cov_type": one_of(*COV_TYPES),
    "tol": POSITIVE,
    "max_iter": whole(1),
}


def check_parameters(estimator: object, table: Mapping[str, Constraint]) -> None:
    """Raise :class:`OfferlabError` for the first parameter of ``estimator`` that breaks
    its constraint in ``table``."""
    for name, constraint in table.items():
        value = getattr(estimator, name)
        if not constraint.holds(value):
            raise OfferlabError(
                f"The '{name}' parameter of {type(estimator).__name__} must be "
                f"{constraint.says}. Got {value!r} instead."
            )
