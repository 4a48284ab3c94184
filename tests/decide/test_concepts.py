"""Concept tests: top-2-box, differences between concepts, order, worked by hand."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from offerlab.decide import (
    calibrated_intent,
    compare_concepts,
    holm,
    order_effects,
    sequential_orders,
    top_box,
)
from offerlab.exceptions import OfferlabError


def _monadic() -> pd.DataFrame:
    # Concept A: 200 people, 90 rate 4 or 5. Concept B: 200 people, 70 do.
    a = [5] * 40 + [4] * 50 + [3] * 60 + [2] * 30 + [1] * 20
    b = [5] * 30 + [4] * 40 + [3] * 70 + [2] * 40 + [1] * 20
    return pd.DataFrame(
        {
            "respondent": range(400),
            "concept": ["A"] * 200 + ["B"] * 200,
            "rating": a + b,
        }
    )


def test_top_two_box_with_wilson_interval_by_hand() -> None:
    table = top_box(_monadic())
    assert table.loc["A", "share"] == pytest.approx(0.45)
    # Wilson, z = 1.959964, n = 200, p = 0.45:
    #   centre = (0.45 + z²/400) / (1 + z²/200) = 0.459604 / 1.019207 = 0.450943
    #   half   = z·√(0.45·0.55/200 + z²/160000) / 1.019207 = 0.068302
    assert table.loc["A", "low"] == pytest.approx(0.382641, abs=1e-6)
    assert table.loc["A", "high"] == pytest.approx(0.519244, abs=1e-6)
    assert table.loc["B", "share"] == pytest.approx(0.35)


def test_independent_groups_difference_interval_and_test_by_hand() -> None:
    (row,) = compare_concepts(_monadic(), paired=False).to_dict("records")
    # difference 0.45 − 0.35 = 0.10
    # unpooled SE = √(0.45·0.55/200 + 0.35·0.65/200) = √0.002375 = 0.048734
    #   interval 0.10 ± 1.959964·0.048734 = 0.004483 … 0.195517
    # pooled p = 160/400 = 0.4; SE0 = √(0.4·0.6·(1/200 + 1/200)) = 0.048990
    #   z = 0.10 / 0.048990 = 2.041241; two-sided p = 0.041227
    assert row["difference"] == pytest.approx(0.10)
    assert row["low"] == pytest.approx(0.004483, abs=1e-6)
    assert row["high"] == pytest.approx(0.195517, abs=1e-6)
    assert row["p_value"] == pytest.approx(0.041227, abs=1e-6)
    assert row["p_holm"] == pytest.approx(row["p_value"])  # one pair: nothing to adjust


def test_paired_difference_uses_the_discordant_pairs_by_hand() -> None:
    # 100 people rate both: both top-2 ×30, only A ×20, only B ×10, neither ×40
    cells = [(5, 5)] * 30 + [(5, 2)] * 20 + [(2, 4)] * 10 + [(1, 3)] * 40
    rows = []
    for person, (a, b) in enumerate(cells):
        rows += [(person, "A", a), (person, "B", b)]
    ratings = pd.DataFrame(rows, columns=["respondent", "concept", "rating"])
    (row,) = compare_concepts(ratings, paired=True).to_dict("records")
    # difference (20 − 10)/100 = 0.10; SE = √(20 + 10 − 10²/100)/100 = √29/100 = 0.053852
    #   interval 0.10 ± 1.959964·0.053852 = −0.005547 … 0.205547
    # McNemar z = (20 − 10)/√30 = 1.825742; p = 0.067889
    assert row["difference"] == pytest.approx(0.10)
    assert row["low"] == pytest.approx(-0.005547, abs=1e-6)
    assert row["high"] == pytest.approx(0.205547, abs=1e-6)
    assert row["p_value"] == pytest.approx(0.067889, abs=1e-6)


def test_holm_adjustment_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 → 3·0.01, 2·0.03, 1·0.04 = 0.03, 0.06, 0.04 → step-down max
    assert holm(np.array([0.01, 0.04, 0.03])) == pytest.approx([0.03, 0.06, 0.06])
    assert holm(np.array([0.5, 0.9])) == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("concepts", [["A", "B"], ["A", "B", "C"], ["A", "B", "C", "D"]])
@pytest.mark.parametrize("respondents", [7, 24, 101])
def test_sequential_orders_balance_positions_within_one(
    concepts: list[str], respondents: int
) -> None:
    orders = sequential_orders(concepts, respondents, seed=5)
    assert len(orders) == respondents
    assert all(sorted(order) == concepts for order in orders)
    for position in range(len(concepts)):
        counts = Counter(order[position] for order in orders)
        seen = [counts.get(c, 0) for c in concepts]
        assert max(seen) - min(seen) <= 1, (position, counts)


def test_a_full_williams_square_balances_which_concept_follows_which() -> None:
    orders = sequential_orders(["A", "B", "C", "D"], 4, seed=1)
    follows = Counter(pair for order in orders for pair in itertools.pairwise(order))
    assert len(follows) == 12 and set(follows.values()) == {1}


def test_order_effect_shows_a_first_position_bonus() -> None:
    rng = np.random.default_rng(3)
    orders = sequential_orders(["A", "B"], 400, seed=3)
    rows = []
    for person, order in enumerate(orders):
        for position, concept in enumerate(order, start=1):
            rating = 5 if rng.random() < (0.6 if position == 1 else 0.3) else 2
            rows.append((person, concept, rating, position))
    ratings = pd.DataFrame(rows, columns=["respondent", "concept", "rating", "position"])
    table = order_effects(ratings)
    assert table.loc[1, "share"] > table.loc[2, "share"]
    assert table.attrs["p_value"] < 1e-6


def test_calibrated_intent_applies_the_weights() -> None:
    ratings = pd.DataFrame({"respondent": range(4), "concept": ["A"] * 4, "rating": [5, 4, 3, 5]})
    # 0.75 + 0.25 + 0 + 0.75 over 4 people
    assert calibrated_intent(ratings)["A"] == pytest.approx(1.75 / 4)
    custom = calibrated_intent(ratings, weights=(0.6, 0.3, 0.1, 0.0, 0.0))
    assert custom["A"] == pytest.approx((0.6 + 0.3 + 0.1 + 0.6) / 4)


def test_bad_ratings_get_one_clear_message() -> None:
    ratings = pd.DataFrame({"respondent": [1], "concept": ["A"], "rating": [7]})
    with pytest.raises(OfferlabError, match="1 … 5"):
        top_box(ratings)
