"""The sampler's likelihood of choices among items (MaxDiff), from each item's exp(±β).

Best–worst stages are read back from the layout's x_other − x_chosen as choices among
items (``offerlab.numerics._hb_items``). That is the same likelihood as the design's
utilities give, so: equal log-likelihoods and gradients up to single precision's
rounding, on plain, anchored and padded answers; designs of any other kind keep the
general path; and the whole sampler on it reproduces an exactly computed posterior.
"""

from __future__ import annotations

import numpy as np
import pytest
from _hb_sim import small_chain, small_chain_problem
from test_hb_exact import exact_posterior_means

from offerlab.design import make_maxdiff_design
from offerlab.models import maxdiff_answers
from offerlab.models._maxdiff import _paired_choices, _stacked_choices
from offerlab.numerics._convergence import ess_bulk
from offerlab.numerics._hb import (
    HBPrior,
    HBSettings,
    hb_layout,
    respondent_information,
    run_hb_chain,
)
from offerlab.numerics._hb_items import BETA_LIMIT
from offerlab.numerics._hb_kernels import DesignLikelihood
from offerlab.simulate import simulate_maxdiff

ITEMS = tuple(f"item_{k:02d}" for k in range(12))


def _answers(anchor: str | None = None, respondents: int = 40):
    design = make_maxdiff_design(ITEMS, 4, 9, versions=2, seed=3)
    truth = np.random.default_rng(4).normal(0.0, 1.0, size=(respondents, len(ITEMS)))
    frame = simulate_maxdiff(design.sets, truth, ITEMS, seed=5, anchor=anchor)
    return maxdiff_answers(frame, list(ITEMS))


def _layout(answers, drop_tasks_of: int | None = None):
    X, y, available, groups = _stacked_choices(answers)
    if drop_tasks_of is not None:  # one person answered fewer tasks: padded stages
        rows = np.flatnonzero(groups == drop_tasks_of)[5:]
        keep = np.setdiff1d(np.arange(len(y)), rows)
        X, y, available, groups = X[keep], y[keep], available[keep], groups[keep]
    return hb_layout(X, y, available, groups)


@pytest.mark.parametrize(
    ("anchor", "padded"),
    [(None, False), (None, True), ("dual_response", False), ("direct_binary", False)],
    ids=["best-worst", "fewer-tasks", "dual-response-anchor", "direct-binary-anchor"],
)
def test_the_item_likelihood_is_the_designs(anchor, padded) -> None:
    layout = _layout(_answers(anchor), drop_tasks_of=3 if padded else None)
    items = layout.item_choices
    assert items is not None
    design = DesignLikelihood(layout)
    R, K = items.shape
    rng = np.random.default_rng(1)
    for scale in (1e-3, 1.0, 6.0):
        beta = rng.normal(0.0, scale, size=(R, K))
        ll, grad = design.loglike_gradient(beta, design.state())
        V = items.state()
        ll_items, grad_items = items.loglike_gradient(beta, V)
        # single precision: the rounding of ~40 stage terms of up to |ℓ| ≈ 10 each
        np.testing.assert_allclose(ll_items, ll, rtol=0, atol=1e-6 * 40 * (1 + 10 * scale))
        np.testing.assert_allclose(grad_items, grad, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(V, beta)  # the state is β itself
        np.testing.assert_array_equal(items.loglike(beta, np.empty(R)), ll_items)
    if padded:  # the shorter respondent's missing stages add nothing
        assert (layout.n_obs < layout.n_obs.max()).sum() == 1


def test_a_respondent_beyond_the_limit_is_rejected_and_no_other() -> None:
    layout = _layout(_answers())
    items = layout.item_choices
    R, K = items.shape
    beta = np.random.default_rng(2).normal(size=(R, K))
    ll, grad = items.loglike_gradient(beta, items.state())
    for bad in (BETA_LIMIT + 1.0, np.nan, -np.inf):
        wild = beta.copy()
        wild[7, 3] = bad
        ll_wild, grad_wild = items.loglike_gradient(wild, items.state())
        assert ll_wild[7] == -np.inf and np.all(grad_wild[7] == 0.0)
        others = np.arange(R) != 7
        np.testing.assert_array_equal(ll_wild[others], ll[others])
        np.testing.assert_array_equal(grad_wild[others], grad[others])


def test_designs_of_other_kinds_keep_the_design_likelihood() -> None:
    conjoint, _ = small_chain_problem(10, 3)
    assert conjoint.item_choices is None
    X, y, available, groups = _paired_choices(_answers())  # pairs of items: d_i − d_j
    assert hb_layout(X, y, available, groups).item_choices is None
    X, y, available, groups = _stacked_choices(_answers())
    offset = np.zeros(available.shape)
    offset[:, 0] = 0.5  # a fixed utility: not a choice among items
    assert hb_layout(X, y, available, groups, offset).item_choices is None
    assert hb_layout(2.0 * X, y, available, groups).item_choices is None


def test_the_chain_takes_the_item_likelihood_only_where_every_move_starts_afresh() -> None:
    layout = _layout(_answers())
    R, K = layout.item_choices.shape
    prior = HBPrior(np.eye(K), K + 5.0)
    theta0 = np.zeros((R, K))
    hmc = dict(burn_in=10, draws=10, individual_leapfrog=2, shift_leapfrog=2)
    assert small_chain(layout, prior, HBSettings(**hmc), theta0).likelihood is layout.item_choices
    for settings in (
        HBSettings(burn_in=10, draws=10),  # random-walk steps: utilities by increments
        HBSettings(**{**hmc, "shift_leapfrog": 0}),  # the random-walk shift
        HBSettings(**hmc, item_likelihood=False),
    ):
        chain = small_chain(layout, prior, settings, theta0)
        assert isinstance(chain.likelihood, DesignLikelihood)


@pytest.fixture(scope="module")
def item_problem():
    """60 people, 4 binary stages each between an item (K = 1) and the reference, half
    of them worst stages (utilities negated), and the exact posterior of (α, d)."""
    rng = np.random.default_rng(0)
    R, T = 60, 4
    beta = rng.normal(0.5, np.sqrt(1.5), R)
    sign = np.tile([1.0, -1.0], R * T // 2)
    X = np.zeros((R * T, 2, 1))
    X[:, 0, 0] = sign  # the item; the reference's row is 0
    groups = np.repeat(np.arange(R), T)
    V = X[:, :, 0] * beta[groups][:, None]
    y = np.argmax(V + rng.gumbel(size=V.shape), axis=1)
    layout = hb_layout(X, y, None, groups)
    return layout, exact_posterior_means(layout.Xd[:, :, 0, 0], 6.0, 1.0)


def test_the_sampler_on_items_matches_the_exact_posterior(item_problem) -> None:
    layout, (alpha_exact, d_exact) = item_problem
    assert layout.item_choices is not None
    R = layout.Xd.shape[0]
    settings = HBSettings(
        burn_in=500, draws=8000, interweave=True, individual_leapfrog=2,
        individual_trajectories=2, shift_leapfrog=2,
    )  # fmt: skip
    out = run_hb_chain(
        layout, HBPrior(np.eye(1), 6.0), settings, np.zeros((R, 1)), np.zeros(1),
        respondent_information(np.array([0.5]), layout), np.random.default_rng(1),
    )  # fmt: skip
    for draws, exact in ((out["alpha"][:, 0], alpha_exact), (out["D"][:, 0, 0], d_exact)):
        mcse = draws.std() / np.sqrt(ess_bulk(draws[None, :]))
        assert abs(draws.mean() - exact) < 4 * mcse, (draws.mean(), exact, mcse)
