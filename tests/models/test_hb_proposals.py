"""The individual random-walk steps follow the population covariance D as it moves.

The steps' roots are adapted during burn-in and then kept; they must still scale with the
current D. When a population variance fell a hundredfold after burn-in (the demo's
attributes whose tastes differ only between segments), steps frozen at the burn-in D
stayed 20-50 times too wide, the acceptance fell to 2-7% and the chains stuck.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _hb_sim import small_chain, small_chain_problem

from offerlab.numerics._hb import HBChain, HBPrior, HBSettings

K = 3


def _chain(follow: bool) -> HBChain:
    layout, beta = small_chain_problem(60, K)
    # blocks of one iteration's steps either way, so both draw the same uniforms
    settings = HBSettings(burn_in=30, draws=10, individual_steps=15, block=15, interweave=True)
    settings = dataclasses.replace(settings, proposal_follows_covariance=follow)
    chain = small_chain(layout, HBPrior(np.eye(K), K + 5.0), settings, beta)
    chain.burn(30)
    return chain


def _step_rms(chain: HBChain) -> np.ndarray:
    """Root mean square of a fresh block's unscaled steps, per coefficient."""
    chain._next_block(burning=False)
    steps = chain.U_block[: chain.block_len].astype(float)
    return np.sqrt(np.mean(np.square(steps), axis=(0, 1)))


@pytest.mark.parametrize("follow", [True, False], ids=["follows", "frozen"])
def test_steps_shrink_with_the_population_covariance(follow: bool) -> None:
    chain = _chain(follow)
    before = _step_rms(chain)
    # D shrinks a hundredfold: D⁻¹ = M M' grows by 100, D = Minv' Minv shrinks by 100
    chain.M = chain.M * 10.0
    chain.Minv = chain.Minv / 10.0
    after = _step_rms(chain)
    if follow:
        # ~2,700 draws per coefficient: the RMS is known to a few per cent
        np.testing.assert_allclose(after / before, 0.1, rtol=0.15)
    else:
        np.testing.assert_allclose(after / before, 1.0, rtol=0.15)


def test_the_steps_are_unchanged_while_d_stays_where_it_was_adapted() -> None:
    """Right after an adaptation the whitened steps are the adapted roots' steps."""
    chain = _chain(True)
    chain._set_proposal_roots()
    rng_state = chain.rng.bit_generator.state
    chain._next_block(burning=False)
    followed = chain.U_block[: chain.block_len].astype(float).copy()
    chain.rng.bit_generator.state = rng_state
    chain.follow = False
    chain._set_proposal_roots()
    chain._next_block(burning=False)
    frozen = chain.U_block[: chain.block_len].astype(float)
    np.testing.assert_allclose(followed, frozen, rtol=1e-4, atol=1e-5)
