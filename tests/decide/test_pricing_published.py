"""Van Westendorp, Newton–Miller–Smith and Gabor–Granger against published worked examples.

Source: Travis Kassab, *Data Science for Human-Centered Product Design* (bookdown, GitHub
repository tmk1221/The-Rational-Designer), project 5 "Maximize adoption and revenue with
the Price Sensitivity Meter": ``05-PSM.Rmd`` and ``data/03_dat.csv`` at commit
3a61a335a85e99551f16658d52e1307903f89499, the rendered output ``05-PSM.md`` at commit
081ef96aa665b526b26b30c51f188c5119965cba. 1,000 answers to the four
Van Westendorp questions and the two NMS purchase-likelihood questions about "Product X"
(``data/03_dat.csv``, copied as ``tests/data/psm_product_x.csv``, see tests/data/README.md),
analysed with the R package pricesensitivitymeter (Alletsee): ``psm_analysis(validate =
TRUE, pi_cheap, pi_expensive)`` with its defaults (``interpolate = FALSE``,
``intersection_method = "min"``, ``pi_calibrated = 0.7, 0.5, 0.3, 0.1, 0``). Everything
published there is printed R output, checked here to the digits printed.

The package's conventions are offerlab's ``cheap_curves="strict"`` and
``between_prices="none"``. With them every published figure is reproduced except the
optimal price point: published 70, exact 69. At 69 exactly 45 of the 991 respondents
find the price too cheap and 45 too expensive — a tie, which the package's own rule
("first price where too expensive ≥ too cheap") takes — but R computes too cheap as
1 − 946/991, one unit in the last place above 45/991, so its ``>=`` first holds at 70.
``test_published_opp_70_is_a_floating_point_artefact`` replays that arithmetic.

Gabor–Granger against a consultancy's worked example (no textbook example with a demand
table and its result was found; see tests/data/README.md): DART Consulting, "Pricing
Strategy: Find Gabor Granger method and how it works to achieve best price for your
products or services",
https://dartconsulting.co.in/market-news/pricing-strategy-find-gabor-granger-method-and-how-it-works-to-achieve-best-price-for-your-products-or-services.
55 respondents, a five-price ladder; the table gives how many have each price as their
highest accepted one (one respondent accepts none), the cumulative demand and its
percentage, revenue = price × demand, the price elasticity over each step and the
revenue-maximising price, 1,500.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offerlab.decide import gabor_granger, van_westendorp
from offerlab.exceptions import OfferlabError

DATA = Path(__file__).resolve().parents[1] / "data" / "psm_product_x.csv"

# The book recodes the answer labels (as.factor levels in alphabetical order → 4, 3, 2, 5,
# 1): 1 = very unlikely … 5 = very likely, the package's pi_scale 5:1 ↔ 0.7 … 0.
LIKELIHOOD = {
    "Very unlikely": 1,
    "Unlikely": 2,
    "Neither likely nor unlikely": 3,
    "Likely": 4,
    "Very likely": 5,
}


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    raw = pd.read_csv(DATA)
    return raw[["too_cheap", "cheap", "expensive", "too_expensive"]].assign(
        likelihood_cheap=raw["likelihood_at_cheap"].map(LIKELIHOOD),
        likelihood_expensive=raw["likelihood_at_expensive"].map(LIKELIHOOD),
    )


@pytest.fixture(scope="module")
def as_published(answers: pd.DataFrame):
    return van_westendorp(answers, cheap_curves="strict", between_prices="none")


def test_data_and_validation_as_published(answers: pd.DataFrame, as_published) -> None:
    # str(psm_out): total_sample 1000, invalid_cases 9, data_input 991 obs.,
    # data_vanwestendorp 185 obs. with price 10 11 12 … (the prices range 10 to 200).
    assert len(answers) == 1000
    assert answers[["likelihood_cheap", "likelihood_expensive"]].notna().all().all()
    assert as_published.n_respondents == 991 and as_published.n_inconsistent == 9
    price = as_published.curves["price"]
    assert len(price) == 185 and price.min() == 10 and price.max() == 200
    # The first ten consistent respondents, as printed by str(psm_out$data_input).
    P = answers[["too_cheap", "cheap", "expensive", "too_expensive"]].to_numpy()
    ok = answers[(np.diff(P, axis=1) > 0).all(axis=1)].head(10)
    assert list(ok["too_cheap"]) == [10, 46, 18, 12, 39, 10, 10, 50, 22, 10]
    assert list(ok["cheap"]) == [13, 75, 41, 16, 72, 99, 67, 55, 47, 53]
    assert list(ok["expensive"]) == [31, 100, 74, 34, 101, 131, 95, 60, 76, 110]
    assert list(ok["too_expensive"]) == [114, 120, 87, 200, 113, 200, 128, 81, 92, 130]
    assert list(ok["likelihood_cheap"]) == [1, 5, 4, 1, 3, 5, 4, 4, 5, 5]
    assert list(ok["likelihood_expensive"]) == [3, 4, 4, 1, 3, 3, 3, 5, 3, 3]


# head(psm_out$data_vanwestendorp) and the row at 75, as printed (R shows each column
# with the decimals given here): too cheap, cheap, expensive, too expensive, not cheap,
# not expensive.
PUBLISHED_CURVES = {
    10: (0.8133199, 1.0000000, 0.000000000, 0, 0.000000000, 1.0000000),
    11: (0.8012109, 0.9979818, 0.000000000, 0, 0.002018163, 1.0000000),
    12: (0.7891019, 0.9969728, 0.000000000, 0, 0.003027245, 1.0000000),
    13: (0.7709384, 0.9949546, 0.001009082, 0, 0.005045409, 0.9989909),
    14: (0.7608476, 0.9939455, 0.001009082, 0, 0.006054490, 0.9989909),
    15: (0.7295661, 0.9899092, 0.001009082, 0, 0.010090817, 0.9989909),
}
PUBLISHED_AT_75 = (0.02825429, 0.1634712, 0.3662967, 0.08980827, 0.8365288, 0.6337033)
CURVE_COLUMNS = ["too_cheap", "cheap", "expensive", "too_expensive", "not_cheap", "not_expensive"]
HEAD_DECIMALS = (7, 7, 9, 0, 9, 7)
AT_75_DECIMALS = (8, 7, 7, 8, 7, 7)


def test_curves_to_the_digits_printed(as_published) -> None:
    curves = as_published.curves.set_index("price")[CURVE_COLUMNS]
    for price, printed in PUBLISHED_CURVES.items():
        ours = curves.loc[price].to_numpy()
        assert [round(x, d) for x, d in zip(ours, HEAD_DECIMALS, strict=True)] == list(printed), (
            price
        )
    ours = curves.loc[75].to_numpy()
    assert [round(x, d) for x, d in zip(ours, AT_75_DECIMALS, strict=True)] == list(PUBLISHED_AT_75)


def test_price_points_as_published(as_published) -> None:
    # Published: price range lower 40, upper 98; IDP 67; OPP 70 (see the next test).
    assert as_published.pmc == 40
    assert as_published.pme == 98
    assert as_published.ipp == 67
    assert as_published.opp == 69
    curves = as_published.curves.set_index("price")
    # The tie at 69 (45 of 991 each side), exact because counts are compared.
    assert curves.loc[69, "too_cheap"] == curves.loc[69, "too_expensive"] == 45 / 991
    assert curves.loc[68, "too_cheap"] > curves.loc[68, "too_expensive"]


def test_published_opp_70_is_a_floating_point_artefact(answers: pd.DataFrame) -> None:
    """pricesensitivitymeter: ecdf_toocheap = 1 − ecdf(toocheap)(p), ecdf_tooexpensive =
    ecdf(tooexpensive)(p), OPP = first price with ecdf_tooexpensive ≥ ecdf_toocheap."""
    P = answers[["too_cheap", "cheap", "expensive", "too_expensive"]].to_numpy(float)
    P = P[(np.diff(P, axis=1) > 0).all(axis=1)]
    n = len(P)
    price = np.unique(P)
    r_too_cheap = 1 - (P[:, 0][None, :] <= price[:, None]).sum(axis=1) / n
    r_too_expensive = (P[:, 3][None, :] <= price[:, None]).sum(axis=1) / n
    assert price[np.flatnonzero(r_too_expensive >= r_too_cheap)[0]] == 70
    assert 1 - 946 / 991 > 45 / 991  # the one-ulp gap that moves it from 69


# head(psm_out$data_nms): trial printed with 9 decimals, revenue with 8.
PUBLISHED_NMS = {
    10: (0.000000000, 0.00000000),
    11: (0.004975040, 0.05472544),
    12: (0.009670006, 0.11604007),
    13: (0.014188247, 0.18444721),
    14: (0.018812432, 0.26337405),
    15: (0.023532447, 0.35298670),
}


def test_newton_miller_smith_as_published(answers: pd.DataFrame, as_published) -> None:
    nms = as_published.nms.set_index("price")
    for price, (trial, revenue) in PUBLISHED_NMS.items():
        assert round(nms.loc[price, "trial"], 9) == trial, price
        assert round(nms.loc[price, "revenue"], 8) == revenue, price
    # Published: price_optimal_trial 61, price_optimal_revenue 76.
    assert as_published.trial_price == 61
    assert as_published.revenue_price == 76
    assert as_published.max_revenue == pytest.approx(76 * nms.loc[76, "trial"], rel=1e-15)
    # offerlab's exact maximum over the piecewise-linear trial curve lands on 76 too.
    exact = van_westendorp(answers, cheap_curves="strict")
    assert exact.revenue_price == 76 and exact.trial_price == 61


def test_interpolated_points_lie_in_the_step_before_the_first_price(
    answers: pd.DataFrame, as_published
) -> None:
    """Straight lines between the prices given move each price point inside the step
    (previous price given, first price met]."""
    interpolated = van_westendorp(answers, cheap_curves="strict")
    price = as_published.curves["price"].to_numpy()
    for point in ("pmc", "pme", "ipp", "opp"):
        first = getattr(as_published, point)
        before = price[np.searchsorted(price, first) - 1]
        assert before < getattr(interpolated, point) <= first, point


def test_unknown_convention_is_refused_by_name(answers: pd.DataFrame) -> None:
    with pytest.raises(OfferlabError, match="cheap_curves must be 'inclusive' or 'strict'"):
        van_westendorp(answers, cheap_curves="ecdf")  # type: ignore[arg-type]
    with pytest.raises(OfferlabError, match="between_prices must be 'interpolate' or 'none'"):
        van_westendorp(answers, between_prices="min")  # type: ignore[arg-type]


# DART Consulting's table: price → (count whose highest accepted price it is, demand,
# cumulative percentage, revenue, price elasticity as printed, a magnitude).
PUBLISHED_GG = {
    1000: (14, 54, 98, 54_000, None),
    1500: (11, 40, 73, 60_000, 0.5),
    2000: (9, 29, 53, 58_000, 0.8),
    2500: (12, 20, 36, 50_000, 1.2),
    3000: (8, 8, 15, 24_000, 3.0),
}
GG_RESPONDENTS = 55


def _ladder_answers() -> pd.DataFrame:
    """The ladder each respondent went through: asked from the highest price down, a
    refusal (1–3, varied) at every price above their highest accepted one and an
    acceptance (4 or 5) there, where the ladder stops."""
    prices = sorted(PUBLISHED_GG, reverse=True)
    wtp = [p for p in prices for _ in range(PUBLISHED_GG[p][0])]
    wtp += [None] * (GG_RESPONDENTS - len(wtp))
    rows = []
    for r, top in enumerate(wtp):
        for price in prices:
            if price == top:
                rows.append((r, price, 4 + r % 2))
                break
            rows.append((r, price, 1 + r % 3))
    return pd.DataFrame(rows, columns=["respondent", "price", "answer"])


def test_gabor_granger_reproduces_the_published_table() -> None:
    result = gabor_granger(_ladder_answers())
    assert result.n_respondents == GG_RESPONDENTS
    assert result.n_non_monotone == 0
    curve = result.curve.set_index("price")
    assert list(curve.index) == sorted(PUBLISHED_GG)
    for price, (_, demand, percent, revenue, elasticity) in PUBLISHED_GG.items():
        row = curve.loc[price]
        # Demand is a share of the 55 respondents; the table counts people.
        assert row["demand"] * GG_RESPONDENTS == pytest.approx(demand, abs=1e-12), price
        assert round(100 * row["demand"]) == percent, price
        # Revenue per respondent × 55 = the table's revenue, to the cent.
        assert round(row["revenue"] * GG_RESPONDENTS, 2) == revenue, price
        if elasticity is None:
            assert np.isnan(row["elasticity"])
        else:
            # Printed as a magnitude to one decimal; offerlab keeps the sign (demand falls).
            assert row["elasticity"] < 0
            assert round(-row["elasticity"], 1) == elasticity, price
    assert result.revenue_price == 1500
    assert round(result.max_revenue * GG_RESPONDENTS, 2) == 60_000


def test_gabor_granger_published_table_with_equal_weights() -> None:
    """Equal weights of any size leave every share, revenue and elasticity as they were."""
    answers = _ladder_answers()
    plain = gabor_granger(answers)
    weighted = gabor_granger(answers.assign(weight=2.0), weights="weight")
    cols = ["demand", "revenue", "elasticity"]
    pd.testing.assert_frame_equal(weighted.curve[cols], plain.curve[cols], rtol=1e-15)
    assert weighted.revenue_price == plain.revenue_price == 1500
