"""A fitted hierarchical Bayes MNL: built from the chains' draws, its tables, predictions.

:class:`HBResults` follows the results contract (:class:`ChoiceResults`); the estimator
is :class:`offerlab.models._hb.HierarchicalBayes`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from offerlab.data import ChoiceData
from offerlab.exceptions import ConvergenceWarning, OfferlabError
from offerlab.models._contract import ARRAYS, ChoiceResults, DesignSource
from offerlab.models._hb_run import ChainRun, convergence_table
from offerlab.models._matrix import ModelMatrix
from offerlab.models._results import Summary
from offerlab.numerics import (
    ESS_MIN,
    RHAT_MAX,
    HBLayout,
    HBPrior,
    HBSettings,
    respondent_loglike,
    transform_coefficients,
)

__all__ = ["HBResults", "HBStop"]


@dataclass(frozen=True)
class HBStop:
    """Why a run stopped: ``reason`` is "diagnostics" (every check passed), "draws" or
    "time" (a cap of ``until_converged``) or "fixed" (the given number of draws);
    ``shortfalls`` names the quantities that failed R-hat < 1.01 or ESS > 400."""

    reason: str
    draws_per_chain: int
    shortfalls: list[str]

    def describe(self) -> str:
        if not self.shortfalls:
            return (
                f"converged: every population mean, covariance entry and individual mean "
                f"passes R-hat < {RHAT_MAX} and bulk/tail ESS > {ESS_MIN:.0f} "
                f"({self.draws_per_chain:,} draws per chain)"
            )
        cap = {"draws": " at the draw cap", "time": " at the time cap"}.get(self.reason, "")
        return (
            f"NOT converged: stopped{cap} after {self.draws_per_chain:,} draws per chain; "
            f"short of R-hat < {RHAT_MAX} and ESS > {ESS_MIN:.0f}: " + "; ".join(self.shortfalls)
        )


@dataclass(kw_only=True, eq=False, repr=False)
class HBResults(ChoiceResults):
    """A fitted hierarchical Bayes MNL.

    Attributes
    ----------
    params : Series
        Posterior mean of the population mean of every coefficient (β scale).
    population_sd : Series
        Posterior mean of the population standard deviation of every coefficient.
    population_cov : DataFrame
        Posterior mean of the population covariance D (θ scale).
    theta_mean : Series
        Posterior mean of α (θ scale: the log of |β| for sign-constrained coefficients).
    alpha_draws : ndarray, shape (chains, draws, K)
        Saved draws of α (θ scale).
    cov_draws : ndarray, shape (chains, draws, K, K)
        Saved draws of D (θ scale).
    individual : DataFrame
        Posterior mean of every respondent's coefficients (β scale), one row per respondent.
    individual_sd : DataFrame
        Posterior SD of every respondent's coefficients.
    individual_draws : ndarray, shape (R, m, K)
        Saved draws of every respondent (β scale), chains pooled.
    rlh, pct_cert : Series
        Per respondent: root likelihood exp(ℓ_r / T_r) and percent certainty
        1 − ℓ_r / ℓ0_r, at the individual posterior means.
    rlh_overall, pct_cert_overall : float
    llf : float
        Log-likelihood of the population model (the mixed logit ∫ Π_t P dN(α, D)) at
        the posterior means of α and D, simulated with 2,000 draws: comparable with a
        mixed logit's simulated log-likelihood.
    llf_individual : float
        Σ_r ℓ_r at the individual posterior means (the basis of RLH).
    holdout_hit_rate, holdout_probability : float or None
        Share of holdout tasks whose choice the individual posterior means predict,
        and the mean predicted probability of the chosen holdout alternative.
    convergence : DataFrame
        Rank-normalised split R-hat, bulk and tail ESS of every population parameter
        (α_k and D_kl, l ≤ k).
    convergence_individual : dict or None
        Worst R-hat and smallest bulk/tail ESS over every respondent's coefficients
        (from the stored individual draws).
    converged : bool
        True when every R-hat < 1.01 and every ESS > 400 (population and individual).
    stop : HBStop
        Why the run stopped and which quantities fell short.
    source : DesignSource
        The coding (conjoint fits) or the spec the columns come from.
    """

    names: list[str]
    signs: pd.Series
    params: pd.Series
    population_sd: pd.Series
    population_mean_draws: np.ndarray
    population_sd_draws: np.ndarray
    theta_mean: pd.Series
    population_cov: pd.DataFrame
    alpha_draws: np.ndarray
    cov_draws: np.ndarray
    individual: pd.DataFrame
    individual_sd: pd.DataFrame
    individual_theta: pd.DataFrame
    individual_draws: np.ndarray
    rlh: pd.Series
    pct_cert: pd.Series
    rlh_overall: float
    pct_cert_overall: float
    llf_individual: float
    llnull: float
    convergence: pd.DataFrame
    convergence_individual: dict[str, Any] | None
    stop: HBStop
    converged: bool
    alpha_trace: np.ndarray
    sd_trace: np.ndarray
    acceptance_trace: np.ndarray
    loglike_trace: np.ndarray
    acceptance: float
    nobs: int
    n_tasks: int
    n_respondents: int
    n_chains: int
    n_draws: int
    settings: HBSettings
    prior_variance: float
    prior_df: float
    prior: HBPrior
    seed: int
    elapsed: float
    fixed_params: pd.Series
    llf: float = float("nan")  # the population model's, simulated once the draws are in
    holdout_hit_rate: float | None = None
    holdout_probability: float | None = None
    source: DesignSource = ARRAYS

    @classmethod
    def _from_chains(
        cls,
        chains: list[dict[str, np.ndarray]],
        *,
        design: ModelMatrix,
        layout: HBLayout,
        names: list[str],
        signs: np.ndarray,
        prior: HBPrior,
        settings: HBSettings,
        seed: int,
        elapsed: float,
        prior_variance: float,
        prior_df: float,
        run: ChainRun,
    ) -> HBResults:
        alpha = np.stack([c["alpha"] for c in chains])  # (C, S, K)
        D = np.stack([c["D"] for c in chains])  # (C, S, K, K)
        C, S = alpha.shape[:2]
        # β-scale population mean and SD of every draw (log-normal for constrained ones).
        sd = np.sqrt(np.diagonal(D, axis1=2, axis2=3))
        pop_mean, pop_sd = alpha.copy(), sd.copy()
        for k in np.flatnonzero(signs):
            var = sd[..., k] ** 2
            pop_mean[..., k] = signs[k] * np.exp(alpha[..., k] + var / 2)
            pop_sd[..., k] = np.abs(pop_mean[..., k]) * np.sqrt(np.expm1(var))
        respondents = layout.respondents
        beta_mean = np.mean([c["beta_mean"] for c in chains], axis=0)
        beta_sq = np.mean([c["beta_sq"] for c in chains], axis=0)
        beta_sd = np.sqrt(np.maximum(beta_sq - beta_mean**2, 0.0))
        draws = np.concatenate([c["beta_draws"] for c in chains], axis=1)
        # Fit at the individual posterior means.
        ll_r = respondent_loglike(beta_mean, layout)
        ll0_r = layout.null_loglike()
        T_r = layout.n_obs
        index = pd.Index(respondents, name="respondent")
        frame = lambda m: pd.DataFrame(m, index=index, columns=names)  # noqa: E731
        conv = convergence_table(alpha, D, names)
        D_mean = D.mean(axis=(0, 1))
        res = cls(
            names=names,
            signs=pd.Series(signs, index=names),
            params=pd.Series(pop_mean.mean(axis=(0, 1)), index=names, name="estimate"),
            population_sd=pd.Series(pop_sd.mean(axis=(0, 1)), index=names, name="sd"),
            population_mean_draws=pop_mean,
            population_sd_draws=pop_sd,
            theta_mean=pd.Series(alpha.mean(axis=(0, 1)), index=names),
            population_cov=pd.DataFrame(D_mean, index=names, columns=names),
            alpha_draws=alpha,
            cov_draws=D,
            individual=frame(beta_mean),
            individual_sd=frame(beta_sd),
            individual_theta=frame(np.mean([c["theta_mean"] for c in chains], axis=0)),
            individual_draws=draws,
            rlh=pd.Series(np.exp(ll_r / T_r), index=index, name="rlh"),
            pct_cert=pd.Series(1 - ll_r / ll0_r, index=index, name="pct_cert"),
            rlh_overall=float(np.exp(ll_r.sum() / T_r.sum())),
            pct_cert_overall=float(1 - ll_r.sum() / ll0_r.sum()),
            llf_individual=float(ll_r.sum()),
            llnull=float(ll0_r.sum()),
            convergence=conv,
            convergence_individual=run.check.individual,
            stop=HBStop(
                reason=run.stopped_by,
                draws_per_chain=run.draws_per_chain,
                shortfalls=list(run.check.shortfalls),
            ),
            converged=not run.check.shortfalls,
            alpha_trace=np.stack([c["alpha_trace"] for c in chains]),
            sd_trace=np.stack([c["sd_trace"] for c in chains]),
            acceptance_trace=np.stack([c["acceptance"] for c in chains]),
            loglike_trace=np.stack([c["loglike"] for c in chains]),
            acceptance=float(np.mean([c["acceptance_saved"].mean() for c in chains])),
            nobs=int(design.X.shape[0]),
            n_tasks=int(design.n_tasks),
            n_respondents=len(respondents),
            n_chains=C,
            n_draws=S,
            settings=settings,
            prior_variance=prior_variance,
            prior_df=prior_df,
            prior=prior,
            seed=seed,
            elapsed=elapsed,
            fixed_params=pd.Series(design.fixed, dtype=float),
        )
        res.llf = res._population_loglike(layout, np.random.default_rng(seed), D_mean)
        res._warn_convergence()
        return res

    # -- fit --------------------------------------------------------------------------------
    def _population_loglike(
        self, layout: HBLayout, rng: np.random.Generator, D_mean: np.ndarray, n_draws: int = 2000
    ) -> float:
        """log Π_r (1/M) Σ_m L_r(g(θ_m)), θ_m ~ N(ᾱ, D̄): the mixed-logit likelihood."""
        K = len(self.names)
        signs = self.signs.to_numpy()
        L = np.linalg.cholesky(D_mean + 1e-12 * np.eye(K))
        theta = self.theta_mean.to_numpy() + rng.standard_normal((n_draws, K)) @ L.T
        beta = transform_coefficients(theta, signs)
        R, T, A, _ = layout.Xd.shape
        ll = np.empty((R, n_draws))
        chunk = max(1, (1 << 22) // max(R * A * T, 1))
        for start in range(0, n_draws, chunk):
            b = beta[start : start + chunk]  # (m, K)
            V = layout.xd_alt_major @ b.T  # (R, A·T, m)
            V = V.reshape(R, A, T, -1)
            if layout.base_alt_major is not None:
                V = V + layout.base_alt_major[..., None]
            with np.errstate(over="ignore"):
                s = np.exp(V).sum(axis=1)
            ll[:, start : start + chunk] = -np.log1p(s).sum(axis=1)
        top = ll.max(axis=1, keepdims=True)
        return float((top[:, 0] + np.log(np.exp(ll - top).mean(axis=1))).sum())

    @property
    def k(self) -> int:
        """Population parameters: K means and K(K+1)/2 covariances."""
        K = len(self.names)
        return K + K * (K + 1) // 2

    @property
    def n_bic(self) -> int:
        """Respondents: the independent units of the BIC."""
        return self.n_respondents

    def _warn_convergence(self) -> None:
        if self.converged:
            return
        message = (
            f"hierarchical Bayes (Vehtari et al. 2021 criteria): {self.stop.describe()}. "
            "Run longer (until_converged, max_draws, max_seconds) or more chains before "
            "trusting intervals and population (co)variances; where a population variance "
            "near zero is among them, interweave_coordinates='row-ratios' moves it faster."
        )
        warnings.warn(ConvergenceWarning.because("chains_not_converged", message), stacklevel=4)

    # -- tables -----------------------------------------------------------------------------
    def credible_interval(self, alpha: float = 0.05) -> pd.DataFrame:
        """Equal-tailed credible intervals of the population means and SDs (β scale)."""
        if not 0 < alpha < 1:
            raise OfferlabError(f"alpha must lie in (0, 1); got {alpha!r}")
        q = [alpha / 2, 1 - alpha / 2]
        K = len(self.names)
        m = np.quantile(self.population_mean_draws.reshape(-1, K), q, axis=0)
        s = np.quantile(self.population_sd_draws.reshape(-1, K), q, axis=0)
        return pd.DataFrame(
            {"lower": m[0], "upper": m[1], "sd_lower": s[0], "sd_upper": s[1]}, index=self.names
        )

    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per coefficient: its population mean and SD with credible intervals.

        Columns: ``estimate`` (posterior mean of the population mean), ``se`` (its
        posterior SD), ``lower``, ``upper`` (equal-tailed 1 − alpha interval), ``sd``
        (posterior mean of the population SD), ``sd_se`` (its posterior SD),
        ``sd_lower``, ``sd_upper``, and the
        convergence of α_k and D_kk: ``rhat`` (the larger), ``ess_bulk``,
        ``ess_tail`` (the smaller).
        """
        K = len(self.names)
        ci = self.credible_interval(alpha)
        conv = self.convergence
        mean_rows = [f"mean[{n}]" for n in self.names]
        var_rows = [f"cov[{n},{n}]" for n in self.names]
        frame = pd.DataFrame(
            {
                "estimate": self.params,
                "se": self.population_mean_draws.reshape(-1, K).std(axis=0, ddof=1),
                "lower": ci["lower"],
                "upper": ci["upper"],
                "sd": self.population_sd,
                "sd_se": self.population_sd_draws.reshape(-1, K).std(axis=0, ddof=1),
                "sd_lower": ci["sd_lower"],
                "sd_upper": ci["sd_upper"],
                "rhat": np.maximum(
                    conv.loc[mean_rows, "rhat"].to_numpy(), conv.loc[var_rows, "rhat"].to_numpy()
                ),
                "ess_bulk": np.minimum(
                    conv.loc[mean_rows, "ess_bulk"].to_numpy(),
                    conv.loc[var_rows, "ess_bulk"].to_numpy(),
                ),
                "ess_tail": np.minimum(
                    conv.loc[mean_rows, "ess_tail"].to_numpy(),
                    conv.loc[var_rows, "ess_tail"].to_numpy(),
                ),
            },
            index=pd.Index(self.names, name="parameter"),
        )
        return frame

    def correlation(self) -> pd.DataFrame:
        """Posterior mean of the population correlation matrix (θ scale)."""
        D = self.cov_draws
        sd = np.sqrt(np.diagonal(D, axis1=2, axis2=3))
        corr = D / (sd[..., :, None] * sd[..., None, :])
        return pd.DataFrame(corr.mean(axis=(0, 1)), index=self.names, columns=self.names)

    def fit_frame(self) -> pd.DataFrame:
        rows = {
            "observations": self.nobs,
            "choice tasks": self.n_tasks,
            "respondents": self.n_respondents,
            "parameters per respondent": len(self.names),
            "chains": self.n_chains,
            "burn-in iterations": self.settings.burn_in,
            "saved draws per chain": self.n_draws,
            "thinning": self.settings.thin,
            **self._prior_rows(),
            "acceptance rate (after burn-in)": self.acceptance,
            "RLH": self.rlh_overall,
            "percent certainty": self.pct_cert_overall,
            "log-likelihood (population model)": self.llf,
            "log-likelihood (individual means)": self.llf_individual,
            "null log-likelihood": self.llnull,
            "holdout hit rate": self.holdout_hit_rate,
            "max R-hat": float(self.convergence["rhat"].max()),
            "min bulk ESS": float(self.convergence["ess_bulk"].min()),
            "min tail ESS": float(self.convergence["ess_tail"].min()),
            **self._individual_rows(),
            "converged": self.converged,
            "stopped by": self.stop.reason,
            "seconds": self.elapsed,
            "seed": self.seed,
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def _individual_rows(self) -> dict[str, Any]:
        ind = self.convergence_individual
        if ind is None:
            return {}
        return {
            "max R-hat (individual)": ind["rhat"],
            "min bulk ESS (individual)": ind["ess_bulk"],
            "min tail ESS (individual)": ind["ess_tail"],
        }

    def _prior_rows(self) -> dict[str, Any]:
        prior = self.prior
        if prior.kind == "huang-wand":
            return {
                "covariance prior": "Huang-Wand (2013)",
                "prior degrees of freedom": f"{prior.df:g} (uniform correlations)",
                "prior SD scale A": float(prior.scale[0]),
                "prior SD shape η": _shape_label(prior.scale_shape),
            }
        return {
            "covariance prior": "inverse-Wishart (CBC/HB)",
            "prior variance": self.prior_variance,
            "prior degrees of freedom": f"K + {self.prior_df:g}",
        }

    def summary(self, alpha: float = 0.05) -> Summary:
        """Fit, population means and SDs with credible intervals, convergence."""
        notes = [
            f"estimate = posterior mean of the population mean, se = its posterior SD; "
            f"lower/upper and sd_lower/sd_upper: equal-tailed {100 * (1 - alpha):g}% "
            "credible intervals; sd = population standard deviation.",
            f"convergence: rank-normalised split R-hat < {RHAT_MAX} and bulk/tail ESS > "
            f"{ESS_MIN:.0f} for every population parameter and every respondent's "
            "coefficients (Vehtari et al. 2021).",
        ]
        notes.append(self.stop.describe())
        constrained = [n for n, s in self.signs.items() if s != 0]
        if constrained:
            notes.append(
                f"sign-constrained (log-normal) coefficients: {constrained}; their mean and "
                "SD are those of the coefficient, the normal scale is in theta_mean"
            )
        return Summary(
            "Hierarchical Bayes multinomial logit",
            {
                "fit": self.fit_frame(),
                "population": self.to_frame(alpha),
            },
            notes,
        )

    def __repr__(self) -> str:
        return (
            f"<HBResults: {len(self.names)} coefficients, {self.n_respondents} respondents, "
            f"{self.n_chains} chains × {self.n_draws} draws, RLH {self.rlh_overall:.3f}>"
        )

    # -- prediction -------------------------------------------------------------------------
    def hit_rate(self, holdouts: ChoiceData) -> tuple[float, float]:
        """Hit rate and mean probability of the chosen alternative on holdout tasks.

        Each task is predicted with its respondent's posterior mean coefficients;
        respondents that were not estimated are skipped. With dual response the forced
        choice among the concepts is predicted.
        """
        if self.coding is not None and holdouts.dual_response:
            # A dual-response task's chosen row is the forced choice among the concepts;
            # the none row is the second question's: predict the forced choice.
            frame = holdouts.frame
            holdouts = ChoiceData(
                frame[frame["none"] == 0].reset_index(drop=True), holdouts.variables
            )
        design = self.design_of(holdouts)
        index = pd.Index(self.individual.index)
        rows = index.get_indexer(pd.Index(design.groups))
        keep = rows >= 0
        if not keep.any():
            raise OfferlabError("no holdout task belongs to an estimated respondent")
        B = self.individual.to_numpy()[rows[keep]]
        V = np.einsum("njk,nk->nj", design.X[keep], B)
        if design.offset is not None:
            V = V + design.offset[keep]
        V = np.where(design.available[keep], V, -np.inf)
        y = design.y[keep]
        hits = np.argmax(V, axis=1) == y
        V = V - V.max(axis=1, keepdims=True)
        P = np.exp(V)
        P /= P.sum(axis=1, keepdims=True)
        return float(hits.mean()), float(P[np.arange(len(y)), y].mean())

    def predict(self, data: ChoiceData, n: int = 1000, rng: int = 0) -> pd.Series:
        """Choice probability of every row of long ``data``, averaged over the population.

        The logit probabilities averaged over the saved posterior draws of
        :meth:`population_coefficients` (seeded by ``rng``, so repeated calls agree);
        :meth:`hit_rate` predicts known respondents with their own coefficients instead.
        """
        B, w = self.population_coefficients(n, rng)
        return self._mixture_predict(data, B, w)

    def population_coefficients(
        self, n: int = 1000, rng: np.random.Generator | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient vectors that represent the population, and their weights.

        Every respondent contributes m = max(1, round(n / R)) of its saved posterior
        draws (chosen at random), so respondents weigh equally and their uncertainty
        is kept. Returns (B of shape (R·m, K), w of shape (R·m,), all 1/(R·m)).
        """
        if not (isinstance(n, int) and n >= 1):
            raise OfferlabError(f"n must be a positive int; got {n!r}")
        rng = np.random.default_rng(rng)
        draws = self.individual_draws  # (R, m_saved, K)
        R, saved, K = draws.shape
        m = max(1, round(n / R))
        pick = rng.integers(0, saved, size=(R, m))
        B = draws[np.arange(R)[:, None], pick].reshape(R * m, K)
        return B, np.full(R * m, 1.0 / (R * m))


def _shape_label(shape: float) -> str:
    if shape == 0.5:
        return "0.5 (half-t SDs)"
    return f"{shape:g} (SD density ∝ σ^{2 * shape - 1:g} near 0)"
