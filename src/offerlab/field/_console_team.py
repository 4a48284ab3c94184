"""A venture's team in the console: members, their roles, invitations to join, the audit log.

Only the venture's owners see these pages and make these changes; each change checks
the owner in the transaction that makes it (and is written to the audit log there).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offerlab.field import _auth
from offerlab.field._console_core import (
    Console,
    Form,
    problem_message,
    respondents_message,
    see_other,
)
from offerlab.field._console_texts import Message
from offerlab.field._console_views import format_when
from offerlab.field._dashboard import console_zone
from offerlab.field._lifecycle import STATES
from offerlab.field._privacy import FIND_BY
from offerlab.store import (
    AUDIT_ACTIONS,
    AuditEvent,
    MemberInvitation,
    Membership,
    StudyRow,
    User,
    Venture,
)

__all__ = ["describe_event", "team_routes"]

MAX_AUDIT_ROWS = 500
_OWNERS_ONLY = "refuse_owners_only"
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
Made = TypeVar("Made")


class _Team:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine = console.engine

    async def _owner_of(self, request: Request) -> tuple[Any, int] | Response:
        """The logged-in owner and the venture of a page only its owners see, or the refusal."""
        user = await run_in_threadpool(self.console.user, request)
        if user is None:
            return see_other("/console/login")
        venture = request.path_params["venture"]
        with Session(self.engine) as session:
            role = _auth.venture_role(session, user.id, venture)
        if role is None:
            return self.console.refuse(request, 404, Message("refuse_no_venture"), user)
        if role != "owner":
            return self.console.refuse(request, 403, Message(_OWNERS_ONLY), user)
        return user, venture

    async def _as_owner(
        self, user: _auth.SessionUser, venture: int, change: Callable[[Session], Made]
    ) -> Made | Message:
        """Make an owner's change to a venture's team in one transaction: what ``change``
        returns, or why not (not an owner; a ``ValueError`` it raised: nothing is stored)."""

        def run() -> Made | Message:
            try:
                with Session(self.engine) as session, session.begin():
                    if _auth.venture_role(session, user.id, venture) != "owner":
                        return Message(_OWNERS_ONLY)
                    return change(session)
            except ValueError as error:  # the transaction rolled back
                return problem_message(error)

        return await run_in_threadpool(run)

    async def _refused(
        self, request: Request, user: Any, venture: int, problem: Message, **kept: Any
    ) -> Response:
        """403 for someone who is not an owner; else the members page with the problem."""
        if problem.key == _OWNERS_ONLY:
            return self.console.refuse(request, 403, problem, user)
        return await self._members_page(request, user, venture, error=problem, **kept)

    def _done(self, venture: int, member: int | None = None, user: Any = None) -> Response:
        """Back to the members; an owner who left the venture (or the role) to the studies."""
        if member is not None and member == user.id:
            return see_other("/console/")
        return see_other(f"/console/ventures/{venture}/members")

    # -- the members page ---------------------------------------------------------------------
    async def members(self, request: Request) -> Response:
        found = await self._owner_of(request)
        if isinstance(found, Response):
            return found
        return await self._members_page(request, *found)

    def _listing(self, venture: int, language: str) -> tuple[str, list[Any], list[dict[str, Any]]]:
        """The venture's name, its members and its open invitations."""
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
            return name, list(rows), waiting

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
        language = self.console.language(request, user)
        name, rows, pending = await run_in_threadpool(self._listing, venture, language)
        return self.console.page(
            request,
            "console_members.html",
            422 if error else 200,
            headers=_PRIVATE,
            user=user,
            venture={"id": venture, "name": name},
            members=rows,
            owners=sum(1 for r in rows if r.role == "owner"),
            pending=pending,
            roles=_auth.ROLES,
            days=_auth.INVITATION_DAYS,
            error=error,
            email=email,
            role=role,
            min_password=_auth.MIN_PASSWORD,
            **shown,
        )

    # -- changes ------------------------------------------------------------------------------
    async def add_member(self, request: Request, user: Any, form: Form) -> Response:
        venture = request.path_params["venture"]
        email, role = form.get("email", "")[:254], form.get("role", "")

        def add(session: Session) -> None:
            name = session.get_one(Venture, venture).name
            password = form.get("password", "")[:1024] or None
            _auth.add_member(session, name, email, role, password, by=user.id)

        problem = await self._as_owner(user, venture, add)
        if problem is not None:
            kept = {"email": email or " ", "role": form.get("role", "viewer")}
            return await self._refused(request, user, venture, problem, **kept)
        return self._done(venture)

    async def invite(self, request: Request, user: Any, form: Form) -> Response:
        """An owner invites a member: the single-use link is shown once, on this page."""
        venture = request.path_params["venture"]
        email, role = form.get("email", "")[:254], form.get("role", "")
        made = await self._as_owner(
            user,
            venture,
            lambda session: _auth.invite_member(session, venture, email, role, by=user.id),
        )
        if isinstance(made, Message):
            kept = {"email": email or " ", "role": role}
            return await self._refused(request, user, venture, made, **kept)
        shown = email.strip().lower()
        if made is None:  # an existing account: a member at once
            message = Message("member_added", email=shown)
            return await self._members_page(request, user, venture, message=message)
        link = f"{str(request.base_url).rstrip('/')}/console/join/{made}"
        return await self._members_page(request, user, venture, link=link, invited=shown)

    async def _change(
        self,
        request: Request,
        user: Any,
        change: Callable[[Session], Message | None],
        member: int | None = None,
    ) -> Response:
        """Make an owner's change that names a member (or an invitation), then back to the
        members; an owner who left the venture or gave up the role goes to the studies."""
        venture = request.path_params["venture"]
        problem = await self._as_owner(user, venture, change)
        if problem is not None:
            return await self._refused(request, user, venture, problem)
        return self._done(venture, member, user)

    async def revoke_invitation(self, request: Request, user: Any, form: Form) -> Response:
        venture, invitation = request.path_params["venture"], request.path_params["invitation"]
        return await self._change(
            request, user, lambda s: _auth.revoke_invitation(s, venture, invitation, by=user.id)
        )

    async def change_role(self, request: Request, user: Any, form: Form) -> Response:
        venture, member = request.path_params["venture"], request.path_params["member"]
        role = form.get("role", "")
        return await self._change(
            request, user, lambda s: _auth.set_role(s, venture, member, role, by=user.id), member
        )

    async def remove_member(self, request: Request, user: Any, form: Form) -> Response:
        venture, member = request.path_params["venture"], request.path_params["member"]
        return await self._change(
            request, user, lambda s: _auth.remove_member(s, venture, member, by=user.id), member
        )

    # -- the audit log ------------------------------------------------------------------------
    def _events(self, venture: int, language: str) -> tuple[str, list[dict[str, Any]]]:
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

    async def audit(self, request: Request) -> Response:
        found = await self._owner_of(request)
        if isinstance(found, Response):
            return found
        user, venture = found
        language = self.console.language(request, user)
        name, rows = await run_in_threadpool(self._events, venture, language)
        return self.console.page(
            request,
            "console_audit.html",
            user=user,
            venture={"id": venture, "name": name},
            events=rows,
            limit=MAX_AUDIT_ROWS,
            zone=console_zone().key,
        )


#: Each audit action in words: a catalogue key (console.yaml, ``event_…``).
_EVENT_TEXT = {action: "event_" + action.replace(".", "_") for action in AUDIT_ACTIONS}


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
        shown["respondents"] = respondents_message(detail["count"])
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


def team_routes(console: Console) -> list[Route]:
    """A venture's members, invitations and audit log (owners only)."""
    t = _Team(console)
    venture = "/console/ventures/{venture:id}"
    return [
        Route(f"{venture}/members", t.members, methods=["GET"]),
        Route(f"{venture}/members", console.posted(t.add_member), methods=["POST"]),
        Route(
            f"{venture}/members/{{member:id}}/remove",
            console.posted(t.remove_member),
            methods=["POST"],
        ),
        Route(
            f"{venture}/members/{{member:id}}/role",
            console.posted(t.change_role),
            methods=["POST"],
        ),
        Route(f"{venture}/invitations", console.posted(t.invite), methods=["POST"]),
        Route(
            f"{venture}/invitations/{{invitation:id}}/revoke",
            console.posted(t.revoke_invitation),
            methods=["POST"],
        ),
        Route(f"{venture}/audit", t.audit, methods=["GET"]),
    ]
