"""The audit log's events on one study, as the field writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from offerlab.store import StudyRow, record_event

__all__ = ["record_study_event"]


def record_study_event(
    session: Session, action: str, user_id: int | None, row: StudyRow, detail: dict[str, Any]
) -> None:
    """Write one event on the study (and its venture) to the audit log, in ``session``'s
    transaction; ``user_id`` None for the server's own work (a retention purge)."""
    record_event(
        session,
        action,
        user_id=user_id,
        venture_id=row.venture_id,
        study_id=row.id,
        detail=detail,
    )
