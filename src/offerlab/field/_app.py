"""The respondent side: a Starlette app of server-rendered pages that work without JavaScript.

Routes (one explicit table, :data:`ROUTES`):

=====================  ======  ==========================================================
``/s/{study}``         GET     anonymous link: a new respondent, or the one this browser
                               started (cookie); panel parameters come in the query
``/i/{invitation}``    GET     personal invitation: its respondent, made on first use
``/r/{token}``         GET     the respondent's current page (``?lang=fr`` switches);
                               a finished respondent goes to the panel's redirect
``/r/{token}``         POST    submit the current page, then 303 to the next one
``/healthz``           GET     liveness
=====================  ======  ==========================================================

Bad input never reaches the database: unknown tokens are 404, forms that are not
forms are 400, bodies over :data:`MAX_BODY` are 413, answers that do not fit the
page are 422 (the page again, with the reason), stale or repeated submits lead
back to the current page. A database that is momentarily unavailable gives 503
with ``Retry-After``, never a half-stored answer.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerlab.field._console import console_routes
from offerlab.field._privacy import purge_expired
from offerlab.field._render import frame_context, page_context
from offerlab.field._service import Fielding
from offerlab.field._texts import LANGUAGE_NAMES, ui
from offerlab.store import Invitation, Respondent, StudyRow

__all__ = ["MAX_BODY", "Registry", "app_from_env", "create_app"]

MAX_BODY = 64 * 1024
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# The console's simulator page includes the report's simulator partial.
_TEMPLATES = Jinja2Templates(
    directory=[
        Path(__file__).parent / "templates",
        Path(__file__).parent.parent / "report" / "templates",
    ]
)
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
        self, request: Request, fielding: Fielding | None, key: str, status: int
    ) -> Response:
        lang = self.language(request, fielding)
        frame = (
            frame_context(fielding.survey, lang)
            if fielding is not None
            else {"lang": lang, "title": "offerlab", "languages": [], "t_language": ""}
        )
        context = {**frame, "message": ui(key, lang)}
        return _TEMPLATES.TemplateResponse(request, "message.html", context, status_code=status)

    def to_respondent(self, fielding: Fielding, token: str, request: Request) -> Response:
        asked = request.query_params.get("lang")
        keep = f"?lang={asked}" if asked in fielding.study.languages else ""
        response = RedirectResponse(f"/r/{token}{keep}", status_code=303)
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

    def closed(self, request: Request, fielding: Fielding) -> Response | None:
        status = fielding.status()
        if status == "paused":
            return self.message(request, fielding, "paused", 503)
        if status == "closed":
            return self.message(request, fielding, "closed", 410)
        return None

    def _fingerprint(self, request: Request, fielding: Fielding) -> str:
        client = request.client.host if request.client else ""
        return fielding.fingerprint(client, request.headers.get("user-agent", "")[:300])

    # -- routes ---------------------------------------------------------------------------
    async def anonymous(self, request: Request) -> Response:
        name = request.path_params["study"]
        fielding = await run_in_threadpool(self.registry.get, name)
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        known = request.cookies.get(f"offerlab_{fielding.study.name}", "")
        if _TOKEN.fullmatch(known) and await run_in_threadpool(fielding.exists, known):
            return self.to_respondent(fielding, known, request)
        if (stop := await run_in_threadpool(self.closed, request, fielding)) is not None:
            return stop
        test = request.query_params.get("offerlab_test", "")
        token = await run_in_threadpool(
            lambda: fielding.enter(
                language=self.language(request, fielding),
                panel=fielding.panel_from(request.query_params),
                fingerprint=self._fingerprint(request, fielding),
                test=bool(test)
                and secrets.compare_digest(test.encode(), fielding.test_key.encode()),
            )
        )
        assert token is not None
        return self.to_respondent(fielding, token, request)

    async def invitation(self, request: Request) -> Response:
        code = request.path_params["invitation"]
        fielding = None
        if _TOKEN.fullmatch(code):
            fielding = await run_in_threadpool(self.registry.of_token, code, "invitation")
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        if (stop := await run_in_threadpool(self.closed, request, fielding)) is not None:
            return stop
        token = await run_in_threadpool(
            lambda: fielding.enter(
                language=self.language(request, fielding),
                panel=fielding.panel_from(request.query_params),
                fingerprint=self._fingerprint(request, fielding),
                invitation=code,
            )
        )
        if token is None:
            return self.message(request, fielding, "not_found", 404)
        return self.to_respondent(fielding, token, request)

    async def page(self, request: Request) -> Response:
        token = request.path_params["token"]
        fielding = None
        if _TOKEN.fullmatch(token):
            fielding = await run_in_threadpool(self.registry.of_token, token)
        if fielding is None:
            return self.message(request, None, "not_found", 404)
        asked = request.query_params.get("lang")
        snap = await run_in_threadpool(fielding.show, token, asked)
        if snap is None:
            return self.message(request, fielding, "not_found", 404)
        return self.render(request, fielding, snap)

    def render(
        self,
        request: Request,
        fielding: Fielding,
        snap: Any,
        status: int = 200,
        errors: list[str] | None = None,
        form: Any = None,
    ) -> Response:
        if snap.key is None:  # finished
            if snap.redirect:
                return RedirectResponse(snap.redirect, status_code=303)
            q = fielding.survey.questionnaire
            lang = snap.language
            text = fielding.study.text(getattr(q.end, snap.status), lang)
            context = {**frame_context(fielding.survey, lang), "message": text}
            return _TEMPLATES.TemplateResponse(request, "message.html", context)
        context = page_context(fielding.survey, snap, f"/r/{snap.token}", errors, form)
        # Browsers apply form-action to the redirect that answers a form: the last page's
        # submit is answered by a 303 to the panel, which must be allowed here.
        redirects = fielding.survey.questionnaire.redirects
        policy = _content_security_policy(redirects.origins())
        return _TEMPLATES.TemplateResponse(
            request,
            "page.html",
            context,
            status_code=status,
            headers={"content-security-policy": policy},
        )

    async def submit(self, request: Request) -> Response:
        token = request.path_params["token"]
        fielding = None
        if _TOKEN.fullmatch(token):
            fielding = await run_in_threadpool(self.registry.of_token, token)
        if fielding is None:
            return PlainTextResponse("unknown respondent", status_code=404)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return PlainTextResponse("the form is too large", status_code=413)
        form = await _read_form(request)
        if form is None:
            return PlainTextResponse("the request is not a valid form", status_code=400)
        result = await run_in_threadpool(fielding.submit, token, form)
        if result is None:
            return PlainTextResponse("unknown respondent", status_code=404)
        if result.outcome == "invalid":
            return self.render(request, fielding, result.snapshot, 422, result.errors, result.form)
        if result.outcome == "stale":
            stale = [ui("err_stale", result.snapshot.language)]
            return self.render(request, fielding, result.snapshot, 409, stale)
        if result.snapshot.key is None and result.snapshot.redirect:
            return RedirectResponse(result.snapshot.redirect, status_code=303)
        return RedirectResponse(f"/r/{token}", status_code=303)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")


async def _read_form(
    request: Request, *, max_body: int = MAX_BODY, file_fields: tuple[str, ...] = ()
) -> dict[str, list[str]] | None:
    """Every field of a form as lists of text; None for anything that is not a small form.

    Files are refused, except in ``file_fields`` (a study file uploaded to the console):
    their UTF-8 text is the field's value, their name is kept as ``<field>:filename``.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    request._body = body  # the form parser reads the body we already took
    try:
        form = await request.form(
            max_files=len(file_fields), max_fields=200, max_part_size=max_body
        )
    except Exception:  # any parser error: the input is not a form we take
        return None
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name not in file_fields:
                return None
            text = (await value.read()).decode("utf-8")  # the whole body decoded above
            fields.setdefault(f"{name}:filename", []).append(value.filename or "")
            value = text
        if len(name) > 100 or "\x00" in value:
            return None
        fields.setdefault(name, []).append(value)
    return fields


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
        Route("/i/{invitation}", handlers.invitation, methods=["GET"]),
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
