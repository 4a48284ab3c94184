"""A concept card's image on the survey page: the checked image of the study's folder,
inline (no route that reads files), with its alt text in the respondent's language; on a
390 px phone it fits the screen (no sideways scroll) and is screenshotted in de and fr
(tests/artifacts/browser/)."""

from __future__ import annotations

import base64
import html
import re
import sys
from pathlib import Path

import pytest
from _browser import CHROMIUM
from _browser import CHROMIUM_ARGS as ARGS
from _browser import needs_browser as _needs_browser
from _respondent import Browser, client, open_fielding
from test_browser import ARTIFACTS

from offerlab.design import make_design
from offerlab.field._bot import read_form
from offerlab.study import load_study

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "study"))
from test_concept_images import png, study_with_image

ALT = {"de": "Ein blaues Elektroauto", "fr": "Une voiture électrique bleue"}
TRIAL = {"de": "Probe-Abo", "fr": "Abonnement d&#39;essai"}


@pytest.fixture(scope="module")
def concept_pages(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Per language, the concept pages a respondent saw (concept title -> page HTML); the
    image is a wide one (1600 x 900), wider than any phone."""
    folder = tmp_path_factory.mktemp("concept-image")
    (folder / "pictures").mkdir()
    (folder / "pictures" / "trial.png").write_bytes(png(1600, 900))
    study = load_study(study_with_image(folder, "pictures/trial.png"))
    text = (folder / "study.yaml").read_text(encoding="utf-8")
    fielding = open_fielding(f"sqlite:///{folder / 'f.db'}", study, text, make_design(study))
    fielding.set_status("live")
    seen: dict[str, dict[str, str]] = {}
    for seed, language in enumerate(("de", "fr")):
        person = Browser(client(fielding), seed)
        person.enter(f"/s/{study.name}?lang={language}")
        pages = {}
        for _ in range(30):
            page = person.html()
            if person.url.startswith("/r/") and read_form(page) is None:
                break
            found = re.search(r'<h2 id="concept-title">([^<]*)</h2>', page)
            if found:
                pages[found[1]] = page
            person.answer()
        seen[language] = pages
    return seen


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_concept_card_shows_its_image_with_alt_text_in_the_respondents_language(
    concept_pages, language
) -> None:
    pages = concept_pages[language]
    assert TRIAL[language] in pages, list(pages)
    page = pages[TRIAL[language]]
    image = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)">', page)
    assert image, "no image on the concept card"
    assert base64.b64decode(image[1]) == png(1600, 900)
    assert html.unescape(image[2]) == ALT[language]
    others = [p for title, p in pages.items() if title != TRIAL[language]]
    assert others and all("<img" not in p for p in others)  # flex has no image


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "fr"])
@pytest.mark.parametrize("size", [(390, 844), (1280, 800)])
def test_the_image_fits_a_phone_and_a_desktop(concept_pages, language, size) -> None:
    _needs_browser()
    from playwright.sync_api import sync_playwright

    page_html = concept_pages[language][TRIAL[language]]
    width, height = size
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_content(page_html)
        box = page.locator(".concept-card img").bounding_box()
        card = page.locator(".concept-card").bounding_box()
        scroll = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(
            path=str(ARTIFACTS / f"concept_image_{language}_{width}.png"), full_page=True
        )
        browser.close()
    assert scroll <= width, f"the page scrolls sideways: {scroll} px on {width} px"
    assert box is not None and card is not None
    assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 0.5
    assert box["height"] <= 0.6 * height + 1  # the questions stay in reach below it
