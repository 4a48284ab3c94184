"""Importance, part-worths and WTP from the model the decisions use (decide.choice_drivers),
checked against numbers worked out by hand, and against the aggregate view."""

from __future__ import annotations

import numpy as np
import pytest
from _study import BETA, coding

from offerlab.decide import (
    Population,
    choice_drivers,
    decision_population,
    drivers_of,
    simulator_for,
)

# Dummy coding: brand[beta], brand[gamma], term[12], term[24], km[high], price, none.
ROW_1 = BETA  # brand 0/-0.3/-0.6, term 0/0.2/-0.1, km 0/0.7, price -0.08 per franc
ROW_2 = np.array([0.5, 0.1, -0.2, 0.3, -0.5, -0.05, -2.0])


def _two_people(level: str = "individual") -> Population:
    return Population(np.vstack([ROW_1, ROW_2]), np.array([0.5, 0.5]), coding().names,
                      model="hierarchical Bayes", level=level)  # fmt: skip


def test_importance_is_each_persons_share_of_range_averaged_as_worked_out_by_hand() -> None:
    # Person 1: ranges brand 0.6, term 0.3, km 0.7, price 0.08 x (40 - 10) = 2.4; total 4.0
    #   -> 15, 7.5, 17.5, 60 percent.
    # Person 2: ranges 0.5, 0.5, 0.5, 0.05 x 30 = 1.5; total 3.0 -> 16.67 x 3, 50 percent.
    drivers = drivers_of(_two_people(), coding())
    got = drivers.importance.set_index("attribute")["importance"]
    expected = {"brand": (15 + 50 / 3) / 2, "term": (7.5 + 50 / 3) / 2,
                "km": (17.5 + 50 / 3) / 2, "price": (60 + 50) / 2}  # fmt: skip
    for attribute, value in expected.items():
        assert got[attribute] == pytest.approx(value, abs=1e-12), attribute
    assert got.sum() == pytest.approx(100, abs=1e-12)
    assert drivers.importance["lower"].isna().all()  # no uncertainty draws: no interval


def test_partworths_are_the_average_persons_centred_utilities() -> None:
    # Mean row: brand 0/0.1/-0.25 (mean -0.05 -> 0.05, 0.15, -0.2); term 0/0/0.1
    # (mean 1/30); km 0/0.1; price -0.065 x (10, 20, 30, 40) centred at 25; none -1.5.
    pw = drivers_of(_two_people(), coding()).partworths.set_index(["attribute", "level"])
    u = pw["utility"]
    assert [u["brand", lv] for lv in ("alpha", "beta", "gamma")] == pytest.approx(
        [0.05, 0.15, -0.2], abs=1e-12
    )
    assert [u["term", lv] for lv in (6, 12, 24)] == pytest.approx(
        [-1 / 30, -1 / 30, 0.1 - 1 / 30], abs=1e-12
    )
    assert [u["km", lv] for lv in ("low", "high")] == pytest.approx([-0.05, 0.05], abs=1e-12)
    assert [u["price", p] for p in (10, 20, 30, 40)] == pytest.approx(
        [0.975, 0.325, -0.325, -0.975], abs=1e-12
    )
    assert u["none", "none"] == pytest.approx(-1.5, abs=1e-12)


def test_wtp_per_person_when_every_price_coefficient_is_negative_else_ratio_of_means() -> None:
    rows = np.vstack([ROW_1, ROW_2, ROW_1 * 2])
    rows[2, 5] = -0.04  # person 3: km high worth 1.4 at 0.04 per franc -> 35
    w = np.array([0.25, 0.3, 0.45])
    people = Population(rows.copy(), w, coding().names, level="individual")
    drivers = drivers_of(people, coding())
    wtp = drivers.wtp.set_index(["attribute", "level"])
    assert drivers.wtp_method == "individual"
    # km high against low, per person: 0.7 / 0.08 = 8.75, -0.5 / 0.05 = -10, 35; sorted
    # -10 (0.3), 8.75 (0.25), 35 (0.45): the weighted median is 8.75.
    assert wtp.loc[("km", "high"), "wtp"] == pytest.approx(8.75, abs=1e-12)
    # brand gamma against alpha: -7.5, 2, -30; sorted -30 (0.45), -7.5 (0.25), 2 (0.3).
    assert wtp.loc[("brand", "gamma"), "wtp"] == pytest.approx(-7.5, abs=1e-12)
    assert not wtp["per_unit"].any()  # no linear attribute but the price
    # One person likes higher prices: the ratio of the average km difference,
    # 0.25 x 0.7 - 0.3 x 0.5 + 0.45 x 1.4 = 0.655, to the average price coefficient,
    # 0.25 x -0.08 - 0.3 x 0.05 + 0.45 x 0.01 = -0.0305.
    rows[2, 5] = 0.01
    odd = drivers_of(Population(rows, w, coding().names, level="individual"), coding())
    assert odd.wtp_method == "ratio of means"
    assert odd.positive_price_rows == pytest.approx(0.45)
    km = odd.wtp.set_index(["attribute", "level"]).loc[("km", "high"), "wtp"]
    assert km == pytest.approx(0.655 / 0.0305, rel=1e-12)


def test_intervals_come_from_the_uncertainty_draws_and_hold_the_point() -> None:
    rng = np.random.default_rng(3)
    B = BETA + 0.5 * rng.normal(size=(200, BETA.size))
    B[:, 5] = -np.exp(np.log(0.08) + 0.3 * rng.normal(size=200))
    pop = Population(B, np.full(200, 1 / 200), coding().names, level="individual",
                     model="hierarchical Bayes")  # fmt: skip
    draws = np.stack([B[rng.integers(0, 200, 200)] for _ in range(300)])  # bootstrap
    d = drivers_of(pop, coding(), draws, interval=0.9)
    for frame, centre in ((d.importance, "importance"), (d.partworths, "utility"),
                          (d.wtp, "wtp")):  # fmt: skip
        assert (frame["lower"] <= frame[centre] + 1e-9).all(), centre
        assert (frame[centre] <= frame["upper"] + 1e-9).all(), centre
        assert (frame["upper"] - frame["lower"] > 0).all(), centre
    assert d.n_draws == 300 and d.interval == 0.9 and d.model == "hierarchical Bayes"


class _HBLike:
    """What decide reads of HBResults: a coding and each respondent's posterior draws."""

    def __init__(self, R: int, m: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        own = np.tile(BETA, (R, 1)) + 0.01 * rng.normal(size=(R, BETA.size))
        own[: R // 2, 4] = 1.5  # half want high km, half low: they disagree, strongly
        own[R // 2 :, 4] = -1.5
        self.individual_draws = own[:, None, :] + 0.01 * rng.normal(size=(R, m, BETA.size))
        self.coding = coding()

    def population_coefficients(self, n: int = 1000, rng=None):
        R, m, _ = self.individual_draws.shape
        pick = np.random.default_rng(rng).integers(0, m, size=R)
        return self.individual_draws[np.arange(R), pick], np.full(R, 1.0 / R)


def test_hb_importance_keeps_what_people_disagree_on_where_the_aggregate_loses_it() -> None:
    """Half the market wants more km, half fewer: each person's km range is 1.5, the
    average person's is about 0. Per-person importance (the decisions' model) keeps
    km important; the aggregate logit's view calls it unimportant."""
    hb = _HBLike(400, 10)
    individual = simulator_for(hb, n_draws=100)
    aggregate = simulator_for(hb, n_draws=100, aggregate=True)

    mine = choice_drivers(individual, hb.coding)
    average = choice_drivers(aggregate, hb.coding)
    km = mine.importance.set_index("attribute").loc["km"]
    km_agg = average.importance.set_index("attribute").loc["km"]
    # person: 1.5 / (0.6 + 0.3 + 1.5 + 2.4) = 31%; average person: ~0 / 3.3 -> ~0%
    assert km["importance"] == pytest.approx(100 * 1.5 / 4.8, abs=1.0)
    assert km_agg["importance"] < 3
    assert km["lower"] > km_agg["upper"]  # the intervals do not even touch
    assert mine.model == "hierarchical Bayes" and mine.level == "individual"
    assert average.level == "aggregate"
    assert decision_population(hb).level == "individual"
