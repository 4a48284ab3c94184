"""The respondent side: a Starlette app of server-rendered pages that work without JavaScript.

Routes (one explicit table, :data:`ROUTES`):

=====================  ======  ==========================================================
``/s/{study}``         GET     anonymous link: the entry form (the first page; panel
                               parameters of the query in hidden fields), or the
                               respondent this browser started (cookie); makes nobody
``/s/{study}``         POST    the entry form submitted: the respondent is made and the
                               first page stored, then 303 to ``/r/{token}``
``/i/{invitation}``    GET     personal invitation: its respondent once started, else
                               the entry form
``/i/{invitation}``    POST    the invitation's entry form submitted: its respondent
``/r/{token}``         GET     the respondent's current page (``?lang=fr`` switches);
                               a finished respondent goes to the panel's redirect
``/r/{token}``         POST    submit the current page, then 303 to the next one
``/healthz``           GET     liveness
=====================  ======  ==========================================================

Respondents are made on their first POST, never on a GET or HEAD (link previewers
and mail scanners open links). Every request checks the study's state
(:mod:`offerlab.field._lifecycle`): paused, closed or not yet open studies answer with
a polite page in the respondent's language (503, 410, 503) and store nothing.

Bad input never reaches the database: unknown tokens are 404, forms that are not
forms are 400, bodies over :data:`MAX_BODY` are 413, answers that do not fit the
page are 422 (the page again, with the reason), stale or repeated submits lead
back to the current page. A database that is momentarily unavailable gives 503
with ``Retry-After``, never a half-stored answer.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerlab.field._console import console_routes
from offerlab.field._forms import MAX_BODY, read_form
from offerlab.field._privacy import purge_expired
from offerlab.field._render import frame_context, page_context
from offerlab.field._service import START_PAGE, Entry, Fielding, SubmitResult
from offerlab.field._texts import LANGUAGE_NAMES, ui
from offerlab.report import css_string
from offerlab.store import Invitation, Respondent, StudyRow

__all__ = ["MAX_BODY", "Registry", "app_from_env", "create_app"]

# The status of the polite page a study's state shows instead of the survey.
_REFUSAL_STATUS = {"closed": 410, "paused": 503, "not_open": 503}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# The console's simulator page includes the report's simulator partial.
_TEMPLATES = Jinja2Templates(
    directory=[
        Path(__file__).parent / "templates",
        Path(__file__).parent.parent / "report" / "templates",
    ]
)
_TEMPLATES.env.filters["css_string"] = css_string  # the simulator's words in its stylesheet


@dataclass(frozen=True)
class _Showing:
    """How a survey page is shown: as asked (200), or again after a refused submit, with
    the messages and what the respondent had filled in."""

    status: int = 200
    errors: list[str] = field(default_factory=list)
    form: Mapping[str, list[str]] = field(default_factory=dict)

    @classmethod
    def invalid(cls, result: SubmitResult) -> _Showing:
        """The answer did not do: the same page with its errors (422)."""
        return cls(422, result.errors, result.form)

    @classmethod
    def stale(cls, lang: str) -> _Showing:
        """The page was answered in another tab or by a double tap (409)."""
        return cls(409, [ui("err_stale", lang)])


_AS_ASKED = _Showing()

_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'{targets}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


def _content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """The pages' policy: no script but our own files, forms post only to us (and to
    ``form_targets``), no framing, no <base>, no plugins."""
    return _POLICY.format(targets="".join(" " + t for t in form_targets))


_DEFAULT_POLICY = _content_security_policy().encode()


class _SecurityHeaders:
    """Adds security headers to every response (and keeps pages out of caches); a
    response that sets its own Content-Security-Policy (a survey page) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", _DEFAULT_POLICY))
                message["headers"] = headers + _HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Registry:
    """The studies in the field on one database, each a :class:`Fielding`, loaded on first use."""

    def __init__(self, engine: Engine, first: Fielding | None = None) -> None:
        self.engine = engine
        self._by_name: dict[str, Fielding] = {}
        self._study_of_token: dict[str, str] = {}
        self._lock = threading.Lock()
        if first is not None:
            self._by_name[first.study.name] = first

    def add(self, fielding: Fielding) -> None:
        with self._lock:
            self._by_name[fielding.study.name] = fielding

    def get(self, name: str) -> Fielding | None:
        """The study ``name`` (None when the database has no such study)."""
        found = self._by_name.get(name)
        if found is not None or not _NAME.fullmatch(name):
            return found
        with Session(self.engine) as session:
            known = session.execute(select(StudyRow.id).where(StudyRow.name == name)).first()
        if known is None:
            return None
        fielding = Fielding.from_database(self.engine, name)
        self.add(fielding)
        return fielding

    def of_token(self, token: str, kind: str = "respondent") -> Fielding | None:
        """The study of a respondent's (or an invitation's) token."""
        key = f"{kind}:{token}"
        name = self._study_of_token.get(key)
        if name is None:
            table = Respondent if kind == "respondent" else Invitation
            with Session(self.engine) as session:
                name = session.execute(
                    select(StudyRow.name)
                    .join(table, table.study_id == StudyRow.id)  # type: ignore[attr-defined]
                    .where(table.token == token)  # type: ignore[attr-defined]
                ).scalar()
            if name is None:
                return None
            if len(self._study_of_token) > 100_000:  # a bound on memory; tokens stay valid
                self._study_of_token.clear()
            self._study_of_token[key] = name
        return self.get(name)


class _App:
    """The route handlers, on the studies of one database."""

    def __init__(self, registry: Registry, secure_cookies: bool) -> None:
        self.registry = registry
        self.secure_cookies = secure_cookies

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def language(request: Request, fielding: Fielding | None) -> str:
        languages = fielding.study.languages if fielding is not None else list(LANGUAGE_NAMES)
        asked = request.query_params.get("lang")
        if asked in languages:
            return asked
        for part in request.headers.get("accept-language", "").split(","):
            code = part.split(";")[0].strip()[:2].lower()
            if code in languages:
                return code
        return fielding.study.default_language if fielding is not None else "en"

    def message(
        self,
        request: Request,
        fielding: Fielding | None,
        key: str,
        status: int,
        lang: str | None = None,
        **extra: Any,
    ) -> Response:
        lang = lang or self.language(request, fielding)
        frame = (
            frame_context(fielding.survey, lang)
            if fielding is not None
            else {"lang": lang, "title": "offerlab", "languages": [], "t_language": ""}
        )
        context = {**frame, "message": ui(key, lang), **extra}
        headers = {"Retry-After": "3600"} if status == 503 else None
        return _TEMPLATES.TemplateResponse(
            request, "message.html", context, status_code=status, headers=headers
        )

    def refusal(
        self, request: Request, fielding: Fielding, refusal: str, lang: str | None, inside: bool
    ) -> Response:
        """The polite page of a study whose state refuses the request, in ``lang``."""
        asked = request.query_params.get("lang")
        lang = asked if asked in fielding.study.languages else lang
        key = f"{refusal}_inside" if inside and refusal != "not_open" else refusal
        return self.message(request, fielding, key, _REFUSAL_STATUS[refusal], lang)

    def to_respondent(self, fielding: Fielding, token: str, request: Request) -> Response:
        """303 to the respondent's page (keeping a ``?lang=`` asked for), with the cookie
        that leads this browser back to them from the anonymous link."""
        asked = request.query_params.get("lang")
        keep = f"?lang={asked}" if asked in fielding.study.languages else ""
        return self.remember(
            RedirectResponse(f"/r/{token}{keep}", status_code=303), fielding, token
        )

    def remember(self, response: Response, fielding: Fielding, token: str) -> Response:
        """``response`` with the cookie that leads this browser back to the respondent."""
        response.set_cookie(
            f"offerlab_{fielding.study.name}",
            token,
            max_age=60 * 60 * 24 * 30,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
            path="/",
        )
        return response

    def _fingerprint(self, request: Request, fielding: Fielding) -> str:
        client = request.client.host if request.client else ""
        return fielding.fingerprint(client, request.headers.get("user-agent", "")[:300])

    async def _resumed(self, request: Request, fielding: Fielding) -> Response | None:
        """The way back to the respondent this browser started (its cookie), if any."""
        known = request.cookies.get(f"offerlab_{fielding.study.name}", "")
        if _TOKEN.fullmatch(known) and await run_in_threadpool(fielding.exists, known):
            return self.to_respondent(fielding, known, request)
        return None

    def entry(
        self,
        request: Request,
        fielding: Fielding,
        entry: Entry,
        action: str,
        showing: _Showing = _AS_ASKED,
    ) -> Response:
        """The entry form: the first page, with what the link said in hidden fields."""
        snap = fielding.entry_page(entry)
        hidden = fielding.entry_fields(entry)
        keep = [(f"panel_{k}", v) for k, v in entry.panel.items()]
        # the language switch keeps the link's panel parameters (and the test mark)
        query = [(k[len("panel_") :], v) for k, v in keep]
        if entry.test:
            query.append(("offerlab_test", fielding.test_key))
        keep_query = urlencode(query) + "&" if query else ""
        if snap.key is None:  # the first page is a choice task: a button starts
            return self.message(
                request,
                fielding,
                "start",
                showing.status,
                entry.language,
                start_action=action,
                start_page=START_PAGE,
                start_label=ui("continue", entry.language),
                hidden=hidden,
                keep_query=keep_query,
            )
        context = page_context(fielding.survey, snap, action, showing.errors, showing.form)
        context["hidden"] = [(k, v) for k, v in hidden if k != "nonce"]
        context["keep_query"] = keep_query
        return _survey_page(request, fielding, context, showing.status)

    # -- routes ---------------------------------------------------------------------------
    async def anonymous(self, request: Request) -> Response:
        """GET (and HEAD) of the anonymous link: the entry form; nobody is made here."""
        name = request.path_params["study"]
        fielding = await run_in_threadpool(self.registry.get, name)
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        if (resumed := await self._resumed(request, fielding)) is not None:
            return resumed
        entry = fielding.new_entry(
            language=self.language(request, fielding),
            panel=fielding.panel_from(request.query_params),
            test=fielding.is_test_key(request.query_params.get("offerlab_test", "")),
        )
        state = await run_in_threadpool(fielding.state)
        if (refusal := state.admission(inside=False, test=entry.test)) is not None:
            return self.refusal(request, fielding, refusal, entry.language, inside=False)
        return self.entry(request, fielding, entry, f"/s/{fielding.study.name}")

    async def invitation(self, request: Request) -> Response:
        """GET (and HEAD) of a personal link: its respondent if started, else the entry form."""
        code = request.path_params["invitation"]
        fielding = await self._study_of(code, "invitation")
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        token = await run_in_threadpool(fielding.invited, code)
        if token is not None:
            return self.to_respondent(fielding, token, request)
        entry = fielding.new_entry(
            language=self.language(request, fielding),
            panel=fielding.panel_from(request.query_params),
            invitation=code,
        )
        state = await run_in_threadpool(fielding.state)
        if (refusal := state.admission(inside=False, test=False)) is not None:
            return self.refusal(request, fielding, refusal, entry.language, inside=False)
        return self.entry(request, fielding, entry, f"/i/{code}")

    async def _study_of(self, token: str, kind: str = "respondent") -> Fielding | None:
        """The study a respondent's (or an invitation's) token belongs to; None for an
        unknown or malformed one."""
        if not _TOKEN.fullmatch(token):
            return None
        return await run_in_threadpool(self.registry.of_token, token, kind)

    async def start_anonymous(self, request: Request) -> Response:
        """POST of the anonymous entry form: the respondent is made, the first page stored."""
        fielding = await run_in_threadpool(self.registry.get, request.path_params["study"])
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        if (too_large := _too_large(request)) is not None:
            return too_large
        if (resumed := await self._resumed(request, fielding)) is not None:
            return resumed  # this browser started already (another tab)
        return await self._start(request, fielding, None, f"/s/{fielding.study.name}")

    async def start_invited(self, request: Request) -> Response:
        """POST of a personal link's entry form."""
        code = request.path_params["invitation"]
        fielding = await self._study_of(code, "invitation")
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        return await self._start(request, fielding, code, f"/i/{code}")

    async def _start(
        self, request: Request, fielding: Fielding, invitation: str | None, action: str
    ) -> Response:
        if (too_large := _too_large(request)) is not None:
            return too_large
        form = await read_form(request)
        if form is None:
            return PlainTextResponse("the request is not a valid form", status_code=400)
        entry = fielding.entry_from_form(form, invitation)
        fingerprint = self._fingerprint(request, fielding)
        result = await run_in_threadpool(fielding.start, entry, form, fingerprint)
        if result is None:
            return self.message(request, fielding, "not_found", 404, entry.language)
        if result.outcome == "refused":
            return self.refusal(request, fielding, result.refusal, entry.language, inside=False)
        if result.outcome == "invalid":
            return self.entry(request, fielding, entry, action, _Showing.invalid(result))
        if result.outcome == "stale":
            fresh = fielding.entry_from_form({**form, "entry": [result.snapshot.nonce]}, invitation)
            stale = _Showing.stale(entry.language)
            return self.entry(request, fielding, fresh, action, stale)
        snap = result.snapshot
        if snap.refusal is not None:
            return self.refusal(request, fielding, snap.refusal, snap.language, inside=True)
        if snap.key is None and snap.redirect:  # screened out on the first page
            return self.remember(
                RedirectResponse(snap.redirect, status_code=303), fielding, snap.token
            )
        return self.to_respondent(fielding, snap.token, request)

    async def page(self, request: Request) -> Response:
        token = request.path_params["token"]
        fielding = await self._study_of(token)
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        asked = request.query_params.get("lang")
        snap = await run_in_threadpool(fielding.show, token, asked)
        if snap is None:
            return self.message(request, fielding, "not_found", 404)
        if snap.refusal is not None:
            return self.refusal(request, fielding, snap.refusal, snap.language, inside=True)
        return self.render(request, fielding, snap)

    def render(
        self,
        request: Request,
        fielding: Fielding,
        snap: Any,
        showing: _Showing = _AS_ASKED,
    ) -> Response:
        if snap.key is None:  # finished
            if snap.redirect:
                return RedirectResponse(snap.redirect, status_code=303)
            q = fielding.survey.questionnaire
            lang = snap.language
            text = fielding.study.text(getattr(q.end, snap.status), lang)
            context = {**frame_context(fielding.survey, lang), "message": text}
            return _TEMPLATES.TemplateResponse(request, "message.html", context)
        action = f"/r/{snap.token}"
        context = page_context(fielding.survey, snap, action, showing.errors, showing.form)
        return _survey_page(request, fielding, context, showing.status)

    async def submit(self, request: Request) -> Response:
        token = request.path_params["token"]
        fielding = await self._study_of(token)
        if fielding is None:
            return PlainTextResponse("unknown respondent", status_code=404)
        if (too_large := _too_large(request)) is not None:
            return too_large
        form = await read_form(request)
        if form is None:
            return PlainTextResponse("the request is not a valid form", status_code=400)
        result = await run_in_threadpool(fielding.submit, token, form)
        if result is None:
            return PlainTextResponse("unknown respondent", status_code=404)
        if result.outcome == "refused":
            lang = result.snapshot.language
            return self.refusal(request, fielding, result.refusal, lang, inside=True)
        if result.outcome == "invalid":
            return self.render(request, fielding, result.snapshot, _Showing.invalid(result))
        if result.outcome == "stale":
            stale = _Showing.stale(result.snapshot.language)
            return self.render(request, fielding, result.snapshot, stale)
        if result.snapshot.key is None and result.snapshot.redirect:
            return RedirectResponse(result.snapshot.redirect, status_code=303)
        return RedirectResponse(f"/r/{token}", status_code=303)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")


def _survey_page(
    request: Request, fielding: Fielding, context: dict[str, Any], status: int
) -> Response:
    """A page of the survey (page.html) under the survey's policy."""
    return _TEMPLATES.TemplateResponse(
        request, "page.html", context, status_code=status, headers=_survey_policy(fielding)
    )


def _survey_policy(fielding: Fielding) -> dict[str, str]:
    """The policy of a page with a survey form. Browsers apply form-action to the redirect
    that answers a form, and any page's submit (the entry form's declined consent, the
    last page) may be answered by a 303 to the panel: its origins must be allowed."""
    origins = fielding.survey.questionnaire.redirects.origins()
    return {"content-security-policy": _content_security_policy(origins)}


def _too_large(request: Request) -> Response | None:
    """400 for a declared length that is not a number ('²' is a digit to Python, not to
    ``int``), 413 for one over :data:`MAX_BODY`."""
    length = request.headers.get("content-length")
    if length is not None and not (length.isascii() and length.isdigit()):
        return PlainTextResponse("the length of the form is not a number", status_code=400)
    if length is not None and int(length) > MAX_BODY:
        return PlainTextResponse("the form is too large", status_code=413)
    return None


async def _unavailable(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(
        "the survey is busy, please try again", status_code=503, headers={"Retry-After": "2"}
    )


def create_app(fielding: Fielding, *, secure_cookies: bool = False) -> Starlette:
    """The respondent web app for the studies on one database.

    Parameters
    ----------
    fielding : Fielding
        A study registered on its database (:meth:`Fielding.open`); the other
        studies on the same database are served too, loaded on first use.
    secure_cookies : bool, default False
        Send the resume cookie over HTTPS only (set it behind a TLS proxy).
    """
    registry = Registry(fielding.engine, fielding)
    purge_expired(fielding.engine)  # each study's retention period, at every start
    handlers = _App(registry, secure_cookies)
    routes = [
        Route("/s/{study}", handlers.anonymous, methods=["GET"]),
        Route("/s/{study}", handlers.start_anonymous, methods=["POST"]),
        Route("/i/{invitation}", handlers.invitation, methods=["GET"]),
        Route("/i/{invitation}", handlers.start_invited, methods=["POST"]),
        Route("/r/{token}", handlers.page, methods=["GET"]),
        Route("/r/{token}", handlers.submit, methods=["POST"]),
        Route("/healthz", handlers.health, methods=["GET"]),
        *console_routes(registry, _TEMPLATES, secure_cookies),
    ]
    app = Starlette(routes=routes, exception_handlers={OperationalError: _unavailable})
    app.add_middleware(_SecurityHeaders)  # type: ignore[arg-type]
    app.state.fielding = fielding
    app.state.registry = registry
    return app


def app_from_env() -> Starlette:
    """The app from ``OFFERLAB_STUDY`` (and ``OFFERLAB_DESIGN``): for uvicorn workers.

    ``offerlab serve`` sets these for each worker process it starts.
    """
    from offerlab.design import Design
    from offerlab.store import make_engine
    from offerlab.study import load_study

    study_path = os.environ["OFFERLAB_STUDY"]
    study = load_study(study_path)
    design_path = os.environ.get("OFFERLAB_DESIGN")
    design = Design.read(study, design_path) if design_path else None
    fielding = Fielding.open(
        make_engine(), study, Path(study_path).read_text(encoding="utf-8-sig"), design
    )
    return create_app(fielding, secure_cookies=os.environ.get("OFFERLAB_SECURE_COOKIES") == "1")
