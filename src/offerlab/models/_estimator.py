"""The base every estimator shares: its parameters, checked from its constraint table, and
its two ways in -- ``fit`` (answers with a study or a spec) and ``fit_arrays``.

An estimator declares its parameters as dataclass fields and their constraints in
``_parameter_constraints``; it writes only what it does with the design matrix
(``_fit_design``), and, where a spec or a study says more than the matrix, what it reads
from the fit input (``_fit_given``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, Literal, TypeVar

import numpy as np

from offerlab.data import ChoiceData
from offerlab.exceptions import EstimationError
from offerlab.models._constraints import (
    FIT_CONSTRAINTS,
    ML_CONSTRAINTS,
    Constraint,
    check_parameters,
)
from offerlab.models._contract import ARRAYS, ChoiceResults, DesignSource
from offerlab.models._fit_input import FitInput, fit_input
from offerlab.models._matrix import ModelMatrix, arrays_matrix
from offerlab.models._results import CovKind
from offerlab.models._spec import ModelSpec
from offerlab.numerics import Scheme
from offerlab.study import Study

__all__ = ["ChoiceEstimator", "FitRun", "MLEstimator", "Progress", "free_coefficients"]

Results = TypeVar("Results", bound=ChoiceResults)
Progress = Callable[[float], None]


@dataclass(frozen=True)
class FitRun:
    """How one fit runs, beside its design: where it starts, whom it tells how far it has
    come, and where the results' columns come from."""

    start: Sequence[float] | None = None
    progress: Progress | None = None
    source: DesignSource = ARRAYS


@dataclass(kw_only=True, eq=False)
class ChoiceEstimator(Generic[Results]):
    """What every estimator is: its parameters (fields) checked from one table, one front.

    Parameters
    ----------
    level_coding : {"effects", "dummy"}, default "effects"
        Coding of categorical attributes (conjoint fits).
    dual : {"sawtooth", "joint"}, default "sawtooth"
        Likelihood of dual-response answers (see :class:`MultinomialLogit`).
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = FIT_CONSTRAINTS

    level_coding: Scheme = "effects"
    dual: Literal["sawtooth", "joint"] = "sawtooth"

    def check(self) -> None:
        """Raise :class:`OfferlabError` for a parameter out of its constraint."""
        check_parameters(self, self._parameter_constraints)

    def fit(
        self,
        data: ChoiceData | None = None,
        *,
        study: Study | None = None,
        spec: ModelSpec | Path | str | None = None,
        start: Sequence[float] | None = None,
        progress: Progress | None = None,
    ) -> Results:
        """Estimate the model from long-format choice data.

        Parameters
        ----------
        data : ChoiceData, optional
            The answers. Holdout tasks are left out of estimation. With a ``spec`` whose
            ``data`` section names a file, ``data`` may be omitted.
        study : Study, optional
            Conjoint fit: columns from the study's attributes (see
            :func:`~offerlab.models._matrix.build_model_matrix`): effects (or dummy)
            coding of categorical attributes and of numeric attributes with ``coding:
            partworth``; the raw value for ``coding: linear``; a constant ``none`` on
            the none option; dual response (a ``would_buy`` column) as Sawtooth's
            dual-response none.
        spec : ModelSpec or path, optional
            Fit the utility functions of a spec file instead. Exactly one of ``study``
            and ``spec``.
        start : sequence of float, optional
            Starting values in the order of the results' parameters (the mixed logit's
            θ: means, then Cholesky entries; a latent class model's class constants,
            then coefficients, replacing the first random start). Hierarchical Bayes
            starts from the pooled MNL and takes none.
        progress : callable, optional
            Called with the fraction done (0…1) as the fit proceeds.
        """
        given = fit_input(self, data, study=study, spec=spec)
        return self._fit_given(given, FitRun(start, progress, given.source))

    def fit_arrays(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        available: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        groups: np.ndarray | None = None,
        names: Sequence[str] | None = None,
        start: Sequence[float] | None = None,
        progress: Progress | None = None,
    ) -> Results:
        """Estimate from arrays already in memory (no copy of ``X`` is made).

        Parameters
        ----------
        X : ndarray, shape (N, J, K), float64
        y : ndarray of int, shape (N,)
            Index of the chosen alternative.
        available : ndarray of bool, shape (N, J), optional
        weights : ndarray, shape (N,), optional
            Equal within a respondent in a panel.
        groups : ndarray, shape (N,), optional
            Respondent of each observation (the panel and the clusters). Default: each
            observation its own respondent.
        names : sequence of str, optional
            Coefficient names (default ``x0``, ``x1``…).
        start, progress
            As in :meth:`fit`.
        """
        self.check()
        design = arrays_matrix(
            X, y, available=available, weights=weights, groups=groups, names=names
        )
        return self._fit_design(design, FitRun(start, progress, ARRAYS))

    # -- what an estimator writes ---------------------------------------------------------
    def _fit_given(self, given: FitInput, run: FitRun) -> Results:
        """Fit a study's or a spec's design (an estimator that reads more of the spec
        than its matrix overrides this)."""
        return self._fit_design(given.design, run)

    def _fit_design(self, design: ModelMatrix, run: FitRun) -> Results:
        raise NotImplementedError


def free_coefficients(design: ModelMatrix) -> int:
    """K, the coefficients the design leaves to estimate; with none there is nothing to fit."""
    K = int(design.X.shape[2])
    if K == 0:
        raise EstimationError("the model has no free coefficient to estimate")
    return K


@dataclass(kw_only=True, eq=False)
class MLEstimator(ChoiceEstimator[Results]):
    """An estimator by maximum (simulated) likelihood: the covariance behind its tests
    and intervals (``cov_type``; all three are computed), and when its optimiser stops
    (``tol`` on the decrement, ``max_iter`` steps)."""

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **FIT_CONSTRAINTS,
        **ML_CONSTRAINTS,
    }

    cov_type: CovKind = "classic"
    tol: float = 1e-10
    max_iter: int = 1000
