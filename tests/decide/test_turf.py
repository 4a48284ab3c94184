"""TURF: exhaustive search equals brute force; greedy-plus-swap and its optimality bound."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from offerlab.decide import reach_from_scores, turf
from offerlab.exceptions import OfferlabError


def _random_reached(seed: int, people: int, items: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # items of different popularity, correlated within people (some like many perks)
    appetite = rng.beta(1.2, 4.0, size=(people, 1))
    popularity = rng.uniform(0.3, 1.6, size=(1, items))
    reached = rng.random((people, items)) < np.clip(appetite * popularity, 0, 1)
    return pd.DataFrame(reached, columns=[f"perk_{j:02d}" for j in range(items)])


def _brute_force(reached: pd.DataFrame, k: int, weights: np.ndarray) -> tuple[float, float]:
    """Best (reach, frequency) by plain Python sets, independent of the module."""
    people_of = {c: set(np.flatnonzero(reached[c].to_numpy())) for c in reached.columns}
    w = weights / weights.sum()
    best = (-1.0, -1.0)
    for bundle in itertools.combinations(reached.columns, k):
        covered = set().union(*(people_of[c] for c in bundle))
        reach = float(sum(w[p] for p in covered))
        frequency = float(sum(w[p] for c in bundle for p in people_of[c]))
        best = max(best, (reach, frequency))
    return best


@pytest.mark.parametrize("k", [1, 3, 5])
def test_exact_search_equals_brute_force_on_twelve_items(k: int) -> None:
    reached = _random_reached(seed=k, people=300, items=12)
    weights = np.random.default_rng(9).uniform(0.5, 2.0, size=300)
    result = turf(reached, k, weights=weights)
    reach, frequency = _brute_force(reached, k, weights)
    assert result.method == "exact"
    assert result.evaluated == len(list(itertools.combinations(range(12), k)))
    assert result.best.reach == pytest.approx(reach, abs=1e-12)
    assert result.best.frequency == pytest.approx(frequency, abs=1e-12)
    assert result.gap == 0.0
    assert len(result.best.items) == k
    # the ranking is ordered by reach, then frequency
    keys = [(b.reach, b.frequency) for b in result.ranking]
    assert keys == sorted(keys, reverse=True)


def test_greedy_plus_swap_finds_the_optimum_on_at_least_19_of_20_problems() -> None:
    hits = 0
    for seed in range(20):
        reached = _random_reached(seed=100 + seed, people=400, items=20)
        exact = turf(reached, 5, method="exact")
        heuristic = turf(reached, 5, method="greedy+swap")
        assert heuristic.method == "greedy+swap"
        # the certificate is a true upper bound, and the gap is what it says
        assert heuristic.upper_bound >= exact.best.reach - 1e-12
        assert heuristic.gap == pytest.approx(heuristic.upper_bound - heuristic.best.reach)
        assert heuristic.best.reach <= exact.best.reach + 1e-12
        hits += heuristic.best.reach == pytest.approx(exact.best.reach, abs=1e-12)
    assert hits >= 19


def test_large_problems_switch_to_greedy_and_report_their_gap() -> None:
    reached = _random_reached(seed=7, people=200, items=40)
    result = turf(reached, 8, max_exact=10_000)
    assert result.method == "greedy+swap"
    assert result.best.reach <= result.upper_bound <= 1.0
    assert result.evaluated < 200_000  # of C(40, 8) = 76,904,685 bundles


def test_must_include_and_exclude_are_respected_and_the_ladder_adds_up() -> None:
    reached = _random_reached(seed=3, people=250, items=10)
    unconstrained = turf(reached, 3)
    top = unconstrained.best.items[0]
    result = turf(reached, 3, must_include=["perk_09"], exclude=[top])
    assert "perk_09" in result.best.items and top not in result.best.items
    ladder = result.to_frame()
    assert ladder["item"].iloc[0] == "perk_09"
    assert ladder["reach"].iloc[-1] == pytest.approx(result.best.reach)
    assert np.all(ladder["added_reach"] >= -1e-12)
    assert ladder["added_reach"].sum() == pytest.approx(result.best.reach)
    # reach of a required item alone is its own share of people
    assert ladder["reach"].iloc[0] == pytest.approx(reached["perk_09"].mean())


def test_hand_example() -> None:
    # four people; A reaches 1 and 2, B reaches 2 and 3, C reaches 4, D reaches 1
    reached = pd.DataFrame(
        {"A": [1, 1, 0, 0], "B": [0, 1, 1, 0], "C": [0, 0, 0, 1], "D": [1, 0, 0, 0]}, dtype=bool
    )
    result = turf(reached, 2)
    # A+B and B+D reach 3 of 4; A+B has 4 hits over 4 people, B+D 3: A+B wins on frequency
    assert result.best.items == ("A", "B")
    assert result.best.reach == 0.75 and result.best.frequency == 1.0
    assert turf(reached, 3).best.reach == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 5}, "k = 5"),
        ({"k": 2, "must_include": ["Z"]}, "unknown item"),
        ({"k": 2, "must_include": ["A"], "exclude": ["A"]}, "both required and excluded"),
        ({"k": 2, "weights": np.array([1.0, -1, 1, 1])}, "weights"),
    ],
)
def test_bad_requests_get_one_clear_message(kwargs: dict, message: str) -> None:
    reached = pd.DataFrame({"A": [1, 0, 0, 1], "B": [0, 1, 0, 0]}, dtype=bool)
    with pytest.raises(OfferlabError, match=message):
        turf(reached, **kwargs)


def test_reach_from_scores_by_top_and_by_anchor() -> None:
    scores = pd.DataFrame({"A": [2.0, -1.0], "B": [1.0, 0.5], "C": [-0.5, 0.4]})
    top = reach_from_scores(scores, top=1)
    assert top.values.tolist() == [[True, False, False], [False, True, False]]
    anchored = reach_from_scores(scores, threshold=0.0)
    assert anchored.values.tolist() == [[True, True, False], [False, True, True]]


def test_maxdiff_reach_without_individual_utilities_takes_each_persons_own_counts() -> None:
    """Two people, two tasks each: best − worst counts, ties at the top included."""
    from offerlab.decide import maxdiff_reach
    from offerlab.models import maxdiff_answers

    rows = [  # respondent, task, item, best, worst
        ("p1", 1, "a", 1, 0), ("p1", 1, "b", 0, 0), ("p1", 1, "c", 0, 1),
        ("p1", 2, "a", 0, 1), ("p1", 2, "b", 1, 0), ("p1", 2, "d", 0, 0),
        ("p2", 1, "c", 1, 0), ("p2", 1, "d", 0, 0), ("p2", 1, "a", 0, 1),
        ("p2", 2, "c", 1, 0), ("p2", 2, "b", 0, 1), ("p2", 2, "d", 0, 0),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["respondent", "task", "item", "best", "worst"])
    answers = maxdiff_answers(frame, ["a", "b", "c", "d"])
    # p1: a 0, b +1, c −1, d 0; p2: a −1, b −1, c +2, d 0
    top1 = maxdiff_reach(answers, None, top=1)
    assert top1.to_dict("index") == {
        "p1": {"a": False, "b": True, "c": False, "d": False},
        "p2": {"a": False, "b": False, "c": True, "d": False},
    }
    top2 = maxdiff_reach(answers, None, top=2)  # p1's second place is a tie of a and d
    assert top2.loc["p1"].tolist() == [True, True, False, True]
    assert top2.loc["p2"].tolist() == [False, False, True, True]
