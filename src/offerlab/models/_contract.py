"""The contract every fitted choice model keeps, whatever the estimator.

Callers (the market simulator, the report, the command line) type a fit as
:class:`ChoiceResults` and use only what is declared here: the columns' source, the
design matrix of new data, predictions, the population's coefficients, the tables and
the information criteria. Nothing is probed with ``hasattr``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models._matrix import ConjointCoding, ModelMatrix, build_model_matrix, task_layout
from offerlab.models._spec import ModelSpec, spec_matrix

if TYPE_CHECKING:
    from offerlab.models._results import Summary

__all__ = ["ARRAYS", "ChoiceResults", "DesignSource", "row_probabilities"]


@dataclass(frozen=True)
class DesignSource:
    """Where a fit's columns come from: a study's coding, a spec, or bare arrays.

    Attributes
    ----------
    coding : ConjointCoding, optional
        A conjoint fit's coding of the study's attributes.
    spec : ModelSpec, optional
        A spec fit's utility functions.
    spec_levels : dict, optional
        The levels of the spec's coded coefficients, as fitted.
    """

    coding: ConjointCoding | None = None
    spec: ModelSpec | None = None
    spec_levels: dict[str, list] | None = None

    def design_of(self, data: ChoiceData) -> ModelMatrix:
        """The design matrix of (new) long-format ``data`` in the fit's columns."""
        if self.coding is not None:
            return build_model_matrix(
                data, self.coding.n_params, list(self.coding.names), self.coding.code_rows
            )
        if self.spec is not None:
            design, _ = spec_matrix(self.spec, data, levels=self.spec_levels)
            return design
        raise OfferlabError("prediction needs a conjoint or spec fit; this fit used arrays")


#: The source of a fit on bare arrays: it cannot code new data.
ARRAYS = DesignSource()


class ChoiceResults(ABC):
    """A fitted choice model: multinomial, latent class, mixed logit or hierarchical Bayes.

    Attributes
    ----------
    source : DesignSource
        Given at construction: the coding or the spec the columns come from.
    params : Series
        The estimates (posterior means for hierarchical Bayes).
    llf : float
        The log-likelihood at the estimates (simulated for mixed logit and HB).
    nobs, n_respondents : int
    """

    source: DesignSource = ARRAYS
    params: pd.Series
    llf: float
    nobs: int
    n_respondents: int

    # -- where the columns come from ---------------------------------------------------------
    @property
    def coding(self) -> ConjointCoding | None:
        """The study's coding (conjoint fits), else None."""
        return self.source.coding

    @property
    def spec(self) -> ModelSpec | None:
        """The spec (spec fits), else None."""
        return self.source.spec

    @property
    def spec_levels(self) -> dict[str, list] | None:
        return self.source.spec_levels

    @property
    def coefficient_names(self) -> list[str]:
        """The K columns of the model, the order of :meth:`population_coefficients`."""
        if self.coding is not None:
            return list(self.coding.names)
        return list(self.params.index)

    def design_of(self, data: ChoiceData) -> ModelMatrix:
        """The design matrix of (new) long-format ``data`` in this fit's columns."""
        return self.source.design_of(data)

    def _mixture_predict(self, data: ChoiceData, B: np.ndarray, w: np.ndarray) -> pd.Series:
        """Σ_r w_r P(row | β_r) for every row of ``data``: the logit probabilities of the
        coefficient vectors ``B`` (rows, K), averaged with the weights ``w``."""
        design = self.design_of(data)
        N, J, _ = design.X.shape
        P = np.zeros((N, J))
        step = max(1, (1 << 22) // max(J * len(w), 1))
        for start in range(0, N, step):
            stop = min(start + step, N)
            V = design.X[start:stop] @ B.T  # (m, J, rows)
            if design.offset is not None:
                V += design.offset[start:stop, :, None]
            V[~design.available[start:stop]] = -np.inf
            V -= V.max(axis=1, keepdims=True)
            np.exp(V, out=V)
            V /= V.sum(axis=1, keepdims=True)
            P[start:stop] = V @ w
        return row_probabilities(data, P)

    def _conjoint(self) -> ConjointCoding:
        if self.coding is None:
            raise OfferlabError(
                "part-worths, importance and WTP need a conjoint fit (fit(data, study=...))"
            )
        return self.coding

    # -- what every fit answers --------------------------------------------------------------
    @abstractmethod
    def predict(self, data: ChoiceData) -> pd.Series:
        """Choice probability of every row of long-format ``data``."""

    @abstractmethod
    def population_coefficients(
        self, n: int = 1000, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient vectors that stand for the population (rows, K) and their weights."""

    @abstractmethod
    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """The estimates as a table, one row per parameter."""

    @abstractmethod
    def fit_frame(self) -> pd.DataFrame:
        """Fit statistics as a one-column table (statistic → value)."""

    @abstractmethod
    def summary(self, alpha: float = 0.05) -> Summary:
        """Fit statistics and estimates as a :class:`~offerlab.models.Summary`."""

    # -- information criteria ----------------------------------------------------------------
    @property
    @abstractmethod
    def k(self) -> int:
        """Number of estimated parameters."""

    @property
    def n_bic(self) -> int:
        """Sample size in the BIC (choice observations unless a model says otherwise)."""
        return self.nobs

    @property
    def aic(self) -> float:
        """2k − 2ℓ."""
        return 2 * self.k - 2 * self.llf

    @property
    def bic(self) -> float:
        """k log(n) − 2ℓ with n = :attr:`n_bic`."""
        return self.k * np.log(self.n_bic) - 2 * self.llf


def row_probabilities(data: ChoiceData, P: np.ndarray) -> pd.Series:
    """Choice probabilities ``P`` (tasks, alternatives) on the rows of long ``data``."""
    layout = task_layout(data.frame)
    return pd.Series(P[layout.obs, layout.pos], index=data.frame.index, name="probability")
