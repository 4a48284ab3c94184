"""Sensitivity, demand curves, elasticities and WTP against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from _study import BETA, coding, market, population

from offerlab.decide import MarketSimulator
from offerlab.decide._sensitivity import (
    arc_elasticity,
    demand_curve,
    price_elasticity,
    sample_scenarios,
    sensitivity,
    tornado,
    wtp_by_simulation,
    wtp_ratio,
)
from offerlab.exceptions import OfferlabError


def _logit_share(V: np.ndarray, j: int) -> float:
    return float(np.exp(V[j]) / np.exp(V).sum())


def test_sensitivity_rows_and_tornado() -> None:
    sim = MarketSimulator(population(sd=0.1), n_draws=100)
    m = market()
    table = sensitivity(sim, m, "ours")
    assert list(table["attribute"].unique()) == ["brand", "term", "km", "price"]
    base = sim.shares(m).set_index("alternative").loc["ours", "share"]
    current = table[table["current"]]
    assert len(current) == 3  # price 25 is not a studied level
    np.testing.assert_allclose(current["share"], base, atol=1e-15)
    # km high is worth +0.7: share rises; the prohibition alpha × 10 is flagged.
    km = table[table["attribute"] == "km"].set_index("level")["share"]
    assert km["high"] > km["low"]
    assert table[(table["attribute"] == "price") & (table["level"] == 10)]["prohibited"].item()
    assert (table["lower"] <= table["upper"]).all()
    tor = tornado(table)
    assert tor["swing"].is_monotonic_decreasing
    assert tor.iloc[0]["attribute"] == "price"  # 30 CHF × 0.08 = 2.4 utils, the widest swing


def test_demand_curve_elasticity_matches_the_logit_closed_form() -> None:
    """One row (MNL), linear price: ε = β_p p (1 − s)."""
    sim = MarketSimulator(population(sd=0.1), n_draws=50)
    m = market()
    curve = demand_curve(sim, m, "ours", prices=np.linspace(10, 40, 301), cost=8)
    assert curve["share"].is_monotonic_decreasing
    np.testing.assert_allclose(curve["revenue"], curve["price"] * curve["share"], rtol=1e-15)
    np.testing.assert_allclose(curve["profit"], (curve["price"] - 8) * curve["share"], rtol=1e-15)
    inner = curve.iloc[1:-1]
    exact = BETA[5] * inner["price"] * (1 - inner["share"])
    np.testing.assert_allclose(inner["elasticity"], exact, rtol=2e-3)
    point = price_elasticity(sim, m, "ours")
    s = point["share"]
    assert point["elasticity"] == pytest.approx(BETA[5] * 25 * (1 - s), rel=1e-6)
    assert point["lower"] < point["elasticity"] < point["upper"]
    arc = arc_elasticity(sim, m, "ours", 20, 30)
    s1, s2 = arc["share_from"], arc["share_to"]
    assert arc["elasticity"] == pytest.approx(((s2 - s1) / ((s1 + s2) / 2)) / (10 / 25))
    with pytest.raises(OfferlabError, match="two different prices"):
        arc_elasticity(sim, m, "ours", 20, 20)


def test_wtp_by_simulation_equals_the_coefficient_ratio_for_one_row() -> None:
    """With one coefficient vector, restoring the share means restoring the utility, so
    the simulated WTP is −Δu/β_p in every scenario — and per uncertainty draw."""
    sim = MarketSimulator(population(sd=0.2), n_draws=40, seed=3)
    m = market()
    ratio = wtp_ratio(sim, coding(), "km", "high", "low")
    assert ratio["mean"] == pytest.approx(-0.7 / -0.08)  # 8.75 CHF
    out = wtp_by_simulation(sim, m, "ours", "km", "high", scenarios=5, rng=1, tol=1e-9)
    np.testing.assert_allclose(out["per_scenario"], 8.75, atol=1e-6)
    assert out["lower"] == pytest.approx(ratio["lower"], abs=1e-5)
    assert out["upper"] == pytest.approx(ratio["upper"], abs=1e-5)
    # A level worth more than the price range can offset: NaN, counted.
    big = wtp_by_simulation(sim, m, "ours", "km", "high", price_range=(25, 27))
    assert np.isnan(big["wtp"]) and big["beyond_range"] == 1


def test_wtp_by_simulation_differs_from_the_ratio_under_heterogeneity() -> None:
    """Many respondents: the price that restores the share is not the mean ratio."""
    sim = MarketSimulator(population(spread=0.8, n=400, seed=2), n_draws=0)
    m = market()
    out = wtp_by_simulation(sim, m, "ours", "km", "high", scenarios=4, rng=0)
    ratio = wtp_ratio(sim, coding(), "km", "high", "low")
    assert np.isfinite(out["per_scenario"]).all()
    assert out["per_scenario"].std() > 0  # depends on the competitive scenario
    assert out["wtp"] != pytest.approx(ratio["mean"], rel=1e-3)


def test_sampled_scenarios_respect_prohibitions_and_keep_our_offer() -> None:
    m = market()
    for scen in sample_scenarios(m, "ours", 30, rng=4):
        assert scen.offers[0] == m.offers[0]
        for offer in scen.offers[1:3]:
            assert not (offer["brand"] == "alpha" and offer["price"] == 10)
        np.testing.assert_array_equal(scen.X[3], m.X[3])  # none row
