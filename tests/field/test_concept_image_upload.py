"""A study uploaded as text in the console has no folder to read its concept images from:
its page says, in the reader's language, which concept cards respondents see without their
image and that the study must be served from its folder to show them -- rather than
leaving the cards bare without a word. The image named in the upload is never read (no
path is followed from a text upload). Screenshots at 390x844 and 1280x800 in de and fr go
to tests/artifacts/browser/."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import pytest
from _respondent import client
from _screenshots import save_png
from _server import running
from test_browser import ARTIFACTS
from test_console import PASSWORD, _csrf, _login, _setup

from offerlab.field import create_app
from offerlab.field._console_texts import console_catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "study"))
from test_concept_images import png, study_with_image

TITLE = {"de": "Probe-Abo", "fr": "Abonnement d'essai"}


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory):
    """The page-types study, whose concept 'trial' names an image next to it, uploaded as
    text by an analyst (the image exists where the study file was: it is still not read)."""
    folder = tmp_path_factory.mktemp("upload-image")
    (folder / "pictures").mkdir()
    (folder / "pictures" / "trial.png").write_bytes(png())
    text = study_with_image(folder, "pictures/trial.png").read_text(encoding="utf-8")
    fielding, venture = _setup(f"sqlite:///{folder / 'console.db'}")
    c = client(fielding)
    _login(c, "analyst@a.ch")
    r = c.post(
        f"/console/ventures/{venture}/studies",
        data={"csrf": _csrf(c), "study_yaml": text},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return fielding, c, text


@pytest.mark.parametrize("language", ["de", "fr", "it", "en"])
def test_an_uploaded_study_says_its_concept_images_need_the_folder(uploaded, language) -> None:
    _, c, _ = uploaded
    page = c.get("/console/studies/page_types", headers={"Accept-Language": language})
    assert page.status_code == 200
    words = console_catalogue()["concept_images_need_folder"][language]
    assert html.unescape(page.text).count(words.split("{concepts}")[1][:40]) == 1
    assert 'id="images-without-folder"' in page.text
    if language in TITLE:
        assert TITLE[language] in html.unescape(page.text)


def test_the_cards_without_their_image_are_the_uploaded_studys_named_ones(uploaded) -> None:
    from offerlab.field._console_studies import images_without_folder
    from offerlab.study import parse_study

    _, _, text = uploaded
    assert images_without_folder(parse_study(text, "upload.yaml"), "en") == ["Trial"]


def test_a_study_without_images_says_nothing_of_them(tmp_path) -> None:
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'plain.db'}")
    c = client(fielding)
    _login(c, "owner@a.ch")
    page = c.get(f"/console/studies/{fielding.study.name}", headers={"Accept-Language": "de"})
    assert page.status_code == 200 and 'id="images-without-folder"' not in page.text


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_notice_on_a_phone_and_a_desktop(uploaded, browser, language) -> None:
    fielding = uploaded[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(create_app(fielding)) as base:
        for width, height in ((390, 844), (1280, 800)):
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale=language
            )
            page = context.new_page()
            page.goto(f"{base}/console/login")
            page.fill("input[name=email]", "analyst@a.ch")
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.locator("form button[type=submit]").first.click()
            page.goto(f"{base}/console/studies/page_types")
            notice = page.locator("#images-without-folder")
            assert notice.is_visible()
            box = notice.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            save_png(page, ARTIFACTS / f"console_images_need_folder_{language}_{width}.png")
            context.close()
