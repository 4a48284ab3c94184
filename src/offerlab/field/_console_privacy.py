"""Data protection in the console: one respondent's data exported or deleted, retention.

Only the owners of the study's venture see the page and make these changes; each is
written to the audit log (:mod:`offerlab.field._privacy`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offerlab.field._console_core import (
    Console,
    Form,
    attachment,
    problem_message,
    respondents_message,
    see_other,
)
from offerlab.field._console_texts import Message
from offerlab.field._privacy import (
    FIND_BY,
    MAX_RETENTION_DAYS,
    delete_respondent,
    export_respondent,
    set_retention,
)
from offerlab.store import StudyRow

__all__ = ["privacy_routes"]

_Handler = Callable[[Request, Any, Form, StudyRow], Awaitable[Response]]


class _Privacy:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine

    def owners(self, handler: _Handler, *, post: bool) -> Callable[[Request], Awaitable[Response]]:
        """A page or form of a study only its venture's owners handle: ``handler`` gets the
        user, the form (empty for a GET) and the study's row."""

        async def endpoint(request: Request) -> Response:
            c = self.console
            form: Form = {}
            if post:
                checked = await c._post_user(request)
                if isinstance(checked, Response):
                    return checked
                user, form = checked
            else:
                user = await run_in_threadpool(c.user, request)
                if user is None:
                    return see_other("/console/login")
            row, access = await run_in_threadpool(c._access, user.id, request.path_params["study"])
            if row is None or not access.read:
                return c.refuse(request, 404, Message("refuse_no_study"), user)
            if access.role != "owner":
                return c.refuse(request, 403, Message("refuse_privacy_owners"), user)
            return await handler(request, user, form, row)

        return endpoint

    def _page(
        self,
        request: Request,
        user: Any,
        row: StudyRow,
        *,
        error: Message | str = "",
        message: Message | str = "",
    ) -> Response:
        c = self.console
        return c.page(
            request,
            "console_privacy.html",
            422 if error else 200,
            user=user,
            study=row,
            study_title=c._study_title(row, c.language(request, user)),
            error=error,
            message=message,
            find_by=FIND_BY,
            max_days=MAX_RETENTION_DAYS,
        )

    async def privacy(self, request: Request, user: Any, form: Form, row: StudyRow) -> Response:
        return self._page(request, user, row)

    async def delete(self, request: Request, user: Any, form: Form, row: StudyRow) -> Response:
        if form.get("confirm") != "yes":
            return self._page(request, user, row, error=Message("privacy_tick"))
        by, value = form.get("by", ""), form.get("value", "")
        try:
            count, invitations = await run_in_threadpool(
                delete_respondent, self.engine, row, by, value, user_id=user.id
            )
        except ValueError as error:
            return self._page(request, user, row, error=problem_message(error))
        if count == 0 and invitations == 0:
            return self._page(request, user, row, error=Message("privacy_not_found"))
        if count == 0:
            message = Message("privacy_invitation_deleted")
        else:
            message = Message("privacy_deleted", respondents=respondents_message(count))
        return self._page(request, user, row, message=message)

    async def export(self, request: Request, user: Any, form: Form, row: StudyRow) -> Response:
        by = request.query_params.get("by", "")
        value = request.query_params.get("value", "")
        try:
            document = await run_in_threadpool(
                export_respondent, self.engine, row, by, value, user_id=user.id
            )
        except ValueError as error:
            return self._page(request, user, row, error=problem_message(error))
        if not document["respondents"]:
            return self._page(request, user, row, error=Message("privacy_not_found"))
        return attachment(
            json.dumps(document, ensure_ascii=False, indent=2),
            "application/json; charset=utf-8",
            f"{row.name}_respondent.json",
            **{"Cache-Control": "no-store"},
        )

    async def retention(self, request: Request, user: Any, form: Form, row: StudyRow) -> Response:
        text = form.get("days", "").strip()
        if text and not (text.isascii() and text.isdigit() and len(text) <= 5):
            return self._page(request, user, row, error=Message("retention_whole"))
        days = int(text) if text else None
        try:
            purged = await run_in_threadpool(set_retention, self.engine, row, days, user_id=user.id)
        except ValueError as error:
            return self._page(request, user, row, error=problem_message(error))
        row = await run_in_threadpool(self.console._reload, row.id)
        kept = Message("retention_kept_days", n=days) if days else Message("retention_kept_ever")
        message = Message("retention_saved", kept=kept, purged=respondents_message(purged))
        return self._page(request, user, row, message=message)


def privacy_routes(console: Console) -> list[Route]:
    """The study's data protection page, a respondent's export and deletion, retention."""
    p = _Privacy(console)
    study = "/console/studies/{study}"
    return [
        Route(f"{study}/privacy", p.owners(p.privacy, post=False), methods=["GET"]),
        Route(f"{study}/privacy/export", p.owners(p.export, post=False), methods=["GET"]),
        Route(f"{study}/privacy/delete", p.owners(p.delete, post=True), methods=["POST"]),
        Route(f"{study}/retention", p.owners(p.retention, post=True), methods=["POST"]),
    ]
