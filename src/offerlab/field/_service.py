"""Fielding one study: entries, the current page, submits, quotas, the end — on the database.

Every method runs in one short transaction and commits before it returns, so an
answer is stored before the next page is sent. :meth:`Fielding.submit` is
idempotent: a page is stored once per respondent (a unique key), a repeated or
stale submit changes nothing and just leads to the respondent's current page.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from offerlab.design import Design, make_design
from offerlab.exceptions import OfferlabError
from offerlab.field._flow import AnswerError, Survey
from offerlab.store import (
    Invitation,
    QuotaCell,
    Respondent,
    StudyRow,
    Submission,
    assign_version,
    cell_is_full,
    lock_respondent,
    migrate,
    take_quota_cells,
)
from offerlab.study import Study, parse_study

__all__ = ["Fielding", "Snapshot", "SubmitResult", "new_token"]

#: Bytes of randomness in invitation, respondent and submission tokens (256 bits).
TOKEN_BYTES = 32
MAX_PANEL_PARAMETERS = 20
MAX_PANEL_VALUE = 200


def new_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass
class Snapshot:
    """What the web layer needs to render a respondent's current state."""

    token: str
    status: str
    language: str
    version: int
    seed: int
    key: str | None  # the current page, None once finished
    position: int
    total: int
    nonce: str
    answers: dict[str, dict[str, Any]]
    panel: dict[str, str]
    redirect: str | None = None


@dataclass
class SubmitResult:
    """How a submit ended: ``stored``, ``repeat`` (already stored), ``stale``, ``invalid``."""

    outcome: str
    snapshot: Snapshot | None = None
    errors: list[str] = field(default_factory=list)
    form: Mapping[str, list[str]] = field(default_factory=dict)


class Fielding:
    """One study in the field, on one database.

    Use :meth:`open` to register the study (or find it) and get a ``Fielding``.
    """

    def __init__(self, engine: Engine, survey: Survey, study_id: int, salt: str) -> None:
        self.engine = engine
        self.survey = survey
        self.study_id = study_id
        self.salt = salt
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        # Reads need no write lock: on SQLite they begin a deferred transaction.
        self.readers = sessionmaker(
            engine.execution_options(offerlab_read_only=True), expire_on_commit=False
        )

    @property
    def study(self) -> Study:
        return self.survey.study

    # -- set-up ---------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        engine: Engine,
        study: Study,
        study_text: str,
        design: Design | None = None,
        *,
        status: str = "live",
    ) -> Fielding:
        """Migrate the database and register the study, or find it registered.

        The design is frozen on the first start: later starts field the stored
        one. A different ``design`` for a study already registered is an error,
        and so is a changed study file once respondents have entered.

        Raises
        ------
        OfferlabError
            The study has no questionnaire, or conflicts with what is stored.
        """
        if study.questionnaire is None:
            raise OfferlabError(
                f"study {study.name!r} has no questionnaire: add 'questionnaire:' with its "
                "pages to field it (see examples/car_subscription.yaml)"
            )
        migrate(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        with sessions.begin() as session:
            row = session.execute(select(StudyRow).where(StudyRow.name == study.name)).scalar()
            if row is None:
                design = design or make_design(study)
                buffer = io.StringIO()
                design.to_frame().to_csv(buffer, index=False)
                row = StudyRow(
                    name=study.name,
                    study_yaml=study_text,
                    design_csv=buffer.getvalue(),
                    n_versions=design.n_versions,
                    status=status,
                    entries=0,
                    created_at=time.time(),
                )
                session.add(row)
                session.flush()
            else:
                stored = Design.from_frame(study, pd.read_csv(io.StringIO(row.design_csv)))
                if design is not None and not _same_design(stored, design):
                    raise OfferlabError(
                        f"study {study.name!r} is already fielded with another design; "
                        "leave out --design to use the stored one, or give the study a new name"
                    )
                design = stored
                if row.study_yaml != study_text:
                    started = session.execute(
                        select(Respondent.id).where(Respondent.study_id == row.id).limit(1)
                    ).first()
                    if started is not None:
                        raise OfferlabError(
                            f"the study file of {study.name!r} changed after respondents "
                            "entered; field the new file under a new name"
                        )
                    row.study_yaml = study_text
            _sync_quota_cells(session, row.id, study)
            study_id = row.id
        salt = hashlib.sha256(f"offerlab:{study.name}:{study_id}".encode()).hexdigest()
        return cls(engine, Survey(study, design), study_id, salt)

    @classmethod
    def from_database(cls, engine: Engine, name: str) -> Fielding:
        """The study ``name`` as registered, with its stored file and design."""
        with Session(engine) as session:
            row = session.execute(select(StudyRow).where(StudyRow.name == name)).scalar()
            if row is None:
                raise OfferlabError(f"no study named {name!r} in the database")
            text = row.study_yaml
        study = parse_study(text, name)
        return cls.open(engine, study, text)

    def set_status(self, status: str) -> None:
        """Launch (``live``), ``pause`` or ``close`` fielding."""
        with self.sessions.begin() as session:
            session.get_one(StudyRow, self.study_id).status = status

    def status(self) -> str:
        with self.sessions() as session:
            return session.get_one(StudyRow, self.study_id).status

    def invite(self, n: int, panel: Mapping[str, str] | None = None) -> list[str]:
        """Make ``n`` personal invitation tokens."""
        tokens = [new_token() for _ in range(n)]
        now = time.time()
        with self.sessions.begin() as session:
            for token in tokens:
                session.add(
                    Invitation(
                        study_id=self.study_id, token=token, panel=dict(panel or {}), created_at=now
                    )
                )
        return tokens

    # -- entry ------------------------------------------------------------------------
    def panel_from(self, query: Mapping[str, str]) -> dict[str, str]:
        """The declared panel parameters of a link's query, trimmed to a safe size."""
        names = self.survey.questionnaire.panel_parameters[:MAX_PANEL_PARAMETERS]
        return {n: str(query[n])[:MAX_PANEL_VALUE] for n in names if n in query}

    @property
    def test_key(self) -> str:
        """The value of ``?offerlab_test=`` that marks a test respondent (from the study's salt)."""
        return hashlib.sha256(f"{self.salt}|test".encode()).hexdigest()[:24]

    def fingerprint(self, client: str, user_agent: str) -> str:
        """A salted hash of the client's address and browser, to spot duplicate participants."""
        return hashlib.sha256(f"{self.salt}|{client}|{user_agent}".encode()).hexdigest()[:32]

    def enter(
        self,
        *,
        language: str,
        panel: Mapping[str, str] | None = None,
        fingerprint: str = "",
        invitation: str | None = None,
        test: bool = False,
    ) -> str | None:
        """A new respondent; returns their token (None for an unknown invitation).

        With an invitation already used, returns the token of its respondent.
        ``test`` marks a test respondent (the team's click-throughs and simulated
        runs), left out of exports and figures.
        """
        panel = dict(panel or {})
        with self.sessions.begin() as session:
            invite_id = None
            if invitation is not None:
                invite = session.execute(
                    select(Invitation).where(
                        Invitation.token == invitation, Invitation.study_id == self.study_id
                    )
                ).scalar()
                if invite is None:
                    return None
                used = session.execute(
                    select(Respondent.token).where(Respondent.invitation_id == invite.id)
                ).scalar()
                if used is not None:
                    return used
                invite_id = invite.id
                panel = {**invite.panel, **panel}
            version = assign_version(session, self.study_id, self.survey.n_versions)
            seed = secrets.randbits(31)
            sequence = self.survey.sequence(seed)
            flags: dict[str, Any] = {"test": True} if test else {}
            duplicate = None if test else self._duplicate_of(session, fingerprint, panel)
            if duplicate is not None:
                flags["duplicate_of"] = duplicate
            token = new_token()
            respondent = Respondent(
                study_id=self.study_id,
                token=token,
                invitation_id=invite_id,
                version=version,
                seed=seed,
                language=language,
                status="active",
                sequence=sequence,
                position=self.survey.next_position(sequence, 0, {}),
                nonce=new_token(),
                panel=panel,
                panel_id=self._panel_id(panel),
                fingerprint=fingerprint,
                flags=flags,
                started_at=time.time(),
                shown_at=time.time(),
            )
            session.add(respondent)
            try:
                session.flush()
            except IntegrityError:  # the same invitation opened twice at once
                session.rollback()
                return self.enter(language=language, invitation=invitation)
        return token

    def _duplicate_of(
        self, session: Session, fingerprint: str, panel: Mapping[str, str]
    ) -> int | None:
        panel_id = self._panel_id(panel)
        if panel_id:
            rid = session.execute(
                select(Respondent.id).where(
                    Respondent.study_id == self.study_id, Respondent.panel_id == panel_id
                )
            ).scalar()
            if rid is not None:
                return int(rid)
        if fingerprint:
            rid = session.execute(
                select(Respondent.id).where(
                    Respondent.study_id == self.study_id, Respondent.fingerprint == fingerprint
                )
            ).scalar()
            if rid is not None:
                return int(rid)
        return None

    def _panel_id(self, panel: Mapping[str, str]) -> str:
        params = self.survey.questionnaire.panel_parameters
        return str(panel.get(params[0], "")) if params else ""

    def exists(self, token: str) -> bool:
        with self.sessions() as session:
            found = session.execute(
                select(Respondent.id).where(
                    Respondent.token == token, Respondent.study_id == self.study_id
                )
            ).first()
        return found is not None

    # -- pages ------------------------------------------------------------------------
    def show(self, token: str, language: str | None = None) -> Snapshot | None:
        """The respondent's current state (a read only, unless the language changes).

        The time a page is shown from is set when the page before it is stored (or
        on entry), so showing a page, however often, writes nothing.
        """
        with self.readers() as session:
            respondent = session.execute(
                select(Respondent).where(Respondent.token == token)
            ).scalar_one_or_none()
            if respondent is None or respondent.study_id != self.study_id:
                return None
            switch = language in self.study.languages and language != respondent.language
            if not switch:
                return self._snapshot(session, respondent)
        with self.sessions.begin() as session:
            respondent = lock_respondent(session, token)
            assert respondent is not None
            respondent.language = language  # type: ignore[assignment]
            return self._snapshot(session, respondent)

    def submit(self, token: str, form: Mapping[str, list[str]]) -> SubmitResult | None:
        """Store the answer of the respondent's current page and move on (None: unknown token).

        The form carries ``page`` (the page key) and ``nonce`` (the token of the
        page as it was sent). A page already stored is never changed (``repeat``);
        a form for another page or with another nonce changes nothing (``stale``);
        an answer that does not fit the page is not stored (``invalid``).
        """
        page = (form.get("page") or [""])[0]
        nonce = (form.get("nonce") or [""])[0]
        with self.sessions.begin() as session:
            respondent = lock_respondent(session, token)
            if respondent is None or respondent.study_id != self.study_id:
                return None
            done = session.execute(
                select(Submission.id).where(
                    Submission.respondent_id == respondent.id, Submission.page == page
                )
            ).first()
            if done is not None:
                return SubmitResult("repeat", self._snapshot(session, respondent))
            current = self._current_key(respondent)
            if (
                respondent.status != "active"
                or current is None
                or page != current
                or not secrets.compare_digest(nonce.encode(), respondent.nonce.encode())
            ):
                return SubmitResult("stale", self._snapshot(session, respondent))
            answers = self._answers(session, respondent.id)
            try:
                answer = self.survey.parse_answer(page, form, respondent.language, answers)
            except AnswerError as error:
                snapshot = self._snapshot(session, respondent, answers)
                return SubmitResult("invalid", snapshot, error.messages, form)
            now = time.time()
            seconds = max(0.0, now - respondent.shown_at) if respondent.shown_at else 0.0
            session.add(
                Submission(
                    respondent_id=respondent.id,
                    page=page,
                    nonce=nonce,
                    answer=answer,
                    seconds=seconds,
                    submitted_at=now,
                )
            )
            answers[page] = answer
            self._advance(session, respondent, page, answer, answers, now)
            return SubmitResult("stored", self._snapshot(session, respondent, answers))

    def _advance(
        self,
        session: Session,
        respondent: Respondent,
        page: str,
        answer: dict[str, Any],
        answers: dict[str, dict[str, Any]],
        now: float,
    ) -> None:
        survey = self.survey
        respondent.nonce = new_token()
        respondent.shown_at = now  # the next page is sent right after this commit
        if survey.screens_out(page, answer):
            self._finish(respondent, "screenout", now)
            return
        for quota, option in survey.quota_cells({page: answer}):
            if cell_is_full(session, self.study_id, quota, option):
                self._finish(respondent, "overquota", now)
                return
        sequence = respondent.sequence
        respondent.position = survey.next_position(sequence, respondent.position + 1, answers)
        if respondent.position < len(sequence):
            return
        if take_quota_cells(session, self.study_id, survey.quota_cells(answers)):
            self._finish(respondent, "complete", now)
        else:  # a cell filled while this respondent answered
            self._finish(respondent, "overquota", now)

    @staticmethod
    def _finish(respondent: Respondent, status: str, now: float) -> None:
        respondent.status = status
        respondent.finished_at = now

    def _current_key(self, respondent: Respondent) -> str | None:
        if respondent.status != "active" or respondent.position >= len(respondent.sequence):
            return None
        return str(respondent.sequence[respondent.position])

    @staticmethod
    def _answers(session: Session, respondent_id: int) -> dict[str, dict[str, Any]]:
        rows = session.execute(
            select(Submission.page, Submission.answer).where(
                Submission.respondent_id == respondent_id
            )
        )
        return {page: answer for page, answer in rows}

    def _snapshot(
        self,
        session: Session,
        respondent: Respondent,
        answers: dict[str, dict[str, Any]] | None = None,
    ) -> Snapshot:
        if answers is None:
            answers = self._answers(session, respondent.id)
        return Snapshot(
            token=respondent.token,
            status=respondent.status,
            language=respondent.language,
            version=respondent.version,
            seed=respondent.seed,
            key=self._current_key(respondent),
            position=respondent.position,
            total=len(respondent.sequence),
            nonce=respondent.nonce,
            answers=answers,
            panel=dict(respondent.panel or {}),
            redirect=self.redirect_url(respondent),
        )

    def redirect_url(self, respondent: Respondent) -> str | None:
        """The panel's address for a finished respondent, with its parameters filled in."""
        if respondent.status == "active":
            return None
        template = getattr(self.survey.questionnaire.redirects, respondent.status)
        if template is None:
            return None
        values = {n: "" for n in self.survey.questionnaire.panel_parameters}
        values.update({k: quote(str(v), safe="") for k, v in (respondent.panel or {}).items()})
        values["respondent"] = quote(respondent.token, safe="")
        values["status"] = respondent.status
        return template.format(**values)


def _same_design(a: Design, b: Design) -> bool:
    return a.levels.shape == b.levels.shape and bool((a.levels == b.levels).all())


def _sync_quota_cells(session: Session, study_id: int, study: Study) -> None:
    """One row per (quota, option) with a target; targets follow the study file, counts stay."""
    assert study.questionnaire is not None
    existing = {
        (c.quota, c.option): c
        for c in session.execute(select(QuotaCell).where(QuotaCell.study_id == study_id)).scalars()
    }
    for quota in study.questionnaire.quotas:
        for option, target in quota.targets.items():
            cell = existing.get((quota.name, option))
            if cell is None:
                session.add(
                    QuotaCell(
                        study_id=study_id, quota=quota.name, option=option, target=target, count=0
                    )
                )
            else:
                cell.target = max(target, cell.count)
