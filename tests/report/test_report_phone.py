"""The report on a phone (390 x 844, Debian's Chromium): nothing wider than the screen,
in English and German; screenshots at 390 x 844 and 1280 x 800 go to tests/artifacts/report/."""

from __future__ import annotations

import pytest
from _browser import offline_page
from _screenshots import save_png
from test_browser_report import ARTIFACTS

from offerlab.report import write_html

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
#: Every element whose right edge passes the screen's (first few), and the page's width.
#: The screen's width is the one asked for: a phone widens its layout viewport to fit a
#: page that overflows, so clientWidth would grow with the fault.
OVERFLOW = """(width) => {
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`);
  return {width, scroll: document.documentElement.scrollWidth, wide};
}"""


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_report_does_not_scroll_sideways_on_a_phone(built, german, language, tmp_path, browser):
    content = built.content if language == "en" else german.content
    path = write_html(content, tmp_path / "report.html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(**size)
        page = offline_page(context, path)
        page.wait_for_function("document.querySelector('#sim-shares .bar') !== null")
        # the whole report, 15,000-22,000 px tall: a PNG encoded for speed
        save_png(page, ARTIFACTS / f"report-{language}-{name}.png")
        measured = page.evaluate(OVERFLOW, size["viewport"]["width"])
        context.close()
        assert measured["scroll"] <= measured["width"], (name, measured)
        assert not measured["wide"], (name, measured)


#: The words before each money figure of the simulator's rows on a phone (CSS ::before).
MONEY_WORDS = """() => Object.fromEntries(['revenue', 'profit'].map(name => [name,
  getComputedStyle(document.querySelector(`#sim-shares .bar .${name}:not(:empty)`), '::before')
    .content]))"""


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_simulators_money_words_on_a_phone_are_in_the_reports_language(
    german, french, language, tmp_path, browser
) -> None:
    """They were English in every report; the console's were JSON escapes in a stylesheet
    ("Bu00e9nu00e9fice"): CSS strings now (report.css_string)."""
    content = (german if language == "de" else french).content
    page = offline_page(browser.new_context(**PHONE), write_html(content, tmp_path / "r.html"))
    page.wait_for_function("document.querySelector('#sim-shares .bar .profit') !== null")
    t = content.t
    expected = {name: f'"{t(f"sim_js_{name}_short")} "' for name in ("revenue", "profit")}
    assert page.evaluate(MONEY_WORDS) == expected
    assert expected["profit"] == {"de": '"Gewinn "', "fr": '"Bénéfice "'}[language]
