"""decide's findings (verdict, edge-of-range caution) read in the report's language: the
German and French report, HTML and PDF, hold none of the English sentences of those keys
and do hold their own."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest
from _browser import offline_page
from _french_spacing import breakable_french_spaces

from offerlab.report import render_html, write_pdf
from offerlab.report._texts import report_catalogue

#: The keys decide's findings are worded with (the recommendation's verdict and caution,
#: the pricing comparison and its price points): whichever the English report uses are
#: scanned.
FINDING_KEYS = tuple(
    k
    for k in report_catalogue()
    if k.startswith(("edge_", "verdict_", "pricing_", "measure_", "check_"))
)


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def _fragments(key: str, language: str) -> list[str]:
    """The fixed words of ``key``'s sentence in ``language``: the text between its fields,
    pieces long enough to be a sentence's own words, not a number or a currency."""
    text = report_catalogue()[key][language]
    return [_normal(p) for p in re.split(r"\{[^}]*\}", text) if len(_normal(p)) >= 12]


def _html_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return _normal(unescape(re.sub(r"<[^>]+>", " ", html)))


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing (apt-get install poppler-utils)")
    run = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"],
                         capture_output=True, check=True)  # fmt: skip
    # words hyphenated or wrapped at a line's end read whole again
    return _normal(run.stdout.decode("utf-8"))


@pytest.fixture(scope="module")
def used(built: SimpleNamespace) -> list[str]:
    """The finding keys the English report of the example uses (it must use an edge
    caution and the verdict, or the test would prove nothing)."""
    text = _html_text(render_html(built.content))
    used = [
        k
        for k in FINDING_KEYS
        if _fragments(k, "en") and all(f in text for f in _fragments(k, "en"))
    ]
    assert {"verdict_value", "verdict_sure", "pricing_profit", "measure_vw_opp"} <= set(used)
    edges = {"edge_highest", "edge_lowest", "pricing_edge_highest", "pricing_edge_lowest"}
    assert edges & set(used), "the example has no price at the edge of the studied range"
    return used


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_findings_are_worded_in_the_reports_language(
    used, german, german_pdf, french, language, tmp_path
) -> None:
    report = german if language == "de" else french
    pdf = german_pdf if language == "de" else write_pdf(report.content, tmp_path / "report.pdf")
    for where, text in (("HTML", _html_text(report.html)), ("PDF", _pdf_text(pdf))):
        # a piece the language shares with English ("candidates)." in French) is not a leak
        english = [
            f
            for k in used
            for f in _fragments(k, "en")
            if f in text and f not in _normal(report_catalogue()[k][language])
        ]
        assert english == [], f"English left in the {language} {where}: {english}"
        own = [f for k in used for f in _fragments(k, language) if f not in text]
        assert own == [], f"the {language} {where} lacks: {own}"


def test_no_french_sign_of_the_report_starts_a_line(french) -> None:
    """The report's sentences, headings, tables and the study's labels keep ``? : ; % »``
    on their word's line (a no-break space, not a plain one, before them)."""
    assert "\u00a0:" in french.html
    assert breakable_french_spaces(french.html) == []


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_reports_simulator_is_headed_in_the_reports_language(german, french, language):
    """The offline simulator's heading and total line (they were English in every report)."""
    text = _html_text((german if language == "de" else french).html)
    for key in ("sim_heading", "sim_total"):
        own, english = report_catalogue()[key][language], report_catalogue()[key]["en"]
        assert _normal(own) in text
        if english != own:
            assert _normal(english) not in text


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_excel_sheets_are_named_in_the_reports_language(
    german, french, language, tmp_path
) -> None:
    from openpyxl import load_workbook

    from offerlab.report import write_excel

    report = german if language == "de" else french
    names = load_workbook(write_excel(report.content, tmp_path / "report.xlsx")).sheetnames
    own = {report_catalogue()[k][language] for k in ("xl_sheet_pricing", "xl_sheet_readme")}
    assert own <= set(names)
    english = {v["en"] for k, v in report_catalogue().items() if k.startswith("xl_sheet_")}
    assert not (
        english
        - {report_catalogue()[k][language] for k in report_catalogue() if k.startswith("xl_sheet_")}
    ) & set(names)
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_findings_sections_screenshots_fit_a_phone(german, french, language, tmp_path, browser):
    """The recommendation, pricing and simulator sections, whose sentences are now worded per
    language, at 390 x 844 and 1280 x 800: no wider than the screen; screenshots to
    tests/artifacts/report/."""
    from test_browser_report import ARTIFACTS

    from offerlab.report import write_html

    report = german if language == "de" else french
    path = write_html(report.content, tmp_path / "report.html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sizes = {"phone": (390, 844), "desktop": (1280, 800)}
    for name, (width, height) in sizes.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = offline_page(context, path)
        for section in ("recommendation", "pricing", "simulator"):
            box = page.locator(f"#{section}")
            box.screenshot(path=str(ARTIFACTS / f"findings-{language}-{section}-{name}.png"))
            assert box.bounding_box()["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # the script's own words (it had only English ones in the report)
        shown = _normal(page.locator("#simulator").inner_text())
        for key in ("sim_js_together", "sim_js_interval_note"):
            own = report_catalogue()[key][language].split("{")[0]
            assert _normal(own) in shown, key
        assert "Our offers together" not in shown
        context.close()
