"""Signing in to the console: log in and out, join by a member invitation, one's password.

The forms before a session (log in, join) carry a double-submit token (the
``offerlab_login`` cookie and a hidden field); the others the session's CSRF token.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offerlab.field import _auth
from offerlab.field._console_core import COOKIE, LOGIN_COOKIE, Console, Form, see_other
from offerlab.field._console_texts import Message
from offerlab.store import Venture

__all__ = ["sign_in_routes"]

#: The pages that show a password form stay out of caches and referrers.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class _SignIn:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine

    # -- log in and out -------------------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        response = self.console.page(request, "console_login.html", login_csrf=token, error="")
        return self.console.keep_cookie(response, LOGIN_COOKIE, token)

    async def login(self, request: Request) -> Response:
        c = self.console
        checked = await c.login_form(request)
        if checked is None:
            return c.refuse(request, 403, Message("refuse_login_token"), back="/console/login")
        form, cookie = checked
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
            return c.page(
                request,
                "console_login.html",
                429,
                login_csrf=cookie,
                error=Message("login_wait", wait=_auth.duration_text(result)),
                headers={"Retry-After": str(max(1, int(result + 0.999)))},
            )
        if result is None:
            return c.page(
                request, "console_login.html", 401, login_csrf=cookie, error=Message("login_wrong")
            )
        token, _ = result  # type: ignore[misc]
        return c.signed_in_at("/console/", token)

    async def logout(self, request: Request, user: Any, form: Form) -> Response:
        def out() -> None:
            with Session(self.engine) as session, session.begin():
                _auth.logout(session, request.cookies.get(COOKIE, ""))

        await run_in_threadpool(out)
        response = see_other("/console/login")
        response.delete_cookie(COOKIE, path="/console")
        return response

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
        return self.console.refuse(
            request, status, problem, back="/console/login", back_label="log_in"
        )

    def _join_page(
        self, request: Request, token: str, found: tuple[str, str, str], csrf: str, **more: Any
    ) -> Response:
        email, role, venture = found
        response = self.console.page(
            request,
            "console_join.html",
            422 if more.get("error") else 200,
            headers=_PRIVATE,
            token=token,
            email=email,
            role=role,
            venture=venture,
            login_csrf=csrf,
            min_password=_auth.MIN_PASSWORD,
            max_password=_auth.MAX_PASSWORD,
            **more,
        )
        return self.console.keep_cookie(response, LOGIN_COOKIE, csrf)

    async def join_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        found = await run_in_threadpool(self._invitation, token)
        if isinstance(found, Message):
            return self._refuse_invitation(request, found)
        csrf = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        return self._join_page(request, token, found, csrf)

    async def join(self, request: Request) -> Response:
        """The invited person sets their password: the account, the membership, a session."""
        token = request.path_params["token"]
        checked = await self.console.login_form(request)
        if checked is None:
            return self.console.refuse(
                request, 403, Message("refuse_login_token"), back=request.url.path
            )
        form, cookie = checked
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
        return self.console.signed_in_at("/console/?joined=1", session_token)

    # -- the user's own password ----------------------------------------------------------
    async def account(self, request: Request, user: Any) -> Response:
        changed = request.query_params.get("changed") == "1"
        return self._account_page(
            request, user, message=Message("password_changed") if changed else ""
        )

    def _account_page(
        self,
        request: Request,
        user: Any,
        error: Message | str = "",
        message: Message | str = "",
        status: int = 200,
    ) -> Response:
        return self.console.page(
            request,
            "console_account.html",
            status,
            user=user,
            error=error,
            message=message,
            min_password=_auth.MIN_PASSWORD,
            max_password=_auth.MAX_PASSWORD,
        )

    async def change_password(self, request: Request, user: Any, form: Form) -> Response:
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
        return see_other("/console/account?changed=1")


def sign_in_routes(console: Console) -> list[Route]:
    """Log in and out, join by an invitation, change one's password."""
    s = _SignIn(console)
    return [
        Route("/console/login", s.login_page, methods=["GET"]),
        Route("/console/login", s.login, methods=["POST"]),
        Route("/console/logout", console.posted(s.logout), methods=["POST"]),
        Route("/console/account", console.signed_in(s.account), methods=["GET"]),
        Route("/console/account/password", console.posted(s.change_password), methods=["POST"]),
        Route("/console/join/{token}", s.join_page, methods=["GET"]),
        Route("/console/join/{token}", s.join, methods=["POST"]),
    ]
