"""The audit log of console actions: one row per action, written in the action's transaction.

Writing the event in the same transaction as the change it records means the log can
neither miss a change that was stored nor record one that was rolled back.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from offerlab.store._tables import AuditEvent, User

__all__ = ["AUDIT_ACTIONS", "record_event"]

# Every action the console records; a new one is added here, so the owners' page can
# translate each and a typo cannot create an action nobody reads.
AUDIT_ACTIONS = frozenset(
    {
        "study.create",
        "study.status",  # detail: {"from": ..., "to": ...}; reopen is status closed -> live
        "study.simulate_tests",
        "study.share",
        "study.unshare",
        "study.download",  # detail: {"what": "answers.csv"}
        "simulator.publish",
        "report.publish",  # detail: {"version": n, "model": ...}
        "scenario.save",  # detail: {"name": ...}
        "scenario.delete",
        "member.add",
        "member.remove",
        "member.role",
        "member.invite",  # detail: {"email": ..., "role": ..., "days": n}
        "member.invite_revoke",
        "member.join",  # the invited person set their password: {"email", "role"}
        "study.invitations",  # respondent invitation links made: {"n": n}
        "user.password",
        "respondent.delete",  # detail: {"by": "token" | "panel_id", "count": n}
        "respondent.export",
        "study.retention",
        "study.retention_purge",
    }
)


def record_event(
    session: Session,
    action: str,
    *,
    user_id: int | None,
    venture_id: int | None = None,
    study_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to ``session`` (the caller's transaction commits it)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to AUDIT_ACTIONS")
    actor = ""
    if user_id is not None:
        actor = session.execute(select(User.email).where(User.id == user_id)).scalar_one_or_none()
        actor = actor or ""
    event = AuditEvent(
        at=time.time(),
        user_id=user_id,
        actor=actor,
        venture_id=venture_id,
        study_id=study_id,
        action=action,
        detail=detail or {},
    )
    session.add(event)
    return event
