"""Console accounts: throttling that cannot lock others out, password and e-mail rules,
members, the owners' audit log, and the data-protection routes (issue 12, findings 6, 7).

The throttling tests run on a fake clock: ``_auth.now`` is replaced, nothing sleeps.
"""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from _respondent import QUALIFY, Browser, client
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from test_console import MARKET, PASSWORD, _csrf, _login, _setup

from offerlab.field import _auth, create_app
from offerlab.field._privacy import purge_expired
from offerlab.store import (
    AuditEvent,
    Invitation,
    LoginFailure,
    Respondent,
    StudyRow,
    Submission,
    User,
    record_event,
)


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.at = start

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(_auth, "now", fake)
    return fake


def _from(fielding, address: str) -> TestClient:
    """A console client whose requests come from ``address``."""
    return TestClient(create_app(fielding), follow_redirects=False, client=(address, 50000))


# -- finding 6: throttling ---------------------------------------------------------------------
def test_failures_on_one_account_do_not_lock_out_another_from_the_same_address(
    migrated_database_url, clock
) -> None:
    fielding, _ = _setup(migrated_database_url)
    office = _from(fielding, "203.0.113.7")
    for _ in range(5):
        assert _login(office, "analyst@a.ch", "wrong").status_code == 401
    # the owner, from the same address, logs in at once (today: 429 for 15 minutes)
    assert _login(_from(fielding, "203.0.113.7"), "owner@a.ch").status_code == 303
    # the analyst's own correct password waits out the delay, then is taken
    r = _login(office, "analyst@a.ch")
    assert r.status_code == 429 and "wait 30 seconds" in r.text
    assert r.headers["retry-after"] == "30"
    clock.at += 29
    assert _login(office, "analyst@a.ch").status_code == 429
    clock.at += 1
    assert _login(office, "analyst@a.ch").status_code == 303
    # success starts the account's count again: the next mistake is a plain 401
    assert _login(office, "analyst@a.ch", "wrong").status_code == 401


def test_waits_double_after_each_further_failure_up_to_a_cap(tmp_path, clock) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'grow.db'}")
    c = _from(fielding, "198.51.100.1")
    waits = []
    for _ in range(12):
        r = _login(c, "analyst@a.ch", "wrong")
        if r.status_code == 429:
            wait = int(r.headers["retry-after"])
            waits.append(wait)
            clock.at += wait
            assert _login(c, "analyst@a.ch", "wrong").status_code == 401
    assert waits == [30, 60, 120, 240, 480, 900, 900]
    assert [_auth.LIMITS[0].wait(n) for n in (4, 5, 6, 10, 50)] == [0, 30, 60, 900, 900]


def test_an_address_spraying_one_password_over_many_accounts_is_stopped(tmp_path, clock) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'spray.db'}")
    sprayer = _from(fielding, "192.0.2.66")
    statuses = [_login(sprayer, f"person{i}@a.ch", "Summer2026!").status_code for i in range(30)]
    assert statuses == [401] * 30  # no single account had more than one failure
    r = _login(sprayer, "person99@a.ch", "Summer2026!")
    assert r.status_code == 429  # the address's own limit
    # another address is not affected, nor are the sprayed accounts from elsewhere
    assert _login(_from(fielding, "192.0.2.1"), "owner@a.ch").status_code == 303


def test_guessing_one_account_from_many_addresses_is_slowed_down_for_that_account_only(
    tmp_path, clock
) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'distributed.db'}")
    for i in range(20):
        assert _login(_from(fielding, f"10.0.0.{i}"), "analyst@a.ch", "x").status_code == 401
    assert _login(_from(fielding, "10.0.1.1"), "analyst@a.ch").status_code == 429
    assert _login(_from(fielding, "10.0.1.1"), "owner@a.ch").status_code == 303
    clock.at += 30
    assert _login(_from(fielding, "10.0.1.1"), "analyst@a.ch").status_code == 303


def test_old_failures_are_forgotten_after_the_window(tmp_path, clock) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'window.db'}")
    c = _from(fielding, "198.51.100.9")
    for _ in range(5):
        _login(c, "analyst@a.ch", "wrong")
    clock.at += _auth.WINDOW + 1
    assert _login(c, "analyst@a.ch", "wrong").status_code == 401
    with Session(fielding.engine) as s:  # the expired rows of these keys were deleted
        assert s.execute(select(func.count()).select_from(LoginFailure)).scalar_one() == 3


# -- finding 7: passwords and e-mail addresses ------------------------------------------------
def _add(c, venture: int, **form: str):
    data = {"role": "viewer", "csrf": _csrf(c), **form}
    return c.post(f"/console/ventures/{venture}/members", data=data)


def test_a_password_1_and_a_script_email_are_refused_for_a_member(tmp_path) -> None:
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'rules.db'}")
    owner = client(fielding)
    _login(owner, "owner@a.ch")
    r = _add(owner, venture, email="new@a.ch", password="1")
    assert r.status_code == 422 and "at least 15 characters" in r.text
    r = _add(owner, venture, email="<script>alert(1)</script>", password=PASSWORD)
    assert r.status_code == 422 and "is not an e-mail address" in r.text
    assert "<script>alert(1)</script>" not in r.text  # shown escaped
    r = _add(owner, venture, email="new@a.ch", password="passwordpassword")
    assert r.status_code == 422 and "commonly used" in r.text
    with Session(fielding.engine) as s:
        emails = set(s.execute(select(User.email)).scalars())
    assert "new@a.ch" not in emails and not any("script" in e for e in emails)
    r = _add(owner, venture, email=" New@A.ch ", password="a long passphrase nobody uses")
    assert r.status_code == 303
    with Session(fielding.engine) as s:
        assert s.execute(select(User.id).where(User.email == "new@a.ch")).first() is not None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("1", "at least 15"),
        ("fourteen chars", "at least 15"),
        ("x" * 257, "at most 256"),
        ("zzzzzzzzzzzzzzzzzzzz", "one character"),
        ("1q2w3e4r5t6y7u8i", "commonly used"),  # on the bundled list as it is
        ("ManchesterUnited", "commonly used"),  # compared in lower case
        ("iloveyouiloveyou", "commonly used"),  # a listed password twice
        ("Password12345678!", "commonly used"),  # a listed one with digits and symbols added
        ("2024-dragon-2024", "commonly used"),
        ("someone.long@a.ch", "e-mail address"),
        ("correct horse battery staple", None),  # no composition rules: no digit, no capital
        ("🐢 slow and steady wins 🐢", None),
        ("y" * 63 + "z", None),  # 64 characters and more are taken
        ("w" * 255 + "v", None),
    ],
)
def test_new_passwords_follow_nist_800_63b(password, problem) -> None:
    found = _auth.password_problem(password, "someone.long@a.ch")
    assert (found is None) if problem is None else (problem in found)


def test_the_bundled_list_is_the_common_passwords() -> None:
    common = _auth.common_passwords()
    assert len(common) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common


def test_serve_owner_refuses_a_weak_password_with_exit_code_2(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from offerlab.cli.main import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OFFERLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("OFFERLAB_OWNER_PASSWORD", "secret")
    study = tmp_path / "tiny.yaml"
    from _respondent import TINY

    study.write_text(TINY.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["serve", str(study), "--venture", "V", "--owner", "lead@example.ch"]
    )
    assert result.exit_code == 2
    assert "at least 15 characters" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["serve", str(study), "--venture", "V", "--owner", "lead"])
    assert result.exit_code == 2 and "is not an e-mail address" in result.output


def test_a_member_changes_their_password_with_the_current_one(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'change.db'}")
    analyst, elsewhere = client(fielding), client(fielding)
    _login(analyst, "analyst@a.ch")
    _login(elsewhere, "analyst@a.ch")
    assert "Change password" in analyst.get("/console/account").text
    new = "a fresh passphrase for the analyst"

    def change(current: str, new_password: str, again: str | None = None):
        form = {
            "current_password": current,
            "new_password": new_password,
            "new_password_again": new_password if again is None else again,
            "csrf": _csrf(analyst),
        }
        return analyst.post("/console/account/password", data=form)

    assert change("not it", new).status_code == 422
    assert change(PASSWORD, new, "something else").status_code == 422
    r = change(PASSWORD, "short")
    assert r.status_code == 422 and "at least 15" in r.text
    r = change(PASSWORD, new)
    assert r.status_code == 303 and r.headers["location"] == "/console/account?changed=1"
    assert "Your password was changed." in analyst.get(r.headers["location"]).text
    assert elsewhere.get("/console/").status_code == 303  # the other session ended
    assert _login(client(fielding), "analyst@a.ch").status_code == 401  # the old one is gone
    assert _login(client(fielding), "analyst@a.ch", new).status_code == 303
    with Session(fielding.engine) as s:
        actions = s.execute(select(AuditEvent.action, AuditEvent.actor)).all()
    assert ("user.password", "analyst@a.ch") in actions


def test_wrong_current_passwords_are_throttled_like_logins(tmp_path, clock) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'change_limit.db'}")
    thief = client(fielding)
    _login(thief, "analyst@a.ch")
    form = {"new_password": "x" * 20, "new_password_again": "x" * 20, "csrf": _csrf(thief)}
    for _ in range(5):
        r = thief.post("/console/account/password", data={**form, "current_password": "guess"})
        assert r.status_code == 422
    r = thief.post("/console/account/password", data={**form, "current_password": PASSWORD})
    assert r.status_code == 429 and "Too many wrong passwords: try again in 30 seconds." in r.text


# -- members and the audit log -----------------------------------------------------------------
def test_owners_list_and_remove_members_but_not_the_last_owner(tmp_path) -> None:
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'members.db'}")
    owner, analyst = client(fielding), client(fielding)
    _login(owner, "owner@a.ch")
    _login(analyst, "analyst@a.ch")
    page = owner.get(f"/console/ventures/{venture}/members").text
    for email in ("owner@a.ch", "analyst@a.ch", "viewer@a.ch", "unshared@a.ch"):
        assert email in page
    assert "owner@b.ch" not in page and "last owner" in page
    with Session(fielding.engine) as s:
        ids = dict(s.execute(select(User.email, User.id)).all())
    csrf = _csrf(owner)
    r = owner.post(
        f"/console/ventures/{venture}/members/{ids['owner@a.ch']}/remove", data={"csrf": csrf}
    )
    assert r.status_code == 422 and "last owner" in r.text
    assert analyst.get("/console/studies/tiny").status_code == 200
    r = owner.post(
        f"/console/ventures/{venture}/members/{ids['analyst@a.ch']}/remove", data={"csrf": csrf}
    )
    assert r.status_code == 303
    assert analyst.get("/console/studies/tiny").status_code == 404  # no longer a member
    # the viewer loses the study's share with the membership
    owner.post(
        f"/console/ventures/{venture}/members/{ids['viewer@a.ch']}/remove", data={"csrf": csrf}
    )
    viewer = client(fielding)
    _login(viewer, "viewer@a.ch")
    assert viewer.get("/console/studies/tiny").status_code == 404
    log = owner.get(f"/console/ventures/{venture}/audit").text
    assert "removed analyst@a.ch (analyst)" in log and "removed viewer@a.ch (viewer)" in log
    # with a second owner, the first may leave; they land on their own list of studies
    owner.post(
        f"/console/ventures/{venture}/members",
        data={"email": "unshared@a.ch", "role": "owner", "csrf": csrf},
    )
    r = owner.post(
        f"/console/ventures/{venture}/members/{ids['owner@a.ch']}/remove", data={"csrf": csrf}
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    assert owner.get(f"/console/ventures/{venture}/members").status_code == 404


def test_the_owners_audit_log_shows_who_did_what_to_which_study(migrated_database_url) -> None:
    fielding, venture = _setup(migrated_database_url)
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    csrf = _csrf(analyst)
    from _respondent import TINY

    text = TINY.read_text(encoding="utf-8").replace("name: tiny", "name: logged")
    assert (
        analyst.post(
            f"/console/ventures/{venture}/studies", data={"study_yaml": text, "csrf": csrf}
        ).status_code
        == 303
    )
    analyst.post("/console/studies/tiny/share", data={"email": "unshared@a.ch", "csrf": csrf})
    analyst.get("/console/studies/tiny/answers.csv")
    analyst.post(
        "/console/studies/tiny/simulator",
        data={"model": "mnl", "market_yaml": MARKET, "csrf": csrf},
    )
    owner = client(fielding)
    _login(owner, "owner@a.ch")
    owner.post(
        f"/console/ventures/{venture}/members",
        data={"email": "new@a.ch", "role": "analyst", "password": PASSWORD, "csrf": _csrf(owner)},
    )
    with Session(fielding.engine) as s, s.begin():  # what the study's life cycle records
        user = s.execute(select(User.id).where(User.email == "analyst@a.ch")).scalar_one()
        record_event(
            s,
            "study.status",
            user_id=user,
            study_id=fielding.study_id,
            detail={"from": "live", "to": "paused"},
        )
    page = owner.get(f"/console/ventures/{venture}/audit")
    assert page.status_code == 200
    rows = re.findall(
        r'<tr data-action="([^"]+)"><td class="nowrap muted">([^<]+)</td><td>([^<]*)</td>'
        r"<td>([^<]*)</td><td>(?:<a [^>]+>([^<]*)</a>)?</td></tr>",
        page.text,
    )
    seen = {(action, who, what, study) for action, _, who, what, study in rows}
    assert seen >= {
        ("study.create", "analyst@a.ch", "created the study", "logged"),
        ("study.share", "analyst@a.ch", "shared the study with unshared@a.ch", "tiny"),
        ("study.download", "analyst@a.ch", "downloaded answers.csv", "tiny"),
        ("simulator.publish", "analyst@a.ch", "published a market simulator (mnl)", "tiny"),
        ("member.add", "owner@a.ch", "added new@a.ch as analyst", ""),
        ("study.status", "analyst@a.ch", "changed the status from live to paused", "tiny"),
    }
    shape = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3,5}"  # in the console's zone
    assert all(re.fullmatch(shape, when) for _, when, *_ in rows)
    assert rows[0][0] == "study.status"  # newest first
    # another venture's owner sees neither this log nor its events in their own
    other = client(fielding)
    _login(other, "owner@b.ch")
    assert other.get(f"/console/ventures/{venture}/audit").status_code == 404


# -- data protection ---------------------------------------------------------------------------
def _complete(fielding, link: str, seed: int = 0) -> None:
    b = Browser(client(fielding), seed=seed)
    b.enter(link)
    b.finish({**QUALIFY, "band": {"answer": "old"}})


def _owner(fielding) -> tuple[TestClient, str]:
    owner = client(fielding)
    _login(owner, "owner@a.ch")
    return owner, _csrf(owner)


def test_an_owner_deletes_one_respondent_by_panel_id_and_the_rest_stays(
    migrated_database_url,
) -> None:
    fielding, _ = _setup(migrated_database_url)
    for i, pid in enumerate(["keep1", "gone", "keep2"]):
        _complete(fielding, f"/s/tiny?pid={pid}", seed=i)
    owner, csrf = _owner(fielding)
    url = "/console/studies/tiny/privacy/delete"
    r = owner.post(url, data={"by": "panel_id", "value": "gone", "csrf": csrf})
    assert r.status_code == 422 and "confirm" in r.text  # the box not ticked: nothing deleted
    r = owner.post(url, data={"by": "panel_id", "value": "gone", "confirm": "yes", "csrf": csrf})
    assert r.status_code == 200 and "Deleted 1\u00a0respondent and their answers." in r.text
    people = owner.get("/console/studies/tiny/respondents.csv").text
    answers = owner.get("/console/studies/tiny/answers.csv").text
    assert "gone" not in people and "gone" not in answers and "keep1" in people
    with Session(fielding.engine) as s:
        assert s.execute(select(func.count()).select_from(Respondent)).scalar_one() == 2
        orphans = s.execute(
            select(func.count())
            .select_from(Submission)
            .where(Submission.respondent_id.not_in(select(Respondent.id)))
        ).scalar_one()
        assert orphans == 0
        event = s.execute(
            select(AuditEvent).where(AuditEvent.action == "respondent.delete")
        ).scalar_one()
        assert event.actor == "owner@a.ch" and event.detail["count"] == 1
    r = owner.post(url, data={"by": "panel_id", "value": "gone", "confirm": "yes", "csrf": csrf})
    assert r.status_code == 422 and "No respondent" in r.text
    r = owner.post(url, data={"by": "email", "value": "x", "confirm": "yes", "csrf": csrf})
    assert r.status_code == 422


def test_an_owner_exports_and_deletes_a_respondent_by_invitation_token(
    migrated_database_url,
) -> None:
    fielding, _ = _setup(migrated_database_url)
    (token,) = fielding.invite(1, panel={"pid": "inv-7", "region": "north"})
    _complete(fielding, f"/i/{token}")
    owner, csrf = _owner(fielding)
    r = owner.get(f"/console/studies/tiny/privacy/export?by=invitation&value={token}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "attachment" in r.headers["content-disposition"]
    document = json.loads(r.text)
    (person,) = document["respondents"]
    assert person["status"] == "complete" and person["invitation_panel"]["region"] == "north"
    pages = {p["page"]: p["answer"] for p in person["pages"]}
    assert pages["consent"] == {"consent": "agree"} and pages["band"] == {"choice": "old"}
    with Session(fielding.engine) as s:
        secret = s.execute(select(Respondent.token, Respondent.nonce)).one()
    assert secret.token not in r.text and secret.nonce not in r.text  # no session secrets
    r = owner.post(
        "/console/studies/tiny/privacy/delete",
        data={"by": "invitation", "value": token, "confirm": "yes", "csrf": csrf},
    )
    assert r.status_code == 200
    with Session(fielding.engine) as s:
        assert s.execute(select(func.count()).select_from(Respondent)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Invitation)).scalar_one() == 0
        actions = list(s.execute(select(AuditEvent.action)).scalars())
    assert actions.count("respondent.export") == 1 and actions.count("respondent.delete") == 1
    assert client(fielding).get(f"/i/{token}").status_code == 404
    # an invitation nobody has used yet is deleted when it is named
    (unused,) = fielding.invite(1, panel={"pid": "inv-8"})
    r = owner.post(
        "/console/studies/tiny/privacy/delete",
        data={"by": "invitation", "value": unused, "confirm": "yes", "csrf": csrf},
    )
    assert r.status_code == 200 and "had not been used; it is deleted" in r.text
    assert client(fielding).get(f"/i/{unused}").status_code == 404


def test_a_retention_period_purges_older_answers_now_and_at_every_start(
    migrated_database_url,
) -> None:
    fielding, venture = _setup(migrated_database_url)
    for i, pid in enumerate(["old", "recent", "older_later"]):
        _complete(fielding, f"/s/tiny?pid={pid}", seed=i)
    day = 86400.0
    with Session(fielding.engine) as s, s.begin():
        s.execute(
            update(Respondent)
            .where(Respondent.panel_id == "old")
            .values(started_at=Respondent.started_at - 40 * day)
        )
    owner, csrf = _owner(fielding)
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    r = analyst.post("/console/studies/tiny/retention", data={"days": "30", "csrf": _csrf(analyst)})
    assert r.status_code == 403
    for bad in ("-1", "0", "abc", "99999999", "3651", "²", "١٢"):
        r = owner.post("/console/studies/tiny/retention", data={"days": bad, "csrf": csrf})
        assert r.status_code == 422, bad
    r = owner.post("/console/studies/tiny/retention", data={"days": "30", "csrf": csrf})
    assert r.status_code == 200 and "kept 30 days; 1\u00a0respondent deleted now" in r.text
    with Session(fielding.engine) as s, s.begin():
        pids = set(s.execute(select(Respondent.panel_id)).scalars())
        assert pids == {"recent", "older_later"}
        s.execute(
            update(Respondent)
            .where(Respondent.panel_id == "older_later")
            .values(started_at=Respondent.started_at - 31 * day)
        )
    create_app(fielding)  # a server start purges
    with Session(fielding.engine) as s:
        assert set(s.execute(select(Respondent.panel_id)).scalars()) == {"recent"}
        purges = s.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "study.retention_purge")
        ).scalars()
        assert sorted(d["count"] for d in purges) == [1, 1]
        assert s.get_one(StudyRow, fielding.study_id).retention_days == 30
    assert purge_expired(fielding.engine) == {}  # nothing more to do
    r = owner.post("/console/studies/tiny/retention", data={"days": "", "csrf": csrf})
    assert "kept until you delete them" in r.text
    log = owner.get(f"/console/ventures/{venture}/audit").text
    assert "set the retention period to 30 days (was none)" in log
    assert "removed the retention period" in log
    frame = pd.read_csv(io.StringIO(owner.get("/console/studies/tiny/respondents.csv").text))
    assert list(frame["pid"]) == ["recent"]
