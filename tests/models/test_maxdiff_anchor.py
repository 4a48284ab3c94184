"""Anchored MaxDiff: the anchor answers coded into choice sets by hand, and the logit and
hierarchical Bayes recovering a known threshold and the share of people above it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from offerlab.design import make_maxdiff_design
from offerlab.exceptions import OfferlabError
from offerlab.models import HierarchicalBayes, MaxDiffHB, MaxDiffLogit, maxdiff_answers
from offerlab.models._maxdiff import _stacked_choices
from offerlab.simulate import simulate_maxdiff

ITEMS = tuple(f"item_{k}" for k in range(8))
TRUTH = np.linspace(-1.5, 1.5, 8)  # relative to the threshold (0): half the items matter


def _task(person, task, best, worst, anchor, items=("A", "B", "C")):
    return [(person, task, item, int(item == best), int(item == worst), anchor) for item in items]


def test_dual_response_answers_become_the_threshold_choice_sets_by_hand() -> None:
    # one person, three tasks of A B C (best A, worst C): none, all, some matter
    rows = _task(1, 1, "A", "C", "none") + _task(1, 2, "A", "C", "all")
    rows += _task(1, 3, "A", "C", "some")
    frame = pd.DataFrame(rows, columns=["respondent", "task", "item", "best", "worst", "anchor"])
    answers = maxdiff_answers(frame, ["A", "B", "C"])
    assert answers.anchored and answers.dual.tolist() == [0, 2, 1]
    X, y, available, cluster = _stacked_choices(answers)
    # columns: A, B, C free (the threshold is the reference, a row of zeros); sets of 4
    A, B, C, T, pad = [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]
    expected = [
        # 3 best choices (A of A B C), 3 worst choices (C of B C, utilities negated)
        *[[A, B, C, pad]] * 3,
        *[[pad, [0, -1, 0], [0, 0, -1], pad]] * 3,
        [T, A, B, C],  # none matter: the threshold is best among it and A B C
        [T, [-1, 0, 0], [0, -1, 0], [0, 0, -1]],  # all matter: the threshold is worst
        [A, T, pad, pad],  # some: the best item A beats the threshold …
        [[0, 0, -1], T, pad, pad],  # … and the worst item C is worse than it
    ]
    assert X.tolist() == expected
    assert y.tolist() == [0, 0, 0, 2, 2, 2, 0, 0, 0, 0]
    assert available.sum(axis=1).tolist() == [3, 3, 3, 2, 2, 2, 4, 4, 2, 2]
    assert cluster.tolist() == [0] * 10


def test_direct_binary_answers_become_item_against_threshold_pairs_by_hand() -> None:
    rows = _task(7, 1, "A", "C", "")
    rows += [(7, 0, "A", 0, 0, "yes"), (7, 0, "B", 0, 0, "no"), (7, 0, "C", 0, 0, "no")]
    frame = pd.DataFrame(rows, columns=["respondent", "task", "item", "best", "worst", "anchor"])
    answers = maxdiff_answers(frame, ["A", "B", "C"])
    assert answers.dual is None and answers.binary.tolist() == [[0, 0, 1], [0, 1, 0], [0, 2, 0]]
    X, y, available, _ = _stacked_choices(answers)
    assert X[2:, :2].tolist() == [
        [[1, 0, 0], [0, 0, 0]],  # A against the threshold: A ticked, A chosen (0)
        [[0, 1, 0], [0, 0, 0]],  # B not ticked: the threshold chosen (1)
        [[0, 0, 1], [0, 0, 0]],
    ]
    assert y[2:].tolist() == [0, 1, 1]
    assert available[2:].sum(axis=1).tolist() == [2, 2, 2]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (_task(1, 1, "A", "C", "most"), "anchor answers are none, some, all"),
        (
            [*_task(1, 1, "A", "C", "some")[:2], (1, 1, "C", 0, 1, "all")],
            "respondent 1, task 1: the rows of one task carry one anchor answer",
        ),
        (
            [*_task(1, 1, "A", "C", ""), (1, 0, "A", 0, 0, "maybe")],
            "direct binary answers \\(task 0\\) are yes or no",
        ),
        (
            [*_task(1, 1, "A", "C", ""), (2, 0, "A", 0, 0, "yes")],
            "respondent 2 answered the direct binary anchor but no MaxDiff task",
        ),
    ],
)
def test_broken_anchor_answers_are_refused_with_a_reason(rows, message) -> None:
    frame = pd.DataFrame(rows, columns=["respondent", "task", "item", "best", "worst", "anchor"])
    with pytest.raises(OfferlabError, match=message):
        maxdiff_answers(frame, ["A", "B", "C"])


@pytest.mark.parametrize("anchor", ["dual_response", "direct_binary"])
def test_the_logit_recovers_the_threshold(anchor) -> None:
    design = make_maxdiff_design(ITEMS, 4, 6, versions=4, seed=1, steps=3000)
    people = np.tile(TRUTH, (1500, 1))
    frame = simulate_maxdiff(design.sets, people, ITEMS, seed=2, anchor=anchor)
    result = MaxDiffLogit().fit(maxdiff_answers(frame, list(ITEMS)))
    assert result.anchored
    error = result.utilities - TRUTH
    print(anchor, "utility − truth:", np.round(error, 3), "SE:", np.round(result.std_errors, 3))
    assert np.all(np.abs(error) < 4 * result.std_errors + 0.05)
    assert abs(error.mean()) < 0.1  # the threshold itself (the level of all items)
    # the anchor line separates the items above the threshold from those below
    scores = result.scores()
    line, low, high = result.anchor_score()
    assert low < line < high
    assert scores["score"].sum() == pytest.approx(100)
    assert ((scores["score"] > line).to_numpy() == (result.utilities > 0)).all()


def test_the_threshold_stays_near_the_truth_when_most_items_lie_below_it() -> None:
    """'some' codes the threshold between the best and the worst item; without those two
    pairs the threshold here was 3 utility units off (the module's description)."""
    design = make_maxdiff_design(ITEMS, 4, 6, versions=4, seed=1, steps=3000)
    truth = TRUTH - 1.0
    frame = simulate_maxdiff(design.sets, np.tile(truth, (1500, 1)), ITEMS, seed=3,
                             anchor="dual_response")  # fmt: skip
    result = MaxDiffLogit().fit(maxdiff_answers(frame, list(ITEMS)))
    assert abs((result.utilities - truth).mean()) < 0.3


@pytest.mark.parametrize("anchor", ["dual_response", "direct_binary"])
def test_hb_recovers_the_share_of_people_above_the_threshold(anchor) -> None:
    design = make_maxdiff_design(ITEMS, 4, 8, versions=4, seed=1, steps=3000)
    rng = np.random.default_rng(5)
    people = TRUTH + rng.normal(0, 1, size=(300, len(ITEMS)))
    truth = (people > 0).mean(axis=0)
    frame = simulate_maxdiff(design.sets, people, ITEMS, seed=1, anchor=anchor)
    # 200 + 200 iterations: the bars kept the margins 400 + 400 had (15 random-walk steps
    # per iteration then, the respondents' HMC move since)
    sampler = HierarchicalBayes(burn_in=200, draws=200, chains=1, keep_draws=20, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = MaxDiffHB(sampler).fit(maxdiff_answers(frame, list(ITEMS)))
    shares = result.above_threshold()
    print(anchor, pd.DataFrame({"estimate": shares["share"], "truth": truth}).round(3))
    assert np.abs(shares["share"].to_numpy() - truth).max() < 0.08
    assert (shares["low"] <= shares["share"]).all() and (shares["share"] <= shares["high"]).all()
    correlation = np.corrcoef(result.individual.to_numpy().ravel(), people.ravel())[0, 1]
    assert correlation > 0.75
    reached = result.reached()
    assert reached.shape == (300, len(ITEMS))
    assert reached.mean().to_numpy() == pytest.approx(truth, abs=0.12)
