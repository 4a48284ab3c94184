"""The team's console: every route × role, CSRF, sessions, the analyst's day."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from _accounts import one_hash_per_password
from _respondent import QUALIFY, TINY, Browser, client, start, tiny
from sqlalchemy import select
from sqlalchemy.orm import Session

from offerlab.data import ChoiceData
from offerlab.field import _auth
from offerlab.store import AuditEvent, ConsoleSession, QuotaCell, Respondent, StudyRow, User
from offerlab.study import parse_study

PASSWORD = "correct horse battery staple"
ROLES = ["anonymous", "respondent", "viewer", "viewer_unshared", "analyst", "owner", "other_owner"]


def _setup(url: str, text: str | None = None):
    """The tiny study (or ``text``) in a console with members of two ventures."""
    fielding = tiny(url, text)
    with Session(fielding.engine) as s, s.begin(), one_hash_per_password():
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


MARKET = """offers:
  - {name: Ours, ours: true, price: 15, colour: red}
  - {name: Theirs, price: 20, colour: blue}
none: true
"""

EMAILS = {
    "viewer": "viewer@a.ch",
    "viewer_unshared": "unshared@a.ch",
    "analyst": "analyst@a.ch",
    "owner": "owner@a.ch",
    "other_owner": "owner@b.ch",
}
# (method, path, form, expected per role in ROLES order)
TABLE = [
    # the respondent side: the link's entry form for everyone (the respondent's cookie
    # leads back to them); its POST makes a respondent (or leads back)
    ("GET", "/s/tiny", None, [200, 303, 200, 200, 200, 200, 200]),
    ("POST", "/s/tiny", "entry", [303] * 7),
    ("GET", "/s/nope", None, [404] * 7),
    ("POST", "/s/nope", "entry", [404] * 7),
    ("GET", "/console/login", None, [200] * 7),
    ("GET", "/console/", None, [303, 303, 200, 200, 200, 200, 200]),
    ("GET", "/console/studies/tiny", None, [303, 303, 200, 404, 200, 200, 404]),
    # the study is live: simulated tests run; the analyst pauses, the owner then finds it paused
    ("POST", "/console/studies/tiny/simulate", {"n": "1"}, [403, 403, 403, 404, 303, 303, 404]),
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "pause"},
        [403, 403, 403, 404, 303, 409, 404],
    ),
    ("POST", "/console/studies/tiny/simulate", {"n": "1"}, [403, 403, 403, 404, 409, 409, 404]),
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "resume"},
        [403, 403, 403, 404, 303, 409, 404],
    ),
    (  # no launch from live (nor of a closed study: only reopen)
        "POST",
        "/console/studies/tiny/status",
        {"action": "launch", "confirm": "yes"},
        [403, 403, 403, 404, 409, 409, 404],
    ),
    (  # close asks to confirm first (a page, 200) and changes nothing
        "POST",
        "/console/studies/tiny/status",
        {"action": "close"},
        [403, 403, 403, 404, 200, 200, 404],
    ),
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "nap"},
        [403, 403, 403, 404, 422, 422, 404],
    ),
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
    ("GET", "/console/studies/tiny/simulator", None, [303, 303, 200, 404, 200, 200, 404]),
    ("POST", "/console/studies/tiny/simulator", "market", [403, 403, 403, 404, 303, 303, 404]),
    ("GET", "/console/assets/simulator.js", None, [200] * 7),
    ("POST", "/console/ventures/{A}/studies", "new-study", [403, 403, 403, 403, 303, 303, 403]),
    ("POST", "/console/ventures/{A}/members", "new-member", [403, 403, 403, 403, 403, 303, 403]),
    ("GET", "/console/account", None, [303, 303, 200, 200, 200, 200, 200]),
    ("POST", "/console/account/password", "new-password", [403, 403, 303, 303, 303, 303, 303]),
    ("GET", "/console/ventures/{A}/members", None, [303, 303, 403, 403, 403, 200, 404]),
    ("GET", "/console/ventures/{A}/audit", None, [303, 303, 403, 403, 403, 200, 404]),
    ("GET", "/console/ventures/999/audit", None, [303, 303, 404, 404, 404, 404, 404]),
    ("GET", "/console/studies/tiny/privacy", None, [303, 303, 403, 404, 403, 200, 404]),
    (
        "GET",
        "/console/studies/tiny/privacy/export?by=panel_id&value=exported",
        None,
        [303, 303, 403, 404, 403, 200, 404],
    ),
    (
        "POST",
        "/console/studies/tiny/privacy/delete",
        {"by": "panel_id", "value": "deleted", "confirm": "yes"},
        [403, 403, 403, 404, 403, 200, 404],
    ),
    (
        "POST",
        "/console/studies/tiny/retention",
        {"days": "3650"},
        [403, 403, 403, 404, 403, 200, 404],
    ),
    # the owner removes the member they added above (everyone else is refused first)
    (
        "POST",
        "/console/ventures/{A}/members/{NEW}/remove",
        {},
        [403, 403, 403, 403, 403, 303, 403],
    ),
    # last, as it ends fielding: the analyst closes; only an owner reopens, confirmed
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "close", "confirm": "yes"},
        [403, 403, 403, 404, 303, 409, 404],
    ),
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "reopen", "to": "live"},
        [403, 403, 403, 404, 403, 200, 404],
    ),
    (
        "POST",
        "/console/studies/tiny/status",
        {"action": "reopen", "to": "paused", "confirm": "yes"},
        [403, 403, 403, 404, 403, 303, 404],
    ),
]


def test_every_console_route_for_every_role(tmp_path) -> None:
    fielding, venture_a = _setup(f"sqlite:///{tmp_path / 'console.db'}")
    for pid in ("exported", "deleted"):  # respondents for the owner's data-protection routes
        b = Browser(client(fielding), seed=1)
        b.enter(f"/s/tiny?pid={pid}")
        b.finish(QUALIFY)
    clients = {}
    for role in ROLES:
        c = client(fielding)
        if role == "respondent":
            start(c, "/s/tiny")  # a respondent who answered the first page
        elif role != "anonymous":
            assert _login(c, EMAILS[role]).status_code == 303
        clients[role] = (c, _csrf(c))
    failures = []
    for method, path, form, expected in TABLE:
        for role, want in zip(ROLES, expected, strict=True):
            c, csrf = clients[role]
            url = path.replace("{A}", str(venture_a))
            if "{NEW}" in url:
                with Session(fielding.engine) as s:
                    new = s.execute(select(User.id).where(User.email == "new-owner@a.ch"))
                    url = url.replace("{NEW}", str(new.scalar_one()))
            if method == "GET":
                got = c.get(url).status_code
            else:
                data = dict(form) if isinstance(form, dict) else {}
                if form == "new-study":
                    text = TINY.read_text(encoding="utf-8").replace("name: tiny", f"name: t_{role}")
                    data = {"study_yaml": text}
                elif form == "entry":
                    data = {"page": "consent", "answer": "agree"}
                elif form == "market":
                    data = {"model": "mnl", "market_yaml": MARKET}
                elif form == "new-member":
                    data = {
                        "email": f"new-{role}@a.ch",
                        "role": "viewer",
                        "password": f"a passphrase for {role}",
                    }
                elif form == "new-password":
                    new = f"the new passphrase of {role}"
                    data = {
                        "current_password": PASSWORD,
                        "new_password": new,
                        "new_password_again": new,
                    }
                got = c.post(url, data={**data, "csrf": csrf}).status_code
            if got != want:
                failures.append(f"{method} {url} as {role}: {got}, expected {want}")
    assert failures == []
    with Session(fielding.engine) as s:  # only the analyst's and the owner's studies were made
        names = set(s.execute(select(StudyRow.name)).scalars())
        panel_ids = set(s.execute(select(Respondent.panel_id)).scalars())
        assert "exported" in panel_ids and "deleted" not in panel_ids  # only the owner deleted
        assert s.get_one(StudyRow, fielding.study_id).retention_days == 3650
    assert names == {"tiny", "t_analyst", "t_owner"}
    assert fielding.status() == "paused"  # reopened by the owner
    with Session(fielding.engine) as s:  # every move and test run is in the audit log
        events = s.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.study_id == fielding.study_id)
            .order_by(AuditEvent.id)
        ).all()
    moves = [(a, e["from"], e["to"]) for a, act, e in events if act == "study.status"]
    assert moves == [
        ("analyst@a.ch", "live", "paused"),
        ("analyst@a.ch", "paused", "live"),
        ("analyst@a.ch", "live", "closed"),
        ("owner@a.ch", "closed", "paused"),
    ]
    tests = [(a, e) for a, act, e in events if act == "study.simulate_tests"]
    assert tests == [("analyst@a.ch", {"n": 1}), ("owner@a.ch", {"n": 1})]


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


def test_passwords_are_stored_as_scrypt_hashes_only(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'hashes.db'}")
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
    status = "/console/studies/launch_me/status"
    simulate = "/console/studies/launch_me/simulate"
    assert c.post(simulate, data={"n": "3", "csrf": csrf}).status_code == 409  # a draft
    assert client(fielding).get("/s/launch_me").status_code == 503  # not open yet
    assert c.post(status, data={"action": "test", "csrf": csrf}).status_code == 303
    assert c.post(simulate, data={"n": "3", "csrf": csrf}).status_code == 303
    page = c.get("/console/studies/launch_me").text
    assert re.search(r'id="tests">3<', page) and re.search(r'id="completes">0<', page)
    assert client(fielding).get("/s/launch_me").status_code == 503  # tests only
    c.post(status, data={"action": "launch", "csrf": csrf, "confirm": "yes"})
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
        data={"email": "x@a.ch", "role": "owner", "password": PASSWORD, "csrf": _csrf(c)},
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


def _simulator_state(c, study: str = "tiny") -> tuple[int, str]:
    page = c.get(f"/console/studies/{study}/simulator")
    return page.status_code, page.text


def test_an_analyst_publishes_a_simulator_that_only_shared_viewers_open(tmp_path) -> None:
    """Fit on the completes, publish, and the page carries the library's shares."""
    import json

    from offerlab.decide import parse_market, simulator_for
    from offerlab.field._export import choice_data
    from offerlab.models import MultinomialLogit

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'sim.db'}")
    analyst = client(fielding)
    _login(analyst, "analyst@a.ch")
    csrf = _csrf(analyst)
    # before any complete: the fit fails and the page says why
    r = analyst.post(
        "/console/studies/tiny/simulator",
        data={"model": "mnl", "market_yaml": MARKET, "csrf": csrf},
    )
    assert r.status_code == 303
    status, page = _simulator_state(analyst)
    assert status == 200 and "no completed respondent yet" in page and "simulator-none" in page
    # a market that does not fit the study: 422, the line and field named, the text kept
    bad = MARKET.replace("colour: red", "colour: green")
    r = analyst.post(
        "/console/studies/tiny/simulator", data={"model": "mnl", "market_yaml": bad, "csrf": csrf}
    )
    assert r.status_code == 422 and "market file:2:" in r.text and "offers[0].colour" in r.text
    assert "colour: green" in r.text
    for i in range(40):
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid=p{i}")
        b.finish({**QUALIFY, "band": {"answer": "old"}})  # the 'young' quota fills at 5
    r = analyst.post(
        "/console/studies/tiny/simulator",
        files={"market_file": ("market.yaml", MARKET.encode())},
        data={"model": "mnl", "csrf": csrf},
    )
    assert r.status_code == 303
    status, page = _simulator_state(analyst)
    assert 'src="/console/assets/simulator.js"' in page and "<script>" not in page
    assert "Viewers who can open this page: viewer@a.ch." in page  # the named viewers
    assert re.search(r"on the (\d+) completed respondents", page).group(1) == str(
        choice_data(fielding)["respondent"].nunique()
    )
    payload = json.loads(
        re.search(r'id="simulator-data" type="application/json">(.*?)</script>', page, re.S)[1]
    )
    # the page's data is the library's simulator on the same fit: point rows and draws
    study = fielding.study
    data = ChoiceData.from_frame(choice_data(fielding), study)
    results = MultinomialLogit().fit(data, study=study)
    sim = simulator_for(results, "sop", n_draws=200, seed=0)
    market = parse_market(MARKET, study).market(results.coding)
    shares = sim.shares(market).set_index("alternative")
    assert payload["draws"]["n"] == 200 and payload["draws"]["rows"] == 1
    assert set(shares.index) >= {"Ours", "Theirs"}
    price = next(a for a in payload["attributes"] if a["name"] == "price")
    colour = next(a for a in payload["attributes"] if a["name"] == "colour")
    none = next(f for f in payload["fixed"] if f["name"] == "none")
    v_ours = (
        price["utilities"][0][price["levels"].index(10.0)] / 2
        + price["utilities"][0][price["levels"].index(20.0)] / 2
        + colour["utilities"][0][colour["levels"].index("red")]
    )
    v_theirs = (
        price["utilities"][0][price["levels"].index(20.0)]
        + colour["utilities"][0][colour["levels"].index("blue")]
    )
    expo = np.exp([v_ours, v_theirs, none["utilities"][0]])
    assert expo[0] / expo.sum() == pytest.approx(shares.loc["Ours", "share"], abs=1e-6)
    # the viewer it is shared with opens it; an unshared viewer does not learn it exists
    viewer = client(fielding)
    _login(viewer, "viewer@a.ch")
    status, page = _simulator_state(viewer)
    assert status == 200 and "simulator-data" in page and "Publish a simulator" not in page
    unshared = client(fielding)
    _login(unshared, "unshared@a.ch")
    assert _simulator_state(unshared)[0] == 404
    # a viewer cannot publish
    r = viewer.post(
        "/console/studies/tiny/simulator",
        data={"model": "mnl", "market_yaml": MARKET, "csrf": _csrf(viewer)},
    )
    assert r.status_code == 403


def _published(fielding, model: str, respondents: int = 30) -> tuple[str, dict]:
    """Complete ``respondents``, publish a ``model`` simulator; its page and payload."""
    import json

    for i in range(respondents):
        b = Browser(client(fielding), seed=i)
        b.enter(f"/s/tiny?pid=p{i}")
        b.finish({**QUALIFY, "band": {"answer": "old"}})
    analyst = client(fielding)
    _login(analyst, "owner@a.ch")
    r = analyst.post(
        "/console/studies/tiny/simulator",
        data={"model": model, "market_yaml": MARKET, "csrf": _csrf(analyst)},
    )
    assert r.status_code == 303
    page = analyst.get("/console/studies/tiny/simulator").text
    assert "simulator-status" not in page, page  # neither fitting nor failed
    found = re.search(r'id="simulator-data" type="application/json">(.*?)</script>', page, re.S)
    return page, json.loads(found[1])


def test_an_hb_simulator_carries_every_respondent_in_every_uncertainty_draw(
    tmp_path, monkeypatch
) -> None:
    # What is checked is the page's draws (every respondent in each of the 200), not how
    # well the sampler converged: short chains (200 + 200 draws instead of 2,000 + up to
    # 2,000) give the same page data shape for a tenth of the sampling.
    import offerlab.field._simulator as simulator
    from offerlab.models import DecisionFit

    monkeypatch.setattr(simulator, "WEB_FIT", DecisionFit(burn_in=200, iterations=200, n_jobs=1))
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'hb.db'}")
    page, payload = _published(fielding, "hb")
    assert "Hierarchical Bayes model (individual) on the 30 completed" in page
    draws = payload["draws"]
    assert (draws["n"], draws["rows"]) == (200, 30)  # 6,000 rows: no subsample needed
    assert abs(sum(draws["weights"]) - 1) < 1e-12 and abs(sum(payload["weights"]) - 1) < 1e-12
    assert all(len(a["draw_utilities"]) == 200 * 30 for a in payload["attributes"])
    assert "Intervals: 95% of 200 draws" in draws["note"]


def test_a_latent_class_fit_the_answers_cannot_identify_publishes_without_intervals(
    tmp_path,
) -> None:
    # One task per respondent cannot identify two classes: the covariance is not finite.
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'lc.db'}")
    page, payload = _published(fielding, "lc")
    assert payload["draws"] is None
    assert "no finite covariance" in page and "shares come without intervals" in page
    assert len(payload["weights"]) == 2  # the two classes, by their shares


def _buttons(c, study: str = "tiny") -> list[str]:
    page = c.get(f"/console/studies/{study}").text
    return re.findall(r'<button type="submit">([^<]+?)(?: …)?</button>', page)[1:]  # not log out


def test_a_closed_study_is_launched_again_only_by_an_owners_confirmed_reopen(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'cycle.db'}")
    analyst, owner = client(fielding), client(fielding)
    _login(analyst, "analyst@a.ch")
    _login(owner, "owner@a.ch")
    a_csrf, o_csrf = _csrf(analyst), _csrf(owner)
    status = "/console/studies/tiny/status"
    assert _buttons(analyst)[:2] == ["Pause", "Close"]  # live: only the moves from here
    # close asks first; the confirmation page is a form that works without JavaScript
    asked = analyst.post(status, data={"action": "close", "csrf": a_csrf})
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.text
    assert fielding.status() == "live"
    confirm = dict(re.findall(r'name="(\w+)" value="([^"]*)"', asked.text.split("<main>")[1]))
    assert analyst.post(status, data=confirm).status_code == 303
    assert fielding.status() == "closed"
    for move in ("launch", "resume", "test"):  # no way back but reopen
        r = analyst.post(status, data={"action": move, "confirm": "yes", "csrf": a_csrf})
        assert r.status_code == 409 and fielding.status() == "closed"
    assert "Launch" not in _buttons(analyst) and "Reopen (live)" not in _buttons(analyst)
    r = analyst.post(
        status, data={"action": "reopen", "to": "live", "confirm": "yes", "csrf": a_csrf}
    )
    assert r.status_code == 403 and fielding.status() == "closed"
    assert _buttons(owner)[:2] == ["Reopen (live)", "Reopen (paused)"]
    r = owner.post(status, data={"action": "reopen", "to": "live", "csrf": o_csrf})
    assert r.status_code == 200 and fielding.status() == "closed"  # asked first
    r = owner.post(
        status, data={"action": "reopen", "to": "live", "confirm": "yes", "csrf": o_csrf}
    )
    assert r.status_code == 303 and fielding.status() == "live"
    # pausing with "people inside wait": the setting is stored with the move
    r = owner.post(status, data={"action": "pause", "inside": "stop", "csrf": o_csrf})
    assert r.status_code == 303 and fielding.state().finish_when_paused is False
    assert "wait until it resumes" in owner.get("/console/studies/tiny").text
    with Session(fielding.engine) as s:
        moves = s.execute(
            select(AuditEvent.actor, AuditEvent.detail)
            .where(AuditEvent.action == "study.status")
            .order_by(AuditEvent.id)
        ).all()
    assert [(a, d["from"], d["to"]) for a, d in moves] == [
        ("analyst@a.ch", "live", "closed"),
        ("owner@a.ch", "closed", "live"),
        ("owner@a.ch", "live", "paused"),
    ]
    assert moves[-1][1]["finish_when_paused"] is False


def test_simulated_test_respondents_never_count_toward_quota_cells(tmp_path) -> None:
    from offerlab.field._app import create_app
    from offerlab.field._bot import simulate_respondents
    from offerlab.field._dashboard import live_figures

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'quota.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    assert c.post("/console/studies/tiny/simulate", data={"n": "10", "csrf": _csrf(c)}).is_redirect
    simulate_respondents(create_app(fielding), fielding, 20, seed=3)
    with Session(fielding.engine) as s:
        counts = dict(s.execute(select(QuotaCell.option, QuotaCell.count)).all())
    with Session(fielding.engine) as s:  # test respondents completed in the cells...
        completes = s.execute(select(Respondent.flags).where(Respondent.status == "complete"))
        assert sum(bool(flags.get("test")) for flags in completes.scalars()) >= 5
    assert counts == {"young": 0, "old": 0}  # ...and none of them counted
    figures = live_figures(fielding)
    assert figures.tests == 30 and figures.complete == 0 and figures.started == 0
    tested = {q.option: q.tests for q in figures.quotas}
    assert tested["young"] + tested["old"] >= 5  # shown apart
    page = c.get("/console/studies/tiny").text
    assert "Tests (not counted)" in page
    # a real complete still counts, in its cell only
    browser = Browser(client(fielding))
    browser.enter("/s/tiny?pid=real")
    browser.finish({**QUALIFY, "band": {"answer": "old"}})
    with Session(fielding.engine) as s:
        counts = dict(s.execute(select(QuotaCell.option, QuotaCell.count)).all())
    assert counts == {"young": 0, "old": 1}


@pytest.mark.parametrize("page_name", ["simulator", "report"])
def test_the_market_pages_speak_the_members_chosen_language_throughout(tmp_path, page_name) -> None:
    """A member who chose French, on a browser asking for German without the switch's
    cookie: the simulator and report pages are French, the market form's model names too
    (they took the browser's language while the rest of the page took the member's)."""
    from offerlab.field._console_texts import ConsoleTexts
    from offerlab.field._simulator import model_label

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    with Session(fielding.engine) as s, s.begin():
        owner = s.execute(select(User.id).where(User.email == "owner@a.ch")).scalar_one()
        _auth.set_language(s, owner, "fr")
    c = client(fielding)
    c.headers["Accept-Language"] = "de"
    _login(c, "owner@a.ch")
    page = c.get(f"/console/studies/tiny/{page_name}").text
    assert '<html lang="fr">' in page
    french, german = (model_label(ConsoleTexts(lang), "hb") for lang in ("fr", "de"))
    assert french != german
    assert f">{french}</option>" in page and german not in page


def test_a_scripts_json_on_a_study_answers_401_without_a_session(tmp_path) -> None:
    """The saved scenarios (read by the simulator's script) and the dashboard's figures: a
    JSON 401 without a session (the scenarios answered 403), the usual refusals otherwise."""
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'c.db'}")
    urls = ("/console/studies/tiny/scenarios", "/console/studies/tiny/dashboard.json")
    for url in urls:
        r = client(fielding).get(url)
        assert r.status_code == 401 and r.json() == {"error": "log in first"}, url
    stranger = client(fielding)
    _login(stranger, "owner@b.ch")
    assert [stranger.get(url).status_code for url in urls] == [404, 404]
    viewer = client(fielding)
    _login(viewer, "viewer@a.ch")  # reads the study, does not run it
    assert [viewer.get(url).status_code for url in urls] == [200, 403]
    assert viewer.get(urls[0]).json() == {"scenarios": []}
