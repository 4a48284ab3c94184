"""Fitting hierarchical Bayes: the pooled start, the chains' jobs, the θ scale of the sampler."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from offerlab.exceptions import ConvergenceWarning, EstimationError
from offerlab.models._estimator import FitRun
from offerlab.models._hb_run import ChainJob
from offerlab.models._matrix import ConjointCoding, ModelMatrix
from offerlab.models._mnl import MultinomialLogit
from offerlab.numerics import (
    HBChainSetup,
    HBLayout,
    HBPrior,
    HBSettings,
    hb_layout,
    respondent_information,
    respondent_modes,
    transform_coefficients,
)

__all__ = ["PooledStart", "chain_jobs", "coded_blocks", "pooled_start", "theta_scale_map"]


@dataclass(frozen=True)
class PooledStart:
    """What every chain starts from: the sampled data, the pooled MNL, the information."""

    layout: HBLayout
    sampled_x: np.ndarray
    scales: np.ndarray
    theta: np.ndarray  # pooled MNL on the sampled θ scale
    information: np.ndarray  # (R, K, K) on the θ scale


def pooled_start(
    design: ModelMatrix, blocks: list[tuple[int, int, np.ndarray]] | None, signs: np.ndarray
) -> PooledStart:
    """Pooled MNL: start values and the information behind the proposals."""
    # The sampler works on numeric columns divided by their SD (a price in CHF, km), so
    # that the prior's unit variance means "per SD of x" as it means "per level step"
    # for coded columns; on the raw scale a prior SD of 1 per CHF lets individual price
    # coefficients spread absurdly and overflow. Results are mapped back (_unscale).
    scales = _column_scales(design, blocks)
    sampled = design
    if np.any(scales != 1.0):
        # On single precision's grid (the likelihood's precision anyway): a price in CHF
        # and in hundreds of CHF then give the very same numbers, start values and chain.
        # Chains are chaotic: two started an ulp apart part ways within a few hundred
        # iterations, and the fit would depend on the currency unit.
        sampled_x = (design.X / scales).astype(np.float32).astype(float)
        sampled = dataclasses.replace(design, X=sampled_x)
    mnl = MultinomialLogit(max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pooled = mnl._fit_design(sampled, FitRun())
    layout = hb_layout(sampled.X, design.y, design.available, design.groups, design.offset)
    if layout.Xd.shape[0] < 2:
        raise EstimationError("hierarchical Bayes needs at least two respondents")
    theta_mnl = _to_theta(pooled.params.to_numpy(), signs)
    info = respondent_information(transform_coefficients(theta_mnl, signs), layout)
    jac = np.where(signs != 0, transform_coefficients(theta_mnl, signs), 1.0)
    info = info * jac[None, :, None] * jac[None, None, :]  # θ scale: J' H J
    return PooledStart(layout, sampled.X, scales, theta_mnl, info)


def chain_jobs(
    start: PooledStart,
    prior: HBPrior,
    settings: HBSettings,
    signs: np.ndarray,
    seed: int,
    n_chains: int,
) -> list[ChainJob]:
    """Start values and random streams of every chain."""
    K = start.theta.size
    streams = np.random.SeedSequence(seed).spawn(n_chains)
    sd0 = np.sqrt(np.diag(prior.V0))
    setup = HBChainSetup(
        start.layout, prior, settings, start.information, None if not signs.any() else signs
    )
    jobs = []
    for c, stream in enumerate(streams):
        # SFC64: the same statistical quality as the default PCG64 for this use, and
        # faster normals (bench/README.md, Hierarchical Bayes).
        rng = np.random.Generator(np.random.SFC64(stream))
        # Chains start apart (MNL ± half a prior SD) so that R-hat can see them meet,
        # every respondent at its posterior mode under N(start, V₀): near the bulk.
        alpha0 = start.theta + (0.0 if c == 0 else 0.5 * sd0 * rng.standard_normal(K))
        modes = respondent_modes(
            start.layout, transform_coefficients(alpha0, signs), np.linalg.inv(prior.V0)
        )
        jobs.append(ChainJob(setup, _to_theta(modes, signs), alpha0, rng))
    return jobs


def _column_scales(
    design: ModelMatrix, blocks: list[tuple[int, int, np.ndarray]] | None
) -> np.ndarray:
    """SD of every numeric column over the shown alternatives; 1 for level-coded columns,
    constants and any column holding only −1, 0 and 1."""
    K = design.X.shape[2]
    scales = np.ones(K)
    coded = np.zeros(K, dtype=bool)
    for start, stop, _ in blocks or []:
        coded[start:stop] = True
    shown = design.X[design.available]  # (rows, K)
    for k in np.flatnonzero(~coded):
        column = shown[:, k]
        if np.isin(column, (-1.0, 0.0, 1.0)).all():
            continue
        sd = float(column.std())
        if sd > 0 and np.isfinite(sd):
            scales[k] = sd
    return scales


@dataclass(frozen=True)
class _ThetaScaleMap:
    """θ (original) = a θ' + b for the sampler's θ' on columns divided by ``scales``.

    Unconstrained: β = θ, β' = s β, so a = 1/s, b = 0. Sign-constrained: β = ±exp(θ) and
    β' = s β, so θ' = θ + log s: a = 1, b = −log s. Covariances map as A D' A.
    """

    a: np.ndarray
    b: np.ndarray
    scales: np.ndarray

    def to_sampled(self, theta: np.ndarray) -> np.ndarray:
        return (theta - self.b) / self.a

    def unscale(self, chain: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        a, b, s = self.a, self.b, self.scales
        out = dict(chain)
        for key in ("alpha", "alpha_trace", "theta_mean"):
            out[key] = chain[key] * a + b
        out["D"] = chain["D"] * a[:, None] * a[None, :]
        out["sd_trace"] = chain["sd_trace"] * a
        out["beta_mean"] = chain["beta_mean"] / s
        out["beta_sq"] = chain["beta_sq"] / s**2
        out["beta_draws"] = chain["beta_draws"] / s
        return out


def theta_scale_map(signs: np.ndarray, scales: np.ndarray) -> _ThetaScaleMap:
    constrained = signs != 0
    a = np.where(constrained, 1.0, 1.0 / scales)
    b = np.where(constrained, -np.log(scales), 0.0)
    return _ThetaScaleMap(a=a, b=b, scales=scales)


def _to_theta(beta: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """θ with g(θ) ≈ β: log(s β) for sign-constrained coefficients (floored at 10⁻³)."""
    theta = np.array(beta, dtype=float)
    k = np.flatnonzero(signs)
    theta[..., k] = np.log(np.maximum(signs[k] * theta[..., k], 1e-3))
    return theta


def coded_blocks(coding: ConjointCoding) -> list[tuple[int, int, np.ndarray]]:
    """(start, stop, A) of every level-coded attribute: b = A p, p the level part-worths."""
    blocks = []
    for block in coding.blocks:
        if block.kind != "levels" or block.coding is None:
            continue
        C = block.coding  # (L, L−1): level l's coded columns
        # Part-worths p (L,) are C b up to a constant: p = C b + c 1. [C 1] is
        # invertible for effects and dummy coding, and its first L−1 rows map p to b
        # (b_j = p_j − p̄ for effects, p_j − p_first for dummy).
        L = C.shape[0]
        A = np.linalg.inv(np.column_stack([C, np.ones(L)]))[: L - 1]
        blocks.append((block.start, block.stop, A))
    return blocks
