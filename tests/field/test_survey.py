"""The whole survey through the web app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from _respondent import QUALIFY, TINY, Browser, client, open_fielding, post, tiny
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from offerlab.field._bot import fill_form, read_form
from offerlab.store import QuotaCell, Respondent, Submission


def _submissions(fielding, token: str) -> dict[str, dict]:
    with Session(fielding.engine) as s:
        rid = s.execute(select(Respondent.id).where(Respondent.token == token)).scalar_one()
        rows = s.execute(
            select(Submission.page, Submission.answer).where(Submission.respondent_id == rid)
        )
        return dict(rows.all())


def _respondent(fielding, token: str) -> Respondent:
    with Session(fielding.engine) as s:
        return s.execute(select(Respondent).where(Respondent.token == token)).scalar_one()


def test_a_respondent_completes_the_example_and_is_sent_back_to_the_panel(
    database_url, study, study_text, design
) -> None:
    fielding = open_fielding(database_url, study, study_text, design)
    browser = Browser(client(fielding), seed=1)
    browser.enter("/s/car_subscription?psid=P%2077&src=mail&lang=fr&junk=x")
    end = browser.finish(QUALIFY)
    assert urlparse(end).netloc == "panel.example.com"
    assert parse_qs(urlparse(end).query) == {"psid": ["P 77"], "status": ["complete"]}
    token = browser.url.rsplit("/", 1)[1]
    respondent = _respondent(fielding, token)
    assert respondent.status == "complete"
    assert respondent.language == "fr"
    assert respondent.panel == {"psid": "P 77", "src": "mail"}  # undeclared 'junk' is dropped
    stored = _submissions(fielding, token)
    # every page answered is stored once, nothing else
    assert sorted(stored) == sorted(browser.pages)
    tasks = [k for k in stored if k.startswith("tasks.")]
    assert len(tasks) == fielding.survey.n_tasks == 14
    assert all(stored[k]["choice"] in (1, 2, 3) and stored[k]["would_buy"] in (0, 1) for k in tasks)
    vw = stored["price_sensitivity"]
    assert vw["too_cheap"] <= vw["cheap"] <= vw["expensive"] <= vw["too_expensive"]
    assert set(stored["price_sensitivity.nms"]) >= {"at_cheap", "at_expensive"}
    with Session(fielding.engine) as s:
        counts = dict(s.execute(select(QuotaCell.option, QuotaCell.count)).all())
    assert counts == {"age_18_34": 0, "age_35_54": 1, "age_55_plus": 0}


def test_screeners_and_consent_screen_out_with_the_panel_parameters(database_url) -> None:
    fielding = tiny(database_url)
    c = client(fielding)
    for answers in ({"consent": {"answer": "decline"}}, {"band": {"answer": "child"}}):
        browser = Browser(c)
        c.cookies.clear()
        browser.enter("/s/tiny?pid=42")
        end = browser.finish({**QUALIFY, **answers})
        assert end == "https://panel.test/done?pid=42&s=screenout"


def test_display_logic_skips_pages_whose_condition_fails(
    database_url, study, study_text, design
) -> None:
    fielding = open_fielding(database_url, study, study_text, design)
    answers = {**QUALIFY, "car_now": {"answer": "own"}, "obstacles": {"answer": ["nothing"]}}
    browser = Browser(client(fielding), seed=2)
    browser.enter("/s/car_subscription")
    browser.finish(answers)
    assert "lease_end" not in browser.pages and "obstacles_more" not in browser.pages
    leasing = {
        **QUALIFY,
        "car_now": {"answer": "lease"},
        "obstacles": {"answer": ["price", "other"]},
    }
    browser = Browser(client(fielding), seed=3)
    browser.enter("/s/car_subscription")
    browser.finish(leasing)
    assert "lease_end" in browser.pages and "obstacles_more" in browser.pages
    token = browser.url.rsplit("/", 1)[1]
    assert _submissions(fielding, token)["obstacles"] == {
        "choices": ["price", "other"],
        "open": {"other": "simulated answer"},
    }


def test_double_submit_and_back_button_never_duplicate_or_change_an_answer(database_url) -> None:
    fielding = tiny(database_url)
    c = client(fielding)
    browser = Browser(c)
    browser.enter("/s/tiny")
    browser.answer(QUALIFY)  # consent
    page = browser.current()
    assert page.key == "band"
    fields = fill_form(page, browser.rng, {"band": {"answer": "young"}})
    first = post(c, browser.url, fields)
    second = post(c, browser.url, fields)  # a double tap
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == browser.url
    # the back button: the old form again, with another answer
    changed = [(k, "old" if k == "answer" else v) for k, v in fields]
    assert post(c, browser.url, changed).status_code == 303
    token = browser.url.rsplit("/", 1)[1]
    stored = _submissions(fielding, token)
    assert stored["band"] == {"choice": "young"}
    with Session(fielding.engine) as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 2
    assert browser.current().key == "task.1"
    # a form for a page not yet shown is refused and not stored
    ahead = post(c, browser.url, [("page", "how_many"), ("nonce", page.nonce), ("number", "3")])
    assert ahead.status_code == 409
    # a forged nonce for the current page too
    current = browser.current()
    forged = post(c, browser.url, [("page", current.key), ("nonce", "x" * 43), ("choice", "1")])
    assert forged.status_code == 409
    assert set(_submissions(fielding, token)) == {"consent", "band"}


def test_resume_after_closing_the_page_continues_at_the_same_question(database_url) -> None:
    fielding = tiny(database_url)
    phone = client(fielding)
    browser = Browser(phone)
    browser.enter("/s/tiny?pid=7")
    browser.answer(QUALIFY)
    browser.answer(QUALIFY)
    where = browser.current().key
    # the same phone opens the anonymous link again: the cookie leads back
    again = phone.get("/s/tiny?pid=7")
    assert again.headers["location"] == browser.url
    # another browser with the personal link (token) also continues there
    other = client(fielding)
    page = read_form(other.get(browser.url).text)
    assert page.key == where
    # and a new respondent is made for a browser without the cookie
    fresh = client(fielding).get("/s/tiny")
    assert fresh.headers["location"] != browser.url


def test_personal_invitations(database_url) -> None:
    fielding = tiny(database_url)
    (token,) = fielding.invite(1, panel={"pid": "inv-1"})
    assert len(token) >= 43  # 256 bits, base64
    c = client(fielding)
    first = c.get(f"/i/{token}")
    c.cookies.clear()
    second = client(fielding).get(f"/i/{token}")
    assert first.headers["location"] == second.headers["location"]
    assert client(fielding).get("/i/" + "A" * 43).status_code == 404
    browser = Browser(c)
    browser.url = first.headers["location"]
    assert browser.finish(QUALIFY) == "https://panel.test/done?pid=inv-1&s=complete"


def test_wrong_answers_are_refused_with_the_reason_and_not_stored(
    database_url, study, study_text, design
) -> None:
    fielding = open_fielding(database_url, study, study_text, design)
    browser = Browser(client(fielding))
    browser.enter("/s/car_subscription?lang=en")
    page = browser.current()
    r = post(browser.c, browser.url, [("page", page.key), ("nonce", page.nonce)])
    assert r.status_code == 422 and "Please choose an answer." in r.text
    r = post(
        browser.c, browser.url, [("page", page.key), ("nonce", page.nonce), ("answer", "maybe")]
    )
    assert r.status_code == 422
    token = browser.url.rsplit("/", 1)[1]
    assert _submissions(fielding, token) == {}
    # German errors for a German respondent, with the answers kept in the form
    browser.c.get(browser.url + "?lang=de")
    r = post(browser.c, browser.url, [("page", page.key), ("nonce", page.nonce)])
    assert "Bitte wählen Sie eine Antwort." in r.text


def test_quota_full_at_the_screener_ends_as_over_quota(database_url) -> None:
    text = TINY.read_text(encoding="utf-8").replace("young: 5", "young: 1")
    fielding = tiny(database_url, text)
    c = client(fielding)
    first = Browser(c)
    first.enter("/s/tiny?pid=a")
    assert first.finish(QUALIFY).endswith("pid=a&s=complete")
    c.cookies.clear()
    second = Browser(c)
    second.enter("/s/tiny?pid=b")
    second.answer(QUALIFY)
    r = second.answer(QUALIFY)  # the full band
    assert r.headers["location"] == "https://panel.test/done?pid=b&s=overquota"
    assert second.pages == ["consent", "band"]


def test_versions_are_balanced_and_pages_render_in_every_language(database_url) -> None:
    fielding = tiny(database_url)
    c = client(fielding)
    for _ in range(7):
        c.cookies.clear()
        c.get("/s/tiny")
    with Session(fielding.engine) as s:
        versions = s.execute(select(Respondent.version)).scalars().all()
    counts = [versions.count(v) for v in (1, 2, 3)]
    assert max(counts) - min(counts) <= 1
    browser = Browser(c)
    browser.enter("/s/tiny?lang=de")
    html = c.get(browser.url).text
    assert '<html lang="de">' in html and "Mitmachen?" in html
    assert re.search(r'href="\?lang=en"', html)
    html = c.get(browser.url + "?lang=en").text
    assert '<html lang="en">' in html and "Take part?" in html
