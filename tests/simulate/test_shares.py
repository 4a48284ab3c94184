"""Shares of preference: sum to one, equal the model's probabilities, intervals, errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from _mnl_sim import make_study, simulate

from offerlab.data import ChoiceData
from offerlab.exceptions import OfferlabError
from offerlab.models import MultinomialLogit
from offerlab.simulate._shares import Scenario, share_of_preference

OFFERS = [
    {"name": "basic", "brand": "alpha", "size": "small", "term": 12, "price": 20},
    {"name": "plus", "brand": "beta", "size": "large", "term": 6, "price": 30},
    {"name": "cheap", "brand": "delta", "size": "medium", "term": 24, "price": 10},
]


@pytest.fixture(scope="module")
def results():
    data = simulate(np.random.default_rng(21), 300, 8, none="plain")
    return MultinomialLogit().fit(data, study=make_study("plain"))


def test_shares_sum_to_one_and_equal_predicted_probabilities(results) -> None:
    shares = share_of_preference(results, OFFERS, rng=0)
    assert list(shares["offer"]) == ["basic", "plus", "cheap", "none"]
    assert shares["share"].sum() == pytest.approx(1.0, abs=1e-12)
    # The same concepts as one choice task in long format: predict() must agree.
    rows = [{k: v for k, v in o.items() if k != "name"} for o in OFFERS]
    task = pd.DataFrame(rows).assign(respondent=1, task=1, alternative=[1, 2, 3], none=0)
    task = pd.concat(
        [task, pd.DataFrame([{"respondent": 1, "task": 1, "alternative": 4, "none": 1}])],
        ignore_index=True,
    )
    task["chosen"] = [1, 0, 0, 0]
    prob = results.predict(ChoiceData.from_frame(task))
    np.testing.assert_allclose(shares["share"], prob, atol=1e-12)
    assert ((shares["lower"] <= shares["share"]) & (shares["share"] <= shares["upper"])).all()


def test_without_none_and_with_scale(results) -> None:
    plain = share_of_preference(results, OFFERS, include_none=False, draws=0)
    assert "none" not in set(plain["offer"]) and plain["share"].sum() == pytest.approx(1.0)
    assert "lower" not in plain.columns
    sharp = share_of_preference(results, OFFERS, include_none=False, scale=3.0, draws=0)
    flat = share_of_preference(results, OFFERS, include_none=False, scale=0.2, draws=0)
    top = int(plain["share"].idxmax())
    assert flat["share"][top] < plain["share"][top] < sharp["share"][top]


def test_intervals_come_from_parameter_draws(results) -> None:
    a = share_of_preference(results, OFFERS, draws=2000, rng=1)
    b = share_of_preference(results, OFFERS, draws=2000, rng=1)
    pd.testing.assert_frame_equal(a, b)
    # The interval's spread matches an independent simulation of the shares.
    rng = np.random.default_rng(2)
    B = rng.multivariate_normal(results.params, results.cov, size=20_000)
    coding = results.coding
    X = np.vstack([coding.code_offer({k: v for k, v in o.items() if k != "name"}) for o in OFFERS])
    X = np.vstack([X, np.eye(coding.n_params)[coding.none_index]])
    V = B @ X.T
    S = np.exp(V - V.max(1, keepdims=True))
    S /= S.sum(1, keepdims=True)
    np.testing.assert_allclose(a["se"], S.std(0), rtol=0.1)
    wide = share_of_preference(results, OFFERS, draws=2000, rng=1, interval=0.99)
    assert (wide["upper"] - wide["lower"] > a["upper"] - a["lower"]).all()


def test_values_between_levels_interpolate(results) -> None:
    """Price is linear; term (part-worth) interpolates between 12 and 24 months."""
    base = {"brand": "alpha", "size": "small", "price": 20}
    at = {t: share_of_preference(results, [{**base, "term": t}], draws=0) for t in (12, 18, 24)}
    u = {t: np.log(at[t]["share"][0] / at[t]["share"][1]) for t in at}  # V − V_none
    assert u[18] == pytest.approx((u[12] + u[24]) / 2, abs=1e-10)
    p = {
        c: share_of_preference(results, [{**base, "term": 12, "price": c}], draws=0)
        for c in (20, 25)
    }
    slope = np.log(p[25]["share"][0] / p[25]["share"][1]) - u[12]
    assert slope == pytest.approx(5 * results.params["price"], abs=1e-10)


def test_unknown_attribute_or_level_is_a_clear_error(results) -> None:
    offer = {"brand": "alpha", "size": "small", "term": 12, "price": 20}
    with pytest.raises(OfferlabError, match=r"unknown attribute.*colour"):
        share_of_preference(results, [{**offer, "colour": "red"}])
    with pytest.raises(OfferlabError, match=r"brand.*no level 'omega'.*levels are"):
        share_of_preference(results, [{**offer, "brand": "omega"}])
    with pytest.raises(OfferlabError, match=r"no level given.*price"):
        share_of_preference(results, [{k: v for k, v in offer.items() if k != "price"}])
    with pytest.raises(OfferlabError, match="outside the studied range"):
        share_of_preference(results, [{**offer, "term": 36}])
    with pytest.raises(OfferlabError, match="needs a number"):
        share_of_preference(results, [{**offer, "price": "cheap"}])


def test_scenario_forms() -> None:
    a = Scenario.from_offers({"offers": [{"name": "x", "levels": {"brand": "alpha"}}]})
    assert a.names == ("x",) and a.offers == ({"brand": "alpha"},)
    b = Scenario.from_offers([{"brand": "alpha"}, {"brand": "beta"}])
    assert b.names == ("offer 1", "offer 2")
    with pytest.raises(OfferlabError, match="unique"):
        Scenario.from_offers([{"brand": "alpha"}], names=["none"])
