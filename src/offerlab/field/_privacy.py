"""Data protection for one study: find, export and delete a respondent; keep answers N days.

A respondent is found by their personal invitation's token or by their panel ID (the
first panel parameter of their link), the two handles a panel or a person asking about
their data has. Deleting removes the respondent, their page answers (the foreign key
cascades) and their invitation with its panel parameters. Quota cells keep their counts:
they record intake, which happened, and reopening a full cell after a deletion would
let the study overshoot its targets.

Retention: a study with ``retention_days`` set loses every respondent who started
longer ago than that. :func:`purge_expired` runs when the server starts (every worker:
it is one idempotent DELETE per study), when an owner saves the setting, and at most
once an hour when someone opens the console's list of studies.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from offerlab.field._audit import record_study_event
from offerlab.field._console_texts import Message
from offerlab.store import Invitation, Respondent, StudyRow, Submission

__all__ = [
    "FIND_BY",
    "MAX_RETENTION_DAYS",
    "delete_respondent",
    "export_respondent",
    "purge_expired",
    "set_retention",
]

FIND_BY = ("invitation", "panel_id")
MAX_RETENTION_DAYS = 3650
_DAY = 86400.0


def _find(session: Session, study_id: int, by: str, value: str) -> list[Respondent]:
    """The study's respondents with this invitation token or panel ID (ValueError if bad)."""
    value = value.strip()
    if by not in FIND_BY:
        raise ValueError(Message("privacy_find_by", ways=" or ".join(FIND_BY), by=by[:40]))
    if not value or len(value) > 200 or not value.isprintable():
        raise ValueError(Message("privacy_value_missing"))
    query = select(Respondent).where(Respondent.study_id == study_id)
    if by == "invitation":
        query = query.join(Invitation, Invitation.id == Respondent.invitation_id).where(
            Invitation.token == value
        )
    else:
        query = query.where(Respondent.panel_id == value)
    return list(session.execute(query.order_by(Respondent.id)).scalars())


def _unused_invitation(session: Session, study_id: int, token: str) -> Invitation | None:
    return session.execute(
        select(Invitation).where(Invitation.study_id == study_id, Invitation.token == token)
    ).scalar()


def export_respondent(
    engine: Engine, study: StudyRow, by: str, value: str, *, user_id: int
) -> dict[str, Any]:
    """Everything stored about the respondent(s) found, as one JSON-ready document.

    Left out: the respondent's resume token and page nonce (secrets that would open
    their survey session), nothing else. The export is logged (``respondent.export``).
    """
    with Session(engine) as session, session.begin():
        people = _find(session, study.id, by, value)
        out = []
        for person in people:
            answers = session.execute(
                select(Submission)
                .where(Submission.respondent_id == person.id)
                .order_by(Submission.submitted_at)
            ).scalars()
            invitation = (
                session.get(Invitation, person.invitation_id) if person.invitation_id else None
            )
            out.append(
                {
                    "status": person.status,
                    "language": person.language,
                    "design_version": person.version,
                    "started_at": _iso(person.started_at),
                    "finished_at": _iso(person.finished_at),
                    "panel_id": person.panel_id,
                    "panel": person.panel,
                    "invitation_panel": invitation.panel if invitation else None,
                    "browser_fingerprint": person.fingerprint,
                    "flags": person.flags,
                    "pages": [
                        {
                            "page": a.page,
                            "answer": a.answer,
                            "seconds": a.seconds,
                            "submitted_at": _iso(a.submitted_at),
                        }
                        for a in answers
                    ],
                }
            )
        record_study_event(
            session, "respondent.export", user_id, study, {"by": by, "count": len(out)}
        )
    return {"study": study.name, "found_by": by, "value": value.strip(), "respondents": out}


def delete_respondent(
    engine: Engine, study: StudyRow, by: str, value: str, *, user_id: int
) -> tuple[int, int]:
    """Delete the respondent(s) found, their answers and invitations (logged).

    Returns how many respondents and how many invitations went: an invitation nobody
    used yet is deleted too when it is the one named.
    """
    with Session(engine) as session, session.begin():
        people = _find(session, study.id, by, value)
        invitations = {p.invitation_id for p in people if p.invitation_id is not None}
        if by == "invitation":
            unused = _unused_invitation(session, study.id, value.strip())
            if unused is not None:
                invitations.add(unused.id)
        for person in people:
            session.delete(person)  # its submissions go with it (ON DELETE CASCADE)
        session.flush()
        if invitations:
            session.execute(delete(Invitation).where(Invitation.id.in_(invitations)))
        record_study_event(
            session,
            "respondent.delete",
            user_id,
            study,
            {"by": by, "count": len(people), "invitations": len(invitations)},
        )
    return len(people), len(invitations)


def set_retention(engine: Engine, study: StudyRow, days: int | None, *, user_id: int) -> int:
    """Keep the study's answers ``days`` days (None: for good); purge now; how many went."""
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(Message("retention_range", n=MAX_RETENTION_DAYS))
    with Session(engine) as session, session.begin():
        row = session.get_one(StudyRow, study.id)
        before = row.retention_days
        row.retention_days = days
        record_study_event(session, "study.retention", user_id, row, {"from": before, "to": days})
    return purge_expired(engine, study_id=study.id).get(study.id, 0)


def purge_expired(
    engine: Engine, at: float | None = None, *, study_id: int | None = None
) -> dict[int, int]:
    """Delete respondents older than their study's retention period; counts by study id."""
    at = time.time() if at is None else at
    purged: dict[int, int] = {}
    with Session(engine) as session, session.begin():
        query = select(StudyRow).where(StudyRow.retention_days.is_not(None))
        if study_id is not None:
            query = query.where(StudyRow.id == study_id)
        for study in session.execute(query).scalars():
            cutoff = at - study.retention_days * _DAY
            old = select(Respondent.id).where(
                Respondent.study_id == study.id, Respondent.started_at < cutoff
            )
            invitations = list(
                session.execute(
                    select(Respondent.invitation_id).where(
                        Respondent.id.in_(old), Respondent.invitation_id.is_not(None)
                    )
                ).scalars()
            )
            count = session.execute(delete(Respondent).where(Respondent.id.in_(old))).rowcount
            if invitations:
                session.execute(delete(Invitation).where(Invitation.id.in_(invitations)))
            if count:
                purged[study.id] = count
                record_study_event(
                    session,
                    "study.retention_purge",
                    None,
                    study,
                    {"count": count, "days": study.retention_days},
                )
    return purged


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
