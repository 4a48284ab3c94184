"""Results of a multinomial logit fit: estimates, three covariances, fit statistics, summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models._conjoint import importance, partworths, wtp
from offerlab.models._constraints import CovKind
from offerlab.models._contract import ARRAYS, ChoiceResults, DesignSource, row_probabilities
from offerlab.models._matrix import ModelMatrix
from offerlab.numerics import MNLTerms, mnl_null_loglike, mnl_probabilities, solve_newton

__all__ = [
    "CovKind",
    "LogitResults",
    "MNLResults",
    "Summary",
    "WaldResults",
    "clustered",
    "fit_statistics",
    "wald_fields",
]


@dataclass
class Summary:
    """A results summary: data first (DataFrames), text and HTML last.

    Attributes
    ----------
    title : str
    tables : dict of str to DataFrame
        ``"fit"`` (statistic → value) and ``"estimates"`` (one row per coefficient).
    notes : list of str
    """

    title: str
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        parts = [self.title, "=" * len(self.title)]
        for name, table in self.tables.items():
            parts += ["", name, "-" * len(name), table.to_string(float_format=_fmt)]
        if self.notes:
            parts += ["", *[f"Note: {n}" for n in self.notes]]
        return "\n".join(parts)

    def as_html(self) -> str:
        body = "".join(
            f"<h4>{name}</h4>{table.to_html(float_format=_fmt)}"
            for name, table in self.tables.items()
        )
        notes = "".join(f"<p>Note: {n}</p>" for n in self.notes)
        return f"<h3>{self.title}</h3>{body}{notes}"

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()


def _fmt(x: float) -> str:
    return f"{x:.6g}"


class WaldInference:
    """Standard errors, z-tests and Wald intervals from the covariances of a fit.

    Needs ``params`` (Series), ``cov``, ``cov_robust``, ``cov_cluster`` (DataFrames) and
    ``cov_type``; shared by the MNL, mixed logit and latent class results.
    """

    params: pd.Series
    cov: pd.DataFrame
    cov_robust: pd.DataFrame
    cov_cluster: pd.DataFrame
    cov_type: CovKind

    def cov_of(self, kind: CovKind | None = None) -> pd.DataFrame:
        """The covariance of ``kind`` (default: ``cov_type``)."""
        kind = kind or self.cov_type
        table = {"classic": self.cov, "robust": self.cov_robust, "cluster": self.cov_cluster}
        if kind not in table:
            raise OfferlabError(f"kind must be one of {list(table)}; got {kind!r}")
        return table[kind]

    def _se(self, kind: CovKind | None) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov_of(kind).to_numpy())), index=self.params.index)

    @cached_property
    def bse(self) -> pd.Series:
        """Classic standard errors √diag((−H)⁻¹)."""
        return self._se("classic")

    @cached_property
    def bse_robust(self) -> pd.Series:
        return self._se("robust")

    @cached_property
    def bse_cluster(self) -> pd.Series:
        return self._se("cluster")

    @property
    def tvalues(self) -> pd.Series:
        """Estimate / SE (SE of ``cov_type``)."""
        return self.params / self._se(None)

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the z-test β = 0."""
        return pd.Series(2 * stats.norm.sf(np.abs(self.tvalues)), index=self.params.index)

    def conf_int(self, alpha: float = 0.05, kind: CovKind | None = None) -> pd.DataFrame:
        """Wald confidence intervals, columns ``lower`` and ``upper``."""
        if not 0 < alpha < 1:
            raise OfferlabError(f"alpha must lie in (0, 1); got {alpha!r}")
        z = stats.norm.ppf(1 - alpha / 2)
        se = self._se(kind)
        return pd.DataFrame({"lower": self.params - z * se, "upper": self.params + z * se})


class FitStatistics:
    """K and ρ² from ``llf``, ``llnull`` and ``params`` (AIC and BIC: :class:`ChoiceResults`)."""

    params: pd.Series
    llf: float
    llnull: float
    nobs: int

    @property
    def k(self) -> int:
        """Number of estimated parameters."""
        return len(self.params)

    @property
    def rho2(self) -> float:
        """McFadden's ρ² = 1 − ℓ/ℓ₀."""
        return 1.0 - self.llf / self.llnull

    @property
    def rho2_adj(self) -> float:
        """Adjusted ρ̄² = 1 − (ℓ − K)/ℓ₀ (biogeme's rho-square-bar)."""
        return 1.0 - (self.llf - self.k) / self.llnull


@dataclass(kw_only=True, eq=False, repr=False)
class WaldResults(WaldInference, FitStatistics, ChoiceResults):
    """Results with one vector of maximum-likelihood estimates: the classic covariance and
    its two sandwiches (over the likelihood's units, and over respondents), the fit and
    the design's sizes (multinomial, mixed and latent class logit)."""

    params: pd.Series
    cov: pd.DataFrame
    cov_robust: pd.DataFrame
    cov_cluster: pd.DataFrame
    llf: float
    llnull: float
    nobs: int
    n_tasks: int
    n_respondents: int
    converged: bool = True
    n_iter: int = 0
    cov_type: CovKind = "classic"
    fixed_params: pd.Series | None = None
    gradient: np.ndarray | None = None
    source: DesignSource = ARRAYS

    def __post_init__(self) -> None:
        if self.fixed_params is None:
            self.fixed_params = pd.Series(dtype=float)

    def fit_frame(self) -> pd.DataFrame:
        """Fit statistics as a one-column table (statistic → value)."""
        return self._fit_table()

    def _fit_table(
        self,
        model: Mapping[str, object] | None = None,
        criteria: Mapping[str, object] | None = None,
    ) -> pd.DataFrame:
        """The statistics every maximum-likelihood fit reports, in the tables' order: the
        sample, what ``model`` adds about itself, the likelihood with AIC and BIC, further
        ``criteria``, and the optimiser's iterations and convergence."""
        rows = {
            "observations": self.nobs,
            "choice tasks": self.n_tasks,
            "respondents": self.n_respondents,
            **(model or {}),
            "parameters": self.k,
            "log-likelihood": self.llf,
            "null log-likelihood": self.llnull,
            "rho-square": self.rho2,
            "rho-square-bar": self.rho2_adj,
            "AIC": self.aic,
            "BIC": self.bic,
            **(criteria or {}),
            "iterations": self.n_iter,
            "converged": self.converged,
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def _fit_notes(self, fixed: str = "fixed (not estimated)") -> list[str]:
        """The summary's warnings about the fit: no convergence, coefficients held fixed."""
        notes = []
        if not self.converged:
            notes.append("the optimiser did NOT converge: do not trust these estimates")
        if len(self.fixed_params):
            notes.append(
                f"{fixed}: " + ", ".join(f"{k} = {v:g}" for k, v in self.fixed_params.items())
            )
        return notes


def wald_fields(
    design: ModelMatrix, names: list[str], theta: np.ndarray, cov: np.ndarray, meat: np.ndarray
) -> dict[str, Any]:
    """What a :class:`WaldResults` is built from, besides the fit: the estimates, the
    classic covariance ``cov``, its sandwich with ``meat`` (the outer product of the
    likelihood's units' scores), and the design's sizes."""

    def frame(m: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(m, index=names, columns=names)

    return {
        "params": pd.Series(theta, index=names, name="estimate"),
        "cov": frame(cov),
        "cov_robust": frame(cov @ meat @ cov),
        "llnull": mnl_null_loglike(design.available, design.weights),
        "nobs": int(design.X.shape[0]),
        "n_tasks": int(design.n_tasks),
        "n_respondents": len(pd.unique(design.groups)),
        "fixed_params": pd.Series(design.fixed, dtype=float),
    }


def clustered(
    cov: np.ndarray, names: list[str], scores: np.ndarray, respondent: Any = None
) -> pd.DataFrame:
    """The sandwich clustered by respondent, small-sample factor G/(G−1): the likelihood's
    ``scores`` (rows × P) summed per respondent (``respondent``: each row's; None: each row
    is one respondent's already)."""
    by_respondent = scores if respondent is None else _summed_by(scores, respondent)
    G = by_respondent.shape[0]
    Bc = by_respondent.T @ by_respondent * (G / (G - 1) if G > 1 else 1.0)
    return pd.DataFrame(cov @ Bc @ cov, index=names, columns=names)


def _summed_by(scores: np.ndarray, respondent: Any) -> np.ndarray:
    """Rows of ``scores`` summed per respondent, in the order respondents first appear."""
    codes, uniques = pd.factorize(np.asarray(respondent))
    return np.column_stack(
        [np.bincount(codes, weights=column, minlength=len(uniques)) for column in scores.T]
    )


class LogitResults(WaldResults):
    """What the multinomial and the mixed logit's results share: one vector of estimates
    with three covariances, fit statistics and the estimates table."""

    # -- tables ----------------------------------------------------------------------------
    def to_frame(self, alpha: float = 0.05, kind: CovKind | None = None) -> pd.DataFrame:
        """One row per coefficient.

        Columns: ``estimate``, ``se`` (classic), ``se_robust``, ``se_cluster``, and
        ``t``, ``p``, ``lower``, ``upper`` computed with the SE of ``kind``
        (default ``cov_type``).
        """
        kind = kind or self.cov_type
        se = self._se(kind)
        ci = self.conf_int(alpha, kind)
        t = self.params / se
        frame = pd.DataFrame(
            {
                "estimate": self.params,
                "se": self.bse,
                "se_robust": self.bse_robust,
                "se_cluster": self.bse_cluster,
                "t": t,
                "p": 2 * stats.norm.sf(np.abs(t)),
                "lower": ci["lower"],
                "upper": ci["upper"],
            }
        )
        frame.index.name = "parameter"
        return frame


class MNLResults(LogitResults):
    """A fitted multinomial logit.

    Attributes
    ----------
    params : Series
        Estimates by coefficient name.
    cov, cov_robust, cov_cluster : DataFrame
        Classic (−H)⁻¹, observation-level sandwich H⁻¹BH⁻¹ (biogeme's "robust"),
        and sandwich clustered by respondent with the factor G/(G−1).
    llf, llnull : float
        Log-likelihood at the estimates and with equal shares over the available
        alternatives.
    nobs : int
        Choice observations (a dual-response task counts twice).
    n_tasks, n_respondents : int
    converged : bool
    n_iter : int
    cov_type : {"classic", "robust", "cluster"}
        Covariance used by ``tvalues``, ``pvalues``, ``conf_int`` and the
        conjoint summaries unless told otherwise.
    fixed_params : Series
        Coefficients fixed by a spec (not estimated).
    source : DesignSource
        The study's coding (conjoint fits) or the spec (spec fits), given at
        construction; ``coding``, ``spec`` and ``spec_levels`` read it.

    Notes
    -----
    With scores s_n = w_n (x_n,y_n − x̄_n), B = Σ_n s_n s_n' and, clustered,
    B_c = G/(G−1) Σ_g (Σ_{n∈g} s_n)(Σ_{n∈g} s_n)' over the G respondents:
    cov_robust = H⁻¹ B H⁻¹ (as biogeme), cov_cluster = H⁻¹ B_c H⁻¹ (the G/(G−1)
    factor of Stata's and statsmodels' cluster covariance, without their (N−1)/(N−K)).
    """

    def summary(self, alpha: float = 0.05) -> Summary:
        """Fit statistics and the estimates as a :class:`Summary` (it does not print)."""
        notes = [
            f"t, p and the {100 * (1 - alpha):g}% interval use the {self.cov_type} SE; "
            "robust = sandwich over observations, cluster = sandwich over respondents "
            "× G/(G−1).",
            *self._fit_notes(),
        ]
        return Summary(
            "Multinomial logit",
            {"fit": self.fit_frame(), "estimates": self.to_frame(alpha)},
            notes,
        )

    def __repr__(self) -> str:
        return (
            f"<MNLResults: {self.k} coefficients, LL {self.llf:.3f}, "
            f"{self.nobs} observations, {self.n_respondents} respondents>"
        )

    # -- prediction and conjoint summaries ---------------------------------------------------
    def predict(self, data: ChoiceData) -> pd.Series:
        """Choice probability of every row of long-format ``data`` (holdouts included).

        Every available alternative of a task competes, the none row included
        (for dual-response data: the probability of the plain choice with none).
        """
        design = self.design_of(data)
        P = mnl_probabilities(self.params.to_numpy(), design.X, design.available, design.offset)
        return row_probabilities(data, P)

    def population_coefficients(
        self, n: int = 1000, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The population as one consumer: the estimates, weight 1 (``n``, ``rng`` unused).

        The market simulator adds the estimates' uncertainty itself (β ~ N(β̂, Σ)).
        """
        del n, rng
        return self.params.to_numpy()[None, :], np.ones(1)

    def partworths(self, kind: CovKind | None = None) -> pd.DataFrame:
        """Part-worth of every level (tidy), see :func:`~offerlab.models._conjoint.partworths`."""
        return partworths(self, self._conjoint(), kind)

    def importance(self, kind: CovKind | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Attribute importance in percent, see :func:`~offerlab.models._conjoint.importance`."""
        return importance(self, self._conjoint(), kind, alpha)

    def wtp(self, kind: CovKind | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Willingness to pay, see :func:`~offerlab.models._conjoint.wtp`."""
        return wtp(self, self._conjoint(), kind, alpha)


def fit_statistics(
    design: ModelMatrix,
    beta: np.ndarray,
    final: MNLTerms,
    n_iter: int,
    converged: bool,
    cov_type: CovKind,
    source: DesignSource = ARRAYS,
) -> MNLResults:
    """Covariances and fit statistics at the estimates."""
    names = list(design.names)
    K = len(names)
    cov = solve_newton(-final.hessian, np.eye(K), names)
    cov = (cov + cov.T) / 2
    S = final.scores
    return MNLResults(
        **wald_fields(design, names, beta, cov, S.T @ S),
        cov_cluster=clustered(cov, names, S, design.groups),
        llf=final.value,
        converged=converged,
        n_iter=n_iter,
        cov_type=cov_type,
        gradient=final.gradient,
        source=source,
    )
