"""The multinomial logit estimator: Newton's method on the analytic Hessian."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from offerlab.data import ChoiceData
from offerlab.exceptions import EstimationError, OfferlabError
from offerlab.models._constraints import (
    COV_TYPES,
    FIT_CONSTRAINTS,
    POSITIVE,
    Constraint,
    check_parameters,
    one_of,
    optional,
    whole,
)
from offerlab.models._contract import ARRAYS, DesignSource
from offerlab.models._fit_input import fit_input
from offerlab.models._matrix import ModelMatrix, arrays_matrix
from offerlab.models._results import CovKind, MNLResults, fit_statistics
from offerlab.models._spec import ModelSpec
from offerlab.numerics import MNLTerms, Scheme, mnl_loglike, newton
from offerlab.study import Study

__all__ = ["MultinomialLogit"]


class MultinomialLogit:
    """Multinomial (conditional) logit with linear-in-parameters utility.

    Parameters
    ----------
    level_coding : {"effects", "dummy"}, default "effects"
        Coding of categorical attributes' levels (conjoint fits).
    cov_type : {"classic", "robust", "cluster"}, default "classic"
        Covariance behind ``tvalues``, ``pvalues``, ``conf_int`` and the intervals of
        importance, WTP and shares. All three are always computed.
    tol : float, default 1e-10
        Convergence: stop when the Newton decrement g'(−H)⁻¹g falls below ``tol``.
    max_iter : int, default 100
        Newton iterations at most.
    chunk_size : int, optional
        Observations per chunk in the likelihood kernel (default: about 1 MiB).
    dual : {"sawtooth", "joint"}, default "sawtooth"
        Likelihood of dual-response answers: Sawtooth's extra binary task between the
        chosen concept and none, or the joint model in which "would buy" means the
        chosen concept's utility (errors included) beats none's. See
        :func:`~offerlab.models._matrix.build_model_matrix`.

    Examples
    --------
    >>> from offerlab.models import MultinomialLogit
    >>> results = MultinomialLogit().fit(spec="tests/data/swissmetro_mnl.yaml")  # doctest: +SKIP
    >>> round(results.llf, 3)  # doctest: +SKIP
    -5331.252
    """

    _parameter_constraints: ClassVar[dict[str, Constraint]] = {
        **FIT_CONSTRAINTS,
        "cov_type": one_of(*COV_TYPES),
        "tol": POSITIVE,
        "max_iter": whole(1),
        "chunk_size": optional(whole(1)),
    }

    def __init__(
        self,
        *,
        level_coding: Scheme = "effects",
        cov_type: CovKind = "classic",
        tol: float = 1e-10,
        max_iter: int = 100,
        chunk_size: int | None = None,
        dual: Literal["sawtooth", "joint"] = "sawtooth",
    ) -> None:
        self.level_coding = level_coding
        self.dual = dual
        self.cov_type = cov_type
        self.tol = tol
        self.max_iter = max_iter
        self.chunk_size = chunk_size

    def check(self) -> None:
        """Raise :class:`OfferlabError` for a parameter out of its constraint."""
        check_parameters(self, self._parameter_constraints)

    # -- fitting ----------------------------------------------------------------------------
    def fit(
        self,
        data: ChoiceData | None = None,
        *,
        study: Study | None = None,
        spec: ModelSpec | Path | str | None = None,
        start: Sequence[float] | None = None,
    ) -> MNLResults:
        """Estimate the model from long-format choice data.

        Parameters
        ----------
        data : ChoiceData, optional
            The answers. Holdout tasks are left out. With a ``spec`` whose ``data``
            section names a file, ``data`` may be omitted.
        study : Study, optional
            Conjoint fit: columns from the study's attributes (see Notes).
        spec : ModelSpec or path, optional
            Fit the utility functions of a spec file instead. Exactly one of
            ``study`` and ``spec``.
        start : sequence of float, optional
            Starting values (default zeros).

        Returns
        -------
        MNLResults

        Notes
        -----
        Conjoint columns: effects (or dummy) coding of categorical attributes and of
        numeric attributes with ``coding: partworth``; the raw value for numeric and
        price attributes with ``coding: linear``; a constant ``none`` on the none
        option when the data has one. Dual response (a ``would_buy`` column) adds,
        per task, the binary choice between the chosen concept and none, as in
        Sawtooth's dual-response none (see :func:`~offerlab.models._matrix.build_model_matrix`).
        """
        given = fit_input(self, data, study=study, spec=spec)
        return self._fit_matrix(given.design, start, given.source)

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
    ) -> MNLResults:
        """Estimate from arrays already in memory (no copy of ``X`` is made).

        Parameters
        ----------
        X : ndarray, shape (N, J, K), float64
        y : ndarray of int, shape (N,)
            Index of the chosen alternative.
        available : ndarray of bool, shape (N, J), optional
        weights : ndarray, shape (N,), optional
        groups : ndarray, shape (N,), optional
            Respondent of each observation (clusters). Default: each its own.
        names : sequence of str, optional
            Coefficient names (default ``x0``, ``x1``…).
        start : sequence of float, optional
        """
        self.check()
        design = arrays_matrix(
            X, y, available=available, weights=weights, groups=groups, names=names
        )
        return self._fit_matrix(design, start, ARRAYS)

    def _fit_matrix(
        self, design: ModelMatrix, start: Sequence[float] | None, source: DesignSource = ARRAYS
    ) -> MNLResults:
        K = design.X.shape[2]
        if K == 0:
            raise EstimationError("the model has no free coefficient to estimate")
        beta0 = np.zeros(K) if start is None else np.asarray(start, dtype=float)
        if beta0.shape != (K,):
            raise OfferlabError(f"start must have {K} values ({design.names}); got {beta0.shape}")

        # Every evaluation writes its scores into one buffer: the accepted point's
        # scores are there at the end, with no extra pass over X and no extra copy.
        buffer = np.empty((design.X.shape[0], K))

        def loglike(beta: np.ndarray, derivatives: bool) -> MNLTerms:
            return mnl_loglike(
                beta,
                design.X,
                design.y,
                design.available,
                design.weights,
                design.offset,
                gradient=derivatives,
                hessian=derivatives,
                scores_out=buffer if derivatives else None,
                chunk_size=self.chunk_size,
            )

        beta, final, n_iter, converged = newton(
            loglike, beta0, design.names, tol=self.tol, max_iter=self.max_iter
        )
        return fit_statistics(design, beta, final, n_iter, converged, self.cov_type, source)
