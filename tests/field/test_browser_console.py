"""The console in Debian's Chromium: axe-core on every page, joining by an invitation link.

Screenshots of every console page at 390×844 and 1280×800 in German and French go to
tests/artifacts/browser/console/ (not committed), encoded for speed (tests/_screenshots.py):
there are a hundred of them.
"""

from __future__ import annotations

import re

import pytest
from _axe import AXE_LANGUAGE, serious_violations
from _console_pages import PASSWORD, STUDY, populated_console, rendered
from _screenshots import save_png
from _server import running
from test_browser import ARTIFACTS

from offerlab.field import create_app

pytestmark = pytest.mark.browser
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SHOTS = ARTIFACTS / "console"


def _slug(name: str) -> str:
    name = re.sub(r"/console/join/.*", "join", name)  # not the token: a stable file name
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60] or "index"


def _serve(html: str):
    """A route handler answering with this HTML."""

    def handler(route) -> None:
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    return handler


@pytest.fixture(scope="module")
def console(tmp_path_factory, study, study_text, design):
    """The populated console, made once for the module: the page scan only reads it and
    answers forms with errors or confirmations (no invitation it uses is spent), and the
    invited analyst's test joins by an invitation the scan leaves unused."""
    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'console.db'}"
    return populated_console(url, study, study_text, design)


def test_every_console_page_has_no_serious_accessibility_violation(
    console, axe_source, browser
) -> None:
    """Each page in German and French on a phone and a desktop: no wider than the screen,
    a screenshot; axe-core on each page at both sizes (in German: see _axe.AXE_LANGUAGE)."""

    SHOTS.mkdir(parents=True, exist_ok=True)
    app = create_app(console.fielding)
    problems: dict[str, list[str]] = {}
    checked = 0
    with running(app) as base:
        for language in ("de", "fr"):
            pages = list(rendered(base, app, console, language))
            context = browser.new_context(viewport=SIZES["phone"], locale=language)
            if language == AXE_LANGUAGE:
                # axe loads with every page (serious_violations then injects nothing): its
                # half a megabyte of script is sent to the browser once, not once a page
                context.add_init_script(axe_source)
            page = context.new_page()
            for name, url, html in pages:
                # the HTML as the server sent it, under its own address (links resolve)
                page.set_viewport_size(SIZES["phone"])
                page.route(url, _serve(html))
                page.goto(url)
                page.unroute(url)
                # loaded once, laid out at each size (no script of the console reads the
                # width: the desktop layout is the one a desktop loads)
                for size, viewport in SIZES.items():
                    page.set_viewport_size(viewport)
                    found = []
                    if language == AXE_LANGUAGE:
                        found = serious_violations(page, axe_source)
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > viewport["width"]:
                        found.append(f"page {wide}px wide")
                    if found:
                        problems[f"{language} {size} {name}"] = found
                    save_png(page, SHOTS / f"{language}_{size}_{_slug(name)}.png")
                    checked += 1
            context.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert checked >= 4 * 20


def test_an_invited_analyst_joins_in_a_fresh_browser_and_works_with_the_analyst_s_rights(
    console, browser
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running(create_app(console.fielding)) as base:
        owner = browser.new_context(locale="de-CH").new_page()
        owner.goto(f"{base}/console/login")
        owner.get_by_label("E-Mail-Adresse").fill("owner@a.ch")
        owner.get_by_label("Passwort", exact=True).fill(PASSWORD)
        owner.get_by_role("button", name="Anmelden").click()
        owner.get_by_role("link", name="Mitglieder").click()
        owner.locator("#member_email").fill("neu@a.ch")
        owner.locator("#member_role").select_option("analyst")
        owner.get_by_role("button", name="Einladungslink erstellen").click()
        link = owner.get_by_label("Link zum Kopieren").input_value()
        assert "/console/join/" in link
        save_png(owner, SHOTS / "join_owner_link_de.png")

        invited = browser.new_context(locale="fr-CH").new_page()  # another person, browser
        invited.goto(link)
        assert "analyste" in invited.locator("#join-intro").inner_text()
        save_png(invited, SHOTS / "join_form_fr.png")
        invited.get_by_label("Votre mot de passe").fill("trois mots sans rapport")
        invited.get_by_label("Répéter le mot de passe").fill("trois mots sans rapport")
        invited.get_by_role("button", name="Fixer le mot de passe et rejoindre").click()
        invited.wait_for_url(f"{base}/console/?joined=1")
        invited.get_by_role("link", name="Votre voiture en abonnement").click()
        assert invited.get_by_role("button", name="Mettre en pause").count() == 1  # analyst
        assert invited.get_by_role("link", name="Données de choix (CSV)").count() == 1
        assert invited.get_by_role("link", name="Données personnelles").count() == 0  # owners
        save_png(invited, SHOTS / "join_study_fr.png")
        with invited.expect_download() as download:
            invited.get_by_role("link", name="Données de choix (CSV)").click()
        assert download.value.suggested_filename == f"{STUDY}_choices.csv"

        reused = browser.new_context(locale="de-CH").new_page()  # the link again: refused
        answer = reused.goto(link)
        assert answer is not None and answer.status == 410
        assert "schon benutzt" in reused.locator("#problem").inner_text()
        save_png(reused, SHOTS / "join_reused_de.png")
        expired = reused.goto(f"{base}/console/join/{console.expired_token}")
        assert expired is not None and expired.status == 410
        assert "abgelaufen" in reused.locator("#problem").inner_text()
