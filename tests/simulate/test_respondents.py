"""Simulated respondents answer by the logit rule, with none and dual response."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offerlab.exceptions import ChoiceDataError
from offerlab.simulate import Segment, SimulatedPopulation, simulate_answers
from offerlab.study import Study
from offerlab.study._checks import field_path


def make_study(none: str | None = None) -> Study:
    spec = {
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
        "tasks": {"alternatives": 2, "per_respondent": 2},
    }
    if none:
        spec["tasks"]["none"] = {"type": none, "label": "None", "question": "Really?"}
    return Study.model_validate(spec)


def one_version_design() -> pd.DataFrame:
    # task 1: red@10 vs blue@30; task 2: green@20 vs red@20
    return pd.DataFrame(
        {
            "version": [1, 1, 1, 1],
            "task": [1, 1, 2, 2],
            "alternative": [1, 2, 1, 2],
            "colour": ["red", "blue", "green", "red"],
            "price": [10, 30, 20, 20],
        }
    )


POP = SimulatedPopulation(
    segments=[Segment(partworths={"colour": [0.0, 1.0, -0.5], "price": -0.05}, none=-0.2)]
)


def logit(u: np.ndarray) -> np.ndarray:
    e = np.exp(u - u.max())
    return e / e.sum()


def within_binomial(count: int, n: int, p: float, sds: float = 4.5) -> bool:
    return abs(count - n * p) <= sds * np.sqrt(n * p * (1 - p))


def test_choice_shares_follow_the_logit_rule() -> None:
    n = 20_000
    sim = simulate_answers(make_study(), one_version_design(), POP, n, rng=1)
    frame = sim.data.frame
    # task 1: u(red@10) = -0.5, u(blue@30) = 1 - 1.5 = -0.5 → 50/50
    # task 2: u(green@20) = -0.5 - 1 = -1.5, u(red@20) = -1.0
    for task, utilities in ((1, [-0.5, -0.5]), (2, [-1.5, -1.0])):
        p = logit(np.array(utilities))
        rows = frame[(frame["task"] == task) & (frame["alternative"] == 1)]
        assert within_binomial(int(rows["chosen"].sum()), n, p[0])
    assert (frame.groupby(["respondent", "task"])["chosen"].sum() == 1).all()


def test_plain_none_is_chosen_at_its_logit_rate() -> None:
    n = 20_000
    sim = simulate_answers(make_study("plain"), one_version_design(), POP, n, rng=2)
    frame = sim.data.frame
    none_rows = frame[(frame["none"] == 1) & (frame["task"] == 1)]
    p = logit(np.array([-0.5, -0.5, -0.2]))
    assert within_binomial(int(none_rows["chosen"].sum()), n, p[2])
    assert sim.data.has_none


def test_dual_response_keeps_the_forced_choice_and_asks_would_buy() -> None:
    n = 20_000
    sim = simulate_answers(make_study("dual"), one_version_design(), POP, n, rng=3)
    frame = sim.data.frame
    assert sim.data.dual_response
    # The forced choice never lands on the none row; its shares follow the concepts alone.
    assert frame.loc[frame["none"] == 1, "chosen"].sum() == 0
    task1 = frame[(frame["task"] == 1) & (frame["alternative"] == 1)]
    assert within_binomial(int(task1["chosen"].sum()), n, 0.5)
    # Would buy: a fresh binary logit of the chosen concept (-0.5 in task 1) against none (-0.2).
    buys = frame[(frame["task"] == 1) & (frame["alternative"] == 1)]["would_buy"].astype(int)
    assert within_binomial(int(buys.sum()), n, logit(np.array([-0.5, -0.2]))[0])


def test_dual_response_with_the_same_errors_buys_when_the_best_concept_beats_none() -> None:
    n = 20_000
    sim = simulate_answers(
        make_study("dual"), one_version_design(), POP, n, rng=3, dual_errors="same"
    )
    frame = sim.data.frame
    # P(would buy) = P(max of the concepts beats none) = 1 - P(none best among all three).
    p_none = logit(np.array([-0.5, -0.5, -0.2]))[2]
    buys = frame[(frame["task"] == 1) & (frame["alternative"] == 1)]["would_buy"].astype(int)
    assert within_binomial(int(buys.sum()), n, 1 - p_none)


def test_respondents_differ_when_there_is_spread_and_seeds_reproduce() -> None:
    pop = SimulatedPopulation(
        segments=[
            Segment(
                name="a",
                share=0.3,
                partworths={"colour": [0, 1, 0], "price": -0.1},
                spread={"colour": 0.5, "price": 0.02},
            ),
            Segment(name="b", share=0.7, partworths={"colour": [0, 0, 1], "price": -0.01}),
        ]
    )
    first = simulate_answers(make_study(), one_version_design(), pop, 2000, rng=7)
    again = simulate_answers(make_study(), one_version_design(), pop, 2000, rng=7)
    pd.testing.assert_frame_equal(first.data.frame, again.data.frame)
    truth = first.truth
    seg_a = truth[truth["segment"] == "a"]
    assert 0.25 < len(seg_a) / len(truth) < 0.35
    assert seg_a["price"].std() == pytest.approx(0.02, rel=0.15)
    assert (truth.loc[truth["segment"] == "b", "price"] == -0.01).all()


def test_versions_are_spread_over_respondents() -> None:
    design = pd.concat([one_version_design().assign(version=v) for v in (1, 2, 3)])
    design.loc[design["version"] == 3, "price"] = 30
    sim = simulate_answers(make_study(), design, POP, 9, rng=0)
    prices = sim.data.frame.groupby("respondent")["price"].apply(lambda s: (s == 30).all())
    assert prices.sum() == 3  # respondents 3, 6, 9 see version 3


def test_unknown_attribute_in_population_is_reported() -> None:
    from offerlab.exceptions import StudyError

    bad = SimulatedPopulation(segments=[Segment(partworths={"colour": [0, 1], "size": 1.0})])
    with pytest.raises(StudyError) as err:
        simulate_answers(make_study(), one_version_design(), bad, 10, rng=0)
    message = str(err.value)
    assert "segments[0].partworths.size" in message and "unknown attribute" in message
    assert "needs 3 values" in message


def test_a_repeated_design_row_is_reported() -> None:
    design = one_version_design()
    design = pd.concat([design, design.iloc[[0]]], ignore_index=True)
    with pytest.raises(ChoiceDataError, match="expected 4 rows"):
        simulate_answers(make_study(), design, POP, 5, rng=1)


@pytest.mark.parametrize(
    ("population", "where", "message"),
    [
        (
            {"partworths": {"colour": [0, 1, 2]}},
            "segments[0].partworths",
            "no part-worths for ['price']",
        ),
        (
            {"partworths": {"colour": [0, 1, 2], "price": -0.1}, "spread": {"colour": -0.5}},
            "segments[0].spread.colour",
            "cannot be < 0",
        ),
        (
            {"partworths": {"colour": [0, 1, 2], "price": -0.1}, "spread": {"price": [1, 1, 1]}},
            "segments[0].spread.price",
            "give one spread",
        ),
    ],
)
def test_population_that_would_mislead_is_refused(
    population: dict, where: str, message: str
) -> None:
    problems = SimulatedPopulation(segments=[Segment(**population)]).problems(make_study())
    assert len(problems) == 1, problems
    ((at, text),) = problems
    assert field_path(at) == where and message in text


def test_segment_shares_must_sum_to_one() -> None:
    full = {"partworths": {"colour": [0, 1, 2], "price": -0.1}}
    population = SimulatedPopulation(
        segments=[Segment(name="a", share=0.6, **full), Segment(name="b", share=0.5, **full)]
    )
    assert population.problems(make_study()) == [
        (("segments",), "the segments' shares sum to 1.1, not 1")
    ]
