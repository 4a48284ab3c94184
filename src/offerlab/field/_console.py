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
``/console/ventures/{venture}/members/{id}/role``  POST    owner (not the last owner's)
``/console/ventures/{venture}/invitations``        POST    owner: a single-use link to join
``/console/ventures/{venture}/invitations/{id}/revoke``  POST  owner: withdraw an open one
``/console/join/{token}``                          GET     anyone with the link: set a
                                                           password (404/410 if unknown,
                                                           used or expired)
``/console/join/{token}``                          POST    anyone with the link (once)
``/console/ventures/{venture}/audit``              GET     owner: the audit log
``/console/studies/{study}``                       GET     owner, analyst, viewer
                                                           (shared): live figures
``/console/studies/{study}/status``                POST    owner, analyst: a move of the
                                                           life cycle (reopen: owner);
                                                           launch, close, reopen ask to
                                                           confirm first
``/console/studies/{study}/simulate``              POST    owner, analyst
``/console/studies/{study}/share``                 POST    owner, analyst
``/console/studies/{study}/invitations``           POST    owner, analyst: N personal
                                                           respondent links, as CSV
``/console/studies/{study}/invitations.csv``       GET     owner, analyst: all of them
``/console/studies/{study}/simulator``             GET     owner, analyst, viewer
                                                           (shared): the market simulator
``/console/studies/{study}/simulator``             POST    owner, analyst: publish one
``/console/assets/simulator.js``                   GET     anyone: the simulator's script
``/console/studies/{study}/dashboard.json``        GET     owner, analyst: live figures
``/console/assets/dashboard.js``                   GET     anyone: the dashboard's script
``/console/studies/{study}/scenarios…``            GET/POST  readers: saved scenarios
                                                           (field/_simulator.py)
``/console/studies/{study}/report…``               GET     readers: the published report;
                                                   POST    owner, analyst: publish a version
                                                           (field/_publications.py)
``/console/studies/{study}/needs``                 GET     readers: MaxDiff, TURF, Kano,
                                                           concept tests (field/_needs_page.py)
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

Every page and message is in the member's language (``?lang=`` switch, remembered on
the user; else the switch's cookie, else the browser's): templates call ``t("key")``
on the catalogue (``data/console_texts/*.yaml``), and the Python code returns a
:class:`~offerlab.field._console_texts.Message` (a key and its values) that the page
translates. Other addresses under ``/console`` get a 404 page in that language.

A study the user may not read is 404 (its existence is not told); one they may
read but not change is 403. Every POST carries the session's CSRF token; the
login form a double-submit token. Pages without a session lead to the login.
"""

from __future__ import annotations

import dataclasses
import io
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from offerlab.data import write_csv
from offerlab.exceptions import OfferlabError
from offerlab.field import _auth
from offerlab.field._bot import simulate_respondents
from offerlab.field._console_texts import (
    CONSOLE_LANGUAGES,
    LANGUAGE_COOKIE,
    ConsoleTexts,
    Message,
    console_language,
)
from offerlab.field._console_views import (
    StudyLabels,
    format_number,
    format_when,
    invitations_table,
    readable_table,
)
from offerlab.field._dashboard import console_zone, dashboard_routes, dashboard_view
from offerlab.field._export import (
    answers_table,
    choice_data,
    concept_data,
    kano_data,
    maxdiff_data,
    respondents_table,
)
from offerlab.field._forms import read_form
from offerlab.field._hb_view import hb_diagnostics_view, stored_hb_diagnostics
from offerlab.field._lifecycle import (
    MOVES,
    STATES,
    LifecycleError,
    Move,
    admission,
    moves_from,
    transition,
)
from offerlab.field._needs_page import needs_routes
from offerlab.field._privacy import (
    FIND_BY,
    MAX_RETENTION_DAYS,
    delete_respondent,
    export_respondent,
    purge_expired,
    set_retention,
)
from offerlab.field._publications import publication_routes
from offerlab.field._service import Fielding
from offerlab.field._simulator import (
    MAX_MARKET_TEXT,
    model_label,
    page_texts,
    publish_simulator,
    published_simulators,
    run_simulator_fit,
    scenario_routes,
    starter_market,
    when_text,
)
from offerlab.report import json_for_html
from offerlab.store import (
    AUDIT_ACTIONS,
    AuditEvent,
    Invitation,
    MemberInvitation,
    Membership,
    Respondent,
    StudyRow,
    StudyShare,
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

#: Each language by its own name, for the switch (the same on every page).
LANGUAGE_NAMES = {"de": "Deutsch", "fr": "Français", "it": "Italiano", "en": "English"}

COOKIE = "offerlab_console"
LOGIN_COOKIE = "offerlab_login"
MAX_STUDY_TEXT = 512 * 1024
MAX_SIMULATED = 200
MAX_AUDIT_ROWS = 500
PURGE_EVERY = 3600.0

MAX_INVITATIONS = 10_000

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
        user = context.get("user")
        language = self.language(request, user)
        texts = ConsoleTexts(language)
        # The switch leads to the same page, or to the studies from a page a form posted.
        switch_path = request.url.path if request.method == "GET" else "/console/"
        response = self.templates.TemplateResponse(
            request,
            name,
            {
                "lang": language,
                "t": texts,
                "title": texts("console_title"),
                "languages": [(code, LANGUAGE_NAMES[code]) for code in CONSOLE_LANGUAGES],
                "switch_path": switch_path,
                "when": lambda at, seconds=False: format_when(at, language, seconds),
                "number": lambda value: format_number(value, language),
                **context,
            },
            status_code=status,
            headers=headers,
        )
        if request.query_params.get("lang") in CONSOLE_LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=365 * 86400,
                samesite="lax",
                secure=self.secure,
                path="/console",
            )
        return response

    def language(self, request: Request, user: Any = None) -> str:
        """The page's language: the switch, the member's choice, the cookie, the browser."""
        return console_language(
            request.query_params,
            request.cookies,
            request.headers.get("accept-language", ""),
            getattr(user, "language", None),
        )

    def refuse(
        self,
        request: Request,
        status: int,
        problem: Message,
        user: Any = None,
        back: str = "",
        back_label: str = "back",
    ) -> Response:
        """A 4xx page in the page's language: what went wrong and a way back."""
        heading = {
            400: "error_400",
            403: "error_403",
            404: "error_404",
            409: "error_409",
            410: "error_410",
            413: "error_400",
            429: "error_429",
        }
        return self.page(
            request,
            "console_error.html",
            status,
            user=user,
            heading=heading.get(status, "error_400"),
            problem=problem,
            back=back,
            back_label=back_label,
        )

    def user(self, request: Request) -> _auth.SessionUser | None:
        """The logged-in user; a language switch (``?lang=``) is remembered as their choice.

        The switch is a link (a GET) so that it works on every page and without a form;
        the session cookie is SameSite=Strict, so another site cannot make the change.
        """
        with Session(self.engine) as session:
            user = _auth.session_user(session, request.cookies.get(COOKIE, ""))
        asked = request.query_params.get("lang")
        if user is not None and asked in CONSOLE_LANGUAGES and asked != user.language:
            with Session(self.engine) as session, session.begin():
                _auth.set_language(session, user.id, asked)
            user = dataclasses.replace(user, language=asked)
        return user

    async def _form(self, request: Request, **limits: Any) -> dict[str, str] | None:
        form = await read_form(request, **limits)
        if form is None:
            return None
        return {k: v[0] for k, v in form.items()}

    async def _post_user(
        self, request: Request, **limits: Any
    ) -> tuple[Any, dict[str, str]] | Response:
        """The logged-in user and the form of a POST, or the response refusing it."""
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return self.refuse(request, 403, Message("refuse_log_in"))
        form = await self._form(request, **limits)
        if form is None:
            return self.refuse(request, 400, Message("refuse_form"), user)
        if not secrets.compare_digest(form.get("csrf", "").encode(), user.csrf.encode()):
            return self.refuse(request, 403, Message("refuse_csrf"), user)
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
            return self.refuse(request, 404, Message("refuse_no_study"), user)
        if write and not access.write:
            return self.refuse(request, 403, Message("refuse_read_only"), user)
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
            return self.refuse(request, 403, Message("refuse_login_token"), back="/console/login")
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
                error=Message("login_wait", wait=_auth.duration_text(result)),
                headers={"Retry-After": str(max(1, int(result + 0.999)))},
            )
        if result is None:
            return self.page(
                request,
                "console_login.html",
                401,
                login_csrf=cookie,
                error=Message("login_wrong"),
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

        lang = self.language(request, user)

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
                        {"name": s.name, "status": s.status, "row": s}
                        for s in studies
                        if _auth.study_access(session, user.id, s).read
                    ]
                    out.append({"id": vid, "name": vname, "role": role, "studies": visible})
                return out

        def titled(ventures: list[dict[str, Any]]) -> None:
            # after the listing's session: opening a study may write (never inside a read)
            for venture in ventures:
                for study in venture["studies"]:
                    study["title"] = self._study_title(study.pop("row"), lang)

        ventures = await run_in_threadpool(listing)
        await run_in_threadpool(titled, ventures)
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
            return self.refuse(request, 403, Message("refuse_create"), user)
        uploaded = form.get("study_file", "")
        text = uploaded if uploaded.strip() else form.get("study_yaml", "")
        source = (form.get("study_file:filename") if uploaded.strip() else "") or "study file"
        if not text.strip() or len(text) > MAX_STUDY_TEXT:
            return self.refuse(request, 422, Message("refuse_study_text"), user)

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
            return self.refuse(request, 409, Message("refuse_study_exists", name=str(exists)), user)
        except OfferlabError as error:
            return self.refuse(request, 422, Message("refuse_study_file", detail=str(error)), user)
        return RedirectResponse(f"/console/studies/{name}", status_code=303)

    async def add_member(self, request: Request) -> Response:
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        venture = request.path_params["venture"]

        def add() -> Message | None:
            try:
                with Session(self.engine) as session, session.begin():
                    if _auth.venture_role(session, user.id, venture) != "owner":
                        return Message("refuse_owners_only")
                    _auth.add_member(
                        session,
                        session.get_one(Venture, venture).name,
                        form.get("email", "")[:254],
                        form.get("role", ""),
                        form.get("password", "")[:1024] or None,
                        by=user.id,
                    )
            except ValueError as error:  # nothing was stored: the transaction rolled back
                return _problem(error)
            return None

        problem = await run_in_threadpool(add)
        if problem is not None and problem.key == "refuse_owners_only":
            return self.refuse(request, 403, problem, user)
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
            return self.refuse(request, 404, Message("refuse_no_venture"), user)
        if role != "owner":
            return self.refuse(request, 403, Message("refuse_owners_only"), user)
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
        error: Message | str = "",
        email: str = "",
        role: str = "viewer",
        **shown: Any,
    ) -> Response:
        language = self.language(request, user)

        def listing() -> tuple[str, list[Any], list[dict[str, Any]]]:
            at = _auth.now()
            with Session(self.engine) as session:
                name = session.get_one(Venture, venture).name
                rows = session.execute(
                    select(User.id, User.email, Membership.role)
                    .join(Membership, Membership.user_id == User.id)
                    .where(Membership.venture_id == venture)
                    .order_by(Membership.role, User.email)
                ).all()
                pending = session.execute(
                    select(MemberInvitation)
                    .where(
                        MemberInvitation.venture_id == venture,
                        MemberInvitation.used_at.is_(None),
                        MemberInvitation.expires_at > at,
                    )
                    .order_by(MemberInvitation.created_at)
                ).scalars()
                waiting = [
                    {
                        "id": i.id,
                        "email": i.email,
                        "role": i.role,
                        "expires": format_when(i.expires_at, language),
                    }
                    for i in pending
                ]
                return name, rows, waiting

        name, rows, pending = await run_in_threadpool(listing)
        owners = sum(1 for r in rows if r.role == "owner")
        return self.page(
            request,
            "console_members.html",
            422 if error else 200,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
            user=user,
            venture={"id": venture, "name": name},
            members=rows,
            owners=owners,
            pending=pending,
            roles=_auth.ROLES,
            days=_auth.INVITATION_DAYS,
            error=error,
            email=email,
            role=role,
            min_password=_auth.MIN_PASSWORD,
            **shown,
        )

    async def invite(self, request: Request) -> Response:
        """An owner invites a member: the single-use link is shown once, on this page."""
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        venture = request.path_params["venture"]
        email, role = form.get("email", "")[:254], form.get("role", "")

        def make() -> str | Message | None:
            try:
                with Session(self.engine) as session, session.begin():
                    if _auth.venture_role(session, user.id, venture) != "owner":
                        return Message("refuse_owners_only")
                    return _auth.invite_member(session, venture, email, role, by=user.id)
            except ValueError as error:  # nothing was stored: the transaction rolled back
                return _problem(error)

        made = await run_in_threadpool(make)
        if isinstance(made, Message):
            if made.key == "refuse_owners_only":
                return self.refuse(request, 403, made, user)
            return await self._members_page(
                request, user, venture, error=made, email=email or " ", role=role
            )
        shown = email.strip().lower()
        if made is None:  # an existing account: a member at once
            message = Message("member_added", email=shown)
            return await self._members_page(request, user, venture, message=message)
        link = f"{str(request.base_url).rstrip('/')}/console/join/{made}"
        return await self._members_page(request, user, venture, link=link, invited=shown)

    async def _as_owner(
        self,
        request: Request,
        user: _auth.SessionUser,
        venture: int,
        change: Callable[[Session], Message | None],
    ) -> Response | None:
        """Make an owner's change to a venture's team in one transaction.

        None when it is made; else a 403 for someone who is not an owner, or the members
        page with the problem ``change`` returned (nothing is stored then).
        """

        def run() -> Message | None:
            with Session(self.engine) as session, session.begin():
                if _auth.venture_role(session, user.id, venture) != "owner":
                    return Message("refuse_owners_only")
                return change(session)

        problem = await run_in_threadpool(run)
        if problem is None:
            return None
        if problem.key == "refuse_owners_only":
            return self.refuse(request, 403, problem, user)
        return await self._members_page(request, user, venture, error=problem)

    async def revoke_invitation(self, request: Request) -> Response:
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked
        user, _ = checked
        venture, invitation = request.path_params["venture"], request.path_params["invitation"]
        refused = await self._as_owner(
            request,
            user,
            venture,
            lambda session: _auth.revoke_invitation(session, venture, invitation, by=user.id),
        )
        if refused is not None:
            return refused
        return RedirectResponse(f"/console/ventures/{venture}/members", status_code=303)

    async def change_role(self, request: Request) -> Response:
        checked = await self._post_user(request)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        venture, member = request.path_params["venture"], request.path_params["member"]
        role = form.get("role", "")
        refused = await self._as_owner(
            request,
            user,
            venture,
            lambda session: _auth.set_role(session, venture, member, role, by=user.id),
        )
        if refused is not None:
            return refused
        if member == user.id:  # an owner who gave up the role no longer sees the members
            return RedirectResponse("/console/", status_code=303)
        return RedirectResponse(f"/console/ventures/{venture}/members", status_code=303)

    # -- joining by an invitation ----------------------------------------------------------
    def _invitation(self, token: str) -> tuple[str, str, str] | Message:
        """(e-mail, role, venture) of an open invitation, or why it cannot be used."""
        with Session(self.engine) as session:
            found = _auth.invitation_for(session, token)
            if isinstance(found, Message):
                return found
            return found.email, found.role, session.get_one(Venture, found.venture_id).name

    def _refuse_invitation(self, request: Request, problem: Message) -> Response:
        status = 404 if problem.key == "invite_unknown" else 410
        return self.refuse(request, status, problem, back="/console/login", back_label="log_in")

    def _join_page(
        self, request: Request, token: str, found: tuple[str, str, str], csrf: str, **more: Any
    ) -> Response:
        email, role, venture = found
        response = self.page(
            request,
            "console_join.html",
            422 if more.get("error") else 200,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
            token=token,
            email=email,
            role=role,
            venture=venture,
            login_csrf=csrf,
            min_password=_auth.MIN_PASSWORD,
            max_password=_auth.MAX_PASSWORD,
            **more,
        )
        response.set_cookie(
            LOGIN_COOKIE,
            csrf,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/console",
        )
        return response

    async def join_form(self, request: Request) -> Response:
        token = request.path_params["token"]
        found = await run_in_threadpool(self._invitation, token)
        if isinstance(found, Message):
            return self._refuse_invitation(request, found)
        csrf = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        return self._join_page(request, token, found, csrf)

    async def join(self, request: Request) -> Response:
        """The invited person sets their password: the account, the membership, a session."""
        token = request.path_params["token"]
        form = await self._form(request)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if (
            form is None
            or not cookie
            or not secrets.compare_digest(form.get("login_csrf", "").encode(), cookie.encode())
        ):
            return self.refuse(request, 403, Message("refuse_login_token"), back=request.url.path)
        password = form.get("new_password", "")[:1024]
        again = form.get("new_password_again", "")[:1024]

        def accept() -> tuple[int, tuple[str, str]] | Message:
            with Session(self.engine) as session, session.begin():
                return _auth.accept_invitation(session, token, password, again)

        done = await run_in_threadpool(accept)
        if isinstance(done, Message):
            if done.key.startswith("invite_"):
                return self._refuse_invitation(request, done)
            found = await run_in_threadpool(self._invitation, token)
            if isinstance(found, Message):
                return self._refuse_invitation(request, found)
            return self._join_page(request, token, found, cookie, error=done)
        _, (session_token, _) = done
        response = RedirectResponse("/console/?joined=1", status_code=303)
        response.set_cookie(
            COOKIE,
            session_token,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/console",
            max_age=int(_auth.SESSION_SECONDS),
        )
        return response

    # -- respondents' personal invitation links ---------------------------------------------
    def _invitation_counts(self, study_id: int) -> dict[str, int]:
        with Session(self.engine) as session:
            made = session.execute(
                select(func.count()).where(Invitation.study_id == study_id)
            ).scalar_one()
            used = session.execute(
                select(func.count())
                .select_from(Respondent)
                .where(Respondent.study_id == study_id, Respondent.invitation_id.is_not(None))
            ).scalar_one()
        return {"made": made, "used": used}

    def _invitation_rows(self, study_id: int, tokens: list[str] | None = None) -> list[Any]:
        with Session(self.engine) as session:
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

    def _invitations_csv(
        self, request: Request, user: Any, fielding: Fielding, row: StudyRow, rows: list[Any]
    ) -> Response:
        labels = StudyLabels(fielding.study, self.language(request, user))
        frame = invitations_table(rows, str(request.base_url), labels)
        return Response(
            write_csv(frame),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{row.name}_invitations.csv"',
                "Cache-Control": "no-store",
            },
        )

    async def make_invitations(self, request: Request) -> Response:
        """Owners and analysts make N personal respondent links; the CSV of them comes back."""
        checked = await self._post_for_study(request)
        if isinstance(checked, Response):
            return checked
        user, form, (fielding, row) = checked
        n = form.get("n", "").strip()
        if not (n.isascii() and n.isdigit() and len(n) <= 6) or not 1 <= int(n) <= MAX_INVITATIONS:
            back = f"/console/studies/{row.name}"
            return self.refuse(
                request, 422, Message("refuse_n", n=MAX_INVITATIONS), user, back=back
            )
        tokens = await run_in_threadpool(fielding.invite, int(n))
        await run_in_threadpool(self._record, "study.invitations", user.id, row, {"n": int(n)})
        made = []
        for start in range(0, len(tokens), 500):  # bounded IN lists
            made += await run_in_threadpool(
                self._invitation_rows, row.id, tokens[start : start + 500]
            )
        return self._invitations_csv(request, user, fielding, row, made)

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
            return self.refuse(request, 403, Message("refuse_owners_only"), user)
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
        language = self.language(request, user)

        def events() -> tuple[str, list[dict[str, Any]]]:
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
                        "when": format_when(event.at, language, seconds=True),
                        "who": event.actor,
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
            zone=console_zone().key,
        )

    async def account(self, request: Request) -> Response:
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return RedirectResponse("/console/login", status_code=303)
        changed = request.query_params.get("changed") == "1"
        return self._account_page(
            request, user, message=Message("password_changed") if changed else ""
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

        def change() -> Message | None:
            if new != again:
                return Message("password_differ")
            with Session(self.engine) as session, session.begin():
                problem = _auth.change_password(
                    session, user.id, form.get("current_password", ""), new, client
                )
                if problem is None:
                    _auth.end_other_sessions(session, user.id, token)
                return problem

        problem = await run_in_threadpool(change)
        if problem is not None:
            status = 429 if problem.key == "password_wait" else 422
            return self._account_page(request, user, error=problem, status=status)
        return RedirectResponse("/console/account?changed=1", status_code=303)

    # -- one study ------------------------------------------------------------------------------
    async def study(self, request: Request) -> Response:
        found = await self._get_for_study(request, write=False)
        if isinstance(found, Response):
            return found
        user, fielding, row = found
        access = (await run_in_threadpool(self._access, user.id, row.name))[1]
        invitations = await run_in_threadpool(self._invitation_counts, row.id)
        language = self.language(request, user)
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
        return self.page(
            request,
            "console_study.html",
            user=user,
            study=row,
            study_title=self._study_title(row, language),
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
            return self.refuse(request, 422, Message("refuse_action", names=names), user)

        def move() -> Move | Response | tuple[int, Message]:
            with Session(self.engine) as session, session.begin():
                study = self._locked_study(session, row.id)
                role = _auth.study_access(session, user.id, study).role
                try:
                    chosen = transition(study.status, action, role, target)
                except LifecycleError as refused:
                    status = 403 if refused.forbidden else 409
                    return status, refused.message
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
        if isinstance(done, tuple):
            back = f"/console/studies/{row.name}"
            return self.refuse(request, done[0], done[1], user, back=back)
        return self.page(
            request,
            "console_confirm.html",
            user=user,
            study=row,
            study_title=self._study_title(row, self.language(request, user)),
            move=done,
            label=MOVE_LABELS[(done.name, done.target)],
            yes_label=MOVE_LABELS[(done.name, done.target)] + "_yes",
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

        def add() -> Response | None:
            with Session(self.engine) as session, session.begin():
                viewer = session.execute(
                    select(User.id)
                    .join(Membership, Membership.user_id == User.id)
                    .where(User.email == email, Membership.venture_id == row.venture_id)
                ).scalar()
                if viewer is None:
                    return None
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

        shared = await run_in_threadpool(add)
        if shared is None:
            back = f"/console/studies/{row.name}"
            return self.refuse(request, 422, Message("refuse_share"), user, back=back)
        return shared

    async def simulate(self, request: Request) -> Response:
        checked = await self._post_for_study(request)
        if isinstance(checked, Response):
            return checked
        user, form, (fielding, row) = checked
        n = form.get("n", "")
        if not (n.isascii() and n.isdigit()) or not 1 <= int(n) <= MAX_SIMULATED:
            back = f"/console/studies/{row.name}"
            return self.refuse(request, 422, Message("refuse_n", n=MAX_SIMULATED), user, back=back)
        state = await run_in_threadpool(fielding.state)
        if state.admission(inside=False, test=True) is not None:
            problem = Message("refuse_simulate_state", state=Message(f"state_{state.status}"))
            return self.refuse(request, 409, problem, user, back=f"/console/studies/{row.name}")
        await run_in_threadpool(simulate_respondents, request.app, fielding, int(n))

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
            return self.refuse(request, 404, Message("refuse_no_study"), user)
        if access.role != "owner":
            return self.refuse(request, 403, Message("refuse_privacy_owners"), user)
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
            study_title=self._study_title(row, self.language(request, user)),
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
            return self._privacy_page(request, user, row, error=Message("privacy_tick"))
        by, value = form.get("by", ""), form.get("value", "")
        try:
            count, invitations = await run_in_threadpool(
                delete_respondent, self.engine, row, by, value, user_id=user.id
            )
        except ValueError as error:
            return self._privacy_page(request, user, row, error=_problem(error))
        if count == 0 and invitations == 0:
            return self._privacy_page(request, user, row, error=Message("privacy_not_found"))
        if count == 0:
            message = Message("privacy_invitation_deleted")
        else:
            message = Message("privacy_deleted", respondents=_respondents(count))
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
            return self._privacy_page(request, user, row, error=_problem(error))
        if not document["respondents"]:
            return self._privacy_page(request, user, row, error=Message("privacy_not_found"))
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
            return self._privacy_page(request, user, row, error=Message("retention_whole"))
        days = int(text) if text else None
        try:
            purged = await run_in_threadpool(set_retention, self.engine, row, days, user_id=user.id)
        except ValueError as error:
            return self._privacy_page(request, user, row, error=_problem(error))
        row = await run_in_threadpool(self._reload, row.id)
        kept = Message("retention_kept_days", n=days) if days else Message("retention_kept_ever")
        message = Message("retention_saved", kept=kept, purged=_respondents(purged))
        return self._privacy_page(request, user, row, message=message)

    def _study_title(self, row: StudyRow, language: str) -> str:
        """The study's title in the page's language (its name if it has none)."""
        try:
            fielding = self.registry.get(row.name)
        except OfferlabError:  # a study file this version cannot read: the name will do
            return row.name
        if fielding is None:
            return row.name
        return fielding.study.text(fielding.study.title, language) or row.name

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
        t = ConsoleTexts(self.language(request))
        texts = None
        if ready is not None:
            texts = await run_in_threadpool(
                page_texts,
                fielding.study,
                ready.payload,
                t,
                csrf=user.csrf,
                api=f"/console/studies/{row.name}/scenarios",
            )
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
            models=[(m, model_label(t, m)) for m in ("mnl", "lc", "hb")],
            title_of=lambda m: model_label(t, m),
            when=lambda at: when_text(at, t.language),
            simulator_texts=texts,
            hb=hb_diagnostics_view(stored_hb_diagnostics(ready.payload if ready else None), t),
            study_title=fielding.study.text(fielding.study.title, t.language) or row.name,
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

    async def not_found(self, request: Request) -> Response:
        """Any other console address: a 404 page in the reader's language."""
        user = await run_in_threadpool(self.user, request)
        return self.refuse(request, 404, Message("refuse_not_found"), user)

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
        if what == "invitations.csv":
            rows = await run_in_threadpool(self._invitation_rows, row.id)
            await run_in_threadpool(
                self._record, "study.download", user.id, row, {"what": what, "rows": len(rows)}
            )
            return self._invitations_csv(request, user, fielding, row, rows)
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
            return self.refuse(request, 404, Message("refuse_no_download"), user)
        try:
            frame = await run_in_threadpool(makers[what], fielding)
        except ValueError:  # the questionnaire has no (single) page of that type
            return self.refuse(request, 404, Message("refuse_no_download"), user)
        labels = StudyLabels(fielding.study, self.language(request, user))
        frame = await run_in_threadpool(readable_table, what, frame, labels)
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
    """A time in English (kept for callers without a page language)."""
    return format_when(at, "en", seconds)


#: Each audit action in words: a catalogue key (console.yaml, ``event_…``).
_EVENT_TEXT = {action: "event_" + action.replace(".", "_") for action in AUDIT_ACTIONS}


def _respondents(count: int) -> Message:
    return Message("respondents_one" if count == 1 else "respondents_n", n=count)


def _problem(error: Exception) -> Message:
    """The message of a refusal raised by the console's own code (else its text, as is)."""
    found = error.args[0] if error.args else ""
    return found if isinstance(found, Message) else Message("problem_text", text=str(error))


def _role_or_state(value: Any) -> Any:
    """A role or a state in words (a Message), anything else as it is."""
    if value in _auth.ROLES:
        return Message(f"role_{value}")
    if value in STATES:
        return Message(f"state_{value}")
    return value


def describe_event(action: str, detail: dict[str, Any]) -> Message:
    """One audit event in words, a Message; its raw detail if a field is missing."""
    shown: dict[str, Any] = {
        k: Message("none") if v is None else _role_or_state(v) for k, v in detail.items()
    }
    if isinstance(detail.get("count"), int):
        shown["respondents"] = _respondents(detail["count"])
    if detail.get("by") in FIND_BY:
        shown["by"] = Message(f"by_{detail['by']}")
    if action == "study.retention" and detail.get("to") is None:
        return Message("event_study_retention_removed")
    raw = Message("event_raw", action=action, detail=json.dumps(detail, ensure_ascii=False)[:200])
    if action not in _EVENT_TEXT:
        return raw
    try:
        return Message(_EVENT_TEXT[action], **shown)
    except (KeyError, IndexError, ValueError):
        return raw


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
        Route(
            "/console/ventures/{venture:id}/members/{member:id}/role",
            c.change_role,
            methods=["POST"],
        ),
        Route("/console/ventures/{venture:id}/invitations", c.invite, methods=["POST"]),
        Route(
            "/console/ventures/{venture:id}/invitations/{invitation:id}/revoke",
            c.revoke_invitation,
            methods=["POST"],
        ),
        Route("/console/join/{token}", c.join_form, methods=["GET"]),
        Route("/console/join/{token}", c.join, methods=["POST"]),
        Route("/console/ventures/{venture:id}/audit", c.audit, methods=["GET"]),
        Route("/console/studies/{study}", c.study, methods=["GET"]),
        Route("/console/studies/{study}/status", c.set_status, methods=["POST"]),
        Route("/console/studies/{study}/simulate", c.simulate, methods=["POST"]),
        Route("/console/studies/{study}/share", c.share, methods=["POST"]),
        Route("/console/studies/{study}/invitations", c.make_invitations, methods=["POST"]),
        Route("/console/studies/{study}/simulator", c.simulator, methods=["GET"]),
        Route("/console/studies/{study}/simulator", c.publish, methods=["POST"]),
        Route("/console/assets/simulator.js", c.simulator_script, methods=["GET"]),
        *scenario_routes(c),
        *publication_routes(c),
        Route("/console/studies/{study}/privacy", c.privacy, methods=["GET"]),
        Route("/console/studies/{study}/privacy/export", c.export_respondent, methods=["GET"]),
        Route("/console/studies/{study}/privacy/delete", c.delete_respondent, methods=["POST"]),
        Route("/console/studies/{study}/retention", c.retention, methods=["POST"]),
        *dashboard_routes(c),
        *needs_routes(c),
        Route("/console/studies/{study}/{what}", c.download, methods=["GET"]),
        Route("/console/{rest:path}", c.not_found, methods=["GET"]),
    ]
