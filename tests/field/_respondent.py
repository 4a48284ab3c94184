"""A respondent driving the app through Starlette's TestClient, as a browser would."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
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
    """One respondent: enters by a link, reads each page's form, answers it."""

    def __init__(self, c: TestClient, seed: int = 0) -> None:
        self.c = c
        self.rng = np.random.default_rng(seed)
        self.url = ""
        self.pages: list[str] = []

    def enter(self, link: str) -> None:
        r = self.c.get(link)
        assert r.status_code == 303, r.text
        location = r.headers["location"]
        if "?" in location:  # ?lang=…: the first visit sets the language
            self.c.get(location)
        self.url = location.split("?")[0]

    def current(self) -> FormPage | None:
        r = self.c.get(self.url)
        if r.status_code == 303:
            return None
        assert r.status_code == 200, r.text
        return read_form(r.text)

    def answer(self, answers: Mapping[str, Mapping[str, object]] | None = None):
        page = self.current()
        assert page is not None
        fields = fill_form(page, self.rng, answers)  # type: ignore[arg-type]
        r = post(self.c, self.url, fields)
        assert r.status_code == 303, (page.key, r.status_code, r.text[-2000:])
        self.pages.append(page.key)
        return r

    def finish(self, answers: Mapping[str, Mapping[str, object]] | None = None) -> str:
        """Answer until the end; the address the survey sends the respondent to."""
        for _ in range(200):
            r = self.answer(answers)
            if not r.headers["location"].startswith("/r/"):
                return str(r.headers["location"])
        raise AssertionError("the survey did not end")
