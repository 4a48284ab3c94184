"""The Huang–Wand covariance prior: its Gibbs steps sample the prior they claim.

Huang & Wand (2013, Bayesian Analysis 8(2)): D | a ~ IW(ν + K − 1, 2ν diag(1/a)),
a_k ~ IG(1/2, 1/A_k²). Marginally every SD √D_kk is half-t with ν degrees of freedom
and scale A_k, and with ν = 2 every correlation is uniform on (−1, 1) (their
section 3). Without data the sampler's two conjugate steps, D | a (inverse-Wishart)
and a | D (inverse gamma), must leave exactly that distribution invariant: the chain
of the two steps alone is checked against these closed-form marginals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from typer.testing import CliRunner

from offerlab.cli.main import app
from offerlab.exceptions import OfferlabError
from offerlab.models._hb import HierarchicalBayes
from offerlab.numerics._convergence import _ess
from offerlab.numerics._hb import (
    _huang_wand_log_marginal,
    _huang_wand_scales,
    _lower_inverse,
    _wishart_precision_root,
)

SPEC = Path(__file__).resolve().parents[1] / "data" / "swissmetro_mnl.yaml"


def _prior_chain(
    n: int, nu: float, A: np.ndarray, seed: int, shape: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """SDs (n, K) and correlations (n, K(K−1)/2) from the two Gibbs steps, no data;
    ``shape`` is η of a_k ~ IG(η, 1/A_k²)."""
    rng = np.random.default_rng(seed)
    K = len(A)
    upper = np.triu_indices(K, 1)
    a = A**2
    work = np.zeros((K, K))
    sds = np.empty((n, K))
    corr = np.empty((n, len(upper[0])))
    for i in range(n):
        S = np.diag(2.0 * nu / a)  # no data: the posterior scale is the prior's
        M = _wishart_precision_root(
            S, rng.standard_normal(K * (K - 1) // 2), rng.chisquare(nu + K - 1 - np.arange(K)), work
        )
        Minv = _lower_inverse(M)
        D = Minv.T @ Minv
        a = _huang_wand_scales(M, nu, 1.0 / A**2, rng, shape)
        sd = np.sqrt(np.diag(D))
        sds[i] = sd
        corr[i] = (D / np.outer(sd, sd))[upper]
    return sds, corr


def _check_cdf(draws: np.ndarray, points: np.ndarray, target: np.ndarray) -> None:
    """The chain's CDF at ``points`` equals ``target`` within 4 Monte Carlo SEs.

    The draws are autocorrelated (the two steps move D and a together, slowly in the
    tails): each indicator I(x ≤ point) gets its own effective sample size, so the
    bound is sqrt(q(1 − q)/ESS), not the independent-draws one.
    """
    below = (draws[:, None] <= points[None, :]).astype(float)  # (n, levels)
    ess = _ess(below[None])
    error = np.abs(below.mean(axis=0) - target)
    bound = 4 * np.sqrt(target * (1 - target) / ess)
    assert np.all(error < bound), (error, bound, ess)


def test_gibbs_steps_give_half_t_sds_and_uniform_correlations() -> None:
    nu = 2.0
    A = np.array([0.5, 1.0, 2.5])
    sds, corr = _prior_chain(30_000, nu, A, seed=3)
    q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    for k in range(len(A)):
        # √D_kk ~ half-t(ν, A_k): P(√D_kk ≤ A_k t) = 2 F_t(t; ν) − 1.
        _check_cdf(sds[:, k], A[k] * stats.t.ppf((1 + q) / 2, nu), q)
    u = np.array([-0.9, -0.5, 0.0, 0.5, 0.9])
    for j in range(corr.shape[1]):
        _check_cdf(corr[:, j], u, (u + 1) / 2)  # uniform on (−1, 1)


def test_gibbs_steps_give_the_zero_avoiding_sd_prior() -> None:
    """With a_k ~ IG(η, 1/A_k²) each D_kk is 2ηA_k² times an F(2η, ν) variable (a scale
    mixture of D_kk | a_k ~ IG(ν/2, ν/a_k)); η = 1 gives the SD a density ∝ σ near 0. The
    correlations stay uniform: a diagonal IW scale leaves them alone."""
    nu, shape = 2.0, 1.0
    A = np.array([0.5, 2.5])
    sds, corr = _prior_chain(30_000, nu, A, seed=4, shape=shape)
    q = np.array([0.02, 0.05, 0.25, 0.5, 0.75, 0.95])
    for k in range(len(A)):
        variance = 2 * shape * A[k] ** 2 * stats.f.ppf(q, 2 * shape, nu)
        _check_cdf(sds[:, k], np.sqrt(variance), q)
    u = np.array([-0.9, -0.5, 0.0, 0.5, 0.9])
    _check_cdf(corr[:, 0], u, (u + 1) / 2)


@pytest.mark.parametrize("shape", [0.5, 1.0])
def test_scales_integrate_out_to_the_closed_form_marginal(shape: float) -> None:
    """log p(D) with a integrated out by quadrature equals the closed form the
    interweaving move uses, up to a constant (compared between two matrices).

    The IW(m, 2ν diag(1/a)) density, m = ν + K − 1, is
    |D|^(−(m+K+1)/2) Π_k (2ν/a_k)^(m/2) exp(−ν (D⁻¹)_kk / a_k) times constants, so
    p(D) ∝ |D|^(−(m+K+1)/2) Π_k ∫ (2ν/a)^(m/2) exp(−ν (D⁻¹)_kk / a) IG(a; η, 1/A_k²) da.
    """
    nu, K = 2.0, 3
    m = nu + K - 1
    A = np.array([0.5, 1.0, 2.5])

    def numerical(D: np.ndarray) -> float:
        precision = np.diag(np.linalg.inv(D))
        log_p = -0.5 * (m + K + 1) * float(np.linalg.slogdet(D)[1])
        for k in range(K):

            def integrand(log_a: float, k: int = k) -> float:  # over log a: times a
                a = np.exp(log_a)
                log_iw = 0.5 * m * np.log(2 * nu / a) - nu * precision[k] / a
                log_prior = stats.invgamma.logpdf(a, shape, scale=1 / A[k] ** 2)
                return float(np.exp(log_iw + log_prior + log_a))

            value, _ = integrate.quad(integrand, -40, 40, limit=400, epsabs=0, epsrel=1e-11)
            log_p += np.log(value)
        return log_p

    def closed(D: np.ndarray) -> float:
        log_p, _ = _huang_wand_log_marginal(np.diag(np.linalg.inv(D)), nu, 1 / A**2, shape)
        return log_p - 0.5 * (m + K + 1) * float(np.linalg.slogdet(D)[1])

    rng = np.random.default_rng(5)
    X1, X2 = rng.normal(size=(2, K, K))
    D1, D2 = X1 @ X1.T + 0.1 * np.eye(K), X2 @ X2.T + 0.5 * np.eye(K)
    assert numerical(D1) - numerical(D2) == pytest.approx(closed(D1) - closed(D2), abs=1e-7)


def test_bad_prior_settings_are_named() -> None:
    X = np.random.default_rng(0).normal(size=(40, 3, 2))
    y = np.zeros(40, dtype=int)
    groups = np.repeat(np.arange(10), 4)
    with pytest.raises(OfferlabError, match="covariance_prior"):
        HierarchicalBayes(covariance_prior="lkj").fit_arrays(X, y, groups=groups)
    with pytest.raises(OfferlabError, match="prior_sd_scale"):
        HierarchicalBayes(covariance_prior="huang-wand", prior_sd_scale=0).fit_arrays(
            X, y, groups=groups
        )
    with pytest.raises(OfferlabError, match="covariance='full'"):
        HierarchicalBayes(covariance_prior="huang-wand", covariance="diagonal").fit_arrays(
            X, y, groups=groups
        )


def test_command_line_huang_wand_prior(tmp_path: Path) -> None:
    args = ["estimate", "--spec", str(SPEC), "--model", "hb", "--burn-in", "30"]
    args += ["--iterations", "20", "--seed", "1", "--covariance-prior", "huang-wand"]
    prior = ["--prior-sd-scale", "1.5", "--prior-sd-shape", "1"]
    result = CliRunner().invoke(app, [*args, *prior, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    fit = pd.read_csv(tmp_path / "fit.csv", index_col=0)["value"]
    assert fit["covariance prior"] == "Huang-Wand (2013)"
    assert float(fit["prior SD scale A"]) == 1.5
    assert fit["prior SD shape η"] == "1 (SD density ∝ σ^1 near 0)"
    for option, value, field in (
        ("--prior-sd-scale", "-1", "prior_sd_scale"),
        ("--prior-sd-shape", "0", "prior_sd_shape"),
        ("--prior-sd-shape", "1e308", "prior_sd_shape"),
    ):
        bad = CliRunner().invoke(app, [*args, option, value])
        assert bad.exit_code != 0 and field in bad.output, bad.output
