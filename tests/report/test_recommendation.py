"""The recommendation says when its price sits at the edge of the studied prices."""

from __future__ import annotations

import pytest

import offerlab as ol
from offerlab.report._html import _edge_of_range

OFFER = {
    "term": 6,
    "km_per_month": 1500,
    "car_class": "electric",
    "insurance": "included",
    "maintenance": "included",
    "delivery": "home",
    "notice_period": "monthly",
}


@pytest.mark.parametrize(
    ("price", "words"),
    [
        (990, "CHF 990 is the highest price studied, so the best price may lie above it"),
        (390, "CHF 390 is the lowest price studied, so the best price may lie below it"),
    ],
)
def test_a_price_at_the_edge_of_the_studied_range_is_flagged(price: float, words: str) -> None:
    study = ol.load_study(ol.example_path())
    (caution,) = _edge_of_range(study, {"monthly_price": price, **OFFER}, "CHF", "")
    assert words in caution


def test_a_price_inside_the_range_is_not_flagged() -> None:
    study = ol.load_study(ol.example_path())
    assert _edge_of_range(study, {"monthly_price": 690, **OFFER}, "CHF", "") == []
