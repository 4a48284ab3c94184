"""The atomic steps of fielding, each safe under concurrent requests on SQLite and PostgreSQL.

* :func:`assign_version`: one ``UPDATE … SET entries = entries + 1 … RETURNING``
  hands out versions round-robin, so versions stay balanced (within one) across
  respondents whatever the concurrency.
* :func:`take_quota_cells`: one conditional ``UPDATE … SET count = count + 1
  WHERE count < target`` per cell; zero rows updated means the cell is full. The
  database evaluates the condition under the row lock (PostgreSQL re-checks it
  after waiting for a concurrent update; SQLite has one writer), so a target is
  never exceeded. All cells of a respondent are taken in one transaction: if one
  is full, none is counted.
* :func:`lock_respondent`: the respondent's row, locked for the rest of the
  transaction (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction
  already holds the write lock), so two submits of one page run one after the other.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from offerlab.store._tables import QuotaCell, Respondent, StudyRow

__all__ = ["assign_version", "cell_is_full", "lock_respondent", "take_quota_cells"]


def assign_version(session: Session, study_id: int, n_versions: int) -> int:
    """The design version (from 1) of the next respondent: round-robin over entries."""
    entries = session.execute(
        update(StudyRow)
        .where(StudyRow.id == study_id)
        .values(entries=StudyRow.entries + 1)
        .returning(StudyRow.entries)
    ).scalar_one()
    return (entries - 1) % n_versions + 1


def take_quota_cells(session: Session, study_id: int, cells: list[tuple[str, str]]) -> bool:
    """Count one complete in every cell, or in none if any cell is full (returns False)."""
    if not cells:
        return True
    savepoint = session.begin_nested()  # undo the cells already taken if a later one is full
    for quota, option in cells:
        taken = session.execute(
            update(QuotaCell)
            .where(
                QuotaCell.study_id == study_id,
                QuotaCell.quota == quota,
                QuotaCell.option == option,
                QuotaCell.count < QuotaCell.target,
            )
            .values(count=QuotaCell.count + 1)
        ).rowcount
        if taken != 1:
            savepoint.rollback()
            return False
    savepoint.commit()
    return True


def cell_is_full(session: Session, study_id: int, quota: str, option: str) -> bool:
    """Whether a cell has reached its target (a quick check on the screener; the count is
    only ever taken by :func:`take_quota_cells`)."""
    row = session.execute(
        select(QuotaCell.count, QuotaCell.target).where(
            QuotaCell.study_id == study_id, QuotaCell.quota == quota, QuotaCell.option == option
        )
    ).first()
    return row is not None and row.count >= row.target


def lock_respondent(session: Session, token: str) -> Respondent | None:
    """The respondent with this token, locked until the transaction ends."""
    query = select(Respondent).where(Respondent.token == token)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()
