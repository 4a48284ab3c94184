"""The MaxDiff anchor in Chromium: a respondent answers the dual-response question under
each screen, and (another study) the direct binary screen, on a 390 x 844 phone and a
1280 x 800 screen in German and French — nothing wider than the screen at normal and
large text, axe-core finds nothing serious or critical, the answers reach the export.
Screenshots: tests/artifacts/maxdiff_anchor/ ``{lang}_{name}_{width}[_200].png``."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_survey_layout as layout
from _respondent import open_fielding
from _server import running
from test_browser import PHONE
from test_survey_layout import DESKTOP, _Audit

from offerlab.design import make_design
from offerlab.field import create_app
from offerlab.field._export import maxdiff_data
from offerlab.study import parse_study

STUDY = Path(__file__).parent / "page_types_study.yaml"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "maxdiff_anchor"

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("anchor", ["dual_response", "direct_binary"])
@pytest.mark.parametrize("lang", ["de", "fr"])
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_a_respondent_answers_the_anchor(
    tmp_path, axe_source, monkeypatch, browser, anchor, lang, screen
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(layout, "ARTIFACTS", ARTIFACTS)
    text = STUDY.read_text(encoding="utf-8").replace(
        "      per_task: 3\n", f"      per_task: 3\n      anchor: {{type: {anchor}}}\n"
    )
    study = parse_study(text, STUDY.name)
    fielding = open_fielding(f"sqlite:///{tmp_path / 'p.db'}", study, text, make_design(study))
    fielding.set_status("live")
    with running(create_app(fielding)) as base:
        options = PHONE if screen == "phone" else DESKTOP
        page = browser.new_context(**options, locale=lang, bypass_csp=True).new_page()
        audit = _Audit(page, axe_source, lang)
        page.goto(f"{base}/s/{study.name}?lang={lang}")
        with page.expect_navigation():
            page.locator("button[type=submit]").click()
        for _ in range(6):
            key = page.locator("input[name=page]").get_attribute("value")
            if not key.startswith("needs."):
                break
            if key == "needs.anchor":
                audit.check("direct_binary")
                page.locator("input[name=important]").nth(1).check()
                page.locator("input[name=important]").nth(3).check()
            else:
                page.locator("input[name=best]").first.check()
                page.locator("input[name=worst]").last.check()
                if anchor == "dual_response":
                    page.locator("input[name=anchor][value=some]").check()
                    if key == "needs.1":
                        audit.check("dual_response")
            with page.expect_navigation():
                page.locator("button[type=submit]").click()
    assert not audit.problems, "\n".join(audit.problems)
    frame = maxdiff_data(fielding, statuses=("active", "complete"))  # on past the MaxDiff
    if anchor == "dual_response":
        assert set(frame["anchor"]) == {"some"} and frame["task"].nunique() == 4
    else:
        ticked = frame.loc[(frame["task"] == 0) & (frame["anchor"] == "yes"), "item"]
        assert sorted(ticked) == sorted([study.questionnaire.pages[0].items[i].name
                                         for i in (1, 3)])  # fmt: skip
