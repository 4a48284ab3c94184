"""A study registered on the database: its row, its frozen design, its quota cells.

The design is frozen on the first start: later starts field the stored one. A different
design for a study already registered is an error, and so is a changed study file once
respondents have entered.
"""

from __future__ import annotations

import io
import time

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from offerlab.design import Design, make_design
from offerlab.exceptions import OfferlabError
from offerlab.store import QuotaCell, Respondent, StudyRow, migrate
from offerlab.study import Study

__all__ = ["register_study"]


def register_study(
    engine: Engine, study: Study, study_text: str, design: Design | None, status: str
) -> tuple[Design, int]:
    """Migrate the database and register the study (in ``status``), or find it registered:
    the design it is fielded with and its row's id.

    Raises
    ------
    OfferlabError
        The study conflicts with what is stored.
    """
    migrate(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        row = session.execute(select(StudyRow).where(StudyRow.name == study.name)).scalar()
        if row is None:
            design = design or make_design(study)
            buffer = io.StringIO()
            design.to_frame().to_csv(buffer, index=False)
            row = StudyRow(
                name=study.name,
                study_yaml=study_text,
                design_csv=buffer.getvalue(),
                n_versions=design.n_versions,
                status=status,
                entries=0,
                created_at=time.time(),
            )
            session.add(row)
            session.flush()
        else:
            stored = Design.from_frame(study, pd.read_csv(io.StringIO(row.design_csv)))
            if design is not None and not _same_design(stored, design):
                raise OfferlabError(
                    f"study {study.name!r} is already fielded with another design; "
                    "leave out --design to use the stored one, or give the study a new name"
                )
            design = stored
            if row.study_yaml != study_text:
                started = session.execute(
                    select(Respondent.id).where(Respondent.study_id == row.id).limit(1)
                ).first()
                if started is not None:
                    raise OfferlabError(
                        f"the study file of {study.name!r} changed after respondents "
                        "entered; field the new file under a new name"
                    )
                row.study_yaml = study_text
        _sync_quota_cells(session, row.id, study)
        return design, row.id


def _same_design(a: Design, b: Design) -> bool:
    return a.levels.shape == b.levels.shape and bool((a.levels == b.levels).all())


def _sync_quota_cells(session: Session, study_id: int, study: Study) -> None:
    """One row per (quota, option) with a target; targets follow the study file, counts stay."""
    assert study.questionnaire is not None
    existing = {
        (c.quota, c.option): c
        for c in session.execute(select(QuotaCell).where(QuotaCell.study_id == study_id)).scalars()
    }
    for quota in study.questionnaire.quotas:
        for option, target in quota.targets.items():
            cell = existing.get((quota.name, option))
            if cell is None:
                session.add(
                    QuotaCell(
                        study_id=study_id, quota=quota.name, option=option, target=target, count=0
                    )
                )
            else:
                cell.target = max(target, cell.count)
