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
    # pairs: within ±1 of the mean (1.14) means every pair shown once or twice. No design
    # with every item 4 times can: the note says so and gives the bound that proves it.
    counts = _pair_counts(version)
    mean = 12 * 10 / 105
    outside = sum(
        abs(counts.get(pair, 0) - mean) > 1 for pair in itertools.combinations(range(15), 2)
    )
    (note,) = design.diagnostics.problems
    assert f"{outside} pair(s) per version fall outside" in note
    assert "No design showing the items this often can meet this bar" in note
    assert "share 90 item places" in note and "at least 24" in note
    assert "at least 3 pair(s) outside ±1 in any such design" in note
    assert outside >= 3
    assert max(counts.values()) <= 2


def test_the_pair_bound_in_the_note_holds_by_hand() -> None:
    # Two identities hold in any design of 12 tasks of 5 where each of 15 items shows 4 times:
    # the 66 pairs of tasks share Σ C(4, 2) = 90 items, and Σ over item pairs of C(count, 2)
    # equals Σ over task pairs of C(shared, 2) >= 24 (90 spread over 66: 24 share 2, 42 share 1)
    design = make_maxdiff_design(ITEMS, 5, 12, seed=3)
    (version,) = design.sets
    shared = [len(set(a) & set(b)) for a, b in itertools.combinations(version.tolist(), 2)]
    counts = _pair_counts(version)
    assert sum(shared) == 90
    assert sum(c * (c - 1) // 2 for c in counts.values()) == sum(s * (s - 1) // 2 for s in shared)
    assert sum(s * (s - 1) // 2 for s in shared) >= 24
    # so how many pairs can be shown c = 0..4 times (no pair more often than its items, 4)?
    # 105 pairs, 120 showings, Σ C(c, 2) >= 24:
    # every such split leaves at least 3 pairs at 0, 3 or 4 (outside 1.14 ± 1); 3 is reachable
    fewest = min(
        h0 + h3 + h4
        for h0, h3, h4 in itertools.product(range(10), repeat=3)
        for h2 in [120 - 3 * h3 - 4 * h4 - (105 - h0 - h3 - h4)]
        if h2 >= 0 and 105 - h0 - h2 - h3 - h4 >= 0 and h2 + 3 * h3 + 6 * h4 >= 24
    )
    assert fewest == 3
    # 3 needs pairs shown in all 4 tasks of both items; with no pair shown 4 times the fewest
    # is 9 (h2 + 3 h3 >= 24 and h0 = h2 + 2 h3 - 15 give h0 + h3 >= 9), which this design has
    fewest_without_fours = min(
        h0 + h3
        for h0, h3 in itertools.product(range(20), repeat=2)
        for h2 in [15 + h0 - 2 * h3]
        if h2 >= 0 and 105 - h0 - h2 - h3 >= 0 and h2 + 3 * h3 >= 24
    )
    assert fewest_without_fours == 9
    mean = 12 * 10 / 105
    outside = sum(abs(counts.get(p, 0) - mean) > 1 for p in itertools.combinations(range(15), 2))
    assert outside == 9


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
