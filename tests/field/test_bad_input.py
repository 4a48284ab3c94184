"""Fuzzing the respondent endpoints: never a 500, never a bad answer stored, always a clear 4xx."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import numpy as np
from _respondent import QUALIFY, client, start, tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from offerlab.field._bot import fill_form, read_form
from offerlab.store import Respondent, Submission

FORM = {"content-type": "application/x-www-form-urlencoded"}
OK = {303, 400, 404, 409, 413, 422}
NAMES = ["page", "nonce", "answer", "choice", "number", "would_buy", "item_x", "open_young", "zz"]
NAMES += ["entry", "seed", "lang", "panel_pid", "panel_zz", "offerlab_test"]  # entry forms
VALUES = st.one_of(
    st.sampled_from(
        [
            "CURRENT_PAGE",
            "CURRENT_NONCE",
            "agree",
            "decline",
            "young",
            "old",
            "child",
            "0",
            "1",
            "2",
            "3",
            "9",
            "10",
            "-1",
            "1e9",
            "99999999999999999999",
            "2147483648",
            "en",
            "xx",
            "A" * 43,
            "",
            " ",
            "task.1",
            "how_many",
            "consent",
            "band",
            "\x00",
            "１",
            "²",
        ]
    ),
    st.text(max_size=40),
    st.text(min_size=5_000, max_size=6_000, alphabet="ab"),
)
FORMS = st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=12), VALUES), max_size=8)
RAW = st.tuples(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/plain",
            "",
        ]
    ),
    st.binary(max_size=400),
)

# Every stored answer must be one the page allows.
VALID = {
    "consent": lambda a: a == {"consent": "agree"} or a == {"consent": "decline"},
    "band": lambda a: a in ({"choice": "young"}, {"choice": "old"}, {"choice": "child"}),
    "task.1": lambda a: (
        a["task"] == 1 and a["choice"] in (0, 1, 2) and set(a) == {"task", "choice"}
    ),
    "how_many": lambda a: set(a) == {"number"} and 0 <= a["number"] <= 9,
}


def _fill(fields: list[tuple[str, str]], key: str, nonce: str) -> list[tuple[str, str]]:
    swap = {"CURRENT_PAGE": key, "CURRENT_NONCE": nonce}
    return [(name, swap.get(value, value)) for name, value in fields]


def test_fuzzed_forms_never_break_the_app_nor_store_a_bad_answer(tmp_path) -> None:
    fielding = tiny(f"sqlite:///{tmp_path / 'fuzz.db'}")
    c = client(fielding)
    state: dict = {"url": ""}

    def fresh() -> None:
        c.cookies.clear()
        state["url"] = "/s/tiny"  # the entry form: its POST makes the respondent

    def current():
        r = c.get(state["url"])
        if r.status_code == 303 and r.headers["location"].startswith("/r/"):
            state["url"] = r.headers["location"]  # started: the respondent's pages
            r = c.get(state["url"])
        if r.status_code == 303:  # finished: start another respondent
            fresh()
            r = c.get(state["url"])
        assert r.status_code == 200, (r.status_code, r.text[:300])
        return read_form(r.text)

    fresh()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(fields=FORMS, raw=RAW, use_raw=st.booleans())
    def run(fields: list[tuple[str, str]], raw: tuple[str, bytes], use_raw: bool) -> None:
        page = current()
        state["n"] = state.get("n", 0) + 1
        if state["n"] % 3 == 0:  # move on with a right answer, so every page gets fuzzed
            right = fill_form(page, np.random.default_rng(state["n"]), QUALIFY)
            c.post(state["url"], content=urlencode(right).encode(), headers=FORM)
            page = current()
        if use_raw:
            kind, body = raw
            r = c.post(state["url"], content=body, headers={"content-type": kind})
        else:
            body = urlencode(_fill(fields, page.key, page.nonce)).encode()
            r = c.post(
                state["url"],
                content=body,
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        assert r.status_code in OK, (r.status_code, r.text[:500])

    run()
    with Session(fielding.engine) as s:
        stored = s.execute(select(Submission.page, Submission.answer)).all()
        assert s.execute(select(Respondent.id)).first() is not None
    assert {page for page, _ in stored} == set(VALID)  # every page was reached
    for page, answer in stored:
        assert VALID[page](answer), (page, answer)


def test_wrong_tokens_and_links_are_404(tmp_path) -> None:
    c = client(tiny(f"sqlite:///{tmp_path / 'tokens.db'}"))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(token=st.text(max_size=80), method=st.sampled_from(["GET", "POST"]))
    def run(token: str, method: str) -> None:
        for prefix in ("/r/", "/i/", "/s/"):
            if prefix == "/s/" and token == "tiny":
                continue
            r = c.request(
                method,
                prefix + quote(token, safe=""),
                content=b"page=x",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code in (307, 404, 405), (
                prefix,
                token,
                r.status_code,
            )  # 307: "/r/x/" → "/r/x"

    run()


def test_oversized_bodies_are_413(tmp_path) -> None:
    fielding = tiny(f"sqlite:///{tmp_path / 'big.db'}")
    c = client(fielding)
    for url in ("/s/tiny", start(c, "/s/tiny")):  # the entry form and a respondent's page
        r = c.post(
            url,
            content=b"a=" + b"x" * 70_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 413


def test_a_declared_length_that_is_not_a_number_is_400(tmp_path) -> None:
    """The server in front (h11) refuses such a header; the app must not rely on it."""
    import asyncio

    from offerlab.field import create_app

    app = create_app(tiny(f"sqlite:///{tmp_path / 'length.db'}"))
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"a=1", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    for length in ("²", "-1", "1e3", " 3"):
        sent.clear()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/s/tiny",
            "raw_path": b"/s/tiny",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", length.encode("latin-1")),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 400, (length, sent[0]["status"])


def test_fuzzed_console_requests_never_break_it(tmp_path) -> None:
    from test_console import _csrf, _login, _setup

    fielding, venture = _setup(f"sqlite:///{tmp_path / 'console_fuzz.db'}")
    owner = client(fielding)
    _login(owner, "owner@a.ch")
    csrf = _csrf(owner)
    paths = [
        "/console/studies/tiny/status",
        "/console/studies/tiny/share",
        "/console/studies/tiny/simulate",
        f"/console/ventures/{venture}/studies",
        f"/console/ventures/{venture}/members",
        "/console/login",
        "/console/logout",
        "/console/studies/nope/status",
        "/console/ventures/999/studies",
        "/console/account/password",
        f"/console/ventures/{venture}/members/3/remove",
        f"/console/ventures/{venture}/members/999/remove",
        "/console/studies/tiny/privacy/delete",
        "/console/studies/tiny/retention",
    ]
    names = [
        *("action", "email", "n", "study_yaml", "role", "password", "csrf", "login_csrf"),
        *("current_password", "new_password", "new_password_again", "by", "value", "confirm"),
        "days",
    ]
    values = st.one_of(
        st.sampled_from(
            [
                "launch",
                "pause",
                "panel_id",
                "invitation",
                "yes",
                "3650",
                "close",
                "test",
                "owner",
                "viewer",
                "x@a.ch",
                "0",
                "201",
                "-1",
                "1",
                "CSRF",
                "name: x",
                "{",
                "\x00",
                "é" * 300,
            ]
        ),
        st.text(max_size=60),
    )

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        path=st.sampled_from(paths),
        fields=st.lists(st.tuples(st.sampled_from(names), values), max_size=6),
        get_path=st.text(max_size=30),
    )
    def run(path: str, fields: list[tuple[str, str]], get_path: str) -> None:
        data = [(k, csrf if v == "CSRF" else v) for k, v in fields]
        r = owner.post(path, content=urlencode(data).encode(), headers=FORM)
        assert r.status_code < 500, (path, data, r.status_code, r.text[:300])
        r = owner.get("/console/studies/" + quote(get_path, safe=""))
        assert r.status_code < 500
        r = owner.get("/console/studies/tiny/" + quote(get_path, safe=""))
        assert r.status_code < 500
        r = owner.get("/console/studies/tiny/privacy/export?" + urlencode(data))
        assert r.status_code < 500
        r = owner.get(f"/console/ventures/{quote(get_path, safe='')}/audit")
        assert r.status_code < 500

    run()


def test_console_numbers_in_other_scripts_are_refused_not_a_crash(tmp_path) -> None:
    from test_console import _csrf, _login, _setup

    fielding, _ = _setup(f"sqlite:///{tmp_path / 'digits.db'}")
    owner = client(fielding)
    _login(owner, "owner@a.ch")
    csrf = _csrf(owner)
    for n in ("²", "١٢", "½"):  # str.isdigit() says yes to the first two; int() fails on "²"
        r = owner.post("/console/studies/tiny/simulate", data={"n": n, "csrf": csrf})
        assert r.status_code == 422, n
        r = owner.post("/console/studies/tiny/retention", data={"days": n, "csrf": csrf})
        assert r.status_code == 422, n
