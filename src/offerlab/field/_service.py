"""Fielding one study: entries, the current page, submits, quotas, the end — on the database.

Every method runs in one short transaction and commits before it returns, so an
answer is stored before the next page is sent. :meth:`Fielding.submit` is
idempotent: a page is stored once per respondent (a unique key), a repeated or
stale submit changes nothing and just leads to the respondent's current page.

**A respondent is made on their first POST** (:meth:`Fielding.start`, the answer to
the first page, usually the consent), never on a GET or HEAD of a link: link
previewers and mail scanners open links, they do not submit forms. Until then the
entry form carries what the link said (language, panel parameters, the test key,
the seed of the page order) in hidden fields, checked and capped again on the POST,
and a random entry key: a second submit of the same form (a double tap) finds the
respondent the first one made, from the same address and browser only.

**The study's state** (:mod:`offerlab.field._lifecycle`) is read in the transaction
of every start, page switch and submit: a closed study stores nothing, not even for
people already inside; a paused one takes no new starts and lets people inside
finish only if its ``finish_when_paused`` setting says so. On PostgreSQL a submit
holds a share lock on the study's row, so a close waits for the submits in flight
and every submit after it sees the study closed.

**Duplicates** (``flags.duplicate_of``, with ``flags.duplicate_by``): a panel ID (the
first declared panel parameter) says who someone is. A respondent with a panel ID is
a duplicate only of an earlier respondent with the same panel ID; their address and
browser are not looked at, since two people behind one company proxy with the same
browser share both. A personal invitation is one person (its token opens one
respondent only). Only a respondent with neither is compared by the weak signal of
a salted hash of address and browser, with earlier respondents who had neither;
the flag is a quality hint for the analyst, nobody is turned away by it. Test
respondents are never flagged, and never count toward quota cells.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from offerlab.design import Design
from offerlab.exceptions import OfferlabError
from offerlab.field._flow import AnswerError, Survey
from offerlab.field._lifecycle import admission
from offerlab.field._registration import register_study
from offerlab.store import (
    Invitation,
    Respondent,
    StudyRow,
    Submission,
    assign_version,
    cell_is_full,
    lock_respondent,
    take_quota_cells,
)
from offerlab.study import Study, parse_study

__all__ = ["Entry", "Fielding", "Snapshot", "StudyState", "SubmitResult", "new_token"]

#: Bytes of randomness in invitation, respondent and submission tokens (256 bits).
TOKEN_BYTES = 32
MAX_PANEL_PARAMETERS = 20
MAX_PANEL_VALUE = 200
#: The ``page`` of an entry form that only starts (its first page is a choice task).
START_PAGE = "start"
_ENTRY_KEY = re.compile(r"[A-Za-z0-9_-]{43}")
_SEED = re.compile(r"[0-9]{1,10}")


def new_token() -> str:
    """A URL-safe random token of 256 bits that starts with a letter or digit: one that
    starts with '-' is a formula to Excel, so the invitations CSV would neutralise it to
    "'-…" and the token people copy from the cell would no longer be the link's."""
    while not (token := secrets.token_urlsafe(TOKEN_BYTES))[0].isalnum():
        pass
    return token


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
    refusal: str | None = None  # the study's state refuses this respondent: its page key


@dataclass
class SubmitResult:
    """How a submit ended: ``stored``, ``repeat`` (already stored), ``stale``, ``invalid``,
    or ``refused`` (the study's state: ``refusal`` is ``closed``, ``paused`` or
    ``not_open``; nothing was written)."""

    outcome: str
    snapshot: Snapshot | None = None
    errors: list[str] = field(default_factory=list)
    form: Mapping[str, list[str]] = field(default_factory=dict)
    refusal: str | None = None


@dataclass(frozen=True)
class StudyState:
    """A study's state in its life cycle and its pause setting."""

    status: str
    finish_when_paused: bool = True

    def admission(self, *, inside: bool, test: bool) -> str | None:
        return admission(
            self.status, inside=inside, test=test, finish_when_paused=self.finish_when_paused
        )


@dataclass(frozen=True)
class Entry:
    """What an entry form carries until the first POST (every field checked and capped).

    ``key`` is the form's random entry key; ``seed`` draws the page order (a respondent
    could draw another one by opening the link again, so taking it from the form gives
    nothing away); ``invitation`` is the personal invitation's token, if any.
    """

    language: str
    panel: dict[str, str]
    seed: int
    key: str
    test: bool = False
    invitation: str | None = None


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
        design, study_id = register_study(engine, study, study_text, design, status)
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
        """Set the study's state directly (set-up and tests; the console moves by the
        rules of :mod:`offerlab.field._lifecycle` and records each move)."""
        with self.sessions.begin() as session:
            session.get_one(StudyRow, self.study_id).status = status

    def status(self) -> str:
        return self.state().status

    def state(self) -> StudyState:
        """The study's state and pause setting, as stored now."""
        with self.readers() as session:
            return self._state(session)

    def _state(self, session: Session, lock: str | None = None) -> StudyState:
        """The state, read in ``session``; ``lock`` ("share" or "update") locks the row on
        PostgreSQL until the transaction ends (SQLite's write transaction holds it anyway)."""
        query = select(StudyRow.status, StudyRow.finish_when_paused).where(
            StudyRow.id == self.study_id
        )
        if lock is not None and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=lock == "share")
        row = session.execute(query).one()
        return StudyState(row.status, bool(row.finish_when_paused))

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

    def is_test_key(self, value: str) -> bool:
        return bool(value) and secrets.compare_digest(value.encode(), self.test_key.encode())

    def fingerprint(self, client: str, user_agent: str) -> str:
        """A salted hash of the client's address and browser, to spot duplicate participants."""
        return hashlib.sha256(f"{self.salt}|{client}|{user_agent}".encode()).hexdigest()[:32]

    def new_entry(
        self,
        *,
        language: str,
        panel: Mapping[str, str],
        test: bool = False,
        invitation: str | None = None,
    ) -> Entry:
        """A fresh entry form's content (a new key and seed); nothing is stored."""
        seed = secrets.randbits(31)
        return Entry(language, dict(panel), seed, new_token(), test, invitation)

    def entry_fields(self, entry: Entry) -> list[tuple[str, str]]:
        """The hidden fields an entry form carries to the first POST."""
        fields = [("entry", entry.key), ("seed", str(entry.seed)), ("lang", entry.language)]
        fields += [(f"panel_{name}", value) for name, value in entry.panel.items()]
        if entry.test:
            fields.append(("offerlab_test", self.test_key))
        return fields

    def entry_from_form(
        self, form: Mapping[str, list[str]], invitation: str | None = None
    ) -> Entry:
        """The entry a submitted entry form describes, every field checked again.

        A missing or malformed key or seed is replaced by a new one, an unknown
        language by the study's default; only declared panel parameters are kept,
        capped as from a link; the test mark only with the study's test key.
        """

        def one(name: str) -> str:
            return (form.get(name) or [""])[0]

        key = one("entry") if _ENTRY_KEY.fullmatch(one("entry")) else new_token()
        seed_text = one("seed")
        seed = int(seed_text) if _SEED.fullmatch(seed_text) else secrets.randbits(31)
        if seed >= 2**31:
            seed = secrets.randbits(31)
        language = one("lang")
        if language not in self.study.languages:
            language = self.study.default_language
        given = {k[len("panel_") :]: v[0] for k, v in form.items() if k.startswith("panel_") and v}
        panel = self.panel_from(given)
        return Entry(language, panel, seed, key, self.is_test_key(one("offerlab_test")), invitation)

    def entry_page(self, entry: Entry) -> Snapshot:
        """What an entry form shows: the first page of the order ``entry.seed`` draws.

        ``key`` is None when that page is a choice task, a MaxDiff screen or a concept
        (its design version is drawn on the start): the form then only has a button that
        starts.
        """
        sequence = self.survey.sequence(entry.seed)
        position = self.survey.next_position(sequence, 0, {})
        key = str(sequence[position]) if position < len(sequence) else None
        if key is not None and self.survey.needs_version(key):
            key = None
        return Snapshot(
            token="",
            status="active",
            language=entry.language,
            version=0,
            seed=entry.seed,
            key=key,
            position=position,
            total=len(sequence),
            nonce=entry.key,
            answers={},
            panel=dict(entry.panel),
        )

    def start(
        self, entry: Entry, form: Mapping[str, list[str]], fingerprint: str = ""
    ) -> SubmitResult | None:
        """Make the respondent of a submitted entry form and store its first page, at once.

        The form's ``page`` is the entry page's key (:data:`START_PAGE` for a form
        that only starts). Returns None for an unknown invitation, else a
        :class:`SubmitResult`:
        ``stored`` (the respondent is made, ``snapshot.token`` is theirs); ``repeat``
        (this form or this invitation started a respondent already: theirs);
        ``stale`` (a form for another page, or whose key started someone from another
        address or browser: the entry page again, nothing told of that someone);
        ``invalid`` (the answer does not fit the page: nobody is made); ``refused``
        (the study's state takes no new starts).
        """
        try:
            with self.sessions.begin() as session:
                return self._start(session, entry, form, fingerprint)
        except IntegrityError:  # the same form or invitation submitted twice at once
            with self.sessions.begin() as session:
                return self._start(session, entry, form, fingerprint)

    def _start(
        self, session: Session, entry: Entry, form: Mapping[str, list[str]], fingerprint: str
    ) -> SubmitResult | None:
        # The row lock orders starts (the entry counter is taken below anyway), so a
        # second submit of one form finds the respondent the first one made.
        state = self._state(session, lock="update")
        invite = None
        if entry.invitation is not None:
            invite = session.execute(
                select(Invitation).where(
                    Invitation.token == entry.invitation, Invitation.study_id == self.study_id
                )
            ).scalar()
            if invite is None:
                return None
            used = session.execute(
                select(Respondent).where(Respondent.invitation_id == invite.id)
            ).scalar()
            if used is not None:
                return self._again(session, used, state)
        earlier = session.execute(
            select(Respondent).where(Respondent.entry_key == entry.key)
        ).scalar()
        shown = self.entry_page(entry)
        if earlier is not None:
            if earlier.study_id == self.study_id and secrets.compare_digest(
                earlier.fingerprint.encode(), fingerprint.encode()
            ):
                return self._again(session, earlier, state)
            fresh = self.new_entry(language=entry.language, panel=entry.panel, test=entry.test)
            return SubmitResult("stale", self.entry_page(fresh))
        refusal = state.admission(inside=False, test=entry.test)
        if refusal is not None:
            return SubmitResult("refused", shown, refusal=refusal)
        page = (form.get("page") or [""])[0]
        if page != (shown.key or START_PAGE):
            return SubmitResult("stale", shown)
        answer = None
        if shown.key is not None:
            try:
                answer = self.survey.parse_answer(shown.key, form, entry.language, {})
            except AnswerError as error:
                return SubmitResult("invalid", shown, error.messages, form)
        panel = {**(invite.panel if invite is not None else {}), **entry.panel}
        respondent = self._new_respondent(
            session,
            language=entry.language,
            panel=panel,
            fingerprint=fingerprint,
            invite_id=invite.id if invite is not None else None,
            test=entry.test,
            seed=entry.seed,
            entry_key=entry.key,
        )
        answers: dict[str, dict[str, Any]] = {}
        if shown.key is not None and answer is not None:
            now = time.time()
            # The entry page was shown before anyone was made: its time is not known.
            session.add(
                Submission(
                    respondent_id=respondent.id,
                    page=shown.key,
                    nonce=entry.key,
                    answer=answer,
                    seconds=0.0,
                    submitted_at=now,
                )
            )
            answers[shown.key] = answer
            self._advance(session, respondent, shown.key, answer, answers, now)
        return SubmitResult("stored", self._snapshot(session, respondent, answers))

    def _again(self, session: Session, respondent: Respondent, state: StudyState) -> SubmitResult:
        """A repeated start: the respondent made before, as they are now."""
        snapshot = self._snapshot(session, respondent)
        snapshot.refusal = self._refusal(state, respondent)
        return SubmitResult("repeat", snapshot)

    @staticmethod
    def _refusal(state: StudyState, respondent: Respondent) -> str | None:
        """Why the study's state refuses a respondent already inside (None: it does not).

        Finished respondents are not refused: their end page stays as it was.
        """
        if respondent.status != "active":
            return None
        return state.admission(inside=True, test=bool((respondent.flags or {}).get("test")))

    def enter(
        self,
        *,
        language: str,
        panel: Mapping[str, str] | None = None,
        fingerprint: str = "",
        invitation: str | None = None,
        test: bool = False,
    ) -> str | None:
        """A new respondent who has answered nothing yet; returns their token.

        For scripts and tests: the web survey makes respondents on their first POST
        (:meth:`start`). None for an unknown invitation; an invitation already used
        returns the token of its respondent. ``test`` marks a test respondent (the
        team's click-throughs and simulated runs), left out of exports and figures.
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
                    return str(used)
                invite_id = invite.id
                panel = {**invite.panel, **panel}
            respondent = self._new_respondent(
                session,
                language=language,
                panel=panel,
                fingerprint=fingerprint,
                invite_id=invite_id,
                test=test,
                seed=secrets.randbits(31),
                entry_key=None,
            )
            return respondent.token

    def _new_respondent(
        self,
        session: Session,
        *,
        language: str,
        panel: dict[str, str],
        fingerprint: str,
        invite_id: int | None,
        test: bool,
        seed: int,
        entry_key: str | None,
    ) -> Respondent:
        """A respondent added to ``session`` (flushed, so it has its id)."""
        version = assign_version(session, self.study_id, self.survey.n_versions)
        sequence = self.survey.sequence(seed)
        flags: dict[str, Any] = {"test": True} if test else {}
        panel_id = self._panel_id(panel)
        if not test:
            flags.update(self._duplicate_of(session, fingerprint, panel_id, invite_id is not None))
        now = time.time()
        respondent = Respondent(
            study_id=self.study_id,
            token=new_token(),
            invitation_id=invite_id,
            version=version,
            seed=seed,
            language=language,
            status="active",
            sequence=sequence,
            position=self.survey.next_position(sequence, 0, {}),
            nonce=new_token(),
            panel=panel,
            panel_id=panel_id,
            fingerprint=fingerprint,
            entry_key=entry_key,
            flags=flags,
            is_test=test,
            started_at=now,
            shown_at=now,
        )
        session.add(respondent)
        session.flush()
        return respondent

    def _duplicate_of(
        self, session: Session, fingerprint: str, panel_id: str, invited: bool
    ) -> dict[str, Any]:
        """The duplicate flags of a new respondent (the rule is in the module's docstring)."""
        same = Respondent.study_id == self.study_id
        if panel_id:
            rid = session.execute(
                select(Respondent.id).where(same, Respondent.panel_id == panel_id).limit(1)
            ).scalar()
            return {} if rid is None else {"duplicate_of": int(rid), "duplicate_by": "panel_id"}
        if invited or not fingerprint:
            return {}
        rid = session.execute(
            select(Respondent.id)
            .where(
                same,
                Respondent.fingerprint == fingerprint,
                Respondent.panel_id == "",
                Respondent.invitation_id.is_(None),
            )
            .limit(1)
        ).scalar()
        return {} if rid is None else {"duplicate_of": int(rid), "duplicate_by": "device"}

    def _panel_id(self, panel: Mapping[str, str]) -> str:
        params = self.survey.questionnaire.panel_parameters
        return str(panel.get(params[0], "")) if params else ""

    def invited(self, invitation: str) -> str | None:
        """The token of the respondent an invitation started (None: not used yet)."""
        with self.readers() as session:
            found = session.execute(
                select(Respondent.token)
                .join(Invitation, Invitation.id == Respondent.invitation_id)
                .where(Invitation.token == invitation, Invitation.study_id == self.study_id)
            ).scalar()
        return None if found is None else str(found)

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
            refusal = self._refusal(self._state(session), respondent)
            switch = language in self.study.languages and language != respondent.language
            if refusal is not None or not switch:
                snapshot = self._snapshot(session, respondent)
                snapshot.refusal = refusal
                return snapshot
        with self.sessions.begin() as session:
            respondent = lock_respondent(session, token)
            assert respondent is not None
            refusal = self._refusal(self._state(session, lock="share"), respondent)
            if refusal is None:  # a closed study stores nothing, not even a language
                respondent.language = language  # type: ignore[assignment]
            snapshot = self._snapshot(session, respondent)
            snapshot.refusal = refusal
            return snapshot

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
            refusal = self._refusal(self._state(session, lock="share"), respondent)
            if refusal is not None:
                return SubmitResult("refused", self._snapshot(session, respondent), refusal=refusal)
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
                answer = self.survey.parse_answer(
                    page, form, respondent.language, answers, respondent.version
                )
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
        test = bool((respondent.flags or {}).get("test"))  # tests never fill quota cells
        if test or take_quota_cells(session, self.study_id, survey.quota_cells(answers)):
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
