"""MaxDiff designs: frequencies, positions and pairs balanced, prohibitions kept, honest notes."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from offerlab.design import make_maxdiff_design, maxdiff_d_error
from offerlab.exceptions import OfferlabError

ITEMS = [f"item_{k:02d}" for k in range(15)]


def _pair_counts(tasks) -> Counter:
    return Counter(pair for task in tasks for pair in itertools.combinations(sorted(task), 2))


def test_fifteen_items_five_per_task_twelve_tasks_meet_the_bars_or_say_why() -> None:
    design = make_maxdiff_design(ITEMS, 5, 12, seed=3)
    (version,) = design.sets
    frame = design.to_frame()
    # every item exactly 4 times, never twice in a task
    assert set(frame["item"].value_counts()) == {4}
    assert all(len(set(task)) == 5 for task in version)
    # positions within ±1 of their mean (0.8): each item at most once per position
    positions = frame.groupby(["item", "position"]).size().unstack(fill_value=0)
    assert (positions - 0.8).abs().to_numpy().max() <= 1
    # pairs: within ±1 of the mean (1.14) would need all 105 pairs shown together in
    # 12 tasks; where the design cannot, the notes say so and how many pairs are missing
    counts = _pair_counts(version)
    never = 105 - len(counts)
    mean = 12 * 10 / 105
    within = never == 0 and all(abs(c - mean) <= 1 for c in counts.values())
    if not within:
        (note,) = design.diagnostics.problems
        assert f"up to {never} pair(s)" in note and "add tasks" in note
    assert max(counts.values()) <= 2


def test_with_enough_tasks_every_pair_is_within_one_of_its_mean() -> None:
    design = make_maxdiff_design(ITEMS, 5, 15, seed=1)
    counts = _pair_counts(design.sets[0])
    assert len(counts) == 105
    assert all(abs(c - 15 * 10 / 105) <= 1 for c in counts.values())
    assert design.diagnostics.problems == []


def test_a_balanced_incomplete_block_design_is_found_when_one_exists() -> None:
    # 7 items, 4 per task, 7 tasks: the complement of the Fano plane, every pair twice
    design = make_maxdiff_design(ITEMS[:7], 4, 7, seed=0)
    assert set(_pair_counts(design.sets[0]).values()) == {2}
    assert design.diagnostics.position[:2] == (1, 1)


def test_prohibited_pairs_are_never_shown_together_across_versions() -> None:
    design = make_maxdiff_design(
        ITEMS,
        5,
        12,
        versions=3,
        seed=4,
        prohibited=[("item_00", "item_01"), ("item_02", "item_09")],
    )
    for version in design.sets:
        counts = _pair_counts(version)
        assert counts[(0, 1)] == 0 and counts[(2, 9)] == 0
        assert set(np.bincount(version.ravel(), minlength=15)) == {4}
    assert not any("prohibited" in p for p in design.diagnostics.problems)


def test_uneven_slots_are_spread_and_reported() -> None:
    design = make_maxdiff_design(ITEMS[:10], 4, 6, versions=2, seed=2)
    assert design.diagnostics.frequency == (2, 3)
    assert any("do not divide" in p for p in design.diagnostics.problems)


def test_the_design_is_more_informative_than_a_random_one() -> None:
    design = make_maxdiff_design(ITEMS, 5, 12, seed=5)
    rng = np.random.default_rng(0)
    random_errors = [
        maxdiff_d_error(np.array([rng.choice(15, 5, replace=False) for _ in range(12)]), 15)
        for _ in range(20)
    ]
    assert design.diagnostics.d_error < min(random_errors)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((ITEMS, 2, 12), "items per task"),
        ((ITEMS, 5, 2), "at least 3 tasks"),
        ((["a", "a", "b", "c"], 3, 4), "unique"),
    ],
)
def test_impossible_requests_get_one_clear_message(args, message: str) -> None:
    with pytest.raises(OfferlabError, match=message):
        make_maxdiff_design(*args)
