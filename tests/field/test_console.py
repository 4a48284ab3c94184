"""The team's console: every route × role, CSRF, login rate limit, the analyst's day."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from _respondent import QUALIFY, TINY, Browser, client, tiny
from sqlalchemy import select
from sqlalchemy.orm import Session

from offerlab.data import ChoiceData
from offerlab.field import _auth
from offerlab.store import ConsoleSession, StudyRow, User
from offerlab.study import parse_study

PASSWORD = "correct horse battery staple"
ROLES = ["anonymous", "respondent", "viewer", "viewer_unshared", "analyst", "owner", "other_owner"]


def _setup(url: str):
    fielding = tiny(url)
    with Session(fielding.engine) as s, s.begin():
        for email, venture, role in [
            ("owner@a.ch", "A", "owner"),
            ("analyst@a.ch", "A", "analyst"),
            ("viewer@a.ch", "A", "viewer"),
            ("unshared@a.ch", "A", "viewer"),
            ("owner@b.ch", "B", "owner"),
        ]:
            _auth.add_member(s, venture, email, role, PASSWORD)
        from offerlab.store import StudyShare, Venture

        a = s.execute(select(Venture.id).where(Venture.name == "A")).scalar_one()
        s.get_one(StudyRow, fielding.study_id).venture_id = a
        viewer = s.execute(select(User.id).where(User.email == "viewer@a.ch")).scalar_one()
        s.add(StudyShare(study_id=fielding.study_id, user_id=viewer))
    return fielding, a


def _login(c, email: str, password: str = PASSWORD):
    page = c.get("/console/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    return c.post(
        "/console/login", data={"login_csrf": token, "email": email, "password": password}
    )


def _csrf(c) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/").text)
    return m.group(1) if m else ""


EMAILS = {
    "viewer": "viewer@a.ch",
    "viewer_unshared": "unshared@a.ch",
    "analyst": "analyst@a.ch",
    "owner": "owner@a.ch",
    "other_owner": "owner@b.ch",
}
# (method, path, form, expected per role in ROLES order)
TABLE = [
    ("GET", "/console/login", None, [200] * 7),
    ("GET", "/console/", None, [303, 303, 200, 200, 200, 200, 200]),
    ("GET", "/console/studies/tiny", None, [303, 303, 200, 404, 200, 200, 404]),
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "pause"},
        [403, 403, 403, 404, 303, 303, 404],
    ),
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "launch"},
        [403, 403, 403, 404, 303, 303, 404],
    ),
    ("POST", "/console/studies/tiny/simulate", {"n": "1"}, [403, 403, 403, 404, 303, 303, 404]),
    (
        "POST",
        "/console/studies/tiny/share",
        {"email": "viewer@a.ch"},
        [403, 403, 403, 404, 303, 303, 404],
    ),
    ("GET", "/console/studies/tiny/choices.csv", None, [303, 303, 403, 404, 200, 200, 404]),
    ("GET", "/console/studies/tiny/choices.parquet", None, [303, 303, 403, 404, 200, 200, 404]),
    ("GET", "/console/studies/tiny/answers.csv", None, [303, 303, 403, 404, 200, 200, 404]),
    ("GET", "/console/studies/tiny/respondents.csv", None, [303, 303, 403, 404, 200, 200, 404]),
    ("GET", "/console/studies/nope", None, [303, 303, 404, 404, 404, 404, 404]),
    ("POST", "/console/ventures/{A}/studies", "new-study", [403, 403, 403, 403, 303, 303, 403]),
    ("POST", "/console/ventures/{A}/members", "new-member", [403, 403, 403, 403, 403, 303, 403]),
]


def test_every_console_route_for_every_role(tmp_path) -> None:
    fielding, venture_a = _setup(f"sqlite:///{tmp_path / 'console.db'}")
    clients = {}
    for role in ROLES:
        c = client(fielding)
        if role == "respondent":
            Browser(c).enter("/s/tiny")
        elif role != "anonymous":
            assert _login(c, EMAILS[role]).status_code == 303
        clients[role] = (c, _csrf(c))
    failures = []
    for method, path, form, expected in TABLE:
        for role, want in zip(ROLES, expected, strict=True):
            c, csrf = clients[role]
            url = path.replace("{A}", str(venture_a))
            if method == "GET":
                got = c.get(url).status_code
            else:
                data = dict(form) if isinstance(form, dict) else {}
                if form == "new-study":
                    text = TINY.read_text(encoding="utf-8").replace("name: tiny", f"name: t_{role}")
                    data = {"study_yaml": text}
                elif form == "new-member":
                    data = {"email": f"new-{role}@a.ch", "role": "viewer", "password": "pw-" + role}
                got = c.post(url, data={**data, "csrf": csrf}).status_code
            if got != want:
                failures.append(f"{method} {url} as {role}: {got}, expected {want}")
    assert failures == []
    with Session(fielding.engine) as s:  # only the analyst's and the owner's studies were made
        names = set(s.execute(select(StudyRow.name)).scalars())
    assert names == {"tiny", "t_analyst", "t_owner"}


def test_posts_without_the_csrf_token_change_nothing(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'csrf.db'}")
    c = client(fielding)
    _login(c, "owner@a.ch")
    assert c.post("/console/studies/tiny/status", data={"action": "close"}).status_code == 403
    bad = {"action": "close", "csrf": "x" * 43}
    assert c.post("/console/studies/tiny/status", data=bad).status_code == 403
    assert fielding.status() == "live"
    # the login form needs its double-submit token too
    fresh = client(fielding)
    r = fresh.post("/console/login", data={"email": "owner@a.ch", "password": PASSWORD})
    assert r.status_code == 403


def test_logins_are_rate_limited_and_sessions_are_random_and_stored_hashed(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'limit.db'}")
    c = client(fielding)
    for _ in range(_auth.MAX_FAILURES):
        assert _login(c, "analyst@a.ch", "wrong").status_code == 401
    assert _login(c, "analyst@a.ch").status_code == 429  # even with the right password
    r = _login(client(fielding), "owner@a.ch")  # another user, from the same address
    assert r.status_code == 429  # the client address is limited too
    with Session(fielding.engine) as s:
        stored = s.execute(select(User.password_hash)).scalars().all()
        assert all(h.startswith("scrypt$16384$8$1$") for h in stored)
        assert PASSWORD not in "".join(stored)
    assert _auth.check_password(PASSWORD, stored[0])
    assert not _auth.check_password(PASSWORD + "!", stored[0])


def test_session_tokens_carry_256_bits_and_only_their_hash_is_kept(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'session.db'}")
    c = client(fielding)
    r = _login(c, "owner@a.ch")
    token = r.cookies.get("offerlab_console") or c.cookies.get("offerlab_console")
    assert len(token) >= 43
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    with Session(fielding.engine) as s:
        hashes = s.execute(select(ConsoleSession.token_hash)).scalars().all()
    assert token not in hashes and len(hashes) == 1
    c.post("/console/logout", data={"csrf": _csrf(c)})
    assert c.get("/console/").status_code == 303


def test_an_analyst_creates_tests_launches_and_downloads_a_study(tmp_path) -> None:
    fielding, venture_a = _setup(f"sqlite:///{tmp_path / 'day.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    csrf = _csrf(c)
    text = TINY.read_text(encoding="utf-8").replace("name: tiny", "name: launch_me")
    r = c.post(f"/console/ventures/{venture_a}/studies", data={"study_yaml": text, "csrf": csrf})
    assert r.headers["location"] == "/console/studies/launch_me"
    broken = c.post(
        f"/console/ventures/{venture_a}/studies",
        data={"study_yaml": text.replace("type: consent", "type: konsent"), "csrf": csrf},
    )
    assert broken.status_code == 422 and "konsent" in broken.text
    assert (
        c.post("/console/studies/launch_me/simulate", data={"n": "3", "csrf": csrf}).status_code
        == 303
    )
    page = c.get("/console/studies/launch_me").text
    assert re.search(r'id="tests">3<', page) and re.search(r'id="completes">0<', page)
    c.post("/console/studies/launch_me/status", data={"action": "launch", "csrf": csrf})
    for i in range(3):  # real respondents after the launch
        respondent = client(fielding)
        b = Browser(respondent, seed=i)
        b.enter(f"/s/launch_me?pid=real{i}")
        b.finish(QUALIFY)
    page = c.get("/console/studies/launch_me").text
    assert re.search(r'id="completes">3<', page)
    csv = c.get("/console/studies/launch_me/choices.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    study = parse_study(text, "launch_me.yaml")
    data = ChoiceData.from_frame(pd.read_csv(io.StringIO(csv.text)), study, source="download")
    assert data.n_respondents == 3  # the test respondents are left out
    people = pd.read_csv(io.StringIO(c.get("/console/studies/launch_me/respondents.csv").text))
    assert sorted(people["pid"]) == ["real0", "real1", "real2"]
    c.post("/console/studies/launch_me/status", data={"action": "pause", "csrf": csrf})
    paused = client(fielding).get("/s/launch_me")
    assert paused.status_code == 503


@pytest.mark.parametrize("role", ["analyst", "owner"])
def test_a_viewer_cannot_be_made_by_a_non_owner(tmp_path, role) -> None:
    fielding, venture_a = _setup(f"sqlite:///{tmp_path / 'm.db'}")
    c = client(fielding)
    _login(c, EMAILS[role])
    r = c.post(
        f"/console/ventures/{venture_a}/members",
        data={"email": "x@a.ch", "role": "owner", "password": "pw", "csrf": _csrf(c)},
    )
    assert r.status_code == (403 if role == "analyst" else 303)


def test_a_study_file_can_be_uploaded_and_a_bad_one_is_named(tmp_path) -> None:
    fielding, venture_a = _setup(f"sqlite:///{tmp_path / 'upload.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    csrf = _csrf(c)
    url = f"/console/ventures/{venture_a}/studies"
    text = TINY.read_text(encoding="utf-8").replace("name: tiny", "name: uploaded")
    r = c.post(url, data={"csrf": csrf}, files={"study_file": ("uploaded.yaml", text.encode())})
    assert r.status_code == 303 and r.headers["location"] == "/console/studies/uploaded"
    broken = text.replace("name: uploaded", "name: uploaded2").replace(
        "type: consent", "type: konsent"
    )
    r = c.post(url, data={"csrf": csrf}, files={"study_file": ("mine.yaml", broken.encode())})
    assert r.status_code == 422 and "mine.yaml" in r.text and "konsent" in r.text
    # a file in a field that takes none, or a file that is not UTF-8 text: refused, not stored
    r = c.post(url, data={"csrf": csrf}, files={"other": ("x.yaml", text.encode())})
    assert r.status_code == 400
    r = c.post(url, data={"csrf": csrf}, files={"study_file": ("x.yaml", b"\xff\xfe\x00")})
    assert r.status_code == 400
    assert c.get("/console/studies/uploaded2").status_code == 404
