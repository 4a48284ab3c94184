"""Console accounts: scrypt password hashes, sessions with CSRF tokens, login throttling, roles.

* Passwords: ``hashlib.scrypt`` (n=2**14, r=8, p=1, 16 random bytes of salt),
  stored as ``scrypt$n$r$p$salt$hash`` (base64); checked in constant time. A new
  password follows NIST SP 800-63B rev. 4 (section 3.1.1.2), see :func:`password_problem`.
* E-mail addresses of new users are checked by ``email-validator`` (syntax only:
  no DNS look-up, the server may have no network) and kept lower-case.
* Sessions: a 256-bit random token in an HttpOnly, SameSite=Strict cookie; the
  database keeps only its SHA-256, with the session's CSRF token (256 bits) and
  an expiry (12 hours).
* Login throttling (:data:`LIMITS`): failed logins are counted on three keys over
  :data:`WINDOW`: the account from this client address, the account from anywhere,
  and the client address across every account. Each key lets a few failures pass,
  then makes the next attempt wait, twice as long after each further failure, up to a
  cap. A client's failures on account A never slow down account B's owner, except
  through the client address's own, much higher, limit against password spraying. A
  correct password is refused while a wait runs (its check would tell an attacker the
  password), and taken once the wait is over; success clears the account's counters.
* Roles per venture: ``owner`` (everything, members included), ``analyst``
  (studies: create, launch, pause, close, test, download, share) and ``viewer``
  (reads the figures of the studies shared with them, nothing else).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from offerlab.field._console_texts import Message
from offerlab.store import (
    ConsoleSession,
    LoginFailure,
    MemberInvitation,
    Membership,
    StudyRow,
    StudyShare,
    User,
    Venture,
    record_event,
)

__all__ = [
    "LIMITS",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "ROLES",
    "WINDOW",
    "Access",
    "Limit",
    "accept_invitation",
    "add_member",
    "change_password",
    "check_password",
    "duration_text",
    "end_other_sessions",
    "hash_password",
    "invitation_for",
    "invite_member",
    "login",
    "login_wait",
    "logout",
    "new_session",
    "normalise_email",
    "now",
    "password_problem",
    "remove_member",
    "revoke_invitation",
    "session_user",
    "set_language",
    "set_role",
    "study_access",
]

ROLES = ("owner", "analyst", "viewer")
SESSION_SECONDS = 12 * 3600.0
# NIST SP 800-63B rev. 4: at least 15 characters for a password that is the only factor
# (the console has no second one), and room for at least 64.
MIN_PASSWORD = 15
MAX_PASSWORD = 256
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


def now() -> float:
    """The clock of sessions and login throttling (tests replace it)."""
    return time.time()


# -- login throttling ------------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """Failed logins on one key: ``free`` pass at once, then waits double from ``first``."""

    kind: str  # pair (account from one address), account (from anywhere), client (address)
    free: int
    first: float = 30.0
    cap: float = 15 * 60.0

    def wait(self, failures: int) -> float:
        """Seconds to wait after the latest of ``failures`` failures."""
        if failures < self.free:
            return 0.0
        return min(self.first * 2.0 ** (failures - self.free), self.cap)


# With the 15-minute cap, one key allows about 100 guesses a day. NIST SP 800-63B caps
# consecutive failures per account at 100; here a rate does it, not a lock-out, which an
# attacker could turn against the account's owner. The client address's limit is higher
# than the account's so that a few colleagues behind one proxy can mistype; it still
# stops a client trying one password on many accounts.
LIMITS = (Limit("pair", 5), Limit("account", 20), Limit("client", 30))
WINDOW = 24 * 3600.0


def _throttle_keys(email: str, client: str) -> dict[str, str]:
    email = email.strip().lower()[:254]
    client = client[:100]
    pair = hashlib.sha256(f"{email}\n{client}".encode()).hexdigest()[:40]
    return {"pair": f"pair:{pair}", "account": f"email:{email}", "client": f"client:{client}"}


def login_wait(session: Session, email: str, client: str, at: float) -> float:
    """Seconds until a login for ``email`` from ``client`` is taken (0: now)."""
    keys = _throttle_keys(email, client)
    longest = 0.0
    for limit in LIMITS:
        count, latest = session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(
                LoginFailure.key == keys[limit.kind], LoginFailure.at > at - WINDOW
            )
        ).one()
        if count:
            longest = max(longest, latest + limit.wait(count) - at)
    return longest


def _record_failure(session: Session, email: str, client: str, at: float) -> None:
    keys = list(_throttle_keys(email, client).values())
    session.execute(
        delete(LoginFailure).where(LoginFailure.key.in_(keys), LoginFailure.at <= at - WINDOW)
    )
    session.add_all([LoginFailure(key=key, at=at) for key in keys])


def _clear_failures(session: Session, email: str, client: str) -> None:
    """After a success: the account's counters start again (the address's does not)."""
    keys = _throttle_keys(email, client)
    session.execute(
        delete(LoginFailure).where(LoginFailure.key.in_([keys["pair"], keys["account"]]))
    )


def login(
    session: Session, email: str, password: str, client: str, at: float | None = None
) -> tuple[str, str] | None:
    """Check the password; on success a new session (token, CSRF token), else None.

    The caller checks :func:`login_wait` first. A failure counts on every throttling
    key; the password is hashed even for an unknown address, so timing does not tell
    which addresses exist.
    """
    at = now() if at is None else at
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    ok = check_password(password, stored) and user is not None
    if not ok:
        _record_failure(session, email, client, at)
        return None
    assert user is not None
    _clear_failures(session, email, client)
    return new_session(session, user.id, at)


def new_session(session: Session, user_id: int, at: float) -> tuple[str, str]:
    """A new logged-in session of the user: (token for the cookie, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < at))
    session.add(
        ConsoleSession(
            token_hash=_token_hash(token),
            user_id=user_id,
            csrf=csrf,
            expires_at=at + SESSION_SECONDS,
        )
    )
    return token, csrf


def logout(session: Session, token: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(token)))


def end_other_sessions(session: Session, user_id: int, token: str) -> None:
    """Log the user out everywhere but in the session of ``token`` (after a new password)."""
    session.execute(
        delete(ConsoleSession).where(
            ConsoleSession.user_id == user_id, ConsoleSession.token_hash != _token_hash(token)
        )
    )


@dataclass(frozen=True)
class SessionUser:
    id: int
    email: str
    csrf: str
    language: str | None = None


def session_user(session: Session, token: str) -> SessionUser | None:
    """The user of a console session token, if the session is valid."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(User.id, User.email, User.language, ConsoleSession.csrf)
        .join(ConsoleSession, ConsoleSession.user_id == User.id)
        .where(
            ConsoleSession.token_hash == _token_hash(token),
            ConsoleSession.expires_at > now(),
        )
    ).first()
    return SessionUser(row.id, row.email, row.csrf, row.language) if row is not None else None


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
    session: Session,
    venture: str,
    email: str,
    role: str,
    password: str | None = None,
    *,
    by: int | None = None,
) -> User:
    """Make (or find) the venture and the user, and give the user ``role`` in it.

    A new user's e-mail address and password are checked first (:func:`normalise_email`,
    :func:`password_problem`); ``by`` (the owner adding them) is recorded as
    ``member.add`` in the audit log.

    Raises
    ------
    ValueError
        An unknown role, an e-mail address that is not one, a weak password, or no
        password for a new user; the message says which and why.
    """
    if role not in ROLES:
        raise ValueError(Message("role_unknown", roles=", ".join(ROLES), role=role[:40]))
    at = now()
    row = session.execute(select(Venture).where(Venture.name == venture)).scalar()
    if row is None:
        row = Venture(name=venture, created_at=at)
        session.add(row)
        session.flush()
    email = normalise_email(email)
    user = session.execute(select(User).where(User.email == email)).scalar()
    if user is None:
        if not password:
            raise ValueError(Message("member_needs_password", email=email))
        problem = password_problem(password, email)
        if problem is not None:
            raise ValueError(problem)
        user = User(email=email, password_hash=hash_password(password), created_at=at)
        session.add(user)
        session.flush()
    member = session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.venture_id == row.id)
    ).scalar()
    if member is None:
        session.add(Membership(user_id=user.id, venture_id=row.id, role=role))
        record_event(
            session,
            "member.add",
            user_id=by,
            venture_id=row.id,
            detail={"email": email, "role": role},
        )
    elif member.role != role:
        record_event(
            session,
            "member.role",
            user_id=by,
            venture_id=row.id,
            detail={"email": email, "from": member.role, "to": role},
        )
        member.role = role
    return user


def remove_member(session: Session, venture_id: int, user_id: int, *, by: int) -> Message | None:
    """Take ``user_id`` out of the venture (and its studies' shares); why not, if refused."""
    member = session.execute(
        select(Membership).where(Membership.venture_id == venture_id, Membership.user_id == user_id)
    ).scalar()
    if member is None:
        return Message("member_unknown")
    if member.role == "owner":
        owners = session.execute(
            select(func.count()).where(
                Membership.venture_id == venture_id, Membership.role == "owner"
            )
        ).scalar_one()
        if owners <= 1:
            return Message("member_last_owner")
    email = session.get_one(User, user_id).email
    session.delete(member)
    studies = select(StudyRow.id).where(StudyRow.venture_id == venture_id)
    session.execute(
        delete(StudyShare).where(StudyShare.user_id == user_id, StudyShare.study_id.in_(studies))
    )
    record_event(
        session,
        "member.remove",
        user_id=by,
        venture_id=venture_id,
        detail={"email": email, "role": member.role},
    )
    return None


def change_password(
    session: Session, user_id: int, current: str, new: str, client: str, at: float | None = None
) -> Message | None:
    """Set a new password after checking the current one; why not, if refused.

    The current password is throttled like a login (a stolen session cannot guess it
    faster), and the user's other sessions end: whoever else was logged in is out.
    """
    at = now() if at is None else at
    user = session.get_one(User, user_id)
    wait = login_wait(session, user.email, client, at)
    if wait > 0:
        return Message("password_wait", wait=duration_text(wait))
    if not check_password(current[:1024], user.password_hash):
        _record_failure(session, user.email, client, at)
        return Message("password_current_wrong")
    problem = password_problem(new, user.email)
    if problem is not None:
        return problem
    _clear_failures(session, user.email, client)
    user.password_hash = hash_password(new)
    record_event(session, "user.password", user_id=user_id)
    return None


def duration_text(seconds: float) -> Message:
    seconds = max(1, int(seconds + 0.999))
    if seconds < 90:
        return Message("duration_seconds", n=seconds)
    return Message("duration_minutes", n=round(seconds / 60))


# -- what a new password and e-mail address must be ------------------------------------------
def normalise_email(email: str) -> str:
    """The address in lower case, if it is one (syntax only, no DNS); else ValueError."""
    text = email.strip()
    if not text or len(text) > 254:
        raise ValueError(Message("email_missing"))
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(Message("email_invalid", email=text[:80], reason=str(error))) from None
    return checked.normalized.lower()


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower case (see ``data/README.md``)."""
    data = files("offerlab.field").joinpath("data", "common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines())


_PADDING = re.compile(r"^[\d\W_]+|[\d\W_]+$")


def _repeated_common(folded: str) -> bool:
    """Whether the text is a common password said two to four times ("iloveyouiloveyou")."""
    for times in (2, 3, 4):
        part, rest = divmod(len(folded), times)
        if not rest and folded[:part] * times == folded and folded[:part] in common_passwords():
            return True
    return False


def password_problem(password: str, email: str = "") -> Message | None:
    """Why ``password`` may not be chosen, or None (NIST SP 800-63B rev. 4, 3.1.1.2).

    Length in characters (Unicode code points) from :data:`MIN_PASSWORD` to
    :data:`MAX_PASSWORD`; not one character repeated; not on the list of common
    passwords, nor one of them with digits or symbols added at either end, nor one said
    two to four times; not the user's e-mail address, its local part or the service's
    name. No
    composition rules (digits, capitals, symbols): NIST advises against them.
    """
    if len(password) < MIN_PASSWORD:
        return Message("password_too_short", n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return Message("password_too_long", n=MAX_PASSWORD)
    folded = password.strip().lower()
    if len(set(folded)) <= 1:
        return Message("password_one_character")
    padded = _PADDING.sub("", folded)  # "Password2024!" is "password" with digits added
    if folded in common_passwords() or padded in common_passwords() or _repeated_common(folded):
        return Message("password_common")
    email = email.strip().lower()
    if folded in {email, email.split("@")[0], "offerlab", "offerlab console"}:
        return Message("password_is_email")
    return None


# -- invitations of new members ----------------------------------------------------------
INVITATION_DAYS = 7


def _owners(session: Session, venture_id: int) -> int:
    return session.execute(
        select(func.count()).where(Membership.venture_id == venture_id, Membership.role == "owner")
    ).scalar_one()


def invite_member(
    session: Session, venture_id: int, email: str, role: str, *, by: int, at: float | None = None
) -> str | None:
    """Invite ``email`` into the venture as ``role``: the single-use link's token.

    Someone who has an account already (in another venture) is made a member at once,
    and None is returned: an invitation must never let its holder set the password of an
    existing account. The token (256 bits) is given once; only its SHA-256 is stored.

    Raises
    ------
    ValueError
        An unknown role, an address that is not one, or a member already.
    """
    if role not in ROLES:
        raise ValueError(Message("role_unknown", roles=", ".join(ROLES), role=role[:40]))
    email = normalise_email(email)
    at = now() if at is None else at
    user = session.execute(select(User).where(User.email == email)).scalar()
    if user is not None:
        if venture_role(session, user.id, venture_id) is not None:
            raise ValueError(Message("member_exists", email=email))
        session.add(Membership(user_id=user.id, venture_id=venture_id, role=role))
        record_event(
            session,
            "member.add",
            user_id=by,
            venture_id=venture_id,
            detail={"email": email, "role": role},
        )
        return None
    # A new link for the same person replaces their open one: only the newest works.
    session.execute(
        delete(MemberInvitation).where(
            MemberInvitation.venture_id == venture_id,
            MemberInvitation.email == email,
            MemberInvitation.used_at.is_(None),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        MemberInvitation(
            venture_id=venture_id,
            email=email,
            role=role,
            token_hash=_token_hash(token),
            created_at=at,
            expires_at=at + INVITATION_DAYS * 86400.0,
            created_by=by,
        )
    )
    record_event(
        session,
        "member.invite",
        user_id=by,
        venture_id=venture_id,
        detail={"email": email, "role": role, "days": INVITATION_DAYS},
    )
    return token


def invitation_for(
    session: Session, token: str, at: float | None = None
) -> MemberInvitation | Message:
    """The open invitation of a link's token, or why it cannot be used (a Message)."""
    at = now() if at is None else at
    found = None
    if token and len(token) <= 100:
        found = session.execute(
            select(MemberInvitation).where(MemberInvitation.token_hash == _token_hash(token))
        ).scalar()
    if found is None:
        return Message("invite_unknown")
    if found.used_at is not None:
        return Message("invite_used")
    if found.expires_at <= at:
        return Message("invite_expired")
    return found


def accept_invitation(
    session: Session, token: str, password: str, again: str, at: float | None = None
) -> tuple[int, tuple[str, str]] | Message:
    """Make the invited person's account with their password, once: (user id, session).

    The invitation is spent by one conditional UPDATE, so two submissions of the same
    link at once make one account, and the other is told the link was used.
    """
    at = now() if at is None else at
    invitation = invitation_for(session, token, at)
    if isinstance(invitation, Message):
        return invitation
    if password != again:
        return Message("password_differ")
    problem = password_problem(password, invitation.email)
    if problem is not None:
        return problem
    spent = session.execute(
        update(MemberInvitation)
        .where(
            MemberInvitation.id == invitation.id,
            MemberInvitation.used_at.is_(None),
            MemberInvitation.expires_at > at,
        )
        .values(used_at=at)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return Message("invite_used")
    if session.execute(select(User.id).where(User.email == invitation.email)).first():
        return Message("invite_account_exists")
    user = User(email=invitation.email, password_hash=hash_password(password), created_at=at)
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, venture_id=invitation.venture_id, role=invitation.role))
    record_event(
        session,
        "member.join",
        user_id=user.id,
        venture_id=invitation.venture_id,
        detail={"email": invitation.email, "role": invitation.role},
    )
    return user.id, new_session(session, user.id, at)


def revoke_invitation(
    session: Session, venture_id: int, invitation_id: int, *, by: int
) -> Message | None:
    """Withdraw an unused invitation of the venture; why not, if refused."""
    found = session.execute(
        select(MemberInvitation).where(
            MemberInvitation.id == invitation_id, MemberInvitation.venture_id == venture_id
        )
    ).scalar()
    if found is None or found.used_at is not None:
        return Message("invite_unknown")
    session.delete(found)
    record_event(
        session,
        "member.invite_revoke",
        user_id=by,
        venture_id=venture_id,
        detail={"email": found.email, "role": found.role},
    )
    return None


def set_role(
    session: Session, venture_id: int, user_id: int, role: str, *, by: int
) -> Message | None:
    """Give a member another role (never the last owner's away); why not, if refused."""
    if role not in ROLES:
        return Message("role_unknown", roles=", ".join(ROLES), role=role[:40])
    member = session.execute(
        select(Membership).where(Membership.venture_id == venture_id, Membership.user_id == user_id)
    ).scalar()
    if member is None:
        return Message("member_unknown")
    if member.role == role:
        return None
    if member.role == "owner" and _owners(session, venture_id) <= 1:
        return Message("member_last_owner_role")
    record_event(
        session,
        "member.role",
        user_id=by,
        venture_id=venture_id,
        detail={"email": session.get_one(User, user_id).email, "from": member.role, "to": role},
    )
    member.role = role
    return None


def set_language(session: Session, user_id: int, language: str) -> None:
    """Remember the console language the user chose."""
    session.execute(update(User).where(User.id == user_id).values(language=language))


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
