"""The examples shipped inside the package are the ones documented in examples/."""

from __future__ import annotations

from pathlib import Path

import pytest

from offerlab.study import example_path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "name",
    [
        "car_subscription",
        "car_subscription_population",
        "car_subscription_scenario",
        "car_subscription_market",
    ],
)
def test_shipped_example_matches_the_documented_one(name: str) -> None:
    assert example_path(name).read_bytes() == (EXAMPLES / f"{name}.yaml").read_bytes()


def test_the_public_api_runs_the_pipeline_in_a_few_lines() -> None:
    import offerlab as ol

    study = ol.load_study(ol.example_path())
    design = ol.make_design(study, method="random", versions=4, seed=1)
    population = ol.load_population(ol.example_path("car_subscription_population"), study)
    answers = ol.simulate_answers(study, design.to_frame(), population, 200, rng=1)
    results = ol.MultinomialLogit().fit(answers.data, study=study)
    offers = [
        {"name": "cheap", **_offer(monthly_price=390)},
        {"name": "dear", **_offer(monthly_price=990)},
    ]
    shares = ol.share_of_preference(results, offers, rng=1)
    assert shares["share"].sum() == pytest.approx(1.0, abs=1e-12)
    by_offer = shares.set_index("offer")["share"]
    assert by_offer["cheap"] > by_offer["dear"]  # the population dislikes higher prices


def _offer(**changes: object) -> dict[str, object]:
    base = {
        "monthly_price": 590,
        "term": 12,
        "km_per_month": 1500,
        "car_class": "compact",
        "insurance": "included",
        "maintenance": "included",
        "delivery": "home",
        "notice_period": "monthly",
    }
    return {**base, **changes}
