"""A respondent completes the MaxDiff, Kano and concept-test pages in Chromium.

On a 390 x 844 phone and a 1280 x 800 screen, in German and French: nothing is wider
than the screen at normal and at twice the text size, axe-core finds nothing serious
or critical (on each page type once per screen size, in German), and the answers arrive
in the exports. Screenshots go to
tests/artifacts/page_types/ (not committed): ``{lang}_{page type}_{width}[_200].png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import test_survey_layout as layout
from _axe import AXE_LANGUAGE
from _respondent import open_fielding
from _server import running
from test_browser import PHONE
from test_survey_layout import DESKTOP, _Audit

from offerlab.design import make_design
from offerlab.field import create_app
from offerlab.field._export import concept_data, kano_data, maxdiff_data
from offerlab.study import parse_study

STUDY = Path(__file__).parent / "page_types_study.yaml"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "page_types"

pytestmark = pytest.mark.browser


def _answer(page, key: str, kind: str) -> None:
    """Answer the current page as a person would, by its labelled controls."""
    if kind == "maxdiff":
        page.locator("input[name=best]").first.check()
        page.locator("input[name=worst]").last.check()
    elif kind == "choice_tasks":
        page.check("input[name=choice][value='1']")
    elif kind == "kano":
        page.check("input[name=functional][value=like]")
        page.check("input[name=dysfunctional][value=dislike]")
    elif kind == "concept_test":
        for radio in page.locator("input[type=radio][value='4']").all():
            radio.check()
        page.fill("#change", "Günstiger" if "de" in page.url else "Moins cher")
    else:
        raise AssertionError(f"no answer for page {key}")


@pytest.mark.parametrize("lang", ["de", "fr"])
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_a_respondent_completes_maxdiff_kano_and_concepts(
    tmp_path, axe_source, monkeypatch, lang, screen, browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(layout, "ARTIFACTS", ARTIFACTS)  # the audit's screenshots go here
    text = STUDY.read_text(encoding="utf-8")
    study = parse_study(text, STUDY.name)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'p.db'}", study, text, make_design(study))
    fielding.set_status("live")
    seen: list[str] = []
    with running(create_app(fielding)) as base:
        options = PHONE if screen == "phone" else DESKTOP
        page = browser.new_context(**options, locale=lang, bypass_csp=True).new_page()
        audit = _Audit(page, axe_source, lang, axe=lang == AXE_LANGUAGE)
        page.goto(f"{base}/s/{study.name}?lang={lang}")
        with page.expect_navigation():
            page.locator("button[type=submit]").click()  # the entry: a MaxDiff screen comes first
        for _ in range(20):
            field = page.locator("input[name=page]")
            if field.count() == 0:
                break  # the end page
            key = field.get_attribute("value")
            kind = study.questionnaire.page(key.split(".")[0]).type
            seen.append(key)
            # the header keeps the study's name (a concept's title once took its place)
            assert page.locator(".study-title").inner_text() == study.name
            if key == "needs.1":  # sent with one row in both columns: refused, said why
                row = page.locator("input[name=best]").first.get_attribute("value")
                page.check(f"input[name=best][value={row}]")
                page.check(f"input[name=worst][value={row}]")
                with page.expect_navigation():
                    page.locator("button[type=submit]").click()
                assert page.locator("#errors").count() == 1
                audit.check("maxdiff_error")
            if kind not in audit.seen:
                audit.check(kind)
            _answer(page, key, kind)
            with page.expect_navigation():
                page.locator("button[type=submit]").click()
    assert not audit.problems, "\n".join(audit.problems)
    assert seen == [
        "needs.1", "needs.2", "needs.3", "needs.4", "task.1", "features.1", "features.2",
        "offers.1", "offers.2",
    ]  # fmt: skip
    assert len(maxdiff_data(fielding)) == 4 * 3
    assert kano_data(fielding)["functional"].tolist() == ["like", "like"]
    concepts = concept_data(fielding)
    assert sorted(concepts["concept"]) == ["flex", "trial"]
    assert (concepts["intent"] == 4).all()
