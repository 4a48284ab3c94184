"""Every route of the app, respondent and console, fuzzed: never a 5xx, never a traceback.

The routes come from the app itself, so a route added later is fuzzed without anyone
remembering to list it; the test fails if a route has no path values to try.
Requests carry generated path values, query strings, headers, cookies and bodies, as an
anonymous visitor and as a logged-in owner with the right CSRF token (so the handlers
behind the checks are reached too).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import Route
from starlette.testclient import TestClient
from test_console import _csrf, _login, _setup

from offerlab.field import create_app
from offerlab.store import Membership

TEXT = st.text(max_size=40) | st.sampled_from(["", ".", "..", "%00", "\x00", "é" * 200, "-1"])
INT_TEXT = st.sampled_from(["0", "1", "2", "-1", "999999999999999999999", "1e3", "x"])
FIELD_NAMES = st.sampled_from(
    [
        "csrf",
        "login_csrf",
        "email",
        "password",
        "current_password",
        "new_password",
        "role",
        "action",
        "confirm",
        "n",
        "study_yaml",
        "market_yaml",
        "model",
        "page",
        "nonce",
        "answer",
        "choice",
        "token",
        "panel_id",
        "days",
        "user",
    ]
) | st.text(max_size=12)
FIELD_VALUES = TEXT | st.sampled_from(
    ["CSRF", "launch", "pause", "close", "reopen", "test", "owner", "viewer", "mnl", "hb", "yes"]
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/json",
        "text/plain; charset=utf-16",
        "",
    ]
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "accept-language": st.sampled_from(["fr-CH,fr;q=0.9", "de", "*", "xx;q=abc", ""]),
        "cookie": st.sampled_from(
            ["", "offerlab_r=x", "offerlab_console=" + "a" * 80, "=;;=", "a=\x7f"]
        )
        | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        "x-forwarded-for": st.sampled_from(["1.2.3.4", "not-an-ip", "::1, 10.0.0.1"]),
        "user-agent": st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)),
        "referer": st.sampled_from(["https://evil.example/", "javascript:alert(1)"]),
    },
)


def _path_values(route: Route, known: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    params = {}
    for name, convertor in route.param_convertors.items():
        real = st.sampled_from(known[name]) if known.get(name) else st.nothing()
        fuzz = INT_TEXT if convertor.regex.startswith("[0-9]") else TEXT
        params[name] = real | fuzz
    return st.fixed_dictionaries(params)


def _url(route: Route, values: dict[str, str]) -> str:
    # An integer parameter only matches digits: a value that is not one tests the 404.
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: quote(values[m.group(1)], safe=""), route.path)


def _membership_ids(fielding) -> list[int]:
    with Session(fielding.engine) as session:
        return list(session.execute(select(Membership.id)).scalars())


def test_every_route_survives_fuzzed_requests(tmp_path) -> None:
    fielding, venture = _setup(f"sqlite:///{tmp_path / 'fuzz.db'}")
    app = create_app(fielding)
    routes = [r for r in app.routes if isinstance(r, Route)]
    anonymous = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    owner = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    assert _login(owner, "owner@a.ch").status_code == 303
    csrf = _csrf(owner)
    token = anonymous.get("/s/tiny").headers.get("location", "/r/x").split("?")[0].split("/")[-1]
    known = {
        "study": ["tiny"],
        "venture": [str(venture)],
        "token": [token],
        "invitation": [token],
        "what": [
            "answers.csv",
            "choices.csv",
            "choices.parquet",
            "respondents.csv",
            "invitations.csv",
        ],
        "rest": ["no/such/page"],
        "member": [str(i) for i in _membership_ids(fielding)],
        "scenario": ["1"],
        "version": ["1"],
        "language": ["de", "fr", "it", "en"],
        "file": ["report.html", "report.pdf", "report.xlsx"],
    }
    unknown = {p for r in routes for p in r.param_convertors if p not in known}
    assert not unknown, f"give the fuzzer real values for path parameters {unknown}"

    rest = st.tuples(
        st.lists(st.tuples(TEXT, TEXT), max_size=4),
        HEADERS,
        st.lists(st.tuples(FIELD_NAMES, FIELD_VALUES), max_size=6),
        st.sampled_from(["form+csrf", "form", "raw"]),
        st.binary(max_size=300),
        CONTENT_TYPES,
        st.booleans(),
    )
    seen: set[str] = set()
    reached = 0  # owner POSTs that passed the CSRF check, so fuzzed the handler itself

    def send(route: Route, values, method: str, request) -> None:
        query, headers, fields, kind, raw, content_type, as_owner = request
        nonlocal reached, csrf
        url = _url(route, values) + ("?" + urlencode(query) if query else "")
        body = None
        if method == "POST":
            form = [(k, csrf if v == "CSRF" else v) for k, v in fields]
            if kind == "form+csrf":
                form = [("csrf", csrf), *form]
                content_type = "application/x-www-form-urlencoded"
            body = raw if kind == "raw" else urlencode(form).encode()
            headers = {**headers, "content-type": content_type}
        c = owner if as_owner else anonymous
        r = c.request(method, url, content=body, headers=headers)
        seen.add(route.path)
        assert r.status_code < 500, (method, url, headers, body, r.status_code, r.text[:300])
        assert "Traceback" not in r.text, (method, url, r.text[:300])
        reached += as_owner and method == "POST" and r.status_code != 403
        if as_owner and _csrf(owner) == "":  # logged out by the fuzz: log in again
            assert _login(owner, "owner@a.ch").status_code == 303
            csrf = _csrf(owner)

    # Every route gets its own examples, so none is left to chance.
    for route in routes:

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            route=st.just(route),
            values=_path_values(route, known),
            method=st.sampled_from(sorted(route.methods or {"GET"})),
            request=rest,
        )
        def run(route: Route, values, method: str, request) -> None:
            send(route, values, method, request)

        run()
    assert seen == {r.path for r in routes}, {r.path for r in routes} - seen
    assert reached >= 20, f"only {reached} owner POSTs got past the CSRF check"
