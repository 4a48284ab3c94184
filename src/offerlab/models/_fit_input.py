"""The common front of every estimator's ``fit()``: answers and a study or a spec → design.

Every estimator (MNL, latent classes, mixed logit, hierarchical Bayes) is fitted the same
two ways: a conjoint fit, whose columns come from the study's attributes (effects- or
dummy-coded levels, per-unit numeric attributes, the none option, dual response), or a
fit of a spec file's utility functions (biogeme-style). This module turns either into the
estimation design matrix, leaving out the holdout tasks, so that the estimators differ
only in what they do with the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models._contract import DesignSource
from offerlab.models._matrix import ConjointCoding, ModelMatrix, conjoint_matrix
from offerlab.models._spec import ModelSpec, load_spec, spec_matrix
from offerlab.numerics import Scheme
from offerlab.study import Study

__all__ = ["Estimator", "FitInput", "estimation_rows", "fit_input"]


def estimation_rows(data: ChoiceData) -> ChoiceData:
    """The data without holdout tasks (no copy when there are none)."""
    if data.frame["holdout"].to_numpy().any():
        return data.without_holdouts()
    return data


@dataclass(frozen=True)
class FitInput:
    """What an estimator fits, and how its results name their columns.

    Attributes
    ----------
    design : ModelMatrix
        The estimation tasks' design (holdouts left out).
    data : ChoiceData
        All the answers given, holdouts included (hierarchical Bayes predicts them).
    spec, spec_levels :
        The spec and the levels of its coded coefficients (spec fits).
    coding : ConjointCoding, optional
        The study's coding (conjoint fits).
    """

    design: ModelMatrix
    data: ChoiceData
    spec: ModelSpec | None = None
    spec_levels: dict[str, list] | None = None
    coding: ConjointCoding | None = None

    @property
    def source(self) -> DesignSource:
        """Where the fit's columns come from, given to its results at construction."""
        if self.spec is not None:
            return DesignSource(spec=self.spec, spec_levels=self.spec_levels)
        return DesignSource(coding=self.coding)


class Estimator(Protocol):
    """What the front reads of an estimator: its checked parameters."""

    level_coding: Scheme
    dual: str

    def check(self) -> None: ...


def fit_input(
    estimator: Estimator,
    data: ChoiceData | None,
    *,
    study: Study | None,
    spec: ModelSpec | Path | str | None,
) -> FitInput:
    """Check the estimator's parameters, then build the design matrix of a conjoint fit
    (``study``) or a spec fit (``spec``).

    Parameters
    ----------
    estimator : MultinomialLogit, LatentClassLogit, MixedLogit or HierarchicalBayes
        Its ``level_coding`` codes a conjoint fit's attribute levels; its ``dual``
        models dual-response none answers.
    data : ChoiceData, optional
        The answers; with a spec it may be omitted when the spec's ``data`` section
        names a file.
    study, spec :
        Exactly one of them.
    """
    estimator.check()
    name = type(estimator).__name__
    if (study is None) == (spec is None):
        raise OfferlabError(f"{name}.fit needs exactly one of 'study' and 'spec'")
    if spec is not None:
        if not isinstance(spec, ModelSpec):
            spec = load_spec(spec)
        if data is None:
            data = spec.load_data()
    elif data is None:
        raise OfferlabError(f"{name}.fit(study=...) needs choice data")
    estimation = estimation_rows(data)
    if estimation.frame.empty:
        raise OfferlabError("no estimation tasks: every task is a holdout")
    if spec is not None:
        design, levels = spec_matrix(spec, estimation)
        return FitInput(design, data, spec=spec, spec_levels=levels)
    dual = estimation.dual_response
    conjoint = ConjointCoding.from_study(
        study, estimator.level_coding, none=estimation.has_none or dual
    )
    design = conjoint_matrix(estimation, conjoint, dual=dual, dual_model=estimator.dual)
    return FitInput(design, data, coding=conjoint)
