"""The team's console: log in, studies by venture, create/test/launch/pause/close, figures, data.

Routes (all under ``/console``; one explicit table, :func:`console_routes`):

=================================================  ======  ===========================
route                                              method  who
=================================================  ======  ===========================
``/console/login``                                 GET     anyone
``/console/login``                                 POST    anyone (throttled)
``/console/logout``                                POST    logged in
``/console/``                                      GET     logged in: visible studies
``/console/account``                               GET     logged in: change password
``/console/account/password``                      POST    logged in (current password)
``/console/ventures/{venture}/studies``            POST    owner, analyst: create
``/console/ventures/{venture}/members``            GET     owner: the member list
``/console/ventures/{venture}/members``            POST    owner: add a member
``/console/ventures/{venture}/members/{id}/remove``  POST  owner (not the last owner)
``/console/ventures/{venture}/audit``              GET     owner: the audit log
``/console/studies/{study}``                       GET     owner, analyst, viewer
                                                           (shared): live figures
``/console/studies/{study}/status``                POST    owner, analyst: a move of the
                                                           life cycle (reopen: owner);
                                                           launch, close, reopen ask to
                                                           confirm first
``/console/studies/{study}/simulate``              POST    owner, analyst
``/console/studies/{study}/share``                 POST    owner, analyst
``/console/studies/{study}/simulator``             GET     owner, analyst, viewer
                                                           (shared): the market simulator
``/console/studies/{study}/simulator``             POST    owner, analyst: publish one
``/console/assets/simulator.js``                   GET     anyone: the simulator's script
``/console/studies/{study}/choices.csv``           GET     owner, analyst (also
                                                           ``choices.parquet``)
``/console/studies/{study}/answers.csv``           GET     owner, analyst
``/console/studies/{study}/respondents.csv``       GET     owner, analyst
``/console/studies/{study}/privacy``               GET     owner: data protection
``/console/studies/{study}/privacy/export``        GET     owner: one respondent (JSON)
``/console/studies/{study}/privacy/delete``        POST    owner: one respondent
``/console/studies/{study}/retention``             POST    owner: keep answers N days
=================================================  ======  ===========================

Every change and every download is written to the audit log (``record_event``) in
the transaction that makes it; owners read the log of their venture.

A study the user may not read is 404 (its existence is not told); one they may
read but not change is 403. Every POST carries the session's CSRF token; the
login form a double-submit token. Pages without a session lead to the login.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from offerlab.data import write_csv
from offerlab.exceptions import OfferlabError
from offerlab.field import _auth
from offerlab.field._console_texts import ConsoleTexts, console_language
from offerlab.field._export import (
    answers_table,
    choice_data,
    concept_data,
    kano_data,
    maxdiff_data,
    respondents_table,
)
from offerlab.field._lifecycle import (
    MOVES,
    STATES,
    LifecycleError,
    Move,
    admission,
    moves_from,
    transition,
)
from offerlab.field._privacy import (
    FIND_BY,
    MAX_RETENTION_DAYS,
    delete_respondent,
    export_respondent,
    purge_expired,
    set_retention,
)
from offerlab.field._service import Fielding
from offerlab.field._simulator import (
    MAX_MARKET_TEXT,
    publish_simulator,
    published_simulators,
    run_simulator_fit,
    starter_market,
)
from offerlab.models._by_name import decision_model_title
from offerlab.report import json_for_html
from offerlab.store import (
    AuditEvent,
    Membership,
    QuotaCell,
    Respondent,
    StudyRow,
    StudyShare,
    Submission,
    User,
    Venture,
    record_event,
)
from offerlab.study import parse_study


class _RowId(Convertor[int]):
    """A row id in a path: up to 18 digits, so it fits the databases' 64-bit integers
    (Starlette's ``int`` takes any length, and SQLite fails on a 21-digit one with a 500)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", _RowId())

_SIMULATOR_JS = Path(__file__).resolve().parent.parent / "report" / "templates" / "_simulator.js"

__all__ = ["console_routes"]

COOKIE = "offerlab_console"
LOGIN_COOKIE = "offerlab_login"
MAX_STUDY_TEXT = 512 * 1024
MAX_SIMULATED = 200
MAX_AUDIT_ROWS = 500
PURGE_EVERY = 3600.0

#: The console's button for each move of the life cycle, (move, target) → label.
MOVE_LABELS = {
    ("test", "testing"): "Start testing",
    ("launch", "live"): "Launch",
    ("pause", "paused"): "Pause",
    ("resume", "live"): "Resume",
    ("close", "closed"): "Close",
    ("reopen", "live"): "Reopen (live)",
    ("reopen", "paused"): "Reopen (paused)",
}
MOVE_WARNINGS = {
    "launch": "Everyone with the link can take part from now on; their answers count.",
    "close": "Nothing more is stored, not even for people in the middle of the survey. "
    "Only an owner can reopen the study.",
    "reopen": "Respondents can take part again (or continue, once resumed). "
    "The reopening is recorded in the audit log.",
}
STATE_TEXTS = {
    "draft": "Draft: nobody can take part yet, not even test respondents.",
    "testing": "Testing: only test respondents (the test link, simulated runs) can take part.",
    "live": "Live: everyone with the link can take part.",
    "paused": "Paused: no new respondents.",
    "closed": "Closed: nothing more is stored.",
}


class Console:
    """The console's handlers, on the database of a :class:`~offerlab.field._app.Registry`."""

    def __init__(self, registry: Any, templates: Jinja2Templates, secure_cookies: bool) -> None:
        self.registry = registry
        self.engine: Engine = registry.engine
        self.templates = templates
        self.secure = secure_cookies
        self.purged_at = 0.0

    # -- helpers ------------------------------------------------------------------------
    def page(
        self,
        request: Request,
        name: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        language = self.language(request)
        texts = ConsoleTexts(language)
        return self.templates.TemplateResponse(
            request,
            name,
            {"lang": language, "t": texts, "title": texts("console_title"), **context},
            status_code=status,
            headers=headers,
        )

    def language(self, request: Request) -> str:
        """The page's language: the switch, the browser, else English."""
        return console_language(
            request.query_params, request.cookies, request.headers.get("accept-language", ""), None
        )

    def user(self, request: Request) -> _auth.SessionUser | None:
        with Session(self.engine) as session:
            return _auth.session_user(session, request.cookies.get(COOKIE, ""))

    async def _form(self, request: Request, **limits: Any) -> dict[str, str] | None:
        from offerlab.field._app import _read_form

        form = await _read_form(request, **limits)
        if form is None:
            return None
        return {k: v[0] for k, v in form.items()}

    async def _post_user(
        self, request: Request, **limits: Any
    ) -> tuple[Any, dict[str, str]] | Response:
        """The logged-in user and the form of a POST, or the response refusing it."""
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return PlainTextResponse("log in first", status_code=403)
        form = await self._form(request, **limits)
        if form is None:
            return PlainTextResponse("the request is not a valid form", status_code=400)
        if not secrets.compare_digest(form.get("csrf", "").encode(), user.csrf.encode()):
            return PlainTextResponse("missing or wrong CSRF token", status_code=403)
        return user, form

    async def _post_for_study(
        self, request: Request, **limits: Any
    ) -> tuple[Any, dict[str, str], tuple[Fielding, StudyRow]] | Response:
        """User and form of a POST that changes a study the user may write, or the refusal."""
        checked = await self._post_user(request, **limits)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        found = await self._study_for(request, user, write=True)
        if isinstance(found, Response):
            return found
        return user, form, found

    def _study(self, session: Session, name: str) -> StudyRow | None:
        return session.execute(select(StudyRow).where(StudyRow.name == name)).scalar()

    def _access(self, user_id: int, name: str) -> tuple[StudyRow | None, _auth.Access]:
        with Session(self.engine) as session:
            row = self._study(session, name)
            if row is None:
                return None, _auth.Access()
            return row, _auth.study_access(session, user_id, row)

    async def _study_for(
        self, request: Request, user: Any, write: bool
    ) -> tuple[Fielding, StudyRow] | Response:
        name = request.path_params["study"]
        row, access = await run_in_threadpool(self._access, user.id, name)
        if row is None or not access.read:
            return PlainTextResponse("no such study", status_code=404)
        if write and not access.write:
            return PlainTextResponse("your role may only read this study", status_code=403)
        fielding = await run_in_threadpool(self.registry.get, name)
        return fielding, row

    async def _get_for_study(
        self, request: Request, write: bool
    ) -> tuple[Any, Fielding, StudyRow] | Response:
        """User, fielding and row of a page of a study the user may read (or write)."""
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return RedirectResponse("/console/login", status_code=303)
        found = await self._study_for(request, user, write=write)
        if isinstance(found, Response):
            return found
        return user, *found

    # -- log in and out -------------------------------------------------------------------
    async def login_form(self, request: Request) -> Response:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        response = self.page(request, "console_login.html", login_csrf=token, error="")
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/console",
        )
        return response

    async def login(self, request: Request) -> Response:
        form = await self._form(request)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if (
            form is None
            or not cookie
            or not secrets.compare_digest(form.get("login_csrf", "").encode(), cookie.encode())
        ):
            return PlainTextResponse("missing or wrong login token", status_code=403)
        email = form.get("email", "")[:254]
        password = form.get("password", "")[:1024]
        client = request.client.host if request.client else ""

        def attempt() -> tuple[str, str] | float | None:
            at = _auth.now()
            with Session(self.engine) as session, session.begin():
                wait = _auth.login_wait(session, email, client, at)
                if wait > 0:
                    return wait  # the password is not even checked: no oracle while waiting
                return _auth.login(session, email, password, client, at)

        result = await run_in_threadpool(attempt)
        if isinstance(result, float):
            return self.page(
                request,
                "console_login.html",
                429,
                login_csrf=cookie,
                error=f"Too many failed logins: wait {_auth.duration_text(result)} and try again.",
                headers={"Retry-After": str(max(1, int(result + 0.999)))},
            )
        if result is None:
            return self.page(
                request,
                "console_login.html",
                401,
                login_csrf=cookie,
                error="Wrong e-mail address or password.",
            )
        token, _ = result  # type: ignore[misc]
        response = RedirectResponse("/console/", status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/console",
            max_age=int(_auth.SESSION_SECONDS),
        )
        return response

    async def logout(self, request: Request) -> Response:
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked

        def out() -> None:
            with Session(self.engine) as session, session.begin():
                _auth.logout(session, request.cookies.get(COOKIE, ""))

        await run_in_threadpool(out)
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response

    # -- the list of studies ------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return RedirectResponse("/console/login", status_code=303)

        def listing() -> list[dict[str, Any]]:
            with Session(self.engine) as session:
                ventures = session.execute(
                    select(Venture.id, Venture.name, Membership.role)
                    .join(Membership, Membership.venture_id == Venture.id)
                    .where(Membership.user_id == user.id)
                    .order_by(Venture.name)
                ).all()
                out = []
                for vid, vname, role in ventures:
                    studies = session.execute(
                        select(StudyRow).where(StudyRow.venture_id == vid).order_by(StudyRow.name)
                    ).scalars()
                    visible = [
                        {"name": s.name, "status": s.status}
                        for s in studies
                        if _auth.study_access(session, user.id, s).read
                    ]
                    out.append({"id": vid, "name": vname, "role": role, "studies": visible})
                return out

        ventures = await run_in_threadpool(listing)
        if time.time() - self.purged_at > PURGE_EVERY:  # retention, between server starts
            self.purged_at = time.time()
            await run_in_threadpool(purge_expired, self.engine)
        return self.page(request, "console_index.html", user=user, ventures=ventures)

    async def create_study(self, request: Request) -> Response:
        # a study file uploaded, or its text pasted; room for the file and the form around it
        checked = await self._post_user(
            request, max_body=MAX_STUDY_TEXT + 16 * 1024, file_fields=("study_file",)
        )
        if isinstance(checked, Response):
            return checked
        user, form = checked
        venture = request.path_params["venture"]
        with Session(self.engine) as session:
            role = _auth.venture_role(session, user.id, venture)
        if role not in ("owner", "analyst"):
            return PlainTextResponse("only owners and analysts create studies", status_code=403)
        uploaded = form.get("study_file", "")
        text = uploaded if uploaded.strip() else form.get("study_yaml", "")
        source = (form.get("study_file:filename") if uploaded.strip() else "") or "study file"
        if not text.strip() or len(text) > MAX_STUDY_TEXT:
            return PlainTextResponse(
                "upload or paste a study file (at most 512 KiB)", status_code=422
            )

        def create() -> str:
            study = parse_study(text, source)
            with Session(self.engine) as session:
                if self._study(session, study.name) is not None:
                    raise FileExistsError(study.name)
            fielding = Fielding.open(self.engine, study, text, status="draft")
            with Session(self.engine) as session, session.begin():
                session.get_one(StudyRow, fielding.study_id).venture_id = venture
                record_event(
                    session,
                    "study.create",
                    user_id=user.id,
                    venture_id=venture,
                    study_id=fielding.study_id,
                    detail={"name": study.name},
                )
            self.registry.add(fielding)
            return study.name

        try:
            name = await run_in_threadpool(create)
        except FileExistsError as exists:
            return PlainTextResponse(f"a study named {exists} exists already", status_code=409)
        except OfferlabError as error:
            return PlainTextResponse(str(error), status_code=422)
        return RedirectResponse(f"/console/studies/{name}", status_code=303)

    async def add_member(self, request: Request) -> Response:
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        venture = request.path_params["venture"]

        def add() -> str | None:
            try:
                with Session(self.engine) as session, session.begin():
                    if _auth.venture_role(session, user.id, venture) != "owner":
                        return "forbidden"
                    _auth.add_member(
                        session,
                        session.get_one(Venture, venture).name,
                        form.get("email", "")[:254],
                        form.get("role", ""),
                        form.get("password", "")[:1024] or None,
                        by=user.id,
                    )
            except ValueError as error:  # nothing was stored: the transaction rolled back
                return str(error)
            return None

        problem = await run_in_threadpool(add)
        if problem == "forbidden":
            return PlainTextResponse("only owners add members", status_code=403)
        if problem is not None:
            return await self._members_page(
                request,
                user,
                venture,
                error=problem,
                email=form.get("email", "")[:254] or " ",
                role=form.get("role", "viewer"),
            )
        return RedirectResponse(f"/console/ventures/{venture}/members", status_code=303)

    # -- members, the audit log, the user's own password ------------------------------------
    async def _owner_of(self, request: Request) -> tuple[Any, int] | Response:
        """The logged-in owner and the venture of a page only its owners see, or the refusal."""
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return RedirectResponse("/console/login", status_code=303)
        venture = request.path_params["venture"]
        with Session(self.engine) as session:
            role = _auth.venture_role(session, user.id, venture)
        if role is None:
            return PlainTextResponse("no such venture", status_code=404)
        if role != "owner":
            return PlainTextResponse("only the venture's owners see this page", status_code=403)
        return user, venture

    async def members(self, request: Request) -> Response:
        found = await self._owner_of(request)
        if isinstance(found, Response):
            return found
        return await self._members_page(request, *found)

    async def _members_page(
        self,
        request: Request,
        user: Any,
        venture: int,
        error: str = "",
        email: str = "",
        role: str = "viewer",
    ) -> Response:
        def listing() -> tuple[str, list[Any]]:
            with Session(self.engine) as session:
                name = session.get_one(Venture, venture).name
                rows = session.execute(
                    select(User.id, User.email, Membership.role)
                    .join(Membership, Membership.user_id == User.id)
                    .where(Membership.venture_id == venture)
                    .order_by(Membership.role, User.email)
                ).all()
                return name, rows

        name, rows = await run_in_threadpool(listing)
        owners = sum(1 for r in rows if r.role == "owner")
        return self.page(
            request,
            "console_members.html",
            422 if error else 200,
            user=user,
            venture={"id": venture, "name": name},
            members=rows,
            owners=owners,
            error=error,
            email=email,
            role=role,
            min_password=_auth.MIN_PASSWORD,
        )

    async def remove_member(self, request: Request) -> Response:
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked
        user, _ = checked
        venture, member = request.path_params["venture"], request.path_params["member"]

        def remove() -> str | None:
            with Session(self.engine) as session, session.begin():
                if _auth.venture_role(session, user.id, venture) != "owner":
                    return "forbidden"
                return _auth.remove_member(session, venture, member, by=user.id)

        problem = await run_in_threadpool(remove)
        if problem == "forbidden":
            return PlainTextResponse("only owners remove members", status_code=403)
        if problem is not None:
            return await self._members_page(request, user, venture, error=problem)
        if member == user.id:  # an owner who left the venture no longer sees its members
            return RedirectResponse("/console/", status_code=303)
        return RedirectResponse(f"/console/ventures/{venture}/members", status_code=303)

    async def audit(self, request: Request) -> Response:
        found = await self._owner_of(request)
        if isinstance(found, Response):
            return found
        user, venture = found

        def events() -> tuple[str, list[dict[str, str]]]:
            with Session(self.engine) as session:
                name = session.get_one(Venture, venture).name
                studies = select(StudyRow.id).where(StudyRow.venture_id == venture)
                rows = session.execute(
                    select(AuditEvent, StudyRow.name)
                    .outerjoin(StudyRow, StudyRow.id == AuditEvent.study_id)
                    .where((AuditEvent.venture_id == venture) | AuditEvent.study_id.in_(studies))
                    .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                    .limit(MAX_AUDIT_ROWS)
                ).all()
                return name, [
                    {
                        "when": _when(event.at, seconds=True),
                        "who": event.actor or "offerlab (command line or server)",
                        "what": describe_event(event.action, event.detail or {}),
                        "action": event.action,
                        "study": study_name or (event.detail or {}).get("name", ""),
                    }
                    for event, study_name in rows
                ]

        name, rows = await run_in_threadpool(events)
        return self.page(
            request,
            "console_audit.html",
            user=user,
            venture={"id": venture, "name": name},
            events=rows,
            limit=MAX_AUDIT_ROWS,
        )

    async def account(self, request: Request) -> Response:
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return RedirectResponse("/console/login", status_code=303)
        changed = request.query_params.get("changed") == "1"
        return self._account_page(
            request, user, message="Your password was changed." if changed else ""
        )

    def _account_page(
        self, request: Request, user: Any, error: str = "", message: str = "", status: int = 200
    ) -> Response:
        return self.page(
            request,
            "console_account.html",
            status,
            user=user,
            error=error,
            message=message,
            min_password=_auth.MIN_PASSWORD,
            max_password=_auth.MAX_PASSWORD,
        )

    async def change_password(self, request: Request) -> Response:
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        new, again = form.get("new_password", ""), form.get("new_password_again", "")
        client = request.client.host if request.client else ""
        token = request.cookies.get(COOKIE, "")

        def change() -> str | None:
            if new != again:
                return "the two new passwords differ"
            with Session(self.engine) as session, session.begin():
                problem = _auth.change_password(
                    session, user.id, form.get("current_password", ""), new, client
                )
                if problem is None:
                    _auth.end_other_sessions(session, user.id, token)
                return problem

        problem = await run_in_threadpool(change)
        if problem is not None:
            status = 429 if problem.startswith("too many") else 422
            return self._account_page(request, user, error=problem, status=status)
        return RedirectResponse("/console/account?changed=1", status_code=303)

    # -- one study ------------------------------------------------------------------------------
    async def study(self, request: Request) -> Response:
        found = await self._get_for_study(request, write=False)
        if isinstance(found, Response):
            return found
        user, fielding, row = found
        access = (await run_in_threadpool(self._access, user.id, row.name))[1]
        figures = await run_in_threadpool(live_figures, fielding)
        moves = [
            {"name": m.name, "to": m.target, "label": MOVE_LABELS[(m.name, m.target)]}
            for m in moves_from(row.status, access.role)
        ]
        return self.page(
            request,
            "console_study.html",
            user=user,
            study=row,
            figures=figures,
            moves=moves if access.write else [],
            state_text=STATE_TEXTS[row.status],
            can_simulate=admission(row.status, inside=False, test=True, finish_when_paused=True)
            is None,
            can_write=access.write,
            is_owner=access.role == "owner",
            link=f"/s/{row.name}",
            test_link=f"/s/{row.name}?offerlab_test={fielding.test_key}" if access.write else "",
        )

    async def set_status(self, request: Request) -> Response:
        """Move the study in its life cycle: only the moves the rules allow the user's role.

        Launch, close and reopen need ``confirm=yes``: without it the answer is a page
        asking to confirm (a form, so it works without JavaScript) and nothing changes.
        Every move is recorded in the audit log, in the transaction that makes it.
        """
        checked = await self._post_for_study(request)
        if isinstance(checked, Response):
            return checked
        user, form, (_, row) = checked
        action, target = form.get("action", ""), form.get("to") or None
        if action not in {m.name for m in MOVES} or (target is not None and target not in STATES):
            names = ", ".join(sorted({m.name for m in MOVES}))
            return PlainTextResponse(f"action is one of {names}", status_code=422)

        def move() -> Move | Response:
            with Session(self.engine) as session, session.begin():
                study = self._locked_study(session, row.id)
                role = _auth.study_access(session, user.id, study).role
                try:
                    chosen = transition(study.status, action, role, target)
                except LifecycleError as refused:
                    status = 403 if refused.forbidden else 409
                    return PlainTextResponse(str(refused), status_code=status)
                if chosen.confirm and form.get("confirm") != "yes":
                    return chosen  # not yet: the user confirms first
                detail: dict[str, Any] = {"from": study.status, "to": chosen.target}
                detail["move"] = chosen.name
                study.status = chosen.target
                if chosen.name == "pause":
                    study.finish_when_paused = form.get("inside", "finish") != "stop"
                    detail["finish_when_paused"] = study.finish_when_paused
                record_event(
                    session,
                    "study.status",
                    user_id=user.id,
                    venture_id=study.venture_id,
                    study_id=study.id,
                    detail=detail,
                )
            return RedirectResponse(f"/console/studies/{row.name}", status_code=303)

        done = await run_in_threadpool(move)
        if isinstance(done, Response):
            return done
        return self.page(
            request,
            "console_confirm.html",
            user=user,
            study=row,
            move=done,
            label=MOVE_LABELS[(done.name, done.target)],
            warning=MOVE_WARNINGS.get(done.name, ""),
        )

    def _locked_study(self, session: Session, study_id: int) -> StudyRow:
        """The study's row, locked until the transaction ends (two moves never interleave)."""
        query = select(StudyRow).where(StudyRow.id == study_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return session.execute(query).scalar_one()

    async def share(self, request: Request) -> Response:
        checked = await self._post_for_study(request)
        if isinstance(checked, Response):
            return checked
        user, form, (_, row) = checked
        email = form.get("email", "").strip().lower()

        def add() -> Response:
            with Session(self.engine) as session, session.begin():
                viewer = session.execute(
                    select(User.id)
                    .join(Membership, Membership.user_id == User.id)
                    .where(User.email == email, Membership.venture_id == row.venture_id)
                ).scalar()
                if viewer is None:
                    return PlainTextResponse(
                        "share with a member of the study's venture", status_code=422
                    )
                exists = session.execute(
                    select(StudyShare.id).where(
                        StudyShare.study_id == row.id, StudyShare.user_id == viewer
                    )
                ).first()
                if exists is None:
                    session.add(StudyShare(study_id=row.id, user_id=viewer))
                    record_event(
                        session,
                        "study.share",
                        user_id=user.id,
                        venture_id=row.venture_id,
                        study_id=row.id,
                        detail={"email": email},
                    )
            return RedirectResponse(f"/console/studies/{row.name}", status_code=303)

        return await run_in_threadpool(add)

    async def simulate(self, request: Request) -> Response:
        checked = await self._post_for_study(request)
        if isinstance(checked, Response):
            return checked
        user, form, (fielding, row) = checked
        n = form.get("n", "")
        if not (n.isascii() and n.isdigit()) or not 1 <= int(n) <= MAX_SIMULATED:
            return PlainTextResponse(f"n is a whole number from 1 to {MAX_SIMULATED}", 422)
        state = await run_in_threadpool(fielding.state)
        if state.admission(inside=False, test=True) is not None:
            return PlainTextResponse(
                f"the study is {state.status}: test respondents enter while it is testing or live",
                status_code=409,
            )
        await run_in_threadpool(simulate_respondents, fielding, int(n))

        def log() -> None:
            with Session(self.engine) as session, session.begin():
                record_event(
                    session,
                    "study.simulate_tests",
                    user_id=user.id,
                    venture_id=row.venture_id,
                    study_id=row.id,
                    detail={"n": int(n)},
                )

        await run_in_threadpool(log)
        return RedirectResponse(f"/console/studies/{fielding.study.name}", status_code=303)

    # -- data protection ------------------------------------------------------------------------
    def _record(self, action: str, user_id: int, row: StudyRow, detail: dict[str, Any]) -> None:
        with Session(self.engine) as session, session.begin():
            record_event(
                session,
                action,
                user_id=user_id,
                venture_id=row.venture_id,
                study_id=row.id,
                detail=detail,
            )

    async def _owner_study(
        self, request: Request, post: bool
    ) -> tuple[Any, dict[str, str], StudyRow] | Response:
        """User, form (empty for a GET) and row of a study only its venture's owners handle."""
        form: dict[str, str] = {}
        if post:
            checked = await self._post_user(request)
            if isinstance(checked, Response):
                return checked
            user, form = checked
        else:
            user = await run_in_threadpool(self.user, request)
            if user is None:
                return RedirectResponse("/console/login", status_code=303)
        row, access = await run_in_threadpool(self._access, user.id, request.path_params["study"])
        if row is None or not access.read:
            return PlainTextResponse("no such study", status_code=404)
        if access.role != "owner":
            return PlainTextResponse("only the venture's owners handle personal data", 403)
        return user, form, row

    async def privacy(self, request: Request) -> Response:
        found = await self._owner_study(request, post=False)
        if isinstance(found, Response):
            return found
        user, _, row = found
        return self._privacy_page(request, user, row)

    def _privacy_page(
        self, request: Request, user: Any, row: StudyRow, *, error: str = "", message: str = ""
    ) -> Response:
        return self.page(
            request,
            "console_privacy.html",
            422 if error else 200,
            user=user,
            study=row,
            error=error,
            message=message,
            find_by=FIND_BY,
            max_days=MAX_RETENTION_DAYS,
        )

    async def delete_respondent(self, request: Request) -> Response:
        found = await self._owner_study(request, post=True)
        if isinstance(found, Response):
            return found
        user, form, row = found
        if form.get("confirm") != "yes":
            return self._privacy_page(
                request, user, row, error="Tick the box to confirm the deletion."
            )
        by, value = form.get("by", ""), form.get("value", "")
        try:
            count, invitations = await run_in_threadpool(
                delete_respondent, self.engine, row, by, value, user_id=user.id
            )
        except ValueError as error:
            return self._privacy_page(request, user, row, error=str(error))
        if count == 0 and invitations == 0:
            return self._privacy_page(
                request, user, row, error="No respondent of this study has that token or ID."
            )
        if count == 0:
            message = "The invitation had not been used; it is deleted."
        else:
            people = "respondent" if count == 1 else "respondents"
            message = f"Deleted {count} {people} and their answers."
        return self._privacy_page(request, user, row, message=message)

    async def export_respondent(self, request: Request) -> Response:
        found = await self._owner_study(request, post=False)
        if isinstance(found, Response):
            return found
        user, _, row = found
        by = request.query_params.get("by", "")
        value = request.query_params.get("value", "")
        try:
            document = await run_in_threadpool(
                export_respondent, self.engine, row, by, value, user_id=user.id
            )
        except ValueError as error:
            return self._privacy_page(request, user, row, error=str(error))
        if not document["respondents"]:
            return self._privacy_page(
                request, user, row, error="No respondent of this study has that token or ID."
            )
        return Response(
            json.dumps(document, ensure_ascii=False, indent=2),
            media_type="application/json; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{row.name}_respondent.json"',
                "Cache-Control": "no-store",
            },
        )

    async def retention(self, request: Request) -> Response:
        found = await self._owner_study(request, post=True)
        if isinstance(found, Response):
            return found
        user, form, row = found
        text = form.get("days", "").strip()
        if text and not (text.isascii() and text.isdigit() and len(text) <= 5):
            return self._privacy_page(
                request, user, row, error="Days are a whole number, or empty to keep answers."
            )
        days = int(text) if text else None
        try:
            purged = await run_in_threadpool(set_retention, self.engine, row, days, user_id=user.id)
        except ValueError as error:
            return self._privacy_page(request, user, row, error=str(error))
        row = await run_in_threadpool(self._reload, row.id)
        kept = f"kept {days} days" if days else "kept until you delete them"
        return self._privacy_page(
            request, user, row, message=f"Answers are now {kept}; {purged} deleted now."
        )

    def _reload(self, study_id: int) -> StudyRow:
        with Session(self.engine) as session:
            return session.get_one(StudyRow, study_id)

    # -- the market simulator ----------------------------------------------------------------
    async def simulator(self, request: Request) -> Response:
        found = await self._get_for_study(request, write=False)
        if isinstance(found, Response):
            return found
        return await self._simulator_page(request, *found)

    async def _simulator_page(
        self,
        request: Request,
        user: Any,
        fielding: Fielding,
        row: StudyRow,
        *,
        error: str = "",
        market_text: str | None = None,
        model: str | None = None,
    ) -> Response:
        access = (await run_in_threadpool(self._access, user.id, row.name))[1]
        ready, newest = await run_in_threadpool(published_simulators, self.engine, row.id)
        viewers = await run_in_threadpool(self._viewers, row.id) if access.write else []
        if market_text is None:
            market_text = newest.market_yaml if newest else starter_market(fielding.study)
        return self.page(
            request,
            "console_simulator.html",
            status=422 if error else 200,
            user=user,
            study=row,
            ready=ready,
            newest=newest,
            can_write=access.write,
            simulator_json=await run_in_threadpool(_page_json, ready.payload) if ready else None,
            simulator_script_src="/console/assets/simulator.js",
            market_text=market_text,
            model=model or (newest.model if newest else "mnl"),
            models=[(m, decision_model_title(m)) for m in ("mnl", "lc", "hb")],
            title_of=decision_model_title,
            when=_when,
            error=error,
            viewers=viewers,
        )

    def _viewers(self, study_id: int) -> list[str]:
        """E-mail addresses of the viewers the study is shared with."""
        with Session(self.engine) as session:
            return list(
                session.execute(
                    select(User.email)
                    .join(StudyShare, StudyShare.user_id == User.id)
                    .where(StudyShare.study_id == study_id)
                    .order_by(User.email)
                ).scalars()
            )

    async def publish(self, request: Request) -> Response:
        checked = await self._post_for_study(
            request, max_body=MAX_MARKET_TEXT + 16 * 1024, file_fields=("market_file",)
        )
        if isinstance(checked, Response):
            return checked
        user, form, (fielding, row) = checked
        uploaded = form.get("market_file", "")
        text = uploaded if uploaded.strip() else form.get("market_yaml", "")
        source = (form.get("market_file:filename") if uploaded.strip() else "") or "market file"
        model = form.get("model", "mnl")
        try:
            row_id, spec = await run_in_threadpool(
                publish_simulator, fielding, user.id, model, text, source
            )
        except OfferlabError as error:
            return await self._simulator_page(
                request, user, fielding, row, error=str(error), market_text=text, model=model
            )
        # The fit runs after the redirect is sent: the page says "fitting" until it is done.
        return RedirectResponse(
            f"/console/studies/{row.name}/simulator",
            status_code=303,
            background=BackgroundTask(run_simulator_fit, fielding, row_id, model, spec),
        )

    async def simulator_script(self, request: Request) -> Response:
        return Response(
            _SIMULATOR_JS.read_text(encoding="utf-8"),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def download(self, request: Request) -> Response:
        found = await self._get_for_study(request, write=True)
        if isinstance(found, Response):
            return found
        user, fielding, row = found
        what = request.path_params["what"]
        makers = {
            "choices.csv": choice_data,
            "choices.parquet": choice_data,
            "answers.csv": answers_table,
            "respondents.csv": respondents_table,
            "maxdiff.csv": maxdiff_data,
            "kano.csv": kano_data,
            "concepts.csv": concept_data,
        }
        if what not in makers:
            return PlainTextResponse("no such download", status_code=404)
        try:
            frame = await run_in_threadpool(makers[what], fielding)
        except ValueError:  # the questionnaire has no (single) page of that type
            return PlainTextResponse("no such download", status_code=404)
        await run_in_threadpool(
            self._record, "study.download", user.id, row, {"what": what, "rows": len(frame)}
        )
        name = f"{row.name}_{what}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if what.endswith(".parquet"):  # raw: a typed format no spreadsheet evaluates
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            return Response(
                buffer.getvalue(), media_type="application/vnd.apache.parquet", headers=headers
            )
        return Response(write_csv(frame), media_type="text/csv; charset=utf-8", headers=headers)


# What json_for_html never writes (a label reading "NaN" takes the slow path, correctly).
_UNSAFE_IN_PAGE = ("<", ">", "&", "\u2028", "\u2029", "NaN", "Infinity")


def _page_json(stored: str) -> str:
    """A simulator's stored data as the page embeds it. Rows are stored encoded for the
    page (:func:`json_for_html`); a row stored before that is re-encoded when viewed."""
    if not any(text in stored for text in _UNSAFE_IN_PAGE):
        return stored
    return json_for_html(json.loads(stored))


def _when(at: float | None, seconds: bool = False) -> str:
    shape = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    return "–" if at is None else time.strftime(shape, time.gmtime(at))


_EVENT_TEXT = {
    "study.create": "created the study",
    "study.status": "changed the status from {from} to {to}",
    "study.simulate_tests": "ran {n} simulated test respondents",
    "study.share": "shared the study with {email}",
    "study.unshare": "stopped sharing the study with {email}",
    "study.download": "downloaded {what}",
    "simulator.publish": "published a market simulator ({model})",
    "member.add": "added {email} as {role}",
    "member.remove": "removed {email} ({role})",
    "member.role": "made {email} {to} (was {from})",
    "user.password": "changed their password",
    "respondent.delete": "deleted {respondents} found by {by}",
    "respondent.export": "exported the data of {respondents} found by {by}",
    "study.retention": "set the retention period to {to} days (was {from})",
    "study.retention_purge": "deleted {respondents} older than {days} days (retention)",
}


_FOUND_BY = {"invitation": "invitation token", "panel_id": "panel ID"}


def describe_event(action: str, detail: dict[str, Any]) -> str:
    """One audit event in words; its raw detail if a field is missing."""
    shown = {k: ("none" if v is None else v) for k, v in detail.items()}
    if isinstance(detail.get("count"), int):
        shown["respondents"] = f"{detail['count']} respondent" + "s" * (detail["count"] != 1)
    shown["by"] = _FOUND_BY.get(detail.get("by"), detail.get("by"))
    if action == "study.retention" and detail.get("to") is None:
        return "removed the retention period (answers are kept)"
    try:
        return _EVENT_TEXT[action].format(**shown)
    except (KeyError, IndexError, ValueError):
        return f"{action} {json.dumps(detail, ensure_ascii=False)[:200]}"


def live_figures(fielding: Fielding) -> dict[str, Any]:
    """Completes, screen-outs, over-quota, active, drop-off by page, median time, quotas, flags."""
    with Session(fielding.engine) as session:
        rows = session.execute(
            select(
                Respondent.id,
                Respondent.status,
                Respondent.sequence,
                Respondent.position,
                Respondent.flags,
                Respondent.started_at,
                Respondent.finished_at,
            ).where(Respondent.study_id == fielding.study_id)
        ).all()
        quotas = session.execute(
            select(QuotaCell.quota, QuotaCell.option, QuotaCell.count, QuotaCell.target)
            .where(QuotaCell.study_id == fielding.study_id)
            .order_by(QuotaCell.quota, QuotaCell.option)
        ).all()
        tested = [r.id for r in rows if (r.flags or {}).get("test") and r.status == "complete"]
        test_cells = _test_quota_cells(session, fielding, tested)
    real = [r for r in rows if not (r.flags or {}).get("test")]
    status = Counter(r.status for r in real)
    stopped = Counter(
        r.sequence[r.position]
        for r in real
        if r.status == "active" and r.position < len(r.sequence)
    )
    seconds = [r.finished_at - r.started_at for r in real if r.status == "complete"]
    flag_counts = _flag_counts(fielding, (len(real), *sorted(status.items())))
    return {
        "started": len(real),
        "complete": status.get("complete", 0),
        "screenout": status.get("screenout", 0),
        "overquota": status.get("overquota", 0),
        "active": status.get("active", 0),
        "tests": len(rows) - len(real),
        "dropoff": stopped.most_common(10),
        "median_minutes": round(float(np.median(seconds)) / 60, 1) if seconds else None,
        "quotas": [(*q, test_cells.get((q.quota, q.option), 0)) for q in quotas],
        "flags": flag_counts,
        "at": time.strftime("%H:%M:%S"),
    }


def _test_quota_cells(
    session: Session, fielding: Fielding, respondent_ids: list[int]
) -> Counter[tuple[str, str]]:
    """The quota cells test completes would count in: shown apart, never counted."""
    questions = [q.question for q in fielding.survey.questionnaire.quotas]
    if not respondent_ids or not questions:
        return Counter()
    answers: dict[int, dict[str, Any]] = {}
    for start in range(0, len(respondent_ids), 500):  # bounded IN lists
        for rid, page, answer in session.execute(
            select(Submission.respondent_id, Submission.page, Submission.answer).where(
                Submission.respondent_id.in_(respondent_ids[start : start + 500]),
                Submission.page.in_(questions),
            )
        ):
            answers.setdefault(rid, {})[page] = answer
    return Counter(cell for a in answers.values() for cell in fielding.survey.quota_cells(a))


_FLAG_CACHE: dict[tuple[int, int], tuple[tuple[Any, ...], dict[str, int]]] = {}


def _flag_counts(fielding: Fielding, key: tuple[Any, ...]) -> dict[str, int]:
    """Respondents per quality flag; recomputed (a logit fit) only when the counts changed."""
    cached = _FLAG_CACHE.get((id(fielding), fielding.study_id))
    if cached is not None and cached[0] == key:
        return cached[1]
    flags = respondents_table(fielding) if key[0] else pd.DataFrame()  # key[0]: respondents
    names = [
        "speeding",
        "speeding_tasks",
        "straightlining",
        "attention_failed",
        "duplicate",
        "random_choices",
    ]
    counts = {name: int(flags[name].sum()) for name in names} if len(flags) else {}
    _FLAG_CACHE[(id(fielding), fielding.study_id)] = (key, counts)
    return counts


def simulate_respondents(fielding: Fielding, n: int, seed: int | None = None) -> None:
    """``n`` test respondents answer at random through the real web flow (in-process HTTP)."""
    from starlette.testclient import TestClient

    from offerlab.field._app import create_app
    from offerlab.field._bot import answer_survey

    rng = np.random.default_rng(seed)
    with TestClient(create_app(fielding), follow_redirects=False) as client:
        link = f"/s/{fielding.study.name}?offerlab_test={fielding.test_key}"
        for _ in range(n):
            client.cookies.clear()
            answer_survey(client, link, rng)


def console_routes(registry: Any, templates: Jinja2Templates, secure_cookies: bool) -> list[Route]:
    """The console's routes, one explicit table."""
    c = Console(registry, templates, secure_cookies)
    return [
        Route("/console/login", c.login_form, methods=["GET"]),
        Route("/console/login", c.login, methods=["POST"]),
        Route("/console/logout", c.logout, methods=["POST"]),
        Route("/console/", c.index, methods=["GET"]),
        Route("/console/account", c.account, methods=["GET"]),
        Route("/console/account/password", c.change_password, methods=["POST"]),
        Route("/console/ventures/{venture:id}/studies", c.create_study, methods=["POST"]),
        Route("/console/ventures/{venture:id}/members", c.members, methods=["GET"]),
        Route("/console/ventures/{venture:id}/members", c.add_member, methods=["POST"]),
        Route(
            "/console/ventures/{venture:id}/members/{member:id}/remove",
            c.remove_member,
            methods=["POST"],
        ),
        Route("/console/ventures/{venture:id}/audit", c.audit, methods=["GET"]),
        Route("/console/studies/{study}", c.study, methods=["GET"]),
        Route("/console/studies/{study}/status", c.set_status, methods=["POST"]),
        Route("/console/studies/{study}/simulate", c.simulate, methods=["POST"]),
        Route("/console/studies/{study}/share", c.share, methods=["POST"]),
        Route("/console/studies/{study}/simulator", c.simulator, methods=["GET"]),
        Route("/console/studies/{study}/simulator", c.publish, methods=["POST"]),
        Route("/console/assets/simulator.js", c.simulator_script, methods=["GET"]),
        Route("/console/studies/{study}/privacy", c.privacy, methods=["GET"]),
        Route("/console/studies/{study}/privacy/export", c.export_respondent, methods=["GET"]),
        Route("/console/studies/{study}/privacy/delete", c.delete_respondent, methods=["POST"]),
        Route("/console/studies/{study}/retention", c.retention, methods=["POST"]),
        Route("/console/studies/{study}/{what}", c.download, methods=["GET"]),
    ]
