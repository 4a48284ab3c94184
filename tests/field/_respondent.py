"""A respondent driving the app through Starlette's TestClient, as a browser would."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from _databases import fresh_sqlite
from starlette.testclient import TestClient

from offerlab.design import Design
from offerlab.field import Fielding, create_app
from offerlab.field._bot import FormPage, fill_form, read_form
from offerlab.store import make_engine
from offerlab.study import Study, parse_study

TINY = Path(__file__).parent / "tiny_study.yaml"

#: Answers that qualify for the example study and pass its attention check.
QUALIFY = {
    "consent": {"answer": "agree"},
    "age_band": {"answer": "age_35_54"},
    "licence": {"answer": "yes"},
    "attention": {"answer": "somewhat"},
    "band": {"answer": "young"},
}


def open_fielding(
    url: str, study: Study, text: str, design: Design | None = None, **engine: object
) -> Fielding:
    """The study fielded on ``url``; an SQLite file not made yet starts as a copy of a
    migrated one (tests/_databases.py), which ``Fielding.open`` finds at the newest version."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        fresh_sqlite(Path(url.removeprefix("sqlite:///")))
    return Fielding.open(make_engine(url, **engine), study, text, design)


def tiny(url: str, text: str | None = None) -> Fielding:
    text = text or TINY.read_text(encoding="utf-8")
    study = parse_study(text, "tiny_study.yaml")
    from offerlab.design import make_design

    return open_fielding(url, study, text, make_design(study))


def client(fielding: Fielding) -> TestClient:
    return TestClient(create_app(fielding), follow_redirects=False)


def post(c: TestClient, url: str, fields: list[tuple[str, str]]):
    return c.post(
        url,
        content=urlencode(fields).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


class Browser:
    """One respondent: enters by a link, reads each page's form, answers it.

    The link's entry form is the first page (answering it makes the respondent);
    after that, ``url`` is the respondent's ``/r/{token}``.
    """

    def __init__(self, c: TestClient, seed: int = 0) -> None:
        self.c = c
        self.rng = np.random.default_rng(seed)
        self.url = ""
        self.entry: FormPage | None = None
        self.entry_html = ""
        self.pages: list[str] = []

    def enter(self, link: str) -> None:
        r = self.c.get(link)
        if r.status_code == 303:  # a respondent already started (cookie, used invitation)
            location = r.headers["location"]
            if "?" in location:  # ?lang=…: the visit sets the language
                self.c.get(location)
            self.url = location.split("?")[0]
            self.entry = None
            return
        assert r.status_code == 200, r.text
        self.entry_html = r.text
        self.entry = read_form(r.text)
        assert self.entry is not None and self.entry.action.startswith(("/s/", "/i/"))
        self.url = self.entry.action

    @property
    def token(self) -> str:
        assert self.url.startswith("/r/"), "not started yet"
        return self.url.rsplit("/", 1)[1]

    def html(self) -> str:
        """The current page as the browser shows it."""
        return self.entry_html if self.entry is not None else self.c.get(self.url).text

    def current(self) -> FormPage | None:
        if self.entry is not None:
            return self.entry
        r = self.c.get(self.url)
        if r.status_code == 303:
            return None
        assert r.status_code == 200, r.text
        return read_form(r.text)

    def answer(
        self,
        answers: Mapping[str, Mapping[str, object]] | None = None,
        page: FormPage | None = None,
    ):
        """Fill and post the current page (``page`` when the caller has just read it:
        no second GET of the same page)."""
        page = page if page is not None else self.current()
        assert page is not None
        fields = fill_form(page, self.rng, answers)  # type: ignore[arg-type]
        r = post(self.c, self.url, fields)
        assert r.status_code == 303, (page.key, r.status_code, r.text[-2000:])
        self.pages.append(page.key)
        if self.entry is not None:
            self.entry = None
            if r.headers["location"].startswith("/r/"):
                self.url = r.headers["location"]
        return r

    def finish(self, answers: Mapping[str, Mapping[str, object]] | None = None) -> str:
        """Answer until the end; the address the survey sends the respondent to."""
        for _ in range(200):
            r = self.answer(answers)
            if not r.headers["location"].startswith("/r/"):
                return str(r.headers["location"])
        raise AssertionError("the survey did not end")


def start(c: TestClient, link: str, answers: Mapping | None = None) -> str:
    """Enter by ``link`` and answer its entry page (QUALIFY by default): ``/r/{token}``."""
    browser = Browser(c)
    browser.enter(link)
    if browser.entry is not None:
        browser.answer(QUALIFY if answers is None else answers)
    return browser.url
