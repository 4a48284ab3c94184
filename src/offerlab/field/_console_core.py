"""What every console page shares: the session, the language, the refusals, the study lookup.

:class:`Console` holds the database and the templates; each area of the console (sign-in,
team, studies, downloads, privacy, simulator, reports …) is a module with its handlers and
its routes that takes the :class:`Console`. The adapters here (:meth:`Console.signed_in`,
:meth:`Console.posted`, :meth:`Console.study_page`, :meth:`Console.study_json`,
:meth:`Console.study_post`) do the
checks every handler of their kind needs — a session, the form's CSRF token, the user's
access to the study — so a handler starts with what it is about.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from offerlab.exceptions import OfferlabError
from offerlab.field import _auth
from offerlab.field._audit import record_study_event
from offerlab.field._console_texts import (
    CONSOLE_LANGUAGES,
    LANGUAGE_COOKIE,
    ConsoleTexts,
    Message,
    console_language,
)
from offerlab.field._console_views import format_number, format_when
from offerlab.field._forms import read_form
from offerlab.field._service import Fielding
from offerlab.store import StudyRow, StudyShare, User

__all__ = [
    "COOKIE",
    "LOGIN_COOKIE",
    "Console",
    "StudyReader",
    "after_response",
    "attachment",
    "problem_message",
    "record_study_event",
    "respondents_message",
    "see_other",
]


class _RowId(Convertor[int]):
    """A row id in a path: up to 18 digits, so it fits the databases' 64-bit integers
    (Starlette's ``int`` takes any length, and SQLite fails on a 21-digit one with a 500)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", _RowId())

#: Each language by its own name, for the switch (the same on every page).
LANGUAGE_NAMES = {"de": "Deutsch", "fr": "Français", "it": "Italiano", "en": "English"}

COOKIE = "offerlab_console"
LOGIN_COOKIE = "offerlab_login"

#: The heading of each refusal's page, a catalogue key.
_ERROR_HEADINGS = {
    400: "error_400",
    403: "error_403",
    404: "error_404",
    409: "error_409",
    410: "error_410",
    413: "error_400",
    429: "error_429",
}

Endpoint = Callable[[Request], Awaitable[Response]]
Form = dict[str, str]


@dataclass(frozen=True)
class StudyReader:
    """Who reads a study's page, as the page needs to know: the texts in the page's own
    language, what they may do with the study and, when they may change it, the viewers it
    is shared with (:meth:`Console.study_reader`)."""

    t: ConsoleTexts
    access: _auth.Access
    viewers: list[str]


def see_other(path: str) -> RedirectResponse:
    """303 to ``path``: where a form's answer (or a page without a session) leads."""
    return RedirectResponse(path, status_code=303)


def attachment(content: bytes | str, media_type: str, filename: str, **headers: str) -> Response:
    """A file to save, named ``filename``."""
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=media_type, headers={**disposition, **headers})


def after_response(path: str, work: Callable[..., Any], *args: Any) -> RedirectResponse:
    """303 to ``path``; ``work(*args)`` runs in a worker thread after the response is sent
    (a fit, a report build: the page says how far it is)."""
    return RedirectResponse(path, status_code=303, background=BackgroundTask(work, *args))


def problem_message(error: Exception) -> Message:
    """The message of a refusal raised by the console's own code (else its text, as is)."""
    found = error.args[0] if error.args else ""
    return found if isinstance(found, Message) else Message("problem_text", text=str(error))


def respondents_message(count: int) -> Message:
    """ "1 respondent", "N respondents", in the page's language."""
    return Message("respondents_one" if count == 1 else "respondents_n", n=count)


class Console:
    """The console's shared handlers, on the database of an ``_app.Registry``."""

    def __init__(self, registry: Any, templates: Jinja2Templates, secure_cookies: bool) -> None:
        self.registry = registry
        self.engine: Engine = registry.engine
        self.templates = templates
        self.secure = secure_cookies

    # -- pages ----------------------------------------------------------------------------
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
        return self.page(
            request,
            "console_error.html",
            status,
            user=user,
            heading=_ERROR_HEADINGS.get(status, "error_400"),
            problem=problem,
            back=back,
            back_label=back_label,
        )

    def keep_cookie(
        self, response: Response, name: str, value: str, max_age: int | None = None
    ) -> Response:
        """``response`` setting a console cookie scripts cannot read and other sites not send."""
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/console",
            max_age=max_age,
        )
        return response

    def signed_in_at(self, path: str, session_token: str) -> Response:
        """303 to ``path`` with the cookie of a session just begun (a login, a join)."""
        return self.keep_cookie(
            see_other(path), COOKIE, session_token, max_age=int(_auth.SESSION_SECONDS)
        )

    # -- who asks ---------------------------------------------------------------------------
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

    async def _form(self, request: Request, **limits: Any) -> Form | None:
        form = await read_form(request, **limits)
        if form is None:
            return None
        return {k: v[0] for k, v in form.items()}

    async def login_form(self, request: Request) -> tuple[Form, str] | None:
        """The form of a POST before a session (log in, join) and its double-submit token,
        or None when the form's token is not the cookie's."""
        form = await self._form(request)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if (
            form is None
            or not cookie
            or not secrets.compare_digest(form.get("login_csrf", "").encode(), cookie.encode())
        ):
            return None
        return form, cookie

    async def _post_user(self, request: Request, **limits: Any) -> tuple[Any, Form] | Response:
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

    # -- the study asked for ------------------------------------------------------------------
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

    async def _post_for_study(
        self, request: Request, *, write: bool = True, **limits: Any
    ) -> tuple[Any, Form, tuple[Fielding, StudyRow]] | Response:
        """User and form of a POST on a study the user may write (or read), or the refusal."""
        checked = await self._post_user(request, **limits)
        if isinstance(checked, Response):
            return checked
        user, form = checked
        found = await self._study_for(request, user, write=write)
        if isinstance(found, Response):
            return found
        return user, form, found

    async def _get_for_study(
        self, request: Request, write: bool
    ) -> tuple[Any, Fielding, StudyRow] | Response:
        """User, fielding and row of a page of a study the user may read (or write)."""
        user = await run_in_threadpool(self.user, request)
        if user is None:
            return see_other("/console/login")
        found = await self._study_for(request, user, write=write)
        if isinstance(found, Response):
            return found
        return user, *found

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

    async def _access_and_viewers(self, user: Any, row: StudyRow) -> tuple[_auth.Access, list[str]]:
        """The user's access to the study and, for those who may change it, its viewers."""
        access = (await run_in_threadpool(self._access, user.id, row.name))[1]
        viewers = await run_in_threadpool(self._viewers, row.id) if access.write else []
        return access, viewers

    async def study_reader(self, request: Request, user: Any, row: StudyRow) -> StudyReader:
        """The reader of ``row``'s page (a handler behind :meth:`study_page` or
        :meth:`study_post`): the texts in the language the page is shown in (the member's
        choice counts, as in :meth:`page`), their access, the study's viewers."""
        access, viewers = await self._access_and_viewers(user, row)
        return StudyReader(ConsoleTexts(self.language(request, user)), access, viewers)

    def _record(self, action: str, user_id: int, row: StudyRow, detail: dict[str, Any]) -> None:
        """Write one event on the study to the audit log, in a transaction of its own."""
        with Session(self.engine) as session, session.begin():
            record_study_event(session, action, user_id, row, detail)

    # -- adapters: the checks of a kind of handler, once -------------------------------------
    def signed_in(self, handler: Callable[[Request, Any], Awaitable[Response]]) -> Endpoint:
        """A page for the logged-in user (without a session: the login)."""

        async def endpoint(request: Request) -> Response:
            user = await run_in_threadpool(self.user, request)
            if user is None:
                return see_other("/console/login")
            return await handler(request, user)

        return endpoint

    def posted(
        self, handler: Callable[[Request, Any, Form], Awaitable[Response]], **limits: Any
    ) -> Endpoint:
        """A form of the logged-in user, with the session's CSRF token."""
        return _checked(lambda request: self._post_user(request, **limits), handler)

    def study_page(
        self,
        handler: Callable[[Request, Any, Fielding, StudyRow], Awaitable[Response]],
        *,
        write: bool = False,
    ) -> Endpoint:
        """A page (GET) of a study the user may read (``write``: change)."""
        return _checked(lambda request: self._get_for_study(request, write=write), handler)

    def study_json(
        self,
        handler: Callable[[Request, Any, Fielding, StudyRow], Awaitable[Response]],
        *,
        write: bool = False,
    ) -> Endpoint:
        """A script's JSON (GET) on a study the user may read (``write``: change); without a
        session a JSON 401, as a script cannot follow the way to the login."""

        async def check(request: Request) -> tuple[Any, ...] | Response:
            found = await self._get_for_study(request, write=write)
            if isinstance(found, RedirectResponse):
                return JSONResponse({"error": "log in first"}, status_code=401)
            return found

        return _checked(check, handler)

    def study_post(
        self,
        handler: Callable[[Request, Any, Form, Fielding, StudyRow], Awaitable[Response]],
        **limits: Any,
    ) -> Endpoint:
        """A form (POST, CSRF checked) that changes a study the user may change."""

        async def check(request: Request) -> tuple[Any, ...] | Response:
            checked = await self._post_for_study(request, **limits)
            if isinstance(checked, Response):
                return checked
            user, form, (fielding, row) = checked
            return user, form, fielding, row

        return _checked(check, handler)


def _checked(
    check: Callable[[Request], Awaitable[tuple[Any, ...] | Response]],
    handler: Callable[..., Awaitable[Response]],
) -> Endpoint:
    """An endpoint that runs ``check`` and answers its refusal, or calls ``handler`` with the
    request and what ``check`` found."""

    async def endpoint(request: Request) -> Response:
        found = await check(request)
        if isinstance(found, Response):
            return found
        return await handler(request, *found)

    return endpoint
