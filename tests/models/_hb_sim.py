"""A simulated conjoint study with known heterogeneous part-worths, for HB tests and bench.

1,000 respondents × 12 tasks × 3 concepts + none; six attributes (four with 3 levels,
two with 4), effects coded: 14 columns, plus the none constant = 15 parameters.
Individual part-worths β_r ~ N(μ, Σ) with a non-diagonal Σ (a few shared factors:
e.g. people who like one brand level like another), Gumbel errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offerlab.numerics import code_levels

LEVELS = (3, 3, 3, 3, 4, 4)


@dataclass(frozen=True)
class SimulatedStudy:
    X: np.ndarray  # (N, 4, K): concepts 0..2, none last
    y: np.ndarray  # (N,)
    groups: np.ndarray  # (N,)
    beta: np.ndarray  # (R, K) true individual coefficients
    mean: np.ndarray  # (K,) μ
    cov: np.ndarray  # (K, K) Σ
    names: list[str]


def simulate_study(
    respondents: int = 1000, tasks: int = 12, concepts: int = 3, seed: int = 20261128
) -> SimulatedStudy:
    rng = np.random.default_rng(seed)
    K = sum(n - 1 for n in LEVELS) + 1
    mean = rng.normal(0.0, 0.7, K)
    mean[-1] = 0.5  # none
    loadings = rng.normal(0.0, 0.45, (K, 3))  # three shared taste factors
    spread = rng.uniform(0.3, 0.7, K)
    cov = loadings @ loadings.T + np.diag(spread**2)
    beta = rng.multivariate_normal(mean, cov, size=respondents)
    N = respondents * tasks
    levels = np.stack([rng.integers(0, n, size=(N, concepts)) for n in LEVELS], axis=-1)
    X = np.zeros((N, concepts + 1, K))
    X[:, :concepts, : K - 1] = code_levels(levels, LEVELS, "effects")
    X[:, concepts, K - 1] = 1.0
    groups = np.repeat(np.arange(respondents), tasks)
    V = np.einsum("njk,nk->nj", X, beta[groups])
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1).astype(np.int64)
    names = [f"a{a}[l{lv}]" for a, n in enumerate(LEVELS) for lv in range(n - 1)] + ["none"]
    return SimulatedStudy(X, y, groups, beta, mean, cov, names)


def oracle_posterior_modes(sim: SimulatedStudy, iterations: int = 25) -> np.ndarray:
    """Each respondent's posterior mode under the TRUE population N(μ, Σ) (batched Newton).

    The best an individual-level estimator can do without knowing β_r: hierarchical
    Bayes has to learn μ and Σ from the data as well, so it can only come close.
    """
    from offerlab.numerics._hb import hb_layout, respondent_information, respondent_loglike

    layout = hb_layout(sim.X, sim.y, None, sim.groups)
    P_inv = np.linalg.inv(sim.cov)
    R = layout.Xd.shape[0]

    def objective(b: np.ndarray) -> np.ndarray:
        d = b - sim.mean
        return respondent_loglike(b, layout) - 0.5 * np.einsum("rk,kl,rl->r", d, P_inv, d)

    b = np.tile(sim.mean, (R, 1))
    value = objective(b)
    for _ in range(iterations):
        V = np.einsum("rtak,rk->rta", layout.Xd, b)
        E = np.exp(np.minimum(V, 700))
        P = E / (1 + E.sum(axis=2, keepdims=True))
        grad = -np.einsum("rta,rtak->rk", P, layout.Xd) - (b - sim.mean) @ P_inv
        H = respondent_information(b, layout) + P_inv
        step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        t = np.ones(R)
        for _ in range(30):  # step halving, respondent by respondent
            trial = b + t[:, None] * step
            new = objective(trial)
            worse = ~(new >= value)
            if not worse.any():
                break
            t[worse] /= 2
        b, value = trial, new
    return b


def small_chain_problem(respondents: int, k: int = 3, tasks: int = 6, seed: int = 5):
    """A small logit panel for tests of one chain's moves: ``respondents`` x ``tasks``
    choices among 3 alternatives of ``k`` standard-normal attributes, individual
    coefficients N(0.3, 1). Returns the sampler's layout and the true coefficients."""
    from offerlab.numerics._hb import hb_layout

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(respondents * tasks, 3, k))
    groups = np.repeat(np.arange(respondents), tasks)
    beta = rng.normal(0.3, 1.0, size=(respondents, k))
    V = np.einsum("njk,nk->nj", X, beta[groups])
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1)
    return hb_layout(X, y, None, groups), beta


def small_chain(layout, prior, settings, theta0: np.ndarray, signs: np.ndarray | None = None):
    """One chain on a :func:`small_chain_problem` layout, started at ``theta0`` with
    α = 0.3 and the information matrices at 0 (seeded: the same chain every call)."""
    from offerlab.numerics._hb import HBChain, HBChainSetup, respondent_information

    k = theta0.shape[1]
    setup = HBChainSetup(
        layout, prior, settings, respondent_information(np.zeros(k), layout), signs
    )
    return HBChain(setup, theta0, np.full(k, 0.3), np.random.default_rng(6))
