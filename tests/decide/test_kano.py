"""Kano: the standard evaluation table, category shares and better/worse on a hand example."""

from __future__ import annotations

import pandas as pd
import pytest

from offerlab.decide import KANO_ANSWERS, kano_category, kano_evaluation
from offerlab.exceptions import OfferlabError


def test_the_evaluation_table_is_berger_et_al_1993() -> None:
    table = {f: "".join(kano_category(f, d) for d in KANO_ANSWERS) for f in KANO_ANSWERS}
    assert table == {
        "like": "QAAAO",
        "expect": "RIIIM",
        "neutral": "RIIIM",
        "tolerate": "RIIIM",
        "dislike": "RRRRQ",
    }


def test_hand_example_counts_shares_category_and_coefficients() -> None:
    # Feature "winter tyres included", ten people:
    #   like/dislike ×3 -> O, expect/dislike ×4 -> M, like/neutral ×2 -> A, neutral/neutral -> I
    # Feature "car delivered home", four people:
    #   like/neutral ×2 -> A, like/tolerate -> A, dislike/like -> R
    rows = (
        [("winter_tyres", "like", "dislike")] * 3
        + [("winter_tyres", "expect", "dislike")] * 4
        + [("winter_tyres", "like", "neutral")] * 2
        + [("winter_tyres", "neutral", "neutral")]
        + [("home_delivery", "like", "neutral")] * 2
        + [("home_delivery", "like", "tolerate"), ("home_delivery", "dislike", "like")]
        + [("home_delivery", None, "like")]  # an incomplete pair is left out
    )
    answers = pd.DataFrame(rows, columns=["feature", "functional", "dysfunctional"])
    tyres, delivery = kano_evaluation(answers)
    assert tyres.counts == {"A": 2, "O": 3, "M": 4, "I": 1, "R": 0, "Q": 0}
    assert tyres.category == "M"
    assert tyres.shares["M"] == pytest.approx(0.4)
    # better = (A + O) / (A + O + M + I) = 5 / 10; worse = -(O + M) / 10 = -0.7
    assert tyres.better == pytest.approx(0.5)
    assert tyres.worse == pytest.approx(-0.7)
    assert delivery.counts == {"A": 3, "O": 0, "M": 0, "I": 0, "R": 1, "Q": 0}
    assert delivery.category == "A"
    # R is outside the coefficients' base: better 3 / 3, worse 0 / 3
    assert delivery.better == pytest.approx(1.0)
    assert delivery.worse == pytest.approx(0.0)


def test_ties_go_must_be_before_one_dimensional_before_attractive() -> None:
    rows = [("f", "like", "dislike"), ("f", "expect", "dislike"), ("f", "like", "expect")]
    (feature,) = kano_evaluation(
        pd.DataFrame(rows, columns=["feature", "functional", "dysfunctional"])
    )
    assert feature.counts["M"] == feature.counts["O"] == feature.counts["A"] == 1
    assert feature.category == "M"


def test_unknown_answers_are_named() -> None:
    with pytest.raises(OfferlabError, match="'love'"):
        kano_category("love", "dislike")
