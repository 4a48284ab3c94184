"""The Gibbs sampler reproduces an exactly computed posterior.

One random coefficient (K = 1), 60 respondents with 4 binary tasks each: the posterior
of the population mean α (flat prior) and variance d (inverse-Wishart IW₁(6, 6), the
default prior for K = 1) is computed on a grid, integrating every respondent's
coefficient out numerically. The sampler's posterior means
must match within 4 Monte Carlo standard errors (posterior SD / √ESS, ESS from the
chain itself): a check of the whole Metropolis-within-Gibbs kernel, with and without the
shift and scale (parameter-expansion) moves and the interweaving (non-centred HMC) move.

The same for the Huang–Wand prior (d | a ~ IW₁(ν, 2ν/a), a ~ IG(η, 1/A²), ν = 2,
A = 1), whose marginal for d is 2ηA² times an F(2η, ν) variable: on the grid
p(d) ∝ d^(η−1) (1 + d/(ν A²))^(−(η+ν/2)); η = ½ makes √d half-t(ν, A). The sampler
draws a and d from their conditionals instead; both must give the same posterior.
"""

from __future__ import annotations

import numpy as np
import pytest

from offerlab.numerics._convergence import ess_bulk
from offerlab.numerics._hb import (
    HBPrior,
    HBSettings,
    hb_layout,
    respondent_information,
    run_hb_chain,
)


def exact_posterior_means(
    Xd: np.ndarray, nu: float, v: float, log_prior=None
) -> tuple[float, float]:
    """E[α | data] and E[d | data] on a grid; Xd (R, T) = x_other − x_chosen.

    The prior of d is IW₁(ν, ν v) unless ``log_prior`` (log density on d) is given.

    Each respondent's likelihood L_r(θ) is tabulated on a fine θ grid once; the
    marginal ∫ L_r(θ) N(θ; α, d) dθ is then a Riemann sum (a matrix product).
    """
    theta = np.linspace(-25.0, 25.0, 2001)
    step = theta[1] - theta[0]
    L = np.exp(-np.log1p(np.exp(Xd[:, :, None] * theta[None, None, :])).sum(axis=1))  # (R, G)
    a_grid = np.linspace(-1.5, 2.5, 81)
    d_grid = np.linspace(0.02, 12.0, 150)
    log_post = np.empty((a_grid.size, d_grid.size))
    for j, d in enumerate(d_grid):
        kernel = np.exp(-0.5 * (theta[:, None] - a_grid[None, :]) ** 2 / d)
        kernel *= step / np.sqrt(2 * np.pi * d)  # (G, A)
        marginal = np.log(L @ kernel)  # (R, A)
        if log_prior is None:
            prior_d = -(nu + 2) / 2 * np.log(d) - nu * v / (2 * d)  # IW₁(ν, ν v)
        else:
            prior_d = log_prior(d)
        log_post[:, j] = marginal.sum(axis=0) + prior_d
    p = np.exp(log_post - log_post.max())
    p /= p.sum()
    return float((p.sum(axis=1) * a_grid).sum()), float((p.sum(axis=0) * d_grid).sum())


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    R, T = 60, 4
    beta = rng.normal(0.5, np.sqrt(1.5), R)
    X = rng.normal(size=(R * T, 2, 1))
    groups = np.repeat(np.arange(R), T)
    V = X[:, :, 0] * beta[groups][:, None]
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1)
    layout = hb_layout(X, y, None, groups)
    nu, v = 6.0, 1.0
    return layout, nu, v, exact_posterior_means(layout.Xd[:, :, 0, 0], nu, v)


HW_NU, HW_A = 2.0, 1.0


@pytest.fixture(scope="module")
def huang_wand_exact(problem) -> dict[float, tuple[float, float]]:
    """The exact posterior means under the Huang–Wand prior, by the scales' shape η."""

    def exact(shape: float) -> tuple[float, float]:
        def log_density(d: np.ndarray) -> np.ndarray:  # of d = 2ηA² F(2η, ν)
            return (shape - 1) * np.log(d) - (shape + HW_NU / 2) * np.log1p(d / (HW_NU * HW_A**2))

        return exact_posterior_means(problem[0].Xd[:, :, 0, 0], HW_NU, 0.0, log_prior=log_density)

    return {shape: exact(shape) for shape in (0.5, 1.0)}


@pytest.mark.parametrize(
    "moves",
    [
        (False, False, False, 0, 0),
        (True, True, False, 0, 0),
        (True, False, True, 0, 0),
        (False, False, False, 2, 0),
        (True, False, True, 2, 0),
        (True, False, True, 2, 2),
    ],
    ids=[
        "plain",
        "expanded",
        "interweaved",
        "individual-hmc",
        "individual-hmc-interweaved",
        "individual-and-shift-hmc-interweaved",
    ],
)
def test_sampler_matches_the_exact_posterior(
    problem, moves: tuple[bool, bool, bool, int, int]
) -> None:
    layout, nu, v, (alpha_exact, d_exact) = problem
    R = layout.Xd.shape[0]
    settings = HBSettings(
        burn_in=500,
        draws=8000,
        shift_moves=moves[0],
        scale_moves=moves[1],
        interweave=moves[2],
        # 2: every θ_r by HMC transitions with 2 leapfrog steps instead of random walk
        individual_leapfrog=moves[3],
        individual_trajectories=2,
        # 2: the shift by an HMC transition of 2 leapfrog steps instead of a random walk
        shift_leapfrog=moves[4],
    )
    info = respondent_information(np.array([0.5]), layout)
    out = run_hb_chain(
        layout,
        HBPrior(np.eye(1) * v, nu),
        settings,
        np.zeros((R, 1)),
        np.zeros(1),
        info,
        np.random.default_rng(1),
    )
    for draws, exact in ((out["alpha"][:, 0], alpha_exact), (out["D"][:, 0, 0], d_exact)):
        mcse = draws.std() / np.sqrt(ess_bulk(draws[None, :]))
        assert abs(draws.mean() - exact) < 4 * mcse, (draws.mean(), exact, mcse)


@pytest.mark.parametrize(
    ("interweave", "leapfrog", "shift_leapfrog", "collapse_scales", "shape"),
    [
        (False, 0, 0, True, 0.5),
        (True, 0, 0, False, 0.5),
        (True, 2, 0, False, 0.5),
        (True, 2, 2, True, 0.5),
        (True, 2, 2, True, 1.0),
    ],
    ids=[
        "gibbs",
        "interweaved-given-scales",
        "individual-hmc-interweaved-given-scales",
        "individual-and-shift-hmc-interweaved-scales-integrated-out",
        # η = 1: the SD's prior density vanishes at 0 (a | D and the interweaving move's
        # marginal p(D) carry η; test_hb_prior.py checks each alone)
        "zero-avoiding-scales-integrated-out",
    ],
)
def test_sampler_matches_the_exact_posterior_under_the_huang_wand_prior(
    problem,
    huang_wand_exact,
    interweave: bool,
    leapfrog: int,
    shift_leapfrog: int,
    collapse_scales: bool,
    shape: float,
) -> None:
    layout = problem[0]
    alpha_exact, d_exact = huang_wand_exact[shape]
    R = layout.Xd.shape[0]
    prior = HBPrior(np.eye(1), HW_NU, kind="huang-wand", scale=np.array([HW_A]), scale_shape=shape)
    out = run_hb_chain(
        layout,
        prior,
        HBSettings(
            burn_in=500,
            draws=8000,
            interweave=interweave,
            individual_leapfrog=leapfrog,
            individual_trajectories=2,
            shift_leapfrog=shift_leapfrog,
            # the interweaving move with Huang–Wand's scales a integrated out
            collapse_scales=collapse_scales,
        ),
        np.zeros((R, 1)),
        np.zeros(1),
        respondent_information(np.array([0.5]), layout),
        np.random.default_rng(2),
    )
    for draws, exact in ((out["alpha"][:, 0], alpha_exact), (out["D"][:, 0, 0], d_exact)):
        mcse = draws.std() / np.sqrt(ess_bulk(draws[None, :]))
        assert abs(draws.mean() - exact) < 4 * mcse, (draws.mean(), exact, mcse)
    # a is drawn too: its posterior mean given d is finite and positive
    assert out["hw_a"].shape == (8000, 1) and np.all(out["hw_a"] > 0)
