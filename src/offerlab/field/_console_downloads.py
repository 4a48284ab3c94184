"""The console's downloads: respondents' personal invitation links, the study's data.

Owners and analysts make N personal links (their CSV comes back at once) and download
all of them again, the choice data (CSV, Parquet), answers, respondents and the MaxDiff,
Kano and concept tables, labelled in the member's language. Every download is written
to the audit log.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offerlab.data import write_csv
from offerlab.field._console_core import Console, Form, attachment
from offerlab.field._console_texts import Message
from offerlab.field._console_views import StudyLabels, invitations_table, readable_table
from offerlab.field._export import (
    answers_table,
    choice_data,
    concept_data,
    kano_data,
    maxdiff_data,
    respondents_table,
)
from offerlab.field._service import Fielding
from offerlab.store import Invitation, Respondent, StudyRow

__all__ = [
    "MAX_INVITATIONS",
    "download_routes",
    "invitation_counts",
    "invitation_routes",
]

MAX_INVITATIONS = 10_000

#: Each table a study's page offers, by its file name.
_MAKERS = {
    "choices.csv": choice_data,
    "choices.parquet": choice_data,
    "answers.csv": answers_table,
    "respondents.csv": respondents_table,
    "maxdiff.csv": maxdiff_data,
    "kano.csv": kano_data,
    "concepts.csv": concept_data,
}


def invitation_counts(engine: Engine, study_id: int) -> dict[str, int]:
    """How many personal links the study has, and how many started a respondent."""
    with Session(engine) as session:
        made = session.execute(
            select(func.count()).where(Invitation.study_id == study_id)
        ).scalar_one()
        used = session.execute(
            select(func.count())
            .select_from(Respondent)
            .where(Respondent.study_id == study_id, Respondent.invitation_id.is_not(None))
        ).scalar_one()
    return {"made": made, "used": used}


def _invitation_rows(engine: Engine, study_id: int, tokens: list[str] | None = None) -> list[Any]:
    with Session(engine) as session:
        query = (
            select(
                Invitation.token,
                Invitation.created_at,
                Respondent.id.is_not(None).label("used"),
            )
            .outerjoin(Respondent, Respondent.invitation_id == Invitation.id)
            .where(Invitation.study_id == study_id)
            .order_by(Invitation.id)
        )
        if tokens is not None:
            query = query.where(Invitation.token.in_(tokens))
        return list(session.execute(query).all())


class _Downloads:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine

    def _invitations_csv(
        self, request: Request, user: Any, fielding: Fielding, row: StudyRow, rows: list[Any]
    ) -> Response:
        labels = StudyLabels(fielding.study, self.console.language(request, user))
        frame = invitations_table(rows, str(request.base_url), labels)
        return attachment(
            write_csv(frame),
            "text/csv; charset=utf-8",
            f"{row.name}_invitations.csv",
            **{"Cache-Control": "no-store"},
        )

    async def make_invitations(
        self, request: Request, user: Any, form: Form, fielding: Fielding, row: StudyRow
    ) -> Response:
        """Owners and analysts make N personal respondent links; the CSV of them comes back."""
        n = form.get("n", "").strip()
        if not (n.isascii() and n.isdigit() and len(n) <= 6) or not 1 <= int(n) <= MAX_INVITATIONS:
            back = f"/console/studies/{row.name}"
            problem = Message("refuse_n", n=MAX_INVITATIONS)
            return self.console.refuse(request, 422, problem, user, back=back)
        tokens = await run_in_threadpool(fielding.invite, int(n))
        await run_in_threadpool(
            self.console._record, "study.invitations", user.id, row, {"n": int(n)}
        )
        made = []
        for start in range(0, len(tokens), 500):  # bounded IN lists
            made += await run_in_threadpool(
                _invitation_rows, self.engine, row.id, tokens[start : start + 500]
            )
        return self._invitations_csv(request, user, fielding, row, made)

    async def download(
        self, request: Request, user: Any, fielding: Fielding, row: StudyRow
    ) -> Response:
        what = request.path_params["what"]
        if what == "invitations.csv":
            rows = await run_in_threadpool(_invitation_rows, self.engine, row.id)
            await self._downloaded(user, row, what, len(rows))
            return self._invitations_csv(request, user, fielding, row, rows)
        frame = await self._table(request, user, fielding, what)
        if isinstance(frame, Response):
            return frame
        await self._downloaded(user, row, what, len(frame))
        name = f"{row.name}_{what}"
        if what.endswith(".parquet"):  # raw: a typed format no spreadsheet evaluates
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            return attachment(buffer.getvalue(), "application/vnd.apache.parquet", name)
        return attachment(write_csv(frame), "text/csv; charset=utf-8", name)

    async def _table(
        self, request: Request, user: Any, fielding: Fielding, what: str
    ) -> pd.DataFrame | Response:
        """The table ``what``, labelled in the page's language, or a 404 page."""
        if what not in _MAKERS:
            return self.console.refuse(request, 404, Message("refuse_no_download"), user)
        try:
            frame = await run_in_threadpool(_MAKERS[what], fielding)
        except ValueError:  # the questionnaire has no (single) page of that type
            return self.console.refuse(request, 404, Message("refuse_no_download"), user)
        labels = StudyLabels(fielding.study, self.console.language(request, user))
        return await run_in_threadpool(readable_table, what, frame, labels)

    async def _downloaded(self, user: Any, row: StudyRow, what: str, rows: int) -> None:
        detail = {"what": what, "rows": rows}
        await run_in_threadpool(self.console._record, "study.download", user.id, row, detail)


def invitation_routes(console: Console) -> list[Route]:
    """POST ``/console/studies/{study}/invitations``: N new personal links, as CSV."""
    d = _Downloads(console)
    return [
        Route(
            "/console/studies/{study}/invitations",
            console.study_post(d.make_invitations),
            methods=["POST"],
        )
    ]


def download_routes(console: Console) -> list[Route]:
    """GET ``/console/studies/{study}/{what}``: a table of the study (owners, analysts).
    A catch-all of the study's addresses: the console lists it after the others."""
    d = _Downloads(console)
    return [
        Route(
            "/console/studies/{study}/{what}",
            console.study_page(d.download, write=True),
            methods=["GET"],
        )
    ]
