"""A simulated respondent that reads the survey's HTML and answers it like a browser.

Used by the tests, the load script in ``bench/`` and the team's test runs: it
goes through the real web flow (the same forms a phone submits), so it finds
what a person would find. It reads a page's form (hidden page key and nonce,
radio buttons, check boxes, number and text fields) and fills it in: at random,
or with the answers given per page key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import numpy as np

__all__ = ["FormPage", "answer_survey", "fill_form", "read_form", "simulate_respondents"]


@dataclass
class FormPage:
    """The form of one survey page as a browser sees it."""

    action: str = ""
    key: str = ""
    nonce: str = ""
    radios: dict[str, list[str]] = field(default_factory=dict)
    checkboxes: dict[str, list[str]] = field(default_factory=dict)
    numbers: list[tuple[str, int, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    hidden: list[tuple[str, str]] = field(default_factory=list)  # other hidden fields, as sent


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = FormPage()
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        page = self.page
        if tag == "form":
            self.found = True
            page.action = a.get("action", "")
        elif tag == "input":
            kind, name, value = a.get("type", "text"), a.get("name", ""), a.get("value", "")
            if kind == "hidden" and name == "page":
                page.key = value
            elif kind == "hidden" and name == "nonce":
                page.nonce = value
            elif kind == "hidden":  # an entry form's language, panel parameters, key
                page.hidden.append((name, value))
            elif kind == "radio":
                page.radios.setdefault(name, []).append(value)
            elif kind == "checkbox":
                page.checkboxes.setdefault(name, []).append(value)
            elif kind == "number":
                page.numbers.append((name, int(a.get("min", "0")), int(a.get("max", "100"))))
            elif kind == "text":
                page.texts.append(name)
        elif tag == "textarea":
            page.texts.append(a.get("name", ""))


def read_form(html: str) -> FormPage | None:
    """The survey form of a page, or None when the page has none (an end page)."""
    parser = _FormParser()
    parser.feed(html)
    return parser.page if parser.found and parser.page.key else None


def answer_survey(
    client: Any, link: str, rng: np.random.Generator, max_pages: int = 500
) -> str | None:
    """Answer the survey behind ``link`` at random, as a browser would; the last address.

    The link's entry form is answered first (that POST makes the respondent), then each
    page of ``/r/{token}`` until the survey ends. ``client`` is an HTTP client that
    does not follow redirects (Starlette's TestClient, httpx).
    """
    response = client.get(link)
    if response.status_code == 303:  # this browser started already
        url = response.headers["location"].split("?")[0]
        response = client.get(url)
    else:
        url = link
    for _ in range(max_pages):
        page = read_form(response.text) if response.status_code == 200 else None
        if page is None:
            return url
        sent = client.post(page.action or url, data=_pairs(fill_form(page, rng)))
        location = sent.headers.get("location", "")
        if sent.status_code != 303 or not location.startswith("/r/"):
            return location or url
        url = location
        response = client.get(url)
    return url


def _pairs(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in fields:
        out.setdefault(k, []).append(v)
    return out


def fill_form(
    page: FormPage,
    rng: np.random.Generator,
    answers: Mapping[str, Mapping[str, str | list[str]]] | None = None,
) -> list[tuple[str, str]]:
    """Form fields answering ``page``: ``answers[page key]`` where given, else at random.

    Numbers on one page are drawn rising (as Van Westendorp's questions need).
    Open texts are filled for the options chosen.
    """
    given = dict((answers or {}).get(page.key, {}))
    fields: list[tuple[str, str]] = [("page", page.key), ("nonce", page.nonce), *page.hidden]
    chosen: list[str] = []
    for name, values in page.radios.items():
        value = given.get(name)
        if name == "worst" and "best" in page.radios and len(values) > 1:
            # a MaxDiff screen: the least important is another item than the most
            values = [v for v in values if v != dict(fields).get("best")]
        value = value if isinstance(value, str) else values[int(rng.integers(len(values)))]
        fields.append((name, value))
        chosen.append(value)
    for name, values in page.checkboxes.items():
        picked = given.get(name)
        if picked is None:
            picked = [values[int(rng.integers(len(values) - 1))]] if len(values) > 1 else values
        picked = [picked] if isinstance(picked, str) else list(picked)
        fields += [(name, v) for v in picked]
        chosen += picked
    if page.numbers:
        low = max(n[1] for n in page.numbers)
        high = min(n[2] for n in page.numbers)
        draws = np.sort(rng.integers(low, max(low + 1, min(high, low + 2000)), len(page.numbers)))
        for (name, _, _), value in zip(page.numbers, draws, strict=True):
            text = given.get(name)
            fields.append((name, text if isinstance(text, str) else str(int(value))))
    for name in page.texts:
        if name.startswith("open_") and name[5:] not in chosen:
            continue
        text = given.get(name)
        fields.append((name, text if isinstance(text, str) else "simulated answer"))
    return fields


def simulate_respondents(app: Any, fielding: Any, n: int, seed: int | None = None) -> None:
    """``n`` test respondents answer at random through the real web flow (in-process HTTP).

    ``app`` is the running application (the console passes its own), so the bot goes
    through the same routes, checks and storage as a person would.
    """
    from starlette.testclient import TestClient

    rng = np.random.default_rng(seed)
    with TestClient(app, follow_redirects=False) as client:
        link = f"/s/{fielding.study.name}?offerlab_test={fielding.test_key}"
        for _ in range(n):
            client.cookies.clear()
            answer_survey(client, link, rng)
