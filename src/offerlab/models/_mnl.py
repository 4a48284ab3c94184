"""The multinomial logit estimator: Newton's method on the analytic Hessian."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from offerlab.exceptions import OfferlabError
from offerlab.models._constraints import (
    FIT_CONSTRAINTS,
    ML_CONSTRAINTS,
    Constraint,
    optional,
    whole,
)
from offerlab.models._estimator import FitRun, MLEstimator, free_coefficients
from offerlab.models._matrix import ModelMatrix
from offerlab.models._results import MNLResults, fit_statistics
from offerlab.numerics import MNLTerms, mnl_loglike, newton

__all__ = ["MultinomialLogit", "design_loglike"]


@dataclass(kw_only=True, eq=False)
class MultinomialLogit(MLEstimator[MNLResults]):
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
        **ML_CONSTRAINTS,
        "chunk_size": optional(whole(1)),
    }

    max_iter: int = 100
    chunk_size: int | None = None

    def _fit_design(self, design: ModelMatrix, run: FitRun) -> MNLResults:
        start, progress, source = run.start, run.progress, run.source
        K = free_coefficients(design)
        beta0 = np.zeros(K) if start is None else np.asarray(start, dtype=float)
        if beta0.shape != (K,):
            raise OfferlabError(f"start must have {K} values ({design.names}); got {beta0.shape}")

        # Every evaluation writes its scores into one buffer: the accepted point's
        # scores are there at the end, with no extra pass over X and no extra copy.
        buffer = np.empty((design.X.shape[0], K))

        loglike = design_loglike(design, scores_out=buffer, chunk_size=self.chunk_size)
        beta, final, n_iter, converged = newton(
            loglike, beta0, design.names, tol=self.tol, max_iter=self.max_iter
        )
        if progress is not None:
            progress(1.0)  # Newton's few steps: done when it returns
        return fit_statistics(design, beta, final, n_iter, converged, self.cov_type, source)


def design_loglike(
    design: ModelMatrix, *, scores_out: np.ndarray | None = None, chunk_size: int | None = None
) -> Callable[[np.ndarray, bool], MNLTerms]:
    """The MNL log-likelihood of ``design`` as Newton calls it: (β, derivatives) → terms.

    With ``scores_out`` every evaluation with derivatives writes its scores there, so the
    accepted point's are there at the end.
    """

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
            scores_out=scores_out if derivatives else None,
            chunk_size=chunk_size,
        )

    return loglike
