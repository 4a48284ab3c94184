"""WTP for a linear numeric attribute: per unit, and each value against the first."""

from __future__ import annotations

import pytest

from offerlab.design import make_design
from offerlab.models import MultinomialLogit
from offerlab.simulate import Segment, SimulatedPopulation, simulate_answers
from offerlab.study import Study


def test_wtp_per_value_is_the_per_unit_wtp_times_the_distance() -> None:
    study = Study.model_validate(
        {
            "name": "km",
            "attributes": [
                {
                    "name": "km",
                    "type": "numeric",
                    "label": "km",
                    "unit": "km",
                    "values": [1000, 1500, 2500],
                },
                {"name": "price", "type": "price", "label": "Price", "values": [390, 590, 790]},
            ],
            "tasks": {"alternatives": 2, "per_respondent": 6},
            "design": {"method": "random", "versions": 5, "seed": 1},
        }
    )
    population = SimulatedPopulation(segments=[Segment(partworths={"km": 0.001, "price": -0.01})])
    answers = simulate_answers(study, make_design(study).to_frame(), population, 1500, rng=2)
    wtp = MultinomialLogit().fit(answers.data, study=study).wtp().set_index("level")
    assert list(wtp.index) == ["per km", 1500, 2500]
    assert wtp["per_unit"].tolist() == [True, False, False]  # a rate, kept off the WTP plot
    per_unit = wtp.loc["per km"]
    assert per_unit["wtp"] == pytest.approx(0.1, abs=4 * per_unit["se"])  # 0.001 / 0.01
    for value in (1500.0, 2500.0):
        scaled = per_unit[["wtp", "se"]] * (value - 1000)
        observed = wtp.loc[value, ["wtp", "se"]].astype(float).to_numpy()
        assert observed == pytest.approx(scaled.astype(float).to_numpy(), rel=1e-12)
