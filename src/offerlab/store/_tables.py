"""The tables of fielding: studies, respondents, invitations, page submissions, quota cells.

Times are seconds since the epoch (floats): the same on SQLite and PostgreSQL,
with no time-zone conversions. Answers of a page are one JSON document per
(respondent, page): the unique key makes a submitted page immutable, so a
double tap, the back button or a retry can never store it twice or change it.
"""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AuditEvent",
    "Base",
    "ConsoleSession",
    "Invitation",
    "LoginFailure",
    "MemberInvitation",
    "Membership",
    "PublicationFile",
    "PublicationRow",
    "QuotaCell",
    "Respondent",
    "ScenarioRow",
    "SimulatorRow",
    "StudyRow",
    "StudyShare",
    "Submission",
    "User",
    "Venture",
]

# Named constraints, so that migrations can refer to them on every database.
_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The integer key of every table.
Key = Annotated[int, mapped_column(Integer, primary_key=True)]
#: The study a row belongs to; the row goes with it.
StudyKey = Annotated[int, mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))]
#: The console user who made the row; NULL once the user is gone.
CreatorKey = Annotated[
    int | None, mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class StudyRow(Base):
    """A study being fielded: its file, its frozen design, its state and entry counter."""

    __tablename__ = "studies"

    id: Mapped[Key]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    study_yaml: Mapped[str] = mapped_column(Text)
    design_csv: Mapped[str] = mapped_column(Text)
    n_versions: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="live")
    finish_when_paused: Mapped[bool] = mapped_column(
        Boolean,
        default=True,
        server_default=true(),
        doc="While paused, respondents already inside may finish (new starts never can).",
    )
    entries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    venture_id: Mapped[int | None] = mapped_column(
        ForeignKey("ventures.id", ondelete="SET NULL"), nullable=True
    )
    retention_days: Mapped[int | None] = mapped_column(
        Integer, nullable=True, doc="Respondents who started longer ago are deleted; None: kept."
    )

    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'testing', 'live', 'paused', 'closed')", name="status"
        ),
    )


class Invitation(Base):
    """A personal link: its token opens the survey for one respondent."""

    __tablename__ = "invitations"

    id: Mapped[Key]
    study_id: Mapped[StudyKey]
    token: Mapped[str] = mapped_column(String(64), unique=True)
    panel: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class Respondent(Base):
    """One person taking the survey, and where they are in it."""

    __tablename__ = "respondents"

    id: Mapped[Key]
    study_id: Mapped[StudyKey]
    token: Mapped[str] = mapped_column(String(64), unique=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), unique=True, nullable=True
    )
    version: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="active")
    sequence: Mapped[list] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    nonce: Mapped[str] = mapped_column(String(64))
    shown_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    panel: Mapped[dict] = mapped_column(JSON, default=dict)
    panel_id: Mapped[str] = mapped_column(
        String(200), default="", doc="The first panel parameter (the panel's respondent id)."
    )
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    entry_key: Mapped[str | None] = mapped_column(
        String(64),
        unique=True,
        nullable=True,
        doc="The random key of the entry form the respondent started from: a second "
        "submit of that form (a double tap) finds this respondent instead of making one.",
    )
    flags: Mapped[dict] = mapped_column(JSON, default=dict)
    is_test: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="A test respondent (also ``flags.test``), left out of every figure; a column, "
        "so that the dashboard's counts read an index instead of every row's JSON.",
    )
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'complete', 'screenout', 'overquota')", name="status"
        ),
        Index("ix_respondents_study_status", "study_id", "status"),
        Index("ix_respondents_fingerprint", "study_id", "fingerprint"),
        Index("ix_respondents_panel_id", "study_id", "panel_id"),
        # The dashboard's counts, median time and completes per day from the index alone.
        Index(
            "ix_respondents_figures",
            "study_id",
            "is_test",
            "status",
            "finished_at",
            "started_at",
            "shown_at",
        ),
    )


class Submission(Base):
    """The answers of one page, stored once: (respondent, page) is unique."""

    __tablename__ = "submissions"

    id: Mapped[Key]
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondents.id", ondelete="CASCADE"))
    page: Mapped[str] = mapped_column(String(160))
    nonce: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
    submitted_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (UniqueConstraint("respondent_id", "page", name="uq_submissions_page"),)


class QuotaCell(Base):
    """Completes counted against a target, for one option of a quota question."""

    __tablename__ = "quota_cells"

    id: Mapped[Key]
    study_id: Mapped[StudyKey]
    quota: Mapped[str] = mapped_column(String(64))
    option: Mapped[str] = mapped_column(String(64))
    target: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("study_id", "quota", "option", name="uq_quota_cells_cell"),
        CheckConstraint("count >= 0 AND count <= target", name="within_target"),
    )


# -- the team's console ---------------------------------------------------------------


class Venture(Base):
    """A team's venture: its studies and its members."""

    __tablename__ = "ventures"

    id: Mapped[Key]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[float] = mapped_column(Float)


class User(Base):
    """A console user; the password is kept as an scrypt hash only."""

    __tablename__ = "users"

    id: Mapped[Key]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(
        String(2), nullable=True, doc="The console's language the user chose (None: browser's)."
    )


class Membership(Base):
    """A user's role in a venture: owner, analyst or viewer."""

    __tablename__ = "memberships"

    id: Mapped[Key]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    venture_id: Mapped[int] = mapped_column(ForeignKey("ventures.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("user_id", "venture_id", name="uq_memberships_member"),
        CheckConstraint("role IN ('owner', 'analyst', 'viewer')", name="role"),
    )


class MemberInvitation(Base):
    """An invitation to join a venture: a single-use link, kept as the SHA-256 of its token.

    The invited person sets their own password on the link's page; ``used_at`` marks it
    spent, ``expires_at`` ends it unused.
    """

    __tablename__ = "member_invitations"

    id: Mapped[Key]
    venture_id: Mapped[int] = mapped_column(
        ForeignKey("ventures.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[CreatorKey]

    __table_args__ = (CheckConstraint("role IN ('owner', 'analyst', 'viewer')", name="role"),)


class StudyShare(Base):
    """A study shared with a viewer, who may read it (and only the studies shared)."""

    __tablename__ = "study_shares"

    id: Mapped[Key]
    study_id: Mapped[StudyKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    __table_args__ = (UniqueConstraint("study_id", "user_id", name="uq_study_shares_share"),)


class SimulatorRow(Base):
    """A market simulator published for a study: the fit behind it and the page's data.

    A fit is written as ``fitting`` first and then ``ready`` (with ``payload``, the
    simulator's JSON) or ``failed`` (with ``message``), so a page can say a fit is running
    in another worker, and a fit that died with its server is seen as such.
    """

    __tablename__ = "simulators"

    id: Mapped[Key]
    study_id: Mapped[StudyKey]
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[CreatorKey]
    model: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    market_yaml: Mapped[str] = mapped_column(Text)
    respondents: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("status IN ('fitting', 'ready', 'failed')", name="status"),
        CheckConstraint("model IN ('mnl', 'lc', 'hb')", name="model"),
        Index("ix_simulators_study_id_created_at", "study_id", "created_at"),
    )


class ScenarioRow(Base):
    """A named scenario of a study's simulator: which offers are in the market, with which
    levels, and the segment looked at (``state``, JSON). Names are unique per study."""

    __tablename__ = "scenarios"

    id: Mapped[Key]
    study_id: Mapped[StudyKey]
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[CreatorKey]
    state: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("study_id", "name", name="uq_scenarios_name"),)


class PublicationRow(Base):
    """One published version of a study's decision report, and what it was built from.

    Written as ``building`` (``step`` says how far), then ``ready`` (its files in
    ``publication_files``, its key figures in ``summary``) or ``failed`` (``message``).
    """

    __tablename__ = "publications"

    id: Mapped[Key]
    study_id: Mapped[StudyKey]
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[CreatorKey]
    model: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(40), default="")
    market_yaml: Mapped[str] = mapped_column(Text)
    respondents: Mapped[int] = mapped_column(Integer, default=0)
    data_hash: Mapped[str] = mapped_column(String(64), default="")
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("status IN ('building', 'ready', 'failed')", name="status"),
        UniqueConstraint("study_id", "version", name="uq_publications_version"),
    )


class PublicationFile(Base):
    """A file of a publication: the report in one language as html, pdf or xlsx, or the
    PDF's document (``pdf.json``, drawn into ``report.pdf`` on its first download)."""

    __tablename__ = "publication_files"

    id: Mapped[Key]
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(2))
    format: Mapped[str] = mapped_column(String(16))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("publication_id", "language", "format", name="uq_publication_files_file"),
    )


class ConsoleSession(Base):
    """A logged-in browser: the cookie's token is stored hashed, with its CSRF token."""

    __tablename__ = "console_sessions"

    id: Mapped[Key]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float)


class LoginFailure(Base):
    """A failed login, for the rate limit (per e-mail address and per client address)."""

    __tablename__ = "login_failures"

    id: Mapped[Key]
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class AuditEvent(Base):
    """One console action, for the owners' audit log: who did what to which study, when.

    The actor's e-mail address is copied in, and the links to users, ventures and studies
    are set to NULL rather than deleted with them, so the log outlives what it records.
    """

    __tablename__ = "audit_events"

    id: Mapped[Key]
    at: Mapped[float] = mapped_column(Float)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(254), default="")
    venture_id: Mapped[int | None] = mapped_column(
        ForeignKey("ventures.id", ondelete="SET NULL"), nullable=True
    )
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("studies.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_audit_events_venture_id_at", "venture_id", "at"),
        Index("ix_audit_events_study_id_at", "study_id", "at"),
    )
