"""Results of a mixed logit fit: estimates, covariances, the coefficients' distribution."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.exceptions import ConvergenceWarning, EstimationError, OfferlabError
from offerlab.models._conjoint import importance, partworths, wtp
from offerlab.models._constraints import COV_TYPES
from offerlab.models._contract import ARRAYS, DesignSource
from offerlab.models._matrix import ModelMatrix
from offerlab.models._results import CovKind, LogitResults, Summary, clustered, wald_fields
from offerlab.numerics import MXLProblem, draw_shape, solve_newton, standard_draws

__all__ = ["MixedLogitResults", "mxl_param_names"]

# Variance of the standard draws: normal 1, symmetric triangular on [−1, 1] 1/6.
_DRAW_VARIANCE = {"normal": 1.0, "triangular": 1.0 / 6.0}


def mxl_param_names(names: list[str], random: dict[str, str], problem: MXLProblem) -> list[str]:
    """Names of θ: the K coefficients (means), then the Cholesky entries.

    An uncorrelated coefficient's entry is ``sd.NAME`` (the standard deviation of a
    normal coefficient, or of the log of a log-normal one) or ``spread.NAME`` (the
    half-width s of a triangular one). Entries of the correlated block are
    ``chol.ROW.COL``.
    """
    rand = list(random)
    correlated = set(problem.chol_rows[problem.chol_rows != problem.chol_cols].tolist())
    correlated |= set(problem.chol_cols[problem.chol_rows != problem.chol_cols].tolist())
    out = list(names)
    for row, col in zip(problem.chol_rows.tolist(), problem.chol_cols.tolist(), strict=True):
        if row == col and row not in correlated:
            prefix = "spread" if random[rand[row]] == "triangular" else "sd"
            out.append(f"{prefix}.{rand[row]}")
        else:
            out.append(f"chol.{rand[row]}.{rand[col]}")
    return out


class _MeanCoefficients:
    """The population means of the coefficients, shaped like an MNL fit for the
    conjoint summaries (part-worths, importance, WTP of the average respondent)."""

    def __init__(self, params: pd.Series, covs: dict[str, pd.DataFrame], kind: str) -> None:
        self.params = params
        self._covs = covs
        self.cov_type = kind

    def cov_of(self, kind: CovKind | None = None) -> pd.DataFrame:
        return self._covs[kind or self.cov_type]


class MixedLogitResults(LogitResults):
    """A fitted mixed logit.

    θ holds the K coefficients in the model's column order (fixed coefficients and
    the location μ of every random one), then the free entries of the Cholesky
    factor L of the random part (``sd.NAME``, ``spread.NAME`` or ``chol.ROW.COL``;
    see :func:`mxl_param_names`). For respondent draws z, u = μ + L z and the
    coefficient is u (normal, triangular), exp(u) (lognormal) or −exp(u)
    (negative_lognormal).

    Attributes
    ----------
    params, cov, cov_robust, cov_cluster, llf, llnull, nobs, n_tasks, n_respondents,
    converged, n_iter, cov_type, fixed_params, coding, spec
        As :class:`~offerlab.models.MNLResults`. ``cov`` is the inverse of
        the numerical Hessian of the simulated log-likelihood (or the BHHH inverse,
        see ``hessian``); ``cov_robust`` the sandwich over the units that own draws
        (respondents in a panel, tasks in a cross-section); ``cov_cluster`` the
        sandwich over respondents × G/(G−1).
    cov_bhhh : DataFrame
        Inverse outer product of the units' scores (xlogit's default covariance).
    random : dict
        Random coefficient → distribution.
    settings : dict
        ``n_draws``, ``draws``, ``panel``, ``correlated``, ``seed``, ``hessian``.

    Notes
    -----
    Signs: L and −L (column by column) give the same distribution. Every column of
    L whose diagonal came out negative is flipped, so ``sd.`` and ``spread.`` are
    reported positive (the covariances are flipped with them). With quasi-random
    draws the simulated log-likelihood at the flipped θ differs from ``llf`` by
    simulation noise only.
    """

    cov_bhhh: pd.DataFrame
    random: dict[str, str]
    settings: dict

    @classmethod
    def from_fit(
        cls,
        *,
        design: ModelMatrix,
        problem: MXLProblem,
        theta: np.ndarray,
        value: float,
        gradient: np.ndarray,
        scores: np.ndarray,
        hessian: np.ndarray | None,
        param_names: list[str],
        random: dict[str, str],
        llnull: float,
        n_iter: int,
        converged: bool,
        cov_type: CovKind,
        settings: dict,
        source: DesignSource = ARRAYS,
    ) -> MixedLogitResults:
        """Covariances and statistics at the estimates (after the sign convention)."""
        K = problem.n_coef
        flip = np.ones(len(theta))
        L = problem.cholesky(theta)
        negative_cols = np.flatnonzero(np.diag(L) < 0)
        for col in negative_cols:
            flip[K:][problem.chol_cols == col] = -1.0
        theta = theta * flip
        gradient = gradient * flip
        scores = scores * flip
        P = len(theta)
        B = scores.T @ scores
        cov_bhhh = solve_newton(B, np.eye(P), param_names)
        cov = cov_bhhh
        if hessian is not None:
            hessian = hessian * np.outer(flip, flip)
            try:
                cov = solve_newton(-hessian, np.eye(P), param_names)
            except EstimationError as exc:
                # e.g. a spread at ~0, where the simulated likelihood is flat: keep
                # the fit, report BHHH standard errors and say why.
                message = (
                    f"the numerical Hessian is not negative definite ({exc}); the classic "
                    "covariance is the BHHH one"
                )
                warning = ConvergenceWarning.because("covariance_from_bhhh", message)
                warnings.warn(warning, stacklevel=4)
        cov = (cov + cov.T) / 2
        results = cls(
            **{**wald_fields(design, param_names, theta, cov, B), "llnull": llnull},
            cov_cluster=clustered(cov, param_names, scores, problem.unit_groups),
            llf=value,
            converged=converged,
            n_iter=n_iter,
            cov_type=cov_type,
            gradient=gradient,
            source=source,
        )
        symmetric = (cov_bhhh + cov_bhhh.T) / 2
        results.cov_bhhh = pd.DataFrame(symmetric, index=param_names, columns=param_names)
        results.random = dict(random)
        results.settings = dict(settings)
        results._names = list(design.names)
        results._random_index = problem.random_index.copy()
        results._chol = (problem.chol_rows.copy(), problem.chol_cols.copy())
        return results

    # -- the coefficients' distribution -----------------------------------------------------
    @property
    def coefficient_names(self) -> list[str]:
        """The model's K columns (the order of ``population_coefficients``)."""
        return list(self._names)

    def _cholesky(self, theta: np.ndarray) -> np.ndarray:
        Kr = len(self._random_index)
        L = np.zeros((Kr, Kr))
        L[self._chol] = theta[len(self._names) :]
        return L

    def _moments(self, theta: np.ndarray) -> np.ndarray:
        """(mean of every coefficient (K), sd of every random coefficient (Kr), median (Kr))."""
        K = len(self._names)
        dists = list(self.random.values())
        L = self._cholesky(theta)
        D = np.array([_DRAW_VARIANCE[draw_shape(d)] for d in dists])
        var_u = (L * L) @ D  # Var u_k = Σ_l L_kl² Var z_l
        mean = theta[:K].copy()
        sd = np.sqrt(var_u)
        median = np.empty(len(dists))
        for i, (k, d) in enumerate(zip(self._random_index, dists, strict=True)):
            mu = theta[k]
            median[i] = mu
            if d.endswith("lognormal"):
                sign = -1.0 if d == "negative_lognormal" else 1.0
                mean[k] = sign * np.exp(mu + var_u[i] / 2)
                sd[i] = np.exp(mu + var_u[i] / 2) * np.sqrt(np.expm1(var_u[i]))
                median[i] = sign * np.exp(mu)
        return np.concatenate([mean, sd, median])

    def _delta(self, f: Callable[[np.ndarray], np.ndarray], kind: CovKind | None):
        """Value of f(θ) and its delta-method covariance (central-difference Jacobian)."""
        theta = self.params.to_numpy()
        value = f(theta)
        J = np.empty((len(value), len(theta)))
        for p in range(len(theta)):
            h = 1e-6 * max(1.0, abs(theta[p]))
            up, down = theta.copy(), theta.copy()
            up[p] += h
            down[p] -= h
            J[:, p] = (f(up) - f(down)) / (2 * h)
        return value, J @ self.cov_of(kind).to_numpy() @ J.T

    def distribution(self, kind: CovKind | None = None) -> pd.DataFrame:
        """Population mean, standard deviation and median of every random coefficient.

        Returns
        -------
        DataFrame
            Index: random coefficient. Columns ``distribution``, ``mean``,
            ``se_mean``, ``sd``, ``se_sd``, ``median``, ``se_median`` (delta method
            with the covariance of ``kind``).

        Notes
        -----
        With Var u_k = Σ_l L_kl² Var z_l: normal and triangular coefficients have
        mean μ_k and sd √Var u_k; log-normal ones ±exp(μ + Var u/2), sd
        exp(μ + Var u/2) √(exp(Var u) − 1) and median ±exp(μ).
        """
        value, cov = self._delta(self._moments, kind)
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
        K, Kr = len(self._names), len(self.random)
        rows = []
        for i, (name, d) in enumerate(self.random.items()):
            k = self._random_index[i]
            rows.append(
                {
                    "coefficient": name,
                    "distribution": d,
                    "mean": value[k],
                    "se_mean": se[k],
                    "sd": value[K + i],
                    "se_sd": se[K + i],
                    "median": value[K + Kr + i],
                    "se_median": se[K + Kr + i],
                }
            )
        return pd.DataFrame(rows).set_index("coefficient")

    def random_covariance(self) -> pd.DataFrame:
        """Covariance Ω = L diag(Var z) L' of u (the coefficients, or their logs)."""
        L = self._cholesky(self.params.to_numpy())
        D = np.array([_DRAW_VARIANCE[draw_shape(d)] for d in self.random.values()])
        names = list(self.random)
        return pd.DataFrame((L * D) @ L.T, index=names, columns=names)

    def mean_coefficients(self, kind: CovKind | None = None) -> pd.Series:
        """Population mean of every coefficient (K, the model's column order)."""
        return self._mean_fit(kind).params

    def _mean_fit(self, kind: CovKind | None = None) -> _MeanCoefficients:
        K = len(self._names)
        covs = {}
        value = None
        for k in COV_TYPES:
            value, cov = self._delta(lambda t: self._moments(t)[:K], k)
            covs[k] = pd.DataFrame(cov, index=self._names, columns=self._names)
        params = pd.Series(value, index=self._names, name="mean")
        return _MeanCoefficients(params, covs, kind or self.cov_type)

    def population_coefficients(
        self, n: int = 1000, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient vectors of ``n`` simulated respondents, equally weighted.

        Returns
        -------
        B : ndarray, shape (n, K)
            Rows drawn from the estimated distribution (pseudo-random draws from
            ``rng``), columns in the model's order (:attr:`coefficient_names`).
        w : ndarray, shape (n,)
            1/n each.
        """
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise OfferlabError(f"n must be an int >= 1; got {n!r}")
        theta = self.params.to_numpy()
        K = len(self._names)
        dists = list(self.random.values())
        z = standard_draws(n, 1, [draw_shape(d) for d in dists], "pseudo", rng=rng)[:, :, 0]
        u = theta[self._random_index][None, :] + z @ self._cholesky(theta).T
        B = np.tile(theta[:K], (n, 1))
        for i, (k, d) in enumerate(zip(self._random_index, dists, strict=True)):
            if d == "lognormal":
                B[:, k] = np.exp(u[:, i])
            elif d == "negative_lognormal":
                B[:, k] = -np.exp(u[:, i])
            else:
                B[:, k] = u[:, i]
        return B, np.full(n, 1.0 / n)

    def individual_coefficients(self) -> pd.DataFrame:
        """Every respondent's expected coefficients given their own choices.

        E[b_n | choices of n] = Σ_r ω_nr b_nr, the draws weighted by how well they
        explain the respondent's answers (Revelt & Train 2000): individual
        part-worths from a panel fit, computed with the estimation draws.

        Returns
        -------
        DataFrame
            One row per respondent (index ``respondent``), one column per coefficient
            (:attr:`coefficient_names`). A cross-section fit gives one row per task
            (index ``task``, the row of the estimation data, with a ``respondent``
            column): each task has its own draw there.
        """
        values, ids, panel = self._individual
        frame = pd.DataFrame(values, columns=self._names)
        if panel:
            frame.index = pd.Index(ids, name="respondent")
        else:
            frame.insert(0, "respondent", ids)
            frame.index.name = "task"
        return frame

    # -- tables ------------------------------------------------------------------------------
    def fit_frame(self) -> pd.DataFrame:
        frame = super().fit_frame()
        extra = {
            "draws": f"{self.settings['n_draws']} {self.settings['draws']}",
            "draws per": "respondent (panel)" if self.settings["panel"] else "task",
        }
        return pd.concat([frame, pd.DataFrame({"value": pd.Series(extra, dtype=object)})])

    def summary(self, alpha: float = 0.05) -> Summary:
        """Fit statistics, the estimates and the coefficients' distribution."""
        notes = [
            f"t, p and the {100 * (1 - alpha):g}% interval use the {self.cov_type} SE; "
            "robust = sandwich over the units that own draws, cluster = sandwich over "
            "respondents × G/(G−1).",
            "sd. and spread. are reported positive (the sign of a Cholesky column is "
            "not identified).",
            *self._fit_notes(),
        ]
        return Summary(
            "Mixed logit (maximum simulated likelihood)",
            {
                "fit": self.fit_frame(),
                "estimates": self.to_frame(alpha),
                "random coefficients": self.distribution(),
            },
            notes,
        )

    def __repr__(self) -> str:
        return (
            f"<MixedLogitResults: {len(self.random)} random of {len(self._names)} "
            f"coefficients, LL {self.llf:.3f}, {self.settings['n_draws']} "
            f"{self.settings['draws']} draws, {self.nobs} observations, "
            f"{self.n_respondents} respondents>"
        )

    # -- prediction and conjoint summaries ---------------------------------------------------
    def predict(self, data: ChoiceData, n: int = 1000, rng: int = 0) -> pd.Series:
        """Choice probability of every row of long ``data``, averaged over the population.

        The probabilities are unconditional: the logit probabilities averaged over
        ``n`` coefficient vectors of :meth:`population_coefficients` (seeded by
        ``rng``, so repeated calls agree).
        """
        B, w = self.population_coefficients(n, rng)
        return self._mixture_predict(data, B, w)

    def partworths(self, kind: CovKind | None = None) -> pd.DataFrame:
        """Part-worths of the average respondent (population means), delta-method SEs."""
        return partworths(self._mean_fit(kind), self._conjoint(), kind)

    def importance(self, kind: CovKind | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Attribute importance from the population-mean part-worths."""
        return importance(self._mean_fit(kind), self._conjoint(), kind, alpha)

    def wtp(self, kind: CovKind | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Willingness to pay: −(mean part-worth difference) / (mean price coefficient).

        The ratio of population means, with delta-method SEs. With a fixed price
        coefficient it is the mean of the WTP distribution; with a random one it is
        the usual summary (the mean of a ratio with a normal denominator does not exist).
        """
        return wtp(self._mean_fit(kind), self._conjoint(), kind, alpha)
