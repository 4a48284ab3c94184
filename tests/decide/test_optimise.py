"""The optimiser against brute force through the market simulator's own code path."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from _study import market, population, study

from offerlab.decide import Market, MarketSimulator, Population
from offerlab.decide._offer_space import offer_space
from offerlab.decide._optimise import optimise_offers
from offerlab.exceptions import OfferlabError

COSTS = {
    "brand": {"alpha": 6.0, "beta": 3.0, "gamma": 1.0},
    "term": {6: 2.0, 12: 1.0, 24: 0.0},
    "km": {"low": 0.0, "high": 7.0},
}


def _cost(offer: dict) -> float:
    return sum(COSTS[a][offer[a] if a != "term" else int(offer[a])] for a in COSTS)


def _all_offers() -> list[dict]:
    s = study()
    return [
        {a: s.level_value(a, int(i)) for a, i in zip(s.attribute_names, row, strict=True)}
        for row in s.allowed_concepts
    ]


def _brute(sim: MarketSimulator, base: Market, lineups: list[list[dict]]) -> np.ndarray:
    """Expected profit over the draws of every line-up, one market at a time."""
    slots = [n for n, o in zip(base.names, base.ours, strict=True) if o]
    out = []
    for lineup in lineups:
        m = base
        for slot, offer in zip(slots, lineup, strict=True):
            m = m.with_offer(slot, **offer)
        draws = sim.share_draws(m).draws[:, 0]  # (S, J)
        idx = [m.index(s) for s in slots]
        margin = np.array([o["price"] - _cost(o) for o in lineup])
        out.append(float((draws[:, idx] @ margin).mean()))
    return np.asarray(out)


@pytest.fixture(scope="module")
def sim() -> MarketSimulator:
    return MarketSimulator(population(spread=0.6, n=150, seed=5, sd=0.15), n_draws=40, seed=2)


def test_finds_the_true_best_offer(sim) -> None:
    offers = _all_offers()
    assert len(offers) == 66  # 72 concepts, 6 prohibited (alpha at 10)
    truth = _brute(sim, market(), [[o] for o in offers])
    best = offers[int(truth.argmax())]
    for method in ("exhaustive", "search"):
        res = optimise_offers(sim, market(), costs=COSTS, method=method, restarts=8, rng=1)
        assert res.best == [best], method
        assert res.expected == pytest.approx(truth.max(), rel=1e-12)
        assert res.pessimistic < res.expected
        assert 0.5 <= res.p_beats_runner_up <= 1
        assert res.table["expected"].is_monotonic_decreasing
    assert res.method == "coordinate ascent" and res.n_evaluated < 66


def test_finds_the_true_best_two_tier_lineup(sim) -> None:
    """Two tiers of our own: their shares add up and cannibalise each other."""
    base = market()
    base = Market.from_offers(
        base.coding,
        [
            {"name": "ours", "ours": True, **base.offers[0]},
            {"name": "ours 2", "ours": True, **base.offers[0]},
            {"name": "rival", **base.offers[1]},
        ],
    )
    offers = [o for o in _all_offers() if o["term"] == 12]
    pairs = [
        (i, j)
        for i, j in itertools.combinations(range(len(offers)), 2)
        if {**offers[i], "price": 0} != {**offers[j], "price": 0}  # tiers differ beyond price
    ]
    truth = _brute(sim, base, [[offers[i], offers[j]] for i, j in pairs])
    i, j = pairs[int(truth.argmax())]
    for method in ("exhaustive", "search"):
        res = optimise_offers(
            sim, base, costs=COSTS, fixed={"term": 12}, method=method, restarts=10, rng=0
        )
        assert sorted(map(str, res.best)) == sorted(map(str, [offers[i], offers[j]])), method
        assert res.expected == pytest.approx(truth.max(), rel=1e-12)
        assert res.pessimistic < res.expected
    # Cannibalisation: the pair earns less than the sum of each tier alone.
    alone = _brute(sim, market(), [[res.best[0]], [res.best[1]]])
    assert res.expected < alone.sum()


def test_price_grid_between_levels_and_prohibitions() -> None:
    space = offer_space(market(), [10, 15, 20, 25, 30, 40], None, 0.0, {})
    described = [space.offer(c) for c in range(len(space.index))]
    # alpha is prohibited at 10, so (conservatively) at 15 too; allowed from 20 on.
    assert not any(o["brand"] == "alpha" and o["price"] in (10.0, 15.0) for o in described)
    assert any(o["brand"] == "alpha" and o["price"] == 20.0 for o in described)
    assert any(o["brand"] == "beta" and o["price"] == 15.0 for o in described)
    np.testing.assert_allclose(space.X[5], market().coding.code_offer(space.offer(5)), atol=1e-15)
    with pytest.raises(OfferlabError, match="studied range"):
        offer_space(market(), [5, 20], None, 0.0, {})


def test_share_objective_without_draws_and_first_choice_rule() -> None:
    sim = MarketSimulator(population(spread=0.6, n=200, seed=1), rule="first_choice")
    res = optimise_offers(sim, market(), objective="share", use_draws=False)
    # Share alone: the cheapest, best-liked levels win (price 10 is allowed for beta/gamma).
    assert res.best[0]["price"] == 10.0 and res.best[0]["km"] == "high"
    with pytest.raises(OfferlabError, match="no cost given"):
        optimise_offers(sim, market(), costs={"km": {"low": 1}})


def _two_slot_market(extra: list[dict] | None = None) -> Market:
    base = market()
    return Market.from_offers(
        base.coding,
        [
            {"name": "ours", "ours": True, **base.offers[0]},
            {"name": "ours 2", "ours": True, **base.offers[0]},
            {"name": "rival", **base.offers[1]},
            *(extra or []),
        ],
    )


def test_profit_counts_our_offers_outside_the_tiers_at_their_own_cost(sim) -> None:
    """Our offer that is not a tier stays on sale (here below cost): its share and its
    loss count, and the tier is optimised knowing it."""
    legacy = {"name": "legacy", "ours": True, "brand": "beta", "term": 6, "km": "high",
              "price": 10}  # fmt: skip
    base = market()
    with_legacy = Market.from_offers(
        base.coding,
        [{"name": "ours", "ours": True, **base.offers[0]}, {"name": "rival", **base.offers[1]},
         legacy],
    )  # fmt: skip
    res = optimise_offers(sim, with_legacy, slots=["ours"], costs=COSTS, method="exhaustive")
    filled = with_legacy.with_offer("ours", **res.best[0])
    draws = sim.share_draws(filled).draws[:, 0]
    legacy_margin = 10 - _cost(legacy)
    assert legacy_margin < 0
    margin = np.array([res.best[0]["price"] - _cost(res.best[0]), legacy_margin])
    idx = [filled.index("ours"), filled.index("legacy")]
    assert res.expected == pytest.approx(float((draws[:, idx] @ margin).mean()), rel=1e-10)
    shares = res.shares.set_index("alternative")
    assert shares.loc["legacy", "cost"] == pytest.approx(_cost(legacy))
    assert shares.loc["legacy", "profit"] < 0


def test_tiers_differ_in_more_than_the_price_unless_allowed(sim) -> None:
    """The logit's IIA makes one product at two prices look like two products; unless
    the market says so, tiers must differ in an attribute other than the price."""
    base = _two_slot_market()
    kw = {"costs": COSTS, "fixed": {"term": 12, "brand": "beta"}, "rng": 0}
    allowed = optimise_offers(sim, base, price_only_tiers=True, method="exhaustive", **kw)
    a, b = ({k: v for k, v in o.items() if k != "price"} for o in allowed.best)
    assert a == b  # the IIA artefact: the same product twice is what the logit likes best
    for method in ("exhaustive", "search"):
        res = optimise_offers(sim, base, method=method, restarts=10, **kw)
        a, b = ({k: v for k, v in o.items() if k != "price"} for o in res.best)
        assert a != b, method
        for lineup in res.table["lineup"]:
            t1, t2 = (part.rsplit(", price=", 1)[0] for part in lineup.split(" | "))
            assert t1 != t2, lineup


def test_results_carry_cannibalisation_source_of_volume_and_provenance(sim) -> None:
    res = optimise_offers(sim, _two_slot_market(), costs=COSTS, fixed={"term": 12}, rng=0)
    sources = res.sources
    assert set(sources["tier"]) == {"ours", "ours 2"}
    assert set(sources["source_kind"]) == {"our tier", "competitor", "none"}
    assert (sources["taken"] > 0).all()  # logit: every tier takes from every alternative
    assert (sources["lower"] <= sources["taken"]).all()
    # Each tier's share is what it took from the others (shares sum to one).
    shares = res.shares.set_index("alternative")
    for tier in ("ours", "ours 2"):
        taken = sources.loc[sources["tier"] == tier, "taken"].sum()
        assert taken == pytest.approx(shares.loc[tier, "share"], abs=1e-12)
    assert len(res.cannibalisation) == 2
    assert res.provenance == sim.provenance
    assert res.provenance.n_draws == 40 and res.provenance.rule == "share of preference"
    assert shares["profit"].sum() == pytest.approx(res.expected, rel=0.05)


def test_rfc_objective_agrees_with_the_simulator() -> None:
    """The optimiser draws RFC's level errors for candidates itself; its profit must be
    the simulator's (up to Monte Carlo error) for the same offers."""
    pop = population(spread=0.6, n=2000, seed=3)
    sim = MarketSimulator(
        pop, rule="rfc", attribute_error=0.4, product_error=0.3, rfc_draws=60, n_draws=0
    )
    res = optimise_offers(sim, market(), costs=COSTS, method="exhaustive", use_draws=False)
    for row in res.table.head(3).itertuples():
        offer = {}
        for part in row.lineup.split(", "):
            key, value = part.split("=")
            offer[key] = value if key in ("brand", "km") else float(value)
        filled = market().with_offer("ours", **offer)
        share = sim.shares(filled).set_index("alternative").loc["ours", "share"]
        # Independent error draws on each side: 120,000 draws give about ±1% each.
        assert row.expected == pytest.approx(share * (offer["price"] - _cost(offer)), rel=0.03)


def test_sharp_utilities_do_not_underflow_to_nan() -> None:
    """Part-worths 300 times too large (or a tiny RFC product error) put utility
    differences far past exp's range in single precision: no NaN may come out."""
    pop = population(spread=0.6, n=300, seed=4)
    sharp = MarketSimulator(Population(300 * pop.B, pop.w, pop.names), n_draws=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # 0/0 in the search's ranking
        res = optimise_offers(sharp, _two_slot_market(), costs=COSTS, method="exhaustive")
    assert np.isfinite(res.table[["expected", "share"]].to_numpy()).all()
    assert np.isfinite(res.shares["share"]).all()


def test_rfc_errors_per_uncertainty_draw_not_per_row(monkeypatch) -> None:
    """Under RFC each uncertainty draw of a population of R people gets about
    ``rfc_draw_errors`` level-error draws in all, not ``rfc_draws`` per person: the draws
    already vary the people (20 per row made the 1,000 x 1,000 HB case take 386 s), and the
    search draws its rows' errors once, not in every call."""
    import offerlab.decide._kernels as kernels
    import offerlab.decide._lineup_scoring as scoring

    drawn = []
    gumbel = kernels._gumbel

    def counting(rng, shape):
        drawn.append(int(np.prod(shape)))
        return gumbel(rng, shape)

    monkeypatch.setattr(scoring, "_gumbel", counting)
    monkeypatch.setattr(kernels, "_gumbel", counting)
    S, R, per_row = 20, 1000, 20
    pop = population(spread=0.6, n=R, seed=3, sd=0.1)
    sim = MarketSimulator(
        pop, rule="rfc", attribute_error=0.4, product_error=0.3, rfc_draws=per_row, n_draws=S
    )
    res = optimise_offers(sim, market(), costs=COSTS, method="exhaustive", rng=1)
    space = offer_space(market(), None, COSTS, 0.0, {})
    problem = scoring.LineupProblem(market(), ("ours",), space, np.ones(1), (), np.zeros(0))
    rows = scoring.CoefficientRows.of(sim, False)
    levels = scoring.LineupEvaluator(sim, problem, rows).Z_cand.shape[1]
    # The search's sample, the best line-ups on every draw, and the recommended market
    # with and without the tier (each: the population's rows and every draw's).
    per_draw_row = -(-5_000 // R)  # about 5,000 error draws per uncertainty draw
    bound = scoring.SEARCH_ROWS + S * R * per_draw_row
    bound += 2 * (R * per_row + S * R * per_draw_row)
    assert sum(drawn) <= bound * levels
    assert sim.uncertainty_rfc_draws(R) == per_draw_row < per_row
    assert np.isfinite(res.table["expected"]).all()
    # Spread over the draw's rows, the errors still give each draw's share precisely:
    # against 20 a row, the same draws differ by little beside the spread of the draws.
    reference = MarketSimulator(
        pop, rule="rfc", attribute_error=0.4, product_error=0.3, rfc_draws=per_row,
        rfc_draw_errors=per_row * R, n_draws=S,
    )  # fmt: skip
    filled = res.market
    j = filled.index("ours")
    few, many = sim.whole_market(filled)[1][:, j], reference.whole_market(filled)[1][:, j]
    assert abs(few.mean() - many.mean()) < 0.1 * many.std()
    assert np.std(few - many) < 0.3 * many.std()
