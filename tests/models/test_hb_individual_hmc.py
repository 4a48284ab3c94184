"""The respondents' HMC move: its target's gradient, the kept gradient, the step sizes.

The move is exact whatever the gradient (the Metropolis test uses the log density; the
grid-integrated posteriors of test_hb_exact.py check the whole kernel), so a wrong or
stale gradient would only show as poor mixing: these checks catch it directly.
"""

from __future__ import annotations

import numpy as np
import pytest
from _hb_sim import small_chain, small_chain_problem

from offerlab.numerics._hb import HBChain, HBPrior, HBSettings
from offerlab.numerics._hb_chain import _IndividualHMC

K = 3


def _chain(signs: np.ndarray | None = None, **settings) -> HBChain:
    layout, beta = small_chain_problem(40, K)
    options = dict(burn_in=40, draws=10, interweave=True, individual_leapfrog=2)
    theta = beta + 0.1 if signs is None else np.log(np.abs(beta) + 0.1)
    return small_chain(
        layout,
        HBPrior(np.eye(K) * 1.3, K + 5.0),
        HBSettings(**{**options, **settings}),
        theta,
        signs,
    )


@pytest.mark.parametrize("signs", [None, np.array([0.0, -1.0, 0.0])], ids=["linear", "signed"])
def test_gradient_matches_central_differences(signs) -> None:
    chain = _chain(signs)
    chain.burn(5)
    hmc = _IndividualHMC(chain, *chain._current_roots(), chain.M @ chain.M.T)
    V = np.empty_like(chain.V)

    def log_target(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ll, ll_grad = chain._loglike_gradient(theta, V)
        return hmc.prior_part(theta, ll, ll_grad)

    theta = chain.theta.copy()
    _, grad = log_target(theta)
    h = 1e-3
    numeric = np.empty_like(theta)
    for k in range(K):
        e = np.zeros(K)
        e[k] = h
        numeric[:, k] = (log_target(theta + e)[0] - log_target(theta - e)[0]) / (2 * h)
    # single-precision utilities: ℓ rounds at ~1e-5, so h is not smaller
    np.testing.assert_allclose(grad, numeric, rtol=1e-2, atol=5e-2)


def test_kicks_and_drifts_through_the_factor_are_those_of_the_formed_roots() -> None:
    # With the proposals following D the leapfrog applies D's Cholesky factor F to the
    # rows instead of forming every L_r' = W_r' F': the same kick L_r' g and drift L_r p.
    chain = _chain()
    chain.burn(5)
    roots, factor = chain._current_roots()
    assert factor is not None
    formed = roots @ factor.T  # L_r' (R, K, K)
    hmc = _IndividualHMC(chain, roots, factor, chain.M @ chain.M.T)
    g = np.random.default_rng(2).standard_normal(chain.theta.shape)
    np.testing.assert_allclose(hmc.kick(g), np.einsum("rkj,rj->rk", formed, g), rtol=1e-12)
    np.testing.assert_allclose(hmc.drift(g), np.einsum("rj,rjk->rk", g, formed), rtol=1e-12)


@pytest.mark.parametrize(
    "moves", ["shift+interweave", "shift", "interweave", "shift-hmc+interweave", "shift-hmc"]
)
def test_the_kept_gradient_is_the_gradient_at_the_current_draws(moves: str) -> None:
    """The gradient carried between iterations is the one a fresh evaluation gives.

    The shift, scale and interweaving moves change θ between the HMC moves; each must
    leave the kept gradient either refreshed or dropped, never stale (the interweaving
    move starts from it, the shift's HMC too).
    """
    chain = _chain(
        shift_moves="shift" in moves,
        shift_leapfrog=3 if "shift-hmc" in moves else 0,
        interweave="interweave" in moves,
        scale_moves=True,
    )
    for i in range(60):
        chain._iterate(burning=i < 40)
        if chain._ll_grad is not None:
            ll, grad = chain._loglike_gradient(chain.theta, np.empty_like(chain.V))
            np.testing.assert_array_equal(chain._ll_grad, grad)
            np.testing.assert_array_equal(chain.ll, ll)


def test_the_step_sizes_reach_the_target_acceptance() -> None:
    chain = _chain()
    chain.burn(300)
    rates = [chain._iterate(burning=False) for _ in range(200)]
    assert abs(np.mean(rates) - 0.65) < 0.08


def test_the_shift_move_draws_its_own_step_beside_the_hmc_with_frozen_roots() -> None:
    # With frozen proposal roots the random walk's blocks carry the shift move's δ; the
    # HMC draws no blocks, so the shift must draw its own: a fresh δ every time, with
    # covariance shift_scale² (Σ_r H_r)⁻¹.
    chain = _chain(proposal_follows_covariance=False, shift_moves=True)
    chain.burn(3)
    deltas = []
    for _ in range(400):
        before = chain.alpha.copy()
        with np.errstate(divide="ignore"):  # log 0 = −inf: every shift is accepted
            chain._shift_step(0.0, burning=False)
        deltas.append(chain.alpha - before)
    deltas = np.asarray(deltas)
    expected = chain.shift_scale**2 * chain.shift_root @ chain.shift_root.T
    assert np.all(np.isfinite(deltas))
    np.testing.assert_allclose(np.cov(deltas.T), expected, rtol=0.3, atol=0.1 * expected.max())


def test_the_shift_hmc_step_reaches_its_target_acceptance_and_crosses_the_posterior() -> None:
    # Mass Σ_r H_r makes δ's target nearly a standard normal in whitened coordinates:
    # after burn-in the step settles at the acceptance target or at a quarter turn,
    # whichever is shorter, and two leapfrog steps carry α about a posterior SD per move
    # (a random-walk shift in K dimensions moves it ~1/K of the way).
    chain = _chain(shift_moves=True, shift_leapfrog=2, interweave=False)
    chain.burn(300)
    probs, moves = [], []
    for _ in range(300):
        before = chain.alpha.copy()
        probs.append(chain._shift_hmc(burning=False))
        moves.append(chain.alpha - before)
    quarter_turn = 2 * np.sin(np.pi / 8)
    assert chain.shift_eps <= quarter_turn
    if chain.shift_eps < quarter_turn:
        assert abs(np.mean(probs) - 0.65) < 0.1
    else:
        assert np.mean(probs) > 0.65
    whitened = np.linalg.solve(chain.shift_root, np.asarray(moves).T)  # in posterior SDs
    assert np.mean(np.sqrt(np.sum(whitened**2, axis=0))) > 0.5 * np.sqrt(K)
