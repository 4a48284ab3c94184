"""A study's life cycle: its states, the moves between them, and who may enter in each.

Pure rules, no database or web: the console asks :func:`transition` before it writes a
new state, the respondent side asks :func:`admission` on every request.

=========  ====================================================================
state      who gets in
=========  ====================================================================
draft      nobody: the study is being set up
testing    test respondents only (the team's test link, simulated runs)
live       everyone
paused     no new starts; people already inside may finish if the study's
           ``finish_when_paused`` setting says so (the default), else they wait
closed     nobody; nothing more is stored, not even for people already inside
=========  ====================================================================

The moves (one table, :data:`MOVES`)::

    draft --test--> testing --launch--> live <--pause/resume--> paused
    live, paused --close--> closed --reopen (owners only)--> live or paused

Launch, close and reopen are confirmed by the user before they happen. A closed study
cannot be launched again: only an owner's reopen (recorded in the audit log) brings it
back.
"""

from __future__ import annotations

from dataclasses import dataclass

from offerlab.field._console_texts import Message

__all__ = [
    "MOVES",
    "STATES",
    "LifecycleError",
    "Move",
    "admission",
    "moves_from",
    "transition",
]

STATES = ("draft", "testing", "live", "paused", "closed")
EDITORS = frozenset({"owner", "analyst"})
OWNERS = frozenset({"owner"})


@dataclass(frozen=True)
class Move:
    """One allowed move: its name, from and to states, the roles that may make it."""

    name: str
    source: str
    target: str
    roles: frozenset[str]
    confirm: bool = False


#: Every allowed move; anything not listed here is refused.
MOVES: tuple[Move, ...] = (
    Move("test", "draft", "testing", EDITORS),
    Move("launch", "testing", "live", EDITORS, confirm=True),
    Move("pause", "live", "paused", EDITORS),
    Move("resume", "paused", "live", EDITORS),
    Move("close", "live", "closed", EDITORS, confirm=True),
    Move("close", "paused", "closed", EDITORS, confirm=True),
    Move("reopen", "closed", "live", OWNERS, confirm=True),
    Move("reopen", "closed", "paused", OWNERS, confirm=True),
)


class LifecycleError(Exception):
    """A move that is not allowed; ``forbidden`` when the state allows it but the role not."""

    def __init__(self, message: Message, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def moves_from(state: str, role: str | None) -> list[Move]:
    """The moves ``role`` may make from ``state`` (the console shows only these)."""
    return [m for m in MOVES if m.source == state and role in m.roles]


def transition(state: str, move: str, role: str | None, target: str | None = None) -> Move:
    """The move ``move`` from ``state`` by ``role`` (to ``target`` where a move has two).

    Raises
    ------
    LifecycleError
        When the move is not allowed from ``state`` (``forbidden`` false) or not for
        ``role`` (``forbidden`` true).
    """
    candidates = [m for m in MOVES if m.name == move and m.source == state]
    if target is not None:
        candidates = [m for m in candidates if m.target == target]
    if not candidates:
        raise LifecycleError(
            Message("move_not_from", state=_state(state), move=_verb(move), to=_to(target))
        )
    allowed = [m for m in candidates if role in m.roles]
    if not allowed:
        raise LifecycleError(
            Message("move_not_role", role=_role(role), move=_verb(move)), forbidden=True
        )
    return allowed[0]


def _to(target: str | None) -> Message | str:
    return Message("move_to", state=_state(target)) if target in STATES else ""


# The words of the refusals, for the console's catalogue (a name is shown as it is if
# it is not one of ours: the refusal must never fail).
def _state(state: str | None) -> Message | str:
    return Message(f"state_{state}") if state in STATES else str(state)[:40]


def _verb(move: str) -> Message | str:
    return Message(f"verb_{move}") if move in {m.name for m in MOVES} else move[:40]


def _role(role: str | None) -> Message | str:
    return Message(f"role_{role}") if role in ("owner", "analyst", "viewer") else str(role)


def admission(state: str, *, inside: bool, test: bool, finish_when_paused: bool) -> str | None:
    """Why a respondent request is refused in ``state`` (None: it may go on).

    Parameters
    ----------
    state : str
        The study's state.
    inside : bool
        The request is of a respondent already started (a page, a submit); otherwise
        it would start one.
    test : bool
        The respondent is (or would be) a test respondent.
    finish_when_paused : bool
        The study's setting: people already inside may finish while it is paused.

    Returns
    -------
    str or None
        ``"closed"``, ``"paused"`` or ``"not_open"`` (the key of the polite page to
        show), or None.
    """
    if state == "closed":
        return "closed"
    if state == "paused":
        return None if inside and finish_when_paused else "paused"
    if state == "live":
        return None
    if state == "testing" and test:
        return None
    return "not_open"  # draft, or testing for a real respondent
