"""Line-ups scored against a known population (decide.TrueMarket, decide.coded_truth)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from offerlab.decide import (
    MarketSimulator,
    Population,
    TrueMarket,
    load_market,
    optimise_offers,
)
from offerlab.design import make_design
from offerlab.exceptions import OfferlabError
from offerlab.models._matrix import ConjointCoding
from offerlab.simulate import load_population, simulate_answers
from offerlab.study import example_path, load_study


@pytest.fixture(scope="module")
def example():
    study = load_study(example_path("car_subscription"))
    population = load_population(example_path("car_subscription_population"), study)
    design = make_design(study, seed=5, method="random", versions=2)
    truth = simulate_answers(study, design.to_frame(), population, 120, rng=5).truth
    spec = load_market(example_path("car_subscription_market"), study)
    coding = ConjointCoding.from_study(study, "effects", none=True)
    options = {
        "prices": spec.price_grid(), "costs": spec.costs, "base_cost": spec.file.base_cost,
    }  # fmt: skip
    market = spec.market(coding)
    true = TrueMarket.from_market(market, truth, slots=spec.tiers, **options)
    return SimpleNamespace(
        spec=spec, coding=coding, market=market, truth=truth, true=true, options=options
    )


def test_coded_truth_gives_each_person_their_true_utilities(example) -> None:
    """Utilities relative to the none option are the truth's, for every person and offer."""
    from offerlab.decide import coded_truth

    coding, truth, true = example.coding, example.truth, example.true
    B = coded_truth(true.space, truth, coding.none_index)
    for person, c in ((0, 0), (7, 123), (119, len(true.space.index) - 1)):
        row = truth.iloc[person]
        utility = 0.0
        for a, v in true.space.offer(c).items():
            if a in truth.columns:  # per unit: price, km
                utility += row[a] * float(v)
            else:
                utility += row[f"{a}={v if isinstance(v, str) else f'{v:g}'}"]
        model = true.space.X[c] @ B[person] - B[person, coding.none_index]
        assert model == pytest.approx(utility - row["none"], abs=1e-9)


def test_true_market_agrees_with_the_simulator_on_distinct_products(example) -> None:
    """On the true people, the simulator's logit and the true market give the same profit
    for tiers that are different products (their errors are independent in both)."""
    from offerlab.decide import coded_truth

    coding, truth, true = example.coding, example.truth, example.true
    B = coded_truth(true.space, truth, coding.none_index)
    sim = MarketSimulator(
        Population(B=B, w=np.full(len(B), 1 / len(B)), names=tuple(coding.names)), n_draws=0
    )
    result = optimise_offers(
        sim, example.market, slots=example.spec.tiers, objective="profit", use_draws=False,
        restarts=2, rng=0, **example.options,
    )  # fmt: skip
    lineup = true.index(result.best)
    assert true.product[lineup[0]] != true.product[lineup[1]]
    assert true.profit(np.array([lineup]))[0] == pytest.approx(result.expected, rel=1e-10)
    # The true search finds at least what the optimiser found on the truth.
    _, optimum = true.best([lineup])
    assert optimum >= result.expected - 1e-9


def test_price_tags_of_one_product_are_perfect_substitutes(example) -> None:
    """Two price tags of one product: each person sees only the tag they like better,
    so the pair earns exactly what that better tag earns for each person alone."""
    true = example.true
    product = true.product
    cheap = int(np.flatnonzero(true.space.price == true.space.price.min())[0])
    same = (product == product[cheap]) & (true.space.price == true.space.price.max())
    dear = int(np.flatnonzero(same)[0])
    both = true.profit(np.array([[cheap, dear]]))[0]
    better = np.where(true.V[:, cheap] >= true.V[:, dear], cheap, dear)
    V = true.V[np.arange(len(better)), better]
    expected = np.mean(true.margin[better] / (1 + np.exp(true.rest - V)))
    assert both == pytest.approx(expected, rel=1e-12)
    # Counted as two products (the logit's independence) the pair would be worth more.
    logit = np.exp(true.V[:, [cheap, dear]] - true.rest[:, None])
    counted = np.mean((logit * true.margin[[cheap, dear]]).sum(1) / (1 + logit.sum(1)))
    assert counted != pytest.approx(both, rel=1e-3)


def test_truth_without_the_model_s_columns_is_refused(example) -> None:
    from offerlab.decide import coded_truth

    truth, true = example.truth, example.true
    with pytest.raises(OfferlabError, match="no column"):
        coded_truth(true.space, truth.drop(columns=["car_class=suv"]), None)
