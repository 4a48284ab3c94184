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
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offerlab.field._render import frame_context, page_context
from offerlab.field._service import Fielding
from offerlab.field._texts import ui

__all__ = ["MAX_BODY", "app_from_env", "create_app"]

MAX_BODY = 64 * 1024
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; form-action 'self' https: http:; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class _SecurityHeaders:
    """Adds security headers to every response (and keeps pages out of caches)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + _HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _App:
    """The route handlers, bound to one :class:`Fielding`."""

    def __init__(self, fielding: Fielding, secure_cookies: bool) -> None:
        self.fielding = fielding
        self.secure_cookies = secure_cookies
        self.cookie = f"offerlab_{fielding.study.name}"

    # -- helpers ------------------------------------------------------------------------
    def language(self, request: Request) -> str:
        study = self.fielding.study
        asked = request.query_params.get("lang")
        if asked in study.languages:
            return asked
        for part in request.headers.get("accept-language", "").split(","):
            code = part.split(";")[0].strip()[:2].lower()
            if code in study.languages:
                return code
        return study.default_language

    def message(self, request: Request, key: str, status: int, lang: str | None = None) -> Response:
        lang = lang or self.language(request)
        context = {**frame_context(self.fielding.survey, lang), "message": ui(key, lang)}
        return _TEMPLATES.TemplateResponse(request, "message.html", context, status_code=status)

    def to_respondent(self, token: str, request: Request | None = None) -> Response:
        asked = request.query_params.get("lang") if request is not None else None
        keep = f"?lang={asked}" if asked in self.fielding.study.languages else ""
        response = RedirectResponse(f"/r/{token}{keep}", status_code=303)
        response.set_cookie(
            self.cookie,
            token,
            max_age=60 * 60 * 24 * 30,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
            path="/",
        )
        return response

    def closed(self, request: Request) -> Response | None:
        status = self.fielding.status()
        if status == "paused":
            return self.message(request, "paused", 503)
        if status == "closed":
            return self.message(request, "closed", 410)
        return None

    # -- routes ---------------------------------------------------------------------------
    async def anonymous(self, request: Request) -> Response:
        fielding = self.fielding
        if request.path_params["study"] != fielding.study.name:
            return self.message(request, "not_found", 404)
        known = request.cookies.get(self.cookie, "")
        if _TOKEN.fullmatch(known) and await run_in_threadpool(fielding.exists, known):
            return self.to_respondent(known, request)
        if (stop := await run_in_threadpool(self.closed, request)) is not None:
            return stop
        token = await run_in_threadpool(
            lambda: fielding.enter(
                language=self.language(request),
                panel=fielding.panel_from(request.query_params),
                fingerprint=self._fingerprint(request),
            )
        )
        assert token is not None
        return self.to_respondent(token)

    async def invitation(self, request: Request) -> Response:
        fielding = self.fielding
        code = request.path_params["invitation"]
        if not _TOKEN.fullmatch(code):
            return self.message(request, "not_found", 404)
        if (stop := await run_in_threadpool(self.closed, request)) is not None:
            return stop
        token = await run_in_threadpool(
            lambda: fielding.enter(
                language=self.language(request),
                panel=fielding.panel_from(request.query_params),
                fingerprint=self._fingerprint(request),
                invitation=code,
            )
        )
        if token is None:
            return self.message(request, "not_found", 404)
        return self.to_respondent(token, request)

    def _fingerprint(self, request: Request) -> str:
        client = request.client.host if request.client else ""
        return self.fielding.fingerprint(client, request.headers.get("user-agent", "")[:300])

    async def page(self, request: Request) -> Response:
        token = request.path_params["token"]
        if not _TOKEN.fullmatch(token):
            return self.message(request, "not_found", 404)
        asked = request.query_params.get("lang")
        snap = await run_in_threadpool(self.fielding.show, token, asked)
        if snap is None:
            return self.message(request, "not_found", 404)
        return self.render(request, snap)

    def render(
        self,
        request: Request,
        snap: Any,
        status: int = 200,
        errors: list[str] | None = None,
        form: Any = None,
    ) -> Response:
        if snap.key is None:  # finished
            if snap.redirect:
                return RedirectResponse(snap.redirect, status_code=303)
            q = self.fielding.survey.questionnaire
            lang = snap.language
            text = self.fielding.study.text(getattr(q.end, snap.status), lang)
            context = {**frame_context(self.fielding.survey, lang), "message": text}
            return _TEMPLATES.TemplateResponse(request, "message.html", context)
        context = page_context(self.fielding.survey, snap, f"/r/{snap.token}", errors, form)
        return _TEMPLATES.TemplateResponse(request, "page.html", context, status_code=status)

    async def submit(self, request: Request) -> Response:
        token = request.path_params["token"]
        if not _TOKEN.fullmatch(token):
            return PlainTextResponse("unknown respondent", status_code=404)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return PlainTextResponse("the form is too large", status_code=413)
        form = await _read_form(request)
        if form is None:
            return PlainTextResponse("the request is not a valid form", status_code=400)
        result = await run_in_threadpool(self.fielding.submit, token, form)
        if result is None:
            return PlainTextResponse("unknown respondent", status_code=404)
        if result.outcome == "invalid":
            return self.render(request, result.snapshot, 422, result.errors, result.form)
        if result.outcome == "stale":
            return self.render(
                request, result.snapshot, 409, [ui("err_stale", result.snapshot.language)]
            )
        if result.snapshot.key is None and result.snapshot.redirect:
            return RedirectResponse(result.snapshot.redirect, status_code=303)
        return RedirectResponse(f"/r/{token}", status_code=303)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")


async def _read_form(request: Request) -> dict[str, list[str]] | None:
    """Every field of a form as lists of text; None for anything that is not a small form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    request._body = body  # the form parser reads the body we already took
    try:
        form = await request.form(max_files=0, max_fields=200, max_part_size=MAX_BODY)
    except Exception:  # any parser error: the input is not a form we take
        return None
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile) or len(name) > 100 or "\x00" in value:
            return None
        fields.setdefault(name, []).append(value)
    return fields


async def _unavailable(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(
        "the survey is busy, please try again", status_code=503, headers={"Retry-After": "2"}
    )


def create_app(fielding: Fielding, *, secure_cookies: bool = False) -> Starlette:
    """The respondent web app for one study in the field.

    Parameters
    ----------
    fielding : Fielding
        The study, registered on its database (:meth:`Fielding.open`).
    secure_cookies : bool, default False
        Send the resume cookie over HTTPS only (set it behind a TLS proxy).
    """
    handlers = _App(fielding, secure_cookies)
    routes = [
        Route("/s/{study}", handlers.anonymous, methods=["GET"]),
        Route("/i/{invitation}", handlers.invitation, methods=["GET"]),
        Route("/r/{token}", handlers.page, methods=["GET"]),
        Route("/r/{token}", handlers.submit, methods=["POST"]),
        Route("/healthz", handlers.health, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={OperationalError: _unavailable})
    app.add_middleware(_SecurityHeaders)  # type: ignore[arg-type]
    app.state.fielding = fielding
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
