"""Van Westendorp (with Newton–Miller–Smith) and Gabor–Granger on worked examples.

The examples here are constructed from first principles, every expected number computed
by hand as the comments show, from the conventions in offerlab.decide._van_westendorp (the
defaults: inclusive cheap curves, exact crossings between prices). Van Westendorp and
NMS are also checked against a published worked example with its 1,000 raw answers in
test_pricing_published.py, and Gabor–Granger against a consultancy's published demand
table (no textbook one was found; tests/data/README.md lists what was searched).
"""

from __future__ import annotations

import pandas as pd
import pytest

from offerlab.decide import (
    gabor_granger,
    gabor_granger_frame,
    van_westendorp,
    van_westendorp_frame,
)
from offerlab.exceptions import OfferlabError

# Five respondents: too cheap < cheap < expensive < too expensive, and likelihood to buy
# (1–5) at their own cheap and expensive prices.
VW = pd.DataFrame(
    {
        "respondent": ["A", "B", "C", "D", "E"],
        "too_cheap": [10, 15, 20, 25, 33],
        "cheap": [20, 25, 30, 40, 35],
        "expensive": [30, 40, 45, 50, 55],
        "too_expensive": [34, 50, 60, 70, 65],
        "likelihood_cheap": [5, 4, 5, 3, 4],
        "likelihood_expensive": [3, 2, 4, 1, 2],
    }
)


def test_van_westendorp_worked_example_to_the_cent() -> None:
    """Hand computation (shares at the prices given, straight lines in between):

    price      25   30   33   34   35   40   45   50
    too cheap  .4   .2   .2   0    0    0    0    0      (too_cheap ≥ p)
    cheap      .8   .6   .4   .4   .4   .2   0    0      (cheap ≥ p)
    expensive  0    .2   .2   .2   .2   .4   .6   .8     (expensive ≤ p)
    too exp.   0    0    0    .2   .2   .2   .2   .4     (too_expensive ≤ p)

    PMC: too cheap − not cheap = .4 − .2 = .2 at 25, .2 − .4 = −.2 at 30 → 27.50
    OPP: too cheap − too expensive = .2 at 33, −.2 at 34 → 33.50
    IPP: cheap − expensive = .2 at 35, −.2 at 40 → 37.50
    PME: not expensive − too expensive = .2 at 45, −.2 at 50 → 47.50
    """
    res = van_westendorp(VW)
    assert round(res.pmc, 2) == 27.50 and res.pmc == pytest.approx(27.5, abs=1e-12)
    assert res.opp == pytest.approx(33.5, abs=1e-12)
    assert res.ipp == pytest.approx(37.5, abs=1e-12)
    assert res.pme == pytest.approx(47.5, abs=1e-12)
    assert res.acceptable_range == pytest.approx((27.5, 47.5))
    assert res.n_respondents == 5 and res.n_inconsistent == 0
    c = res.curves.set_index("price")
    assert c.loc[33, "too_cheap"] == pytest.approx(0.2) and c.loc[34, "too_expensive"] == 0.2
    assert (c["not_cheap"] + c["cheap"] == 1).all()


def test_newton_miller_smith_worked_example_to_the_cent() -> None:
    """Calibration 1…5 → 0, .1, .3, .5, .7. Each respondent's purchase probability runs
    through (too cheap, 0), (cheap, π_c), (expensive, π_e), (too expensive, 0):

    at 35: A 0, B .5 − .4·10/15 = .2333, C .7 − .2·5/15 = .6333, D .3·10/15 = .2, E .5
           → trial 1.5667/5 = 47/150 = .3133 (the highest: trial-maximising price 35)
    at 40: A 0, B .1, C .7 − .2·10/15 = .5667, D .3, E .5 − .4·5/20 = .4
           → trial 1.3667/5 = 41/150
    On [35, 40] trial = a + b p with b = −6/750 = −.008, a = 89/150, so revenue
    a p + b p² peaks at p* = a / .016 = 37.0833… → 37.08, revenue a²/.032 = 11.0014.
    """
    res = van_westendorp(VW)
    assert res.trial_price == 35.0
    assert res.max_trial == pytest.approx(47 / 150, abs=1e-12)
    assert round(res.revenue_price, 2) == 37.08
    assert res.revenue_price == pytest.approx((89 / 150) / 0.016, abs=1e-9)
    assert res.max_revenue == pytest.approx((89 / 150) ** 2 / 0.032, abs=1e-9)
    nms = res.nms.set_index("price")
    assert nms.loc[40, "trial"] == pytest.approx(41 / 150, abs=1e-12)
    assert nms.loc[10, "trial"] == 0 and nms.loc[70, "trial"] == 0


def test_van_westendorp_drops_inconsistent_answers_and_checks_columns() -> None:
    bad = pd.concat(
        [VW, pd.DataFrame([{"respondent": "F", "too_cheap": 50, "cheap": 40,
                            "expensive": 60, "too_expensive": 70,
                            "likelihood_cheap": 3, "likelihood_expensive": 3}])]
    )  # fmt: skip
    res = van_westendorp(bad)
    assert res.n_inconsistent == 1 and res.pmc == pytest.approx(27.5)
    with pytest.raises(OfferlabError, match="missing"):
        van_westendorp(VW.drop(columns="cheap"))


# Eight respondents on the ladder 790 → 390 (answers 1–5, "would buy" from 4 on); the
# ladder stops at the first "yes".
GG = {
    "R1": {790: 2, 690: 3, 590: 4},
    "R2": {790: 4},
    "R3": {790: 1, 690: 2, 590: 3, 490: 4},
    "R4": {790: 1, 690: 1, 590: 2, 490: 2, 390: 3},
    "R5": {790: 3, 690: 5},
    "R6": {790: 2, 690: 2, 590: 3, 490: 3, 390: 4},
    "R7": {790: 2, 690: 4},
    "R8": {790: 3, 690: 3, 590: 5},
}


def _tidy_gg() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"respondent": r, "question": "price_ladder", "item": str(p), "answer": a}
            for r, asked in GG.items()
            for p, a in asked.items()
        ]
    )


def test_gabor_granger_worked_example_to_the_cent() -> None:
    """Highest accepted price: 590, 790, 490, none, 690, 390, 690, 590.

    demand: 390 7/8, 490 6/8, 590 5/8, 690 3/8, 790 1/8
    revenue: 341.25, 367.50, 368.75, 258.75, 98.75 → the revenue-maximising price is 590.
    """
    res = gabor_granger(gabor_granger_frame(_tidy_gg(), "price_ladder"))
    curve = res.curve.set_index("price")
    assert list(curve["demand"]) == [7 / 8, 6 / 8, 5 / 8, 3 / 8, 1 / 8]
    assert [round(r, 2) for r in curve["revenue"]] == [341.25, 367.50, 368.75, 258.75, 98.75]
    assert res.revenue_price == 590 and res.max_revenue == pytest.approx(368.75)
    assert res.n_respondents == 8 and res.n_non_monotone == 0
    assert (curve["lower"] < curve["demand"]).all() and (curve["demand"] < curve["upper"]).all()


def test_van_westendorp_from_tidy_answers() -> None:
    tidy = VW.melt(id_vars="respondent", var_name="item", value_name="answer")
    tidy["question"] = "price_sensitivity"
    wide = van_westendorp_frame(tidy, "price_sensitivity")
    assert van_westendorp(wide).ipp == pytest.approx(37.5)
    with pytest.raises(OfferlabError, match="no answers to question 'nope'"):
        van_westendorp_frame(tidy, "nope")
