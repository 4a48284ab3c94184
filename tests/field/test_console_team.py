"""The console's team and languages: invitation links, roles, respondent links, the
member's language, human labels and local dates in pages and downloads."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from _respondent import client
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from test_console import PASSWORD, _csrf, _login, _setup
from test_console_accounts import _complete

from offerlab.field import _auth
from offerlab.field._console import describe_event
from offerlab.field._console_texts import ConsoleTexts
from offerlab.field._console_views import format_number, format_when
from offerlab.store import AuditEvent, Invitation, MemberInvitation, Membership, User, make_engine


def _owner(fielding):
    owner = client(fielding)
    assert _login(owner, "owner@a.ch").status_code == 303
    return owner, _csrf(owner)


def _invite(owner, csrf: str, venture: int, email: str, role: str = "analyst") -> str:
    r = owner.post(
        f"/console/ventures/{venture}/invitations",
        data={"email": email, "role": role, "csrf": csrf},
    )
    assert r.status_code == 200, r.text[-500:]
    return re.search(r'id="invite-url" value="[^"]*/console/join/([^"]+)"', r.text).group(1)


def _join(c, token: str, password: str = "my own long passphrase", again: str | None = None):
    page = c.get(f"/console/join/{token}")
    found = re.search(r'name="login_csrf" value="([^"]+)"', page.text) or re.search(
        r'name="login_csrf" value="([^"]+)"', c.get("/console/login").text
    )  # a refused link has no form: the browser's token from the login page
    form = {
        "login_csrf": found.group(1),
        "new_password": password,
        "new_password_again": password if again is None else again,
    }
    return page, c.post(f"/console/join/{token}", data=form)


def test_an_invited_analyst_sets_their_own_password_once_and_works_as_analyst(
    migrated_database_url,
) -> None:
    fielding, venture = _setup(migrated_database_url)
    owner, csrf = _owner(fielding)
    token = _invite(owner, csrf, venture, "New.Analyst@A.ch")
    with Session(fielding.engine) as s:  # only the token's hash is kept
        stored = s.execute(select(MemberInvitation)).scalar_one()
        assert token not in stored.token_hash and len(stored.token_hash) == 64
        assert stored.expires_at - stored.created_at == pytest.approx(7 * 86400)
        assert s.execute(select(User).where(User.email == "new.analyst@a.ch")).first() is None

    invited = client(fielding)
    page, weak = _join(invited, token, "passwordpassword")  # NIST rules, as everywhere
    assert page.status_code == 200 and "new.analyst@a.ch" in page.text and "analyst" in page.text
    assert weak.status_code == 422 and "commonly used" in weak.text
    _, differ = _join(invited, token, again="something else entirely")
    assert differ.status_code == 422 and "differ" in differ.text
    _, joined = _join(invited, token)
    assert joined.status_code == 303  # logged in at once
    assert invited.get("/console/studies/tiny").status_code == 200
    assert invited.get("/console/studies/tiny/choices.csv").status_code == 200  # analyst's rights
    assert invited.get(f"/console/ventures/{venture}/members").status_code == 403

    again = client(fielding)  # the link works once
    page, _ = _join(again, token, "another long passphrase")
    assert page.status_code == 410 and "used already" in page.text
    fresh = client(fielding)
    assert _login(fresh, "new.analyst@a.ch", "my own long passphrase").status_code == 303
    with Session(fielding.engine) as s:
        actions = [e.action for e in s.execute(select(AuditEvent)).scalars()]
        role = s.execute(
            select(Membership.role).join(User).where(User.email == "new.analyst@a.ch")
        ).scalar_one()
    assert "member.invite" in actions and "member.join" in actions and role == "analyst"


def test_an_expired_or_unknown_link_is_refused_with_a_clear_page(tmp_path, monkeypatch) -> None:
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    owner, csrf = _owner(fielding)
    token = _invite(owner, csrf, venture, "late@a.ch", "viewer")
    later = _auth.now() + 7 * 86400 + 1
    monkeypatch.setattr(_auth, "now", lambda: later)
    c = client(fielding)
    page = c.get(f"/console/join/{token}", headers={"Accept-Language": "fr-CH"})
    assert page.status_code == 410 and "Ce lien d’invitation a expiré" in page.text
    _, posted = _join(c, token)
    assert posted.status_code == 410
    assert c.get("/console/join/x" + token).status_code == 404
    with Session(fielding.engine) as s:
        assert s.execute(select(User).where(User.email == "late@a.ch")).first() is None


def test_an_invitation_never_sets_the_password_of_an_existing_account(tmp_path) -> None:
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    owner, csrf = _owner(fielding)
    r = owner.post(  # owner@b.ch has an account (in venture B): a member at once, no link
        f"/console/ventures/{venture}/invitations",
        data={"email": "owner@b.ch", "role": "viewer", "csrf": csrf},
    )
    assert r.status_code == 200 and "invite-url" not in r.text and "is a member now" in r.text
    r = owner.post(
        f"/console/ventures/{venture}/invitations",
        data={"email": "owner@b.ch", "role": "viewer", "csrf": csrf},
    )
    assert r.status_code == 422 and "is a member already" in r.text


def test_the_invitation_forms_are_owners_only_and_carry_the_csrf_token(tmp_path) -> None:
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    owner, csrf = _owner(fielding)
    form = {"email": "x@a.ch", "role": "viewer"}
    url = f"/console/ventures/{venture}/invitations"
    assert owner.post(url, data=form).status_code == 403  # no CSRF token
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    refused = analyst.post(url, data={**form, "csrf": _csrf(analyst)})
    assert refused.status_code == 403 and "<html" in refused.text  # a page, not plain text
    assert owner.post(url, data={**form, "role": "king", "csrf": csrf}).status_code == 422
    first = _invite(owner, csrf, venture, "x@a.ch")
    token = _invite(owner, csrf, venture, "x@a.ch")  # a new link replaces the open one
    assert _join(client(fielding), first)[0].status_code == 404
    with Session(fielding.engine) as s:
        pending = s.execute(select(MemberInvitation.id)).scalar_one()
    revoke = f"/console/ventures/{venture}/invitations/{pending}/revoke"
    assert analyst.post(revoke, data={"csrf": _csrf(analyst)}).status_code == 403
    assert owner.post(revoke, data={"csrf": csrf}).status_code == 303
    page, _ = _join(client(fielding), token)
    assert page.status_code == 404  # withdrawn


def test_owners_change_roles_but_never_the_last_owners(tmp_path) -> None:
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    owner, csrf = _owner(fielding)
    with Session(fielding.engine) as s:
        ids = dict(s.execute(select(User.email, User.id)).all())
    url = f"/console/ventures/{venture}/members/{{}}/role"
    r = owner.post(url.format(ids["viewer@a.ch"]), data={"role": "analyst", "csrf": csrf})
    assert r.status_code == 303
    r = owner.post(url.format(ids["owner@a.ch"]), data={"role": "viewer", "csrf": csrf})
    assert r.status_code == 422 and "last owner" in r.text
    r = owner.post(url.format(ids["owner@b.ch"]), data={"role": "viewer", "csrf": csrf})
    assert r.status_code == 422  # not a member of this venture
    with Session(fielding.engine) as s:
        roles = dict(
            s.execute(
                select(User.email, Membership.role)
                .join(Membership)
                .where(Membership.venture_id == venture)
            ).all()
        )
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "member.role")).scalar_one()
    assert roles["viewer@a.ch"] == "analyst" and roles["owner@a.ch"] == "owner"
    assert (
        str(describe_event(event.action, event.detail)) == "made viewer@a.ch analyst (was viewer)"
    )
    assert ConsoleTexts("de")(describe_event(event.action, event.detail)) == (
        "hat viewer@a.ch zu Analyst/in gemacht (vorher Betrachter/in)"
    )


def test_respondent_invitation_links_are_made_and_downloaded_from_the_console(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    csrf = _csrf(analyst)
    url = "/console/studies/tiny/invitations"
    for bad in ("0", "-1", "x", "10001", "1e3"):
        assert analyst.post(url, data={"n": bad, "csrf": csrf}).status_code == 422, bad
    made = analyst.post(url, data={"n": "3", "csrf": csrf}, headers={"Accept-Language": "de"})
    assert made.status_code == 200 and made.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(made.text))
    assert list(frame.columns) == ["link", "token", "created_at", "created", "used"]
    assert frame["link"].str.fullmatch(r"http://testserver/i/[\w-]{40,}").all()
    assert frame["created_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert frame["created"].str.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d CES?T").all()
    with Session(fielding.engine) as s:
        assert set(s.execute(select(Invitation.token)).scalars()) == set(frame["token"])
    _complete(fielding, frame["link"][0].removeprefix("http://testserver"))  # one is used
    everything = pd.read_csv(io.StringIO(analyst.get("/console/studies/tiny/invitations.csv").text))
    assert len(everything) == 3 and everything["used"].sum() == 1
    viewer = client(fielding)
    _login(viewer, "viewer@a.ch")
    assert viewer.post(url, data={"n": "3", "csrf": _csrf(viewer)}).status_code == 403
    assert viewer.get("/console/studies/tiny/invitations.csv").status_code == 403
    with Session(fielding.engine) as s:
        assert s.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "study.invitations")
        ).scalar_one() == {"n": 3}


def test_downloads_have_iso_times_and_human_columns_instead_of_epoch_seconds(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    _complete(fielding, "/s/tiny?pid=a")
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    de = {"Accept-Language": "de-CH"}
    people = pd.read_csv(
        io.StringIO(analyst.get("/console/studies/tiny/respondents.csv", headers=de).text)
    )
    assert people["started_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert people["started"].str.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d CES?T").all()
    assert list(people["status_label"]) == ["vollständig"]
    raw = analyst.get("/console/studies/tiny/respondents.csv").text
    assert not re.search(r"\b1[6-9]\d{8}\.\d", raw)  # no seconds since 1970 left
    answers = pd.read_csv(
        io.StringIO(analyst.get("/console/studies/tiny/answers.csv", headers=de).text)
    )
    band = answers[answers["page"] == "band"].iloc[0]
    assert (band["value"], band["value_label"], band["question"]) == (
        "old",
        "40 oder mehr",
        "Ihr Alter?",
    )


def test_a_member_s_language_is_remembered_and_the_browser_s_is_the_default(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    owner, _ = _owner(fielding)
    german = {"Accept-Language": "de-CH,de;q=0.9"}
    assert '<html lang="de">' in owner.get("/console/", headers=german).text
    switched = owner.get("/console/?lang=it", headers=german)
    assert '<html lang="it">' in switched.text and "Studi" in switched.text
    other = client(fielding)  # another browser of the same member, set to German
    _login(other, "owner@a.ch")
    assert '<html lang="it">' in other.get("/console/", headers=german).text
    with Session(fielding.engine) as s:
        assert s.execute(select(User.language).where(User.email == "owner@a.ch")).scalar() == "it"
    anonymous = client(fielding)
    page = anonymous.get("/console/login?lang=fr")
    assert '<html lang="fr">' in page.text and 'href="/console/login?lang=de"' in page.text
    assert '<html lang="fr">' in anonymous.get("/console/login", headers=german).text  # cookie


def test_dates_and_numbers_as_each_language_writes_them(monkeypatch) -> None:
    at = 1796566500.0  # 2026-12-06 14:15 UTC, 15:15 in Zurich (the default zone)
    monkeypatch.delenv("OFFERLAB_TIMEZONE", raising=False)
    assert format_when(at, "de") == "06.12.2026 15:15 CET"
    assert format_when(at, "fr") == "06/12/2026 15:15 CET"
    assert format_when(at, "it") == "06/12/2026 15:15 CET"
    assert format_when(at + 183 * 86400, "de") == "07.06.2027 16:15 CEST"  # summer time
    monkeypatch.setenv("OFFERLAB_TIMEZONE", "UTC")
    assert format_when(at, "en", seconds=True) == "2026-12-06 14:15:00 UTC"
    assert format_when(None, "de") == "–"
    assert format_number(1234.5, "de") == "1’234.5"
    assert format_number(1234.5, "fr") == "1\u202f234,5"
    assert format_number(590.0, "en") == "590"


def test_the_study_page_shows_the_study_s_labels_not_its_codes(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    _complete(fielding, "/s/tiny?pid=a")
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    page = analyst.get("/console/studies/tiny", headers={"Accept-Language": "de"}).text
    assert "40\u00a0oder mehr" in page and "Ihr Alter?" in page
    assert not re.search(r">\s*(young|old|band)\s*<", page)


def test_the_team_migration_adds_the_language_and_the_invitations_and_keeps_users(
    database_url,
) -> None:
    from alembic import command
    from alembic.config import Config

    from offerlab.store import migrate
    from offerlab.store._engine import _MIGRATIONS

    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009_dashboard")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at) "
                "VALUES (1, 'a@b.ch', 'x', 0)"
            )
        )
    migrate(engine)
    with Session(engine) as s, s.begin():
        assert s.get_one(User, 1).language is None
        s.get_one(User, 1).language = "fr"
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_dashboard")
    with engine.begin() as c:
        assert c.execute(text("SELECT email FROM users")).scalar() == "a@b.ch"
    migrate(engine)
    assert PASSWORD  # the shared fixtures' password, used by _setup


def test_every_key_the_console_uses_is_in_the_catalogue() -> None:
    """A key typed in a template or a Message but missing from the YAML would be a 500."""
    from pathlib import Path

    from offerlab.field._console_texts import console_catalogue

    field = Path(__file__).resolve().parents[2] / "src" / "offerlab" / "field"
    templates = "".join(p.read_text() for p in (field / "templates").glob("console_*.html"))
    code = "".join(p.read_text() for p in field.glob("*.py"))
    used = set(re.findall(r"\bt\(\s*[\"']([a-z][a-z0-9_]*)[\"']\s*[,)]", templates))
    used |= set(re.findall(r"Message\(\s*\"([a-z][a-z0-9_]*)\"\s*[,)]", code))
    assert len(used) > 100
    assert sorted(used - set(console_catalogue())) == []


def test_a_token_never_starts_with_a_character_excel_reads_as_a_formula(monkeypatch) -> None:
    """An invitation token that started with '-' (1 in 32) reached the CSV as "'-…"."""
    import offerlab.field._service as service

    drawn = iter(["-starts-like-a-formula", "_underscore", "Ab3-ok"])
    monkeypatch.setattr(service.secrets, "token_urlsafe", lambda n: next(drawn))
    assert service.new_token() == "Ab3-ok"
