"""The whole survey through the web app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
from _respondent import QUALIFY, TINY, Browser, client, open_fielding, post, start, tiny
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from offerlab.field._bot import fill_form, read_form
from offerlab.store import QuotaCell, Respondent, StudyRow, Submission


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
    migrated_database_url, study, study_text, design
) -> None:
    fielding = open_fielding(migrated_database_url, study, study_text, design)
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


def test_screeners_and_consent_screen_out_with_the_panel_parameters(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    c = client(fielding)
    for answers in ({"consent": {"answer": "decline"}}, {"band": {"answer": "child"}}):
        browser = Browser(c)
        c.cookies.clear()
        browser.enter("/s/tiny?pid=42")
        end = browser.finish({**QUALIFY, **answers})
        assert end == "https://panel.test/done?pid=42&s=screenout"
        again = c.get("/s/tiny?pid=42")  # the link again: back to the end, nobody new
        assert (
            again.status_code == 303 and c.get(again.headers["location"]).headers["location"] == end
        )
    assert _count(fielding, Respondent) == 2


def test_display_logic_skips_pages_whose_condition_fails(
    migrated_database_url, study, study_text, design
) -> None:
    fielding = open_fielding(migrated_database_url, study, study_text, design)
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


def test_double_submit_and_back_button_never_duplicate_or_change_an_answer(
    migrated_database_url,
) -> None:
    fielding = tiny(migrated_database_url)
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


def test_resume_after_closing_the_page_continues_at_the_same_question(
    migrated_database_url,
) -> None:
    fielding = tiny(migrated_database_url)
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
    # a browser without the cookie gets the entry form, and a new respondent once it answers
    assert client(fielding).get("/s/tiny").status_code == 200
    assert start(client(fielding), "/s/tiny") != browser.url


def test_personal_invitations(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    (token,) = fielding.invite(1, panel={"pid": "inv-1"})
    assert len(token) >= 43  # 256 bits, base64
    c = client(fielding)
    assert c.get(f"/i/{token}").status_code == 200  # the entry form: nobody made yet
    first = start(c, f"/i/{token}")
    c.cookies.clear()
    second = client(fielding).get(f"/i/{token}")  # the link again, in another browser
    assert second.headers["location"] == first
    assert client(fielding).get("/i/" + "A" * 43).status_code == 404
    browser = Browser(c)
    browser.url = first
    assert browser.finish(QUALIFY) == "https://panel.test/done?pid=inv-1&s=complete"


def test_wrong_answers_are_refused_with_the_reason_and_not_stored(
    migrated_database_url, study, study_text, design
) -> None:
    fielding = open_fielding(migrated_database_url, study, study_text, design)
    browser = Browser(client(fielding))
    browser.enter("/s/car_subscription?lang=en")
    page = browser.current()
    sent = [("page", page.key), ("nonce", page.nonce), *page.hidden]
    r = post(browser.c, browser.url, sent)
    assert r.status_code == 422 and "Please choose an answer." in r.text
    r = post(browser.c, browser.url, [*sent, ("answer", "maybe")])
    assert r.status_code == 422
    with Session(fielding.engine) as s:  # a refused entry page makes nobody
        assert s.scalar(select(func.count()).select_from(Respondent)) == 0
    # German errors for a German respondent, with the answers kept in the form
    browser.enter("/s/car_subscription?lang=de")
    page = browser.current()
    r = post(browser.c, browser.url, [("page", page.key), ("nonce", page.nonce), *page.hidden])
    assert "Bitte wählen Sie eine Antwort." in r.text


def test_quota_full_at_the_screener_ends_as_over_quota(migrated_database_url) -> None:
    text = TINY.read_text(encoding="utf-8").replace("young: 5", "young: 1")
    fielding = tiny(migrated_database_url, text)
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


def test_versions_are_balanced_and_pages_render_in_every_language(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    c = client(fielding)
    for _ in range(7):
        c.cookies.clear()
        start(c, "/s/tiny")
    with Session(fielding.engine) as s:
        versions = s.execute(select(Respondent.version)).scalars().all()
    counts = [versions.count(v) for v in (1, 2, 3)]
    assert max(counts) - min(counts) <= 1
    c.cookies.clear()
    html = c.get("/s/tiny?lang=de").text  # the entry page
    assert '<html lang="de">' in html and "Mitmachen?" in html
    assert re.search(r'href="\?lang=en"', html)
    html = c.get("/s/tiny?pid=9&lang=en").text
    assert '<html lang="en">' in html and "Take part?" in html
    assert 'href="?pid=9&amp;lang=de"' in html  # the switch keeps the panel parameters
    url = start(c, "/s/tiny?lang=de")
    html = c.get(url).text
    assert '<html lang="de">' in html and "Ihr Alter?" in html
    html = c.get(url + "?lang=en").text
    assert '<html lang="en">' in html and "Your age?" in html


def _count(fielding, what) -> int:
    with Session(fielding.engine) as s:
        return int(s.scalar(select(func.count()).select_from(what)))


def test_gets_and_heads_of_links_make_no_respondent(migrated_database_url) -> None:
    """Link previewers and mail scanners open links: nobody is made until the first POST."""
    from offerlab.field._dashboard import live_figures

    fielding = tiny(migrated_database_url)
    (invitation,) = fielding.invite(1, panel={"pid": "inv-1"})
    c = client(fielding)
    for i in range(50):
        assert c.head(f"/s/tiny?pid=h{i}").status_code == 200
        assert c.get(f"/s/tiny?pid=g{i}").status_code == 200
        assert c.head(f"/i/{invitation}").status_code == 200
        assert c.get(f"/i/{invitation}").status_code == 200
    assert _count(fielding, Respondent) == 0
    figures = live_figures(fielding)
    assert figures.started == figures.active == 0
    # the panel parameters of the link travel in the entry form to the first POST,
    # declared ones only, capped; a forged hidden field adds nothing
    page = read_form(c.get("/s/tiny?pid=P%201&junk=x").text)
    assert ("panel_pid", "P 1") in page.hidden and not any("junk" in k for k, _ in page.hidden)
    page.hidden += [("panel_zz", "forged"), ("panel_pid", "second")]
    fields = fill_form(page, np.random.default_rng(0), QUALIFY)
    url = post(c, "/s/tiny", fields).headers["location"]
    assert _respondent(fielding, url.rsplit("/", 1)[1]).panel == {"pid": "P 1"}
    c.cookies.clear()
    long = read_form(c.get("/s/tiny?pid=" + "9" * 5000).text)
    assert dict(long.hidden)["panel_pid"] == "9" * 200
    # the invitation's respondent is made by its first POST, with the invitation's panel
    invited = start(client(fielding), f"/i/{invitation}")
    assert _respondent(fielding, invited.rsplit("/", 1)[1]).panel == {"pid": "inv-1"}
    assert _count(fielding, Respondent) == 2
    assert live_figures(fielding).started == 2
    # a refused entry answer makes nobody either
    c.cookies.clear()
    page = read_form(c.get("/s/tiny").text)
    assert post(c, "/s/tiny", [("page", "consent"), *page.hidden]).status_code == 422
    assert _count(fielding, Respondent) == 2


def test_a_closed_study_stores_nothing_more_even_for_people_inside(migrated_database_url) -> None:
    fielding = tiny(migrated_database_url)
    c = client(fielding)
    other = client(fielding)
    entry = read_form(other.get("/s/tiny").text)  # an entry form opened before the close
    browser = Browser(c)
    browser.enter("/s/tiny?pid=in&lang=de")
    browser.answer(QUALIFY)  # consent: inside now, in German
    page = browser.current()
    fields = fill_form(page, browser.rng, QUALIFY)
    before = (_count(fielding, Submission), _respondent(fielding, browser.token).position)
    fielding.set_status("closed")
    r = post(c, browser.url, fields)
    assert r.status_code == 410 and "Die Umfrage ist abgeschlossen" in r.text
    assert '<html lang="de">' in r.text
    r = c.get(browser.url + "?lang=en")  # the page, in English: said, not stored
    assert r.status_code == 410 and "The survey has closed" in r.text
    after = _respondent(fielding, browser.token)
    assert (_count(fielding, Submission), after.position) == before and after.language == "de"
    # and no one new: neither the link nor a POST of an entry form from before
    assert other.get("/s/tiny?lang=de").status_code == 410
    sent = post(other, "/s/tiny", fill_form(entry, browser.rng, QUALIFY))
    assert sent.status_code == 410 and _count(fielding, Respondent) == 1


def test_a_paused_study_takes_no_new_starts_and_its_setting_decides_for_people_inside(
    migrated_database_url, study, study_text, design
) -> None:
    fielding = open_fielding(migrated_database_url, study, study_text, design)
    c = client(fielding)
    browser = Browser(c, seed=4)
    browser.enter("/s/car_subscription?psid=p1&lang=fr")
    browser.answer(QUALIFY)
    fielding.set_status("paused")  # people inside may finish: the default
    new = client(fielding).get("/s/car_subscription?lang=fr")
    assert new.status_code == 503 and "Le sondage est en pause" in new.text
    assert new.headers["retry-after"]
    browser.answer(QUALIFY)  # stored
    with Session(fielding.engine) as s, s.begin():
        s.get_one(StudyRow, fielding.study_id).finish_when_paused = False
    page = c.get(browser.url)  # the page now: a polite wait
    assert page.status_code == 503 and "Vos réponses sont enregistrées" in page.text
    stored = _count(fielding, Submission)
    current = read_form(client(fielding).get(browser.url + "?lang=fr").text)
    assert current is None  # no form while paused
    fielding.set_status("live")
    fields = fill_form(browser.current(), browser.rng, QUALIFY)
    fielding.set_status("paused")
    r = post(c, browser.url, fields)
    assert r.status_code == 503 and '<html lang="fr">' in r.text
    assert _count(fielding, Submission) == stored  # nothing written
    fielding.set_status("live")
    assert post(c, browser.url, fields).status_code == 303  # and on once it resumes
    assert _count(fielding, Submission) == stored + 1


def test_people_behind_one_proxy_with_different_panel_ids_are_not_duplicates(
    migrated_database_url,
) -> None:
    """One address and one browser (TestClient's) for everyone: the panel ID decides."""
    fielding = tiny(migrated_database_url)

    def flags(link: str) -> dict:
        url = start(client(fielding), link)
        return _respondent(fielding, url.rsplit("/", 1)[1]).flags

    assert flags("/s/tiny?pid=A") == {}
    assert flags("/s/tiny?pid=B") == {}  # same proxy, same browser, another person
    again = flags("/s/tiny?pid=A")
    assert again["duplicate_by"] == "panel_id" and again.get("duplicate_of")
    # invitations are one person each, whatever the address
    for token in fielding.invite(2):
        assert flags(f"/i/{token}") == {}
    # without a panel ID or an invitation, address and browser are the weak signal
    assert flags("/s/tiny") == {}
    assert flags("/s/tiny")["duplicate_by"] == "device"


def test_an_entry_form_posted_again_from_another_browser_leads_nowhere_near_its_respondent(
    migrated_database_url,
) -> None:
    """A double tap finds the respondent its form made; another browser with that form
    (a forwarded or planted page) gets a fresh entry form, never that respondent's link."""
    fielding = tiny(migrated_database_url)
    c = client(fielding)
    page = read_form(c.get("/s/tiny?pid=k").text)
    fields = fill_form(page, np.random.default_rng(0), QUALIFY)
    first = post(c, "/s/tiny", fields).headers["location"]
    c.cookies.clear()
    assert post(c, "/s/tiny", fields).headers["location"] == first  # the double tap
    other = client(fielding)
    other.headers["user-agent"] = "another browser"
    r = post(other, "/s/tiny", fields)
    assert r.status_code == 409 and first not in r.text and "location" not in r.headers
    assert dict(read_form(r.text).hidden)["entry"] != page.nonce  # a fresh key
    assert _count(fielding, Respondent) == 1


def test_a_survey_that_opens_with_a_choice_task_starts_with_a_button(tmp_path) -> None:
    """The version of a choice task is drawn when the respondent is made: the entry form
    of such a survey only starts, and the task follows on the respondent's own page."""
    head, pages = TINY.read_text(encoding="utf-8").split("  pages:\n")
    task = "    - id: task\n      type: choice_tasks\n"
    fielding = tiny(
        f"sqlite:///{tmp_path / 'task_first.db'}",
        head + "  pages:\n" + task + pages.replace(task, ""),
    )
    c = client(fielding)
    entry = c.get("/s/tiny?pid=t&lang=de")
    assert entry.status_code == 200 and "Willkommen zur Umfrage." in entry.text
    assert _count(fielding, Respondent) == 0
    form = read_form(entry.text)
    assert form.key == "start" and ("panel_pid", "t") in form.hidden
    url = post(c, "/s/tiny", fill_form(form, np.random.default_rng(0))).headers["location"]
    respondent = _respondent(fielding, url.rsplit("/", 1)[1])
    assert respondent.panel == {"pid": "t"} and respondent.language == "de"
    assert _count(fielding, Submission) == 0
    assert read_form(c.get(url).text).key == "task.1"
