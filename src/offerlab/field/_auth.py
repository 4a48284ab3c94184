"""Console accounts: scrypt password hashes, sessions with CSRF tokens, a login rate limit, roles.

* Passwords: ``hashlib.scrypt`` (n=2**14, r=8, p=1, 16 random bytes of salt),
  stored as ``scrypt$n$r$p$salt$hash`` (base64); checked in constant time.
* Sessions: a 256-bit random token in an HttpOnly, SameSite=Strict cookie; the
  database keeps only its SHA-256, with the session's CSRF token (256 bits) and
  an expiry (12 hours).
* Rate limit: at most :data:`MAX_FAILURES` failed logins per e-mail address and
  per client address within :data:`WINDOW` seconds; more get HTTP 429.
* Roles per venture: ``owner`` (everything, members included), ``analyst``
  (studies: create, launch, pause, close, test, download, share) and ``viewer``
  (reads the figures of the studies shared with them, nothing else).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from offerlab.store import (
    ConsoleSession,
    LoginFailure,
    Membership,
    StudyRow,
    StudyShare,
    User,
    Venture,
)

__all__ = [
    "MAX_FAILURES",
    "ROLES",
    "WINDOW",
    "Access",
    "add_member",
    "check_password",
    "hash_password",
    "login",
    "logout",
    "rate_limited",
    "session_user",
    "study_access",
]

ROLES = ("owner", "analyst", "viewer")
MAX_FAILURES = 5
WINDOW = 15 * 60.0
SESSION_SECONDS = 12 * 3600.0
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """An scrypt hash of ``password`` with a fresh salt, as one text."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    parts = [str(_SCRYPT[k]) for k in ("n", "r", "p")]
    parts += [base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    return "$".join(["scrypt", *parts])


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password` (constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        given = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            dklen=len(expected),
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(given, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rate_limited(session: Session, keys: list[str], now: float | None = None) -> bool:
    """Whether any key (e-mail, client address) had too many failed logins lately."""
    now = time.time() if now is None else now
    for key in keys:
        count = session.execute(
            select(func.count()).where(LoginFailure.key == key, LoginFailure.at > now - WINDOW)
        ).scalar_one()
        if count >= MAX_FAILURES:
            return True
    return False


def login(session: Session, email: str, password: str, client: str) -> tuple[str, str] | None:
    """Check the password; on success a new session (token, CSRF token), else None.

    A failure is recorded against the e-mail address and the client address.
    The password is hashed even for an unknown address, so timing does not tell
    which addresses exist.
    """
    now = time.time()
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    ok = check_password(password, stored) and user is not None
    if not ok:
        session.add_all(
            [
                LoginFailure(key=f"email:{email.strip().lower()}", at=now),
                LoginFailure(key=f"client:{client}", at=now),
            ]
        )
        return None
    assert user is not None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    session.add(
        ConsoleSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            csrf=csrf,
            expires_at=now + SESSION_SECONDS,
        )
    )
    return token, csrf


def logout(session: Session, token: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(token)))


@dataclass(frozen=True)
class SessionUser:
    id: int
    email: str
    csrf: str


def session_user(session: Session, token: str) -> SessionUser | None:
    """The user of a console session token, if the session is valid."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(User.id, User.email, ConsoleSession.csrf)
        .join(ConsoleSession, ConsoleSession.user_id == User.id)
        .where(
            ConsoleSession.token_hash == _token_hash(token),
            ConsoleSession.expires_at > time.time(),
        )
    ).first()
    return SessionUser(row.id, row.email, row.csrf) if row is not None else None


@dataclass(frozen=True)
class Access:
    """What a user may do with one study."""

    read: bool = False  # figures
    write: bool = False  # launch/pause/close, test runs, downloads, shares
    role: str | None = None


def study_access(session: Session, user_id: int, study: StudyRow) -> Access:
    """The user's access to a study: by their role in its venture, or a share to a viewer."""
    if study.venture_id is None:
        return Access()
    role = session.execute(
        select(Membership.role).where(
            Membership.user_id == user_id, Membership.venture_id == study.venture_id
        )
    ).scalar()
    if role in ("owner", "analyst"):
        return Access(read=True, write=True, role=role)
    if role == "viewer":
        shared = session.execute(
            select(StudyShare.id).where(
                StudyShare.study_id == study.id, StudyShare.user_id == user_id
            )
        ).first()
        return Access(read=shared is not None, role=role)
    return Access()


def venture_role(session: Session, user_id: int, venture_id: int) -> str | None:
    return session.execute(
        select(Membership.role).where(
            Membership.user_id == user_id, Membership.venture_id == venture_id
        )
    ).scalar()


def add_member(
    session: Session, venture: str, email: str, role: str, password: str | None = None
) -> User:
    """Make (or find) the venture and the user, and give the user ``role`` in it."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    now = time.time()
    row = session.execute(select(Venture).where(Venture.name == venture)).scalar()
    if row is None:
        row = Venture(name=venture, created_at=now)
        session.add(row)
        session.flush()
    email = email.strip().lower()
    user = session.execute(select(User).where(User.email == email)).scalar()
    if user is None:
        if not password:
            raise ValueError(f"no user {email!r} yet: give a password to create one")
        user = User(email=email, password_hash=hash_password(password), created_at=now)
        session.add(user)
        session.flush()
    member = session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.venture_id == row.id)
    ).scalar()
    if member is None:
        session.add(Membership(user_id=user.id, venture_id=row.id, role=role))
    else:
        member.role = role
    return user


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
