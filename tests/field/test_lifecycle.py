"""The study life cycle's rules alone: the one table of moves, and who gets in per state."""

from __future__ import annotations

import itertools

import pytest

from offerlab.field._lifecycle import (
    MOVES,
    STATES,
    LifecycleError,
    admission,
    moves_from,
    transition,
)

ROLES = ["owner", "analyst", "viewer", None]
# (state, move, target) → the roles that may make it; everything else is refused.
ALLOWED = {
    ("draft", "test", "testing"): {"owner", "analyst"},
    ("testing", "launch", "live"): {"owner", "analyst"},
    ("live", "pause", "paused"): {"owner", "analyst"},
    ("paused", "resume", "live"): {"owner", "analyst"},
    ("live", "close", "closed"): {"owner", "analyst"},
    ("paused", "close", "closed"): {"owner", "analyst"},
    ("closed", "reopen", "live"): {"owner"},
    ("closed", "reopen", "paused"): {"owner"},
}


def test_every_state_move_and_role_gives_only_the_allowed_answer() -> None:
    names = [*sorted({m.name for m in MOVES}), "nap"]
    for state, move, target, role in itertools.product(STATES, names, STATES, ROLES):
        roles = ALLOWED.get((state, move, target))
        if roles is not None and role in roles:
            assert transition(state, move, role, target).target == target
            continue
        with pytest.raises(LifecycleError) as refused:
            transition(state, move, role, target)
        assert refused.value.forbidden == (roles is not None)  # the state allows, not the role


def test_a_closed_study_cannot_be_launched_and_only_owners_reopen() -> None:
    for move in ("launch", "resume", "test", "pause"):
        with pytest.raises(LifecycleError, match="closed cannot"):
            transition("closed", move, "owner")
    with pytest.raises(LifecycleError) as refused:
        transition("closed", "reopen", "analyst", "live")
    assert refused.value.forbidden
    assert transition("closed", "reopen", "owner", "paused").confirm


def test_the_console_shows_only_the_moves_of_the_state_and_role() -> None:
    shown = {(s, r): [(m.name, m.target) for m in moves_from(s, r)] for s in STATES for r in ROLES}
    assert shown[("draft", "analyst")] == [("test", "testing")]
    assert shown[("testing", "analyst")] == [("launch", "live")]
    assert shown[("live", "owner")] == [("pause", "paused"), ("close", "closed")]
    assert shown[("paused", "analyst")] == [("resume", "live"), ("close", "closed")]
    assert shown[("closed", "analyst")] == []
    assert shown[("closed", "owner")] == [("reopen", "live"), ("reopen", "paused")]
    assert all(shown[(s, r)] == [] for s in STATES for r in ("viewer", None))
    confirmed = {m.name for m in MOVES if m.confirm}
    assert confirmed == {"launch", "close", "reopen"}


@pytest.mark.parametrize(
    ("state", "inside", "test", "finish", "expected"),
    [
        ("draft", False, True, True, "not_open"),
        ("testing", False, False, True, "not_open"),
        ("testing", False, True, True, None),
        ("live", False, False, True, None),
        ("paused", False, False, True, "paused"),
        ("paused", True, False, True, None),
        ("paused", True, False, False, "paused"),
        ("closed", True, False, True, "closed"),
        ("closed", False, True, True, "closed"),
    ],
)
def test_who_gets_in_in_each_state(state, inside, test, finish, expected) -> None:
    assert admission(state, inside=inside, test=test, finish_when_paused=finish) == expected
