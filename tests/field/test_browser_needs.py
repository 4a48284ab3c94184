"""In Debian's Chromium: a phone respondent's MaxDiff and concept answers reach the console.

A respondent on a 390 x 844 phone completes the MaxDiff and the concept test in German
or French; their answers are in the store and on the console's needs-and-concepts page,
which an analyst opens on a phone and on a 1280 x 800 screen: nothing wider than the
screen, axe-core finds nothing serious or critical, and a respondent's HTML reads as text.
The HB diagnostics of an HB simulator get the same checks. Screenshots go to
tests/artifacts/browser/ (not committed): ``console_needs_{lang}_{width}.png`` and
``console_simulator_hb_{lang}_{width}.png``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from _axe import serious_violations
from _screenshots import save_png
from _server import running
from test_browser import ARTIFACTS, PHONE
from test_console_needs import HOSTILE, PASSWORD, _fielding, answer_as_person
from test_survey_layout import DESKTOP

from offerlab.field import Fielding, create_app
from offerlab.field._export import concept_data, maxdiff_data
from offerlab.store import make_engine

pytestmark = pytest.mark.browser

#: What the browser's respondent writes into "what would you change?", per language.
CHANGE = {"de": "Bitte mit Winterreifen (Handy)", "fr": "Avec pneus d’hiver (mobile)"}
LINK = {"de": "Bedürfnisse und Konzepte", "fr": "Besoins et concepts"}
PEOPLE = {"de": "24 Befragte", "fr": "24 répondants"}


def _overflow(page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def _respondent_on_a_phone(browser, base: str, lang: str) -> list[str]:
    """Complete the survey as a person does; the MaxDiff picks the first row best and the
    last worst. The pages answered, by key."""
    page = browser.new_context(**PHONE, locale=lang).new_page()
    page.goto(f"{base}/s/page_types?lang={lang}")
    with page.expect_navigation():
        page.locator("button[type=submit]").click()
    seen = []
    for _ in range(20):
        field = page.locator("input[name=page]")
        if field.count() == 0:
            break
        key = field.get_attribute("value")
        seen.append(key)
        assert _overflow(page) <= 0, key
        if key.startswith("needs."):
            page.locator("input[name=best]").first.check()
            page.locator("input[name=worst]").last.check()
        elif key.startswith("task."):
            page.check("input[name=choice][value='1']")
        elif key.startswith("features."):
            page.check("input[name=functional][value=like]")
            page.check("input[name=dysfunctional][value=dislike]")
        elif key.startswith("offers."):
            for radio in page.locator("input[type=radio][value='5']").all():
                radio.check()
            page.fill("#change", CHANGE[lang])
        with page.expect_navigation():
            page.locator("button[type=submit]").click()
    page.context.close()
    return seen


def _console(browser, base: str, lang: str, screen: dict):
    # bypass_csp: axe-core is injected as a script the console's policy rightly refuses
    page = browser.new_context(**screen, locale=lang, bypass_csp=True).new_page()
    page.goto(f"{base}/console/login")
    page.locator("#email").fill("analyst@a.ch")
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_url(f"{base}/console/")
    return page


@pytest.fixture(scope="module")
def answered(tmp_path_factory) -> Path:
    """The page-type study's SQLite database after 23 people answered (one wrote HTML into
    the open question): answered once for the module, copied for each test."""
    path = tmp_path_factory.mktemp("needs") / "answered.db"
    fielding = _fielding(f"sqlite:///{path}")
    for seed in range(23):
        answer_as_person(fielding, seed)
    fielding.engine.dispose()
    return path


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_a_phone_respondents_maxdiff_and_concept_answers_reach_the_console(
    tmp_path, answered, axe_source, lang, browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    copy = tmp_path / "needs.db"  # this test's own copy: its respondent is the 24th
    with sqlite3.connect(answered) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    fielding = Fielding.from_database(make_engine(f"sqlite:///{copy}"), "page_types")
    with running(create_app(fielding)) as base:
        seen = _respondent_on_a_phone(browser, base, lang)
        assert [k for k in seen if k.startswith(("needs.", "offers."))] == [
            "needs.1", "needs.2", "needs.3", "needs.4", "offers.1", "offers.2",
        ]  # fmt: skip
        # In the store: four MaxDiff screens of three, both concepts with the open answer.
        mine = concept_data(fielding)
        mine = mine[mine["change"] == CHANGE[lang]]
        assert sorted(mine["concept"]) == ["flex", "trial"] and (mine["intent"] == 5).all()
        person = int(mine["respondent"].iloc[0])
        screens = maxdiff_data(fielding)
        screens = screens[screens["respondent"] == person]
        assert len(screens) == 12 and screens["best"].sum() == 4 and screens["worst"].sum() == 4
        # On the console's page, on a phone and on a wide screen.
        for name, screen in (("390", PHONE), ("1280", DESKTOP)):
            page = _console(browser, base, lang, screen)
            page.goto(f"{base}/console/studies/page_types")
            with page.expect_navigation():
                page.get_by_role("link", name=LINK[lang]).click()
            assert page.locator("html").get_attribute("lang") == lang
            text = page.locator("main").inner_text()
            assert PEOPLE[lang] in text
            assert CHANGE[lang] in text  # the browser respondent's own words
            assert HOSTILE in text  # another's HTML, shown as the text they typed
            assert page.locator("main b").count() == 0 and page.locator("main script").count() == 0
            assert page.locator("table.maxdiff-scores tbody tr").count() == 6
            assert page.locator("#turf-needs-bundle strong").inner_text().count(" · ") == 2
            assert _overflow(page) <= 0, name
            problems = serious_violations(page, axe_source)
            assert not problems, problems
            save_png(page, ARTIFACTS / f"console_needs_{lang}_{name}.png")
            page.context.close()


def test_the_hb_diagnostics_on_the_simulator_page_in_german_and_french(
    tmp_path, axe_source, browser, shared_hb_fits
) -> None:
    from test_console import _published, _setup

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'hb.db'}")
    _published(fielding, "hb")
    with running(create_app(fielding)) as base:
        for lang in ("de", "fr"):
            for name, screen in (("390", PHONE), ("1280", DESKTOP)):
                page = _console(browser, base, lang, screen)
                page.goto(f"{base}/console/studies/tiny/simulator")
                page.wait_for_load_state()
                section = page.locator("#hb-diagnostics")
                assert section.count() == 1
                assert section.locator("tbody tr").count() == 3
                assert _overflow(page) <= 0, (lang, name)
                problems = serious_violations(page, axe_source)
                assert not problems, problems
                section.scroll_into_view_if_needed()
                save_png(page, ARTIFACTS / f"console_simulator_hb_{lang}_{name}.png")
                page.context.close()
