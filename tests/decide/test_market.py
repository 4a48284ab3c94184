"""Market simulator: exact agreement with the fitted MNL, shares that sum to one, rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offerlab.data import ChoiceData
from offerlab.decide import Market, MarketSimulator, Population, population_from_results
from offerlab.decide._kernels import grouped_shares
from offerlab.exceptions import OfferlabError
from offerlab.models import MultinomialLogit
from offerlab.models._matrix import ConjointCoding
from offerlab.study import Study

DATA = Path(__file__).parents[1] / "data"
ATTRS = ("pf", "cl", "loc", "wk", "tod", "seas")

# The Electricity data (Revelt & Train; tests/data/README.md) as a conjoint study: price
# per kWh (pf) is linear; contract length (cl: 0, 1, 5 years) gets one part-worth per
# level, so offers between its levels are interpolated; the 0/1 features are linear.
ELECTRICITY_STUDY = {
    "name": "electricity",
    "attributes": [
        {"name": "pf", "type": "price", "label": "price", "values": [0, 7, 9]},
        {"name": "cl", "type": "numeric", "label": "contract", "values": [0, 1, 5],
         "coding": "partworth"},
        *[
            {"name": n, "type": "numeric", "label": n, "values": [0, 1]}
            for n in ("loc", "wk", "tod", "seas")
        ],
    ],
    "tasks": {"alternatives": 4},
}  # fmt: skip


@pytest.fixture(scope="module")
def electricity():
    raw = pd.read_csv(DATA / "electricity.csv.gz")
    frame = pd.DataFrame(
        {
            "respondent": raw["id"],
            "task": raw["chid"],
            "alternative": raw["alt"],
            "chosen": raw["choice"].astype(int),
            **{a: raw[a] for a in ATTRS},
        }
    )
    study = Study.model_validate(ELECTRICITY_STUDY)
    data = ChoiceData.from_frame(frame, study)
    results = MultinomialLogit().fit(data, study=study)
    return data, results


def test_electricity_shares_equal_the_fitted_mnl_probabilities(electricity) -> None:
    """Every estimation task as a market: simulator shares = predicted probabilities."""
    data, results = electricity
    predicted = results.predict(data).to_numpy()
    frame = data.frame
    pop = population_from_results(results)
    sim = MarketSimulator(pop, n_draws=0)
    worst = 0.0
    values = frame[list(ATTRS)].to_numpy()
    layout = frame.groupby(["respondent", "task"], sort=False).indices
    for rows in layout.values():
        offers = [
            {"name": f"alt {i}", **dict(zip(ATTRS, values[r].tolist(), strict=True))}
            for i, r in enumerate(rows)
        ]
        market = Market.from_offers(results.coding, offers, none=False)
        share = sim.share_draws(market, draws=False).point[0]
        assert abs(share.sum() - 1) < 1e-12
        worst = max(worst, float(np.abs(share - predicted[rows]).max()))
    assert worst < 1e-12
    assert len(layout) == 4308


def test_shares_sum_to_one_in_every_scenario_segment_and_rule() -> None:
    rng = np.random.default_rng(3)
    R, K, J = 1500, 7, 6
    B = rng.normal(size=(R, K))
    w = rng.uniform(0.2, 2.0, size=R)
    seg = rng.choice(["a", "b", "c"], size=R)
    pop = Population(
        B, w, tuple(f"b{k}" for k in range(K)), segments=seg,
        uncertainty=lambda S, g: B[None] + 0.1 * g.normal(size=(S, R, K)),
    )  # fmt: skip
    for scenario in range(3):
        X = rng.normal(size=(J, K))
        offset = rng.normal(size=J)
        market = Market.from_arrays([f"o{j}" for j in range(J)], X, offset=offset)
        for rule, extra in (
            ("logit", {}),
            ("logit", {"scale": 0.3}),
            ("first_choice", {}),
            ("rfc", {"attribute_error": 0.5, "product_error": 0.5}),
            ("rfc", {"attribute_error": 0.5, "product_error": 0.0}),
        ):
            sim = MarketSimulator(pop, rule=rule, n_draws=10, seed=scenario, **extra)
            sd = sim.share_draws(market)
            assert np.abs(sd.point.sum(axis=1) - 1).max() < 1e-12, (rule, extra)
            assert np.abs(sd.draws.sum(axis=2) - 1).max() < 1e-12
            for by_segment in (False, True):
                table = sim.shares(market, by_segment=by_segment)
                sums = table.groupby(table.get("segment", pd.Series(0, index=table.index)))[
                    "share"
                ].sum()
                assert np.abs(sums - 1).max() < 1e-12


def test_segment_shares_are_weighted_means_and_combine_to_the_total() -> None:
    rng = np.random.default_rng(4)
    B = rng.normal(size=(4, 3))
    w = np.array([0.1, 0.2, 0.3, 0.4])
    X = rng.normal(size=(3, 3))
    V = B @ X.T
    P = np.exp(V) / np.exp(V).sum(1, keepdims=True)
    pop = Population(B, w, ("a", "b", "c"), segments=np.array(["x", "y", "x", "y"]))
    sim = MarketSimulator(pop)
    market = Market.from_arrays(["p", "q", "r"], X)
    table = sim.shares(market, by_segment=True)
    x = table[table["segment"] == "x"]["share"].to_numpy()
    np.testing.assert_allclose(x, (0.1 * P[0] + 0.3 * P[2]) / 0.4, atol=1e-15)
    total = sim.shares(market)["share"].to_numpy()
    np.testing.assert_allclose(total, w @ P, atol=1e-15)


def test_rfc_with_product_error_only_is_the_logit_rule_and_first_choice_is_its_limit() -> None:
    rng = np.random.default_rng(5)
    B = rng.normal(size=(2000, 4))
    X = rng.normal(size=(5, 4))
    w = np.full(2000, 1 / 2000)
    logit = grouped_shares(B, w, X, rule="logit", scale=2.0)
    rfc = grouped_shares(B, w, X, rule="rfc", scale=2.0, attribute_error=0.0, product_error=1.0)
    np.testing.assert_allclose(rfc, logit, atol=1e-14)
    # A tiny product error: RFC → first choice.
    fc = grouped_shares(B, w, X, rule="first_choice")
    near = grouped_shares(B, w, X, rule="rfc", product_error=1e-6)
    np.testing.assert_allclose(near, fc, atol=1e-3)


def test_rfc_attribute_error_reduces_the_share_a_duplicate_steals() -> None:
    """IIA: under the logit rule a copy of an offer doubles its pair's pull; RFC's
    attribute error makes the copy compete mostly with its twin (Sawtooth's point)."""
    rng = np.random.default_rng(6)
    B = rng.normal(0.0, 0.3, size=(20_000, 3)) + np.array([1.0, 0.5, -0.5])
    X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    Xdup = np.vstack([X, X[:1]])
    w = np.full(len(B), 1 / len(B))
    kw = {"rule": "rfc", "attribute_error": 1.0, "product_error": 0.3, "seed": 1}
    other_before = grouped_shares(B, w, X, **kw)[0, 1]
    other_after = grouped_shares(B, w, Xdup, **kw)[0, 1]
    logit_before = grouped_shares(B, w, X)[0, 1]
    logit_after = grouped_shares(B, w, Xdup)[0, 1]
    loss_rfc = 1 - other_after / other_before
    loss_logit = 1 - logit_after / logit_before
    assert loss_rfc < loss_logit


def test_rfc_does_not_depend_on_threads() -> None:
    rng = np.random.default_rng(7)
    B = rng.normal(size=(200_000, 3))
    X = rng.normal(size=(4, 3))
    w = np.full(len(B), 1 / len(B))
    kw = {"rule": "rfc", "attribute_error": 0.7, "product_error": 0.2, "seed": 11}
    np.testing.assert_array_equal(
        grouped_shares(B, w, X, threads=1, **kw), grouped_shares(B, w, X, threads=2, **kw)
    )


def test_mnl_adapter_intervals_match_share_of_preference(electricity) -> None:
    """Same draws, same rule: the MNL path agrees with the existing share simulator."""
    from offerlab.simulate import share_of_preference

    _, results = electricity
    offers = [
        {"name": "A", "pf": 7, "cl": 1, "loc": 1, "wk": 0, "tod": 0, "seas": 0},
        {"name": "B", "pf": 8.2, "cl": 2.5, "loc": 0, "wk": 1, "tod": 0, "seas": 0},
    ]
    pop = population_from_results(results)
    sim = MarketSimulator(pop, n_draws=500, seed=1)
    table = sim.shares(Market.from_offers(results.coding, offers))
    old = share_of_preference(results, offers, draws=0)
    np.testing.assert_allclose(table["share"], old["share"], atol=1e-14)
    assert (table["lower"] < table["share"]).all() and (table["share"] < table["upper"]).all()
    # Interpolation: cl = 2.5 lies between the part-worths of 1 and 5 years.
    pw = results.partworths().set_index(["attribute", "level"])["utility"]
    x = results.coding.code_offer({"pf": 8.2, "cl": 2.5, "loc": 0, "wk": 1, "tod": 0, "seas": 0})
    cl_block = next(b for b in results.coding.blocks if b.attribute == "cl")
    got = (
        x[cl_block.start : cl_block.stop]
        @ results.params.to_numpy()[cl_block.start : cl_block.stop]
    )
    lv = {float(k[1]): v for k, v in pw.items() if k[0] == "cl"}
    assert got == pytest.approx(lv[1.0] + (2.5 - 1) / 4 * (lv[5.0] - lv[1.0]), abs=1e-12)


def test_status_quo_options_fixed_utility_and_constant() -> None:
    study = Study.model_validate(
        {
            "name": "s",
            "attributes": [
                {"name": "brand", "label": "b", "levels": [{"name": "x", "label": "x"},
                                                           {"name": "y", "label": "y"}]},
                {"name": "price", "type": "price", "label": "p", "values": [10, 20]},
            ],
            "tasks": {"alternatives": 2, "none": {"type": "plain"}},
        }
    )  # fmt: skip
    coding = ConjointCoding.from_study(study, "effects", none=True)
    beta = np.array([0.4, -0.1, -0.5])  # brand[x], price, none
    pop = Population(beta[None], np.ones(1), coding.names)
    market = Market.from_offers(
        coding,
        [{"name": "ours", "ours": True, "brand": "x", "price": 15}],
        status_quo=[{"name": "buy", "utility": 0.2}, {"name": "keep", "constant": "none"}],
    )
    assert market.kinds == ("offer", "status_quo", "status_quo", "none")
    table = MarketSimulator(pop).shares(market)
    V = np.array([0.4 - 1.5, 0.2, -0.5, -0.5])
    np.testing.assert_allclose(table["share"], np.exp(V) / np.exp(V).sum(), atol=1e-15)
    assert table["revenue"].iloc[0] == pytest.approx(15 * table["share"].iloc[0])
    with pytest.raises(OfferlabError, match="no coefficient 'asc'"):
        Market.from_offers(coding, [], status_quo=[{"name": "l", "constant": "asc"}])
    with pytest.raises(OfferlabError, match="needs a 'utility' or a 'constant'"):
        Market.from_offers(coding, [], status_quo=[{"name": "l"}])
    with pytest.raises(OfferlabError, match=r"no level"):
        Market.from_offers(coding, [{"brand": "z", "price": 15}])


def test_bad_input_is_named() -> None:
    with pytest.raises(OfferlabError, match="weights"):
        Population(np.zeros((2, 2)), np.array([1.0, -1.0]), ("a", "b"))
    with pytest.raises(OfferlabError, match="rule"):
        MarketSimulator(Population(np.zeros((1, 1)), np.ones(1), ("a",)), rule="best")  # type: ignore[arg-type]
    with pytest.raises(OfferlabError, match="unique"):
        Market.from_arrays(["a", "a"], np.zeros((2, 1)))
