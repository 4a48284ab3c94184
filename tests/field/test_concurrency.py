"""Concurrent respondents against a real uvicorn server: quotas, double taps, versions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import httpx
import numpy as np
from _respondent import QUALIFY, TINY, start, tiny
from _server import running
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from offerlab.field import create_app
from offerlab.field._bot import fill_form, read_form
from offerlab.store import QuotaCell, Respondent, Submission

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _to_last_page(base: str, i: int) -> tuple[httpx.Client, str, list[tuple[str, str]]]:
    """A respondent answers every page but the last; returns the last page's form."""
    c = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    url = start(c, f"/s/tiny?pid=r{i}")
    rng = np.random.default_rng(i)
    while True:
        page = read_form(c.get(url).text)
        fields = fill_form(page, rng, QUALIFY)
        if page.key == "how_many":
            return c, url, fields
        assert c.post(url, content=urlencode(fields), headers=FORM).status_code == 303


def test_a_quota_is_never_exceeded_when_respondents_finish_together(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)  # band 'young' has a target of 5
    n = 16
    with running(create_app(fielding)) as base:
        ready = [_to_last_page(base, i) for i in range(n)]
        barrier = threading.Barrier(n)

        def finish(item: tuple[httpx.Client, str, list[tuple[str, str]]]) -> str:
            c, url, fields = item
            barrier.wait()
            r = c.post(url, content=urlencode(fields), headers=FORM)
            assert r.status_code == 303
            return r.headers["location"]

        with ThreadPoolExecutor(n) as pool:
            ends = list(pool.map(finish, ready))
        for c, _, _ in ready:
            c.close()
    assert sum(e.endswith("s=complete") for e in ends) == 5
    assert sum(e.endswith("s=overquota") for e in ends) == n - 5
    with Session(fielding.engine) as s:
        young = s.execute(select(QuotaCell.count).where(QuotaCell.option == "young")).scalar_one()
        statuses = s.execute(select(Respondent.status, func.count()).group_by(Respondent.status))
        assert young == 5
        assert dict(statuses.all()) == {"complete": 5, "overquota": n - 5}


def test_many_taps_on_one_page_store_it_once(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    with running(create_app(fielding)) as base:
        c, url, fields = _to_last_page(base, 0)
        barrier = threading.Barrier(8)

        def tap(_: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as own:
                barrier.wait()
                return own.post(url, content=urlencode(fields), headers=FORM).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(tap, range(8)))
        c.close()
    assert codes == [303] * 8
    with Session(fielding.engine) as s:
        pages = s.execute(select(Submission.page, func.count()).group_by(Submission.page)).all()
    assert all(count == 1 for _, count in pages)
    assert {p for p, _ in pages} == {"consent", "band", "task.1", "how_many"}


def test_many_taps_on_the_entry_form_make_one_respondent(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    with running(create_app(fielding)) as base:
        with httpx.Client(base_url=base, timeout=60) as c:
            page = read_form(c.get("/s/tiny?pid=tap").text)
        fields = fill_form(page, np.random.default_rng(0), QUALIFY)
        barrier = threading.Barrier(8)

        def tap(_: int) -> tuple[int, str]:
            with httpx.Client(base_url=base, timeout=60) as own:  # one browser, no cookie yet
                barrier.wait()
                r = own.post("/s/tiny", content=urlencode(fields), headers=FORM)
                return r.status_code, r.headers.get("location", "")

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(tap, range(8)))
    assert {code for code, _ in answers} == {303}
    assert len({location for _, location in answers}) == 1  # all to the same respondent
    with Session(fielding.engine) as s:
        assert s.scalar(select(func.count()).select_from(Respondent)) == 1
        assert s.scalar(select(func.count()).select_from(Submission)) == 1


def test_versions_stay_balanced_under_concurrent_entries(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    with running(create_app(fielding)) as base:

        def enter(i: int) -> str:
            with httpx.Client(base_url=base, timeout=60) as c:
                return start(c, f"/s/tiny?pid=e{i}")

        with ThreadPoolExecutor(12) as pool:
            urls = list(pool.map(enter, range(30)))
    assert len(set(urls)) == 30 and all(u.startswith("/r/") for u in urls)
    with Session(fielding.engine) as s:
        counts = dict(
            s.execute(select(Respondent.version, func.count()).group_by(Respondent.version)).all()
        )
    assert counts == {1: 10, 2: 10, 3: 10}
    assert TINY.exists()
