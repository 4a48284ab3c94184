"""Every page of the console, filled with a fielded study, for the language and accessibility tests.

:func:`console_pages` finds the console's pages in the app's own route table (every GET
route under ``/console``), so a page added later is checked without touching the tests;
a route with a path parameter nobody gave a value for fails the test, naming it.
:data:`POSTED` adds the pages a form's answer shows (a confirmation, an error, the new
invitation link) and the 4xx pages.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import httpx
import numpy as np
from _accounts import one_hash_per_password
from _respondent import open_fielding
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import Route

from offerlab.field import _auth
from offerlab.field._bot import simulate_respondents
from offerlab.field._console_texts import CONSOLE_LANGUAGES, console_catalogue
from offerlab.store import StudyRow, StudyShare, User, Venture

PASSWORD = "correct horse battery staple"
STUDY = "car_subscription"
PEOPLE = {"owner": "owner@a.ch", "analyst": "analyst@a.ch", "viewer": "viewer@a.ch"}


@dataclass
class Console:
    """A console with a fielded study, its members and an open member invitation."""

    fielding: Any
    venture: int
    join_token: str
    expired_token: str


def populated_console(url: str, study: Any, text: str, design: Any) -> Console:
    """The example study live, with completes, people in progress, tests and an audit log."""
    from starlette.testclient import TestClient

    from offerlab.field import create_app

    fielding = open_fielding(url, study, text, design)
    with Session(fielding.engine) as s, s.begin(), one_hash_per_password():
        for role, email in PEOPLE.items():
            _auth.add_member(s, "Mobilität Schweiz", email, role, PASSWORD)
        venture = s.execute(select(Venture.id)).scalar_one()
        s.get_one(StudyRow, fielding.study_id).venture_id = venture
        viewer = s.execute(select(User.id).where(User.email == PEOPLE["viewer"])).scalar_one()
        s.add(StudyShare(study_id=fielding.study_id, user_id=viewer))
        owner = s.execute(select(User.id).where(User.email == PEOPLE["owner"])).scalar_one()
        join = _auth.invite_member(s, venture, "new.analyst@a.ch", "analyst", by=owner)
        expired = _auth.invite_member(s, venture, "late@a.ch", "viewer", by=owner, at=0.0)
    simulate_respondents(create_app(fielding), fielding, 2, seed=3)  # tests: counted apart
    rng = np.random.default_rng(7)
    with TestClient(create_app(fielding), follow_redirects=False) as c:
        for i, pages in enumerate([500] * 6 + [3, 5]):  # six qualify and finish, two stop
            c.cookies.clear()
            _answer(c, f"/s/{STUDY}?pid=p{i}", rng, pages)
    assert join is not None and expired is not None
    return Console(fielding, venture, join, expired)


def _answer(c: Any, link: str, rng: np.random.Generator, pages: int) -> None:
    """A respondent who qualifies answers ``pages`` pages (the rest at random)."""
    from _respondent import QUALIFY

    from offerlab.field._bot import _pairs, fill_form, read_form

    url, response = link, c.get(link)
    for _ in range(pages):
        page = read_form(response.text) if response.status_code == 200 else None
        if page is None:
            return
        sent = c.post(page.action or url, data=_pairs(fill_form(page, rng, QUALIFY)))
        url = sent.headers.get("location", "")
        if sent.status_code != 303 or not url.startswith("/r/"):
            return
        response = c.get(url)


def known_values(console: Console) -> dict[str, str]:
    """A real value for each path parameter of a console page."""
    return {
        "study": STUDY,
        "venture": str(console.venture),
        "token": console.join_token,
        "rest": "no/such/page",
    }


def console_pages(app: Any, console: Console) -> list[str]:
    """The path of every GET page of the console, from the app's route table."""
    values = known_values(console)
    paths = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.path.startswith("/console"):
            continue
        if "GET" not in (route.methods or ()):
            continue
        names = set(route.param_convertors)
        if names & {"what", "file"}:  # downloads and published files, not pages
            continue
        missing = names - set(values)
        assert not missing, f"give the console page tests a value for {missing} ({route.path})"
        paths.append(re.sub(r"{(\w+)(:\w+)?}", lambda m: values[m.group(1)], route.path))
    return paths


@dataclass(frozen=True)
class Posted:
    """A page a form's answer shows: who posts what where (``{csrf}`` is filled in)."""

    name: str
    who: str | None
    path: str
    form: dict[str, str]


_MEMBERS = "/console/ventures/{venture}/invitations"
_PASSWORDS = {"new_password": "long enough passphrase one", "new_password_again": "another"}
POSTED = [
    Posted("confirm", "owner", f"/console/studies/{STUDY}/status", {"action": "close"}),
    Posted("invite_link", "owner", _MEMBERS, {"email": "x@a.ch", "role": "viewer"}),
    Posted("invite_error", "owner", _MEMBERS, {"email": "nope", "role": "viewer"}),
    Posted(
        "password_error",
        "owner",
        "/console/account/password",
        {"current_password": "wrong one, surely", **_PASSWORDS},
    ),
    Posted("retention_saved", "owner", f"/console/studies/{STUDY}/retention", {"days": "365"}),
    Posted(
        "privacy_error",
        "owner",
        f"/console/studies/{STUDY}/privacy/delete",
        {"by": "panel_id", "value": "nobody"},
    ),
    Posted("refused_move", "viewer", f"/console/studies/{STUDY}/status", {"action": "close"}),
    Posted("login_wrong", None, "/console/login", {"email": "owner@a.ch", "password": "nope"}),
    Posted("join_mismatch", None, "/console/join/{token}", _PASSWORDS),
]
GOT = [  # 4xx pages and pages seen by others than the owner
    ("study_as_viewer", "viewer", f"/console/studies/{STUDY}"),
    ("no_study", "owner", "/console/studies/nope"),
    ("members_as_analyst", "analyst", "/console/ventures/{venture}/members"),
    ("join_expired", None, "/console/join/{expired}"),
    ("join_unknown", None, "/console/join/not-a-token"),
]


def logged_in(base: str, who: str | None, language: str) -> httpx.Client:
    """An HTTP client with the browser language ``language``, logged in as ``who``."""
    c = httpx.Client(base_url=base, timeout=60, headers={"Accept-Language": f"{language};q=0.9"})
    page = c.get("/console/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    if who is not None:
        sent = c.post(
            "/console/login",
            data={"login_csrf": token, "email": PEOPLE[who], "password": PASSWORD},
        )
        assert sent.status_code == 303, sent.text[:300]
    return c


def rendered(
    base: str, app: Any, console: Console, language: str
) -> Iterator[tuple[str, str, str]]:
    """(name, URL, HTML) of every console page in ``language``."""
    fill = {**known_values(console), "expired": console.expired_token}
    clients = {who: logged_in(base, who, language) for who in (None, "owner", "viewer", "analyst")}
    try:
        owner = clients["owner"]
        for path in console_pages(app, console):
            with owner.stream("GET", path) as r:  # a live stream is not a page: not read
                if "text/html" not in r.headers.get("content-type", ""):
                    continue
                r.read()
                yield path, base + path, r.text
        for name, who, path in GOT:
            r = clients[who].get(path.format(**fill))
            assert r.status_code in (200, 403, 404, 410), (name, r.status_code)
            yield name, base + path.format(**fill), r.text
        for posted in POSTED:
            c = clients[posted.who]
            form = dict(posted.form)
            if posted.who is None:
                login = c.get(
                    "/console/login" if "join" not in posted.name else posted.path.format(**fill)
                )
                form["login_csrf"] = re.search(r'name="login_csrf" value="([^"]+)"', login.text)[1]
            else:
                form["csrf"] = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/").text)[1]
            r = c.post(posted.path.format(**fill), data=form)
            assert r.status_code < 500 and "text/html" in r.headers["content-type"], posted.name
            yield posted.name, base + posted.path.format(**fill), r.text
    finally:
        for c in clients.values():
            c.close()


# -- what a reader sees --------------------------------------------------------------------
class VisibleText(HTMLParser):
    """The text a person reads or hears: text nodes, labels of controls, alternative text.

    A textarea's content is the user's own text (a market file), not the console's words.
    """

    SPOKEN = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self.hidden += 1
        a = dict(attrs)
        self.parts += [a[k] or "" for k in self.SPOKEN if a.get(k)]
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The page's visible text; e-mail addresses (people's, not the console's words) out."""
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\S+@\S+", " ", " ".join(" ".join(parser.parts).split()))


def english_left(text: str, language: str) -> list[str]:
    """The English catalogue texts (or their longer pieces between placeholders) in ``text``.

    A piece that is also part of the language's own catalogue (a brand, ``CSV``, a word
    the languages share) cannot tell English apart and is not counted.
    """
    return [f"{key}: {piece!r}" for key, piece, pattern in _english_pieces(language)
            if pattern.search(text)]  # fmt: skip


@functools.cache
def _english_pieces(language: str) -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """The English pieces :func:`english_left` looks for in ``language``'s pages, with their
    patterns: which pieces the language's own catalogue holds does not depend on the page,
    so the catalogue is searched once per language, not once per page."""
    catalogue = console_catalogue()
    own = " \n ".join(texts[language] for texts in catalogue.values())
    pieces = []
    for key, texts in catalogue.items():
        if texts["en"] == texts[language]:
            continue
        for piece in re.split(r"\{[^}]*\}", texts["en"]):
            piece = piece.strip(" .,:;()!?–—·\n")
            if sum(ch.isalpha() for ch in piece) < 4:
                continue
            pattern = re.compile(r"(?<![\w-])" + re.escape(piece) + r"(?![\w-])")
            if not pattern.search(own):
                pieces.append((key, piece, pattern))
    return tuple(pieces)


assert set(CONSOLE_LANGUAGES) == {"de", "fr", "it", "en"}
