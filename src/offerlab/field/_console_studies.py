"""The studies in the console: the list, a new study, one study's page and its life cycle,
shares with viewers and simulated test respondents.

Every change is written to the audit log in the transaction that makes it.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offerlab.exceptions import OfferlabError
from offerlab.field import _auth
from offerlab.field._audit import record_study_event
from offerlab.field._bot import simulate_respondents
from offerlab.field._console_core import Console, Form, see_other
from offerlab.field._console_downloads import MAX_INVITATIONS, invitation_counts
from offerlab.field._console_texts import Message
from offerlab.field._dashboard import dashboard_view
from offerlab.field._lifecycle import (
    MOVES,
    STATES,
    LifecycleError,
    Move,
    admission,
    moves_from,
    transition,
)
from offerlab.field._privacy import purge_expired
from offerlab.field._service import Fielding
from offerlab.store import Membership, StudyRow, StudyShare, User, Venture
from offerlab.study import ConceptTestPage, concept_image, parse_study

__all__ = ["MOVE_LABELS", "study_routes"]

MAX_STUDY_TEXT = 512 * 1024
MAX_SIMULATED = 200
PURGE_EVERY = 3600.0

#: The console's button for each move of the life cycle, (move, target) → catalogue key
#: (console.yaml), and the key of its confirming button.
MOVE_LABELS = {
    ("test", "testing"): "move_test",
    ("launch", "live"): "move_launch",
    ("pause", "paused"): "move_pause",
    ("resume", "live"): "move_resume",
    ("close", "closed"): "move_close",
    ("reopen", "live"): "move_reopen_live",
    ("reopen", "paused"): "move_reopen_paused",
}
MOVE_WARNINGS = {
    "launch": "move_warning_launch",
    "close": "move_warning_close",
    "reopen": "move_warning_reopen",
}
#: What each state means, as a catalogue key.
STATE_TEXTS = {state: f"state_text_{state}" for state in STATES}


class _Studies:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine
        self.purged_at = 0.0

    # -- the list of studies ------------------------------------------------------------------
    def _listing(self, user_id: int) -> list[dict[str, Any]]:
        """The user's ventures, each with the studies the user may read."""
        with Session(self.engine) as session:
            ventures = session.execute(
                select(Venture.id, Venture.name, Membership.role)
                .join(Membership, Membership.venture_id == Venture.id)
                .where(Membership.user_id == user_id)
                .order_by(Venture.name)
            ).all()
            out = []
            for vid, vname, role in ventures:
                studies = session.execute(
                    select(StudyRow).where(StudyRow.venture_id == vid).order_by(StudyRow.name)
                ).scalars()
                visible = [
                    {"name": s.name, "status": s.status, "row": s}
                    for s in studies
                    if _auth.study_access(session, user_id, s).read
                ]
                out.append({"id": vid, "name": vname, "role": role, "studies": visible})
            return out

    def _titled(self, ventures: list[dict[str, Any]], language: str) -> None:
        # after the listing's session: opening a study may write (never inside a read)
        for venture in ventures:
            for study in venture["studies"]:
                study["title"] = self.console._study_title(study.pop("row"), language)

    async def index(self, request: Request, user: Any) -> Response:
        language = self.console.language(request, user)
        ventures = await run_in_threadpool(self._listing, user.id)
        await run_in_threadpool(self._titled, ventures, language)
        if time.time() - self.purged_at > PURGE_EVERY:  # retention, between server starts
            self.purged_at = time.time()
            await run_in_threadpool(purge_expired, self.engine)
        return self.console.page(request, "console_index.html", user=user, ventures=ventures)

    async def create_study(self, request: Request, user: Any, form: Form) -> Response:
        c = self.console
        venture = request.path_params["venture"]
        with Session(self.engine) as session:
            role = _auth.venture_role(session, user.id, venture)
        if role not in ("owner", "analyst"):
            return c.refuse(request, 403, Message("refuse_create"), user)
        uploaded = form.get("study_file", "")
        text = uploaded if uploaded.strip() else form.get("study_yaml", "")
        source = (form.get("study_file:filename") if uploaded.strip() else "") or "study file"
        if not text.strip() or len(text) > MAX_STUDY_TEXT:
            return c.refuse(request, 422, Message("refuse_study_text"), user)

        def create() -> str:
            study = parse_study(text, source)
            with Session(self.engine) as session:
                if c._study(session, study.name) is not None:
                    raise FileExistsError(study.name)
            fielding = Fielding.open(self.engine, study, text, status="draft")
            with Session(self.engine) as session, session.begin():
                row = session.get_one(StudyRow, fielding.study_id)
                row.venture_id = venture
                record_study_event(session, "study.create", user.id, row, {"name": study.name})
            c.registry.add(fielding)
            return study.name

        try:
            name = await run_in_threadpool(create)
        except FileExistsError as exists:
            return c.refuse(request, 409, Message("refuse_study_exists", name=str(exists)), user)
        except OfferlabError as error:
            return c.refuse(request, 422, Message("refuse_study_file", detail=str(error)), user)
        return see_other(f"/console/studies/{name}")

    # -- one study ------------------------------------------------------------------------------
    async def study(
        self, request: Request, user: Any, fielding: Fielding, row: StudyRow
    ) -> Response:
        c = self.console
        access = (await run_in_threadpool(c._access, user.id, row.name))[1]
        invitations = await run_in_threadpool(invitation_counts, self.engine, row.id)
        language = c.language(request, user)
        dashboard = (
            await run_in_threadpool(
                dashboard_view, fielding, language, max_age=0, wait_for_flags=2.0
            )
            if access.write
            else None
        )
        moves = [
            {"name": m.name, "to": m.target, "label": MOVE_LABELS[(m.name, m.target)]}
            for m in moves_from(row.status, access.role)
        ]
        return c.page(
            request,
            "console_study.html",
            user=user,
            study=row,
            study_title=c._study_title(row, language),
            invitations=invitations,
            max_invitations=MAX_INVITATIONS,
            dashboard=dashboard,
            moves=moves if access.write else [],
            state_text=STATE_TEXTS[row.status],
            can_simulate=admission(row.status, inside=False, test=True, finish_when_paused=True)
            is None,
            can_write=access.write,
            is_owner=access.role == "owner",
            link=f"/s/{row.name}",
            images_without_folder=images_without_folder(fielding.study, language),
            test_link=f"/s/{row.name}?offerlab_test={fielding.test_key}" if access.write else "",
        )

    def _move(self, user: Any, form: Form, row: StudyRow) -> Move | Response | tuple[int, Message]:
        """Make the move the form asks for, in one transaction: done (the study's page), a
        move to confirm first, or why not (403, 409)."""
        action, target = form.get("action", ""), form.get("to") or None
        with Session(self.engine) as session, session.begin():
            study = _locked_study(session, row.id)
            role = _auth.study_access(session, user.id, study).role
            try:
                chosen = transition(study.status, action, role, target)
            except LifecycleError as refused:
                return (403 if refused.forbidden else 409), refused.message
            if chosen.confirm and form.get("confirm") != "yes":
                return chosen  # not yet: the user confirms first
            detail: dict[str, Any] = {"from": study.status, "to": chosen.target}
            detail["move"] = chosen.name
            study.status = chosen.target
            if chosen.name == "pause":
                study.finish_when_paused = form.get("inside", "finish") != "stop"
                detail["finish_when_paused"] = study.finish_when_paused
            record_study_event(session, "study.status", user.id, study, detail)
        return see_other(f"/console/studies/{row.name}")

    async def set_status(
        self, request: Request, user: Any, form: Form, fielding: Fielding, row: StudyRow
    ) -> Response:
        """Move the study in its life cycle: only the moves the rules allow the user's role.

        Launch, close and reopen need ``confirm=yes``: without it the answer is a page
        asking to confirm (a form, so it works without JavaScript) and nothing changes.
        Every move is recorded in the audit log, in the transaction that makes it.
        """
        c = self.console
        action, target = form.get("action", ""), form.get("to") or None
        if action not in {m.name for m in MOVES} or (target is not None and target not in STATES):
            names = ", ".join(sorted({m.name for m in MOVES}))
            return c.refuse(request, 422, Message("refuse_action", names=names), user)
        done = await run_in_threadpool(self._move, user, form, row)
        if isinstance(done, Response):
            return done
        if isinstance(done, tuple):
            back = f"/console/studies/{row.name}"
            return c.refuse(request, done[0], done[1], user, back=back)
        return c.page(
            request,
            "console_confirm.html",
            user=user,
            study=row,
            study_title=c._study_title(row, c.language(request, user)),
            move=done,
            label=MOVE_LABELS[(done.name, done.target)],
            yes_label=MOVE_LABELS[(done.name, done.target)] + "_yes",
            warning=MOVE_WARNINGS.get(done.name, ""),
        )

    # -- viewers and test runs --------------------------------------------------------------------
    def _share(self, user: Any, row: StudyRow, email: str) -> bool:
        """Share the study with a member of its venture (False: no such member)."""
        with Session(self.engine) as session, session.begin():
            viewer = session.execute(
                select(User.id)
                .join(Membership, Membership.user_id == User.id)
                .where(User.email == email, Membership.venture_id == row.venture_id)
            ).scalar()
            if viewer is None:
                return False
            exists = session.execute(
                select(StudyShare.id).where(
                    StudyShare.study_id == row.id, StudyShare.user_id == viewer
                )
            ).first()
            if exists is None:
                session.add(StudyShare(study_id=row.id, user_id=viewer))
                record_study_event(session, "study.share", user.id, row, {"email": email})
        return True

    async def share(
        self, request: Request, user: Any, form: Form, fielding: Fielding, row: StudyRow
    ) -> Response:
        email = form.get("email", "").strip().lower()
        if not await run_in_threadpool(self._share, user, row, email):
            back = f"/console/studies/{row.name}"
            return self.console.refuse(request, 422, Message("refuse_share"), user, back=back)
        return see_other(f"/console/studies/{row.name}")

    async def simulate(
        self, request: Request, user: Any, form: Form, fielding: Fielding, row: StudyRow
    ) -> Response:
        c = self.console
        back = f"/console/studies/{row.name}"
        n = form.get("n", "")
        if not (n.isascii() and n.isdigit()) or not 1 <= int(n) <= MAX_SIMULATED:
            return c.refuse(request, 422, Message("refuse_n", n=MAX_SIMULATED), user, back=back)
        state = await run_in_threadpool(fielding.state)
        if state.admission(inside=False, test=True) is not None:
            problem = Message("refuse_simulate_state", state=Message(f"state_{state.status}"))
            return c.refuse(request, 409, problem, user, back=back)
        await run_in_threadpool(simulate_respondents, request.app, fielding, int(n))
        await run_in_threadpool(c._record, "study.simulate_tests", user.id, row, {"n": int(n)})
        return see_other(f"/console/studies/{fielding.study.name}")


def images_without_folder(study: Any, language: str) -> list[str]:
    """The titles of the concept cards whose image the study names but could not read: a
    study uploaded as text has no folder to read images from (and none is taken from an
    upload: the survey shows only images checked when a study is loaded from its folder,
    study._concept_images), so its respondents see those cards without the image."""
    pages = study.questionnaire.pages if study.questionnaire is not None else []
    return [
        study.text(concept.title, language)
        for page in pages
        if isinstance(page, ConceptTestPage)
        for concept in page.concepts
        if concept.image is not None and concept_image(study, page.id, concept.name) is None
    ]


def _locked_study(session: Session, study_id: int) -> StudyRow:
    """The study's row, locked until the transaction ends (two moves never interleave)."""
    query = select(StudyRow).where(StudyRow.id == study_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.execute(query).scalar_one()


def study_routes(console: Console) -> list[Route]:
    """The list of studies, a new study, one study's page, its moves, shares and tests."""
    s = _Studies(console)
    study = "/console/studies/{study}"
    # a study file uploaded, or its text pasted; room for the file and the form around it
    upload = {"max_body": MAX_STUDY_TEXT + 16 * 1024, "file_fields": ("study_file",)}
    return [
        Route("/console/", console.signed_in(s.index), methods=["GET"]),
        Route(
            "/console/ventures/{venture:id}/studies",
            console.posted(s.create_study, **upload),
            methods=["POST"],
        ),
        Route(study, console.study_page(s.study), methods=["GET"]),
        Route(f"{study}/status", console.study_post(s.set_status), methods=["POST"]),
        Route(f"{study}/simulate", console.study_post(s.simulate), methods=["POST"]),
        Route(f"{study}/share", console.study_post(s.share), methods=["POST"]),
    ]
