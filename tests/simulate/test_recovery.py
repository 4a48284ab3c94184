"""Simulated respondents and the default MNL agree: the model recovers the simulated truth."""

from __future__ import annotations

import numpy as np
import pytest

from offerlab.design import make_design
from offerlab.models import MultinomialLogit
from offerlab.simulate import Segment, SimulatedPopulation, simulate_answers
from offerlab.study import Study

COLOUR = np.array([0.0, 1.0, -0.5])
PRICE = -0.05
NONE = -0.2


def study(none: str) -> Study:
    return Study.model_validate(
        {
            "name": "mini",
            "attributes": [
                {
                    "name": "colour",
                    "label": "Colour",
                    "levels": [
                        {"name": "red", "label": "Red"},
                        {"name": "blue", "label": "Blue"},
                        {"name": "green", "label": "Green"},
                    ],
                },
                {"name": "price", "type": "price", "label": "Price", "values": [10, 20, 30]},
            ],
            "tasks": {
                "alternatives": 3,
                "per_respondent": 8,
                "none": {"type": none, "label": "None", "question": "Really?"},
            },
            "design": {"method": "balanced", "versions": 10, "seed": 5},
        }
    )


@pytest.mark.parametrize("none", ["plain", "dual"])
def test_default_mnl_recovers_what_the_simulator_was_given(none: str) -> None:
    s = study(none)
    design = make_design(s)
    population = SimulatedPopulation(
        segments=[Segment(partworths={"colour": list(COLOUR), "price": PRICE}, none=NONE)]
    )
    answers = simulate_answers(s, design.to_frame(), population, 3000, rng=11)
    results = MultinomialLogit().fit(answers.data, study=s)
    # Effects coding centres the colour part-worths; none is measured against that centre.
    truth = {
        "colour[red]": COLOUR[0] - COLOUR.mean(),
        "colour[blue]": COLOUR[1] - COLOUR.mean(),
        "price": PRICE,
        "none": NONE - COLOUR.mean(),
    }
    z = {name: (results.params[name] - value) / results.bse[name] for name, value in truth.items()}
    assert all(abs(v) < 4 for v in z.values()), z
