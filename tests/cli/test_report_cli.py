"""``offerlab report``: one self-contained HTML file, a PDF and an Excel workbook."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from _example import make_example

from offerlab.cli._errors import guarded
from offerlab.cli.report import report

app = typer.Typer(pretty_exceptions_enable=False)
app.command("report")(guarded(report))
app.command("unused")(lambda: None)
runner = CliRunner()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    return make_example(tmp_path_factory.mktemp("example"))


def test_the_report_is_self_contained_and_complete(example, tmp_path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, [
        "report", str(example.answers_path), "--study", str(example.study_path),
        "--market", str(example.market_path), "--survey-answers", str(example.survey_path),
        "--respondents", str(example.respondents_path), "--draws", "50", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    # Nothing outside the file: no URL, no protocol-relative link, no external src/href.
    assert not re.search(r"(?i)\b(?:https?|ftp)://", html)
    assert not re.search(r"""(?i)(?:src|href)\s*=\s*["']?//""", html)
    for attr in re.findall(r"""(?i)\b(?:src|href)\s*=\s*["']([^"']*)""", html):
        assert attr.startswith(("data:image/png;base64,", "#")), attr
    assert "@import" not in html and "url(" not in html
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) >= 7  # importance, part-worths, WTP, shares, tornado, demand, VW, GG
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    for section in ("Recommendation", "The sample", "Quality flags", "What drives the choice",
                    "Willingness to pay", "The market", "Pricing", "The method in plain words",
                    "Try it: the market simulator"):  # fmt: skip
        assert section in html, section
    # the pricing page compares, in words computed from the numbers
    assert "revenue-maximising price of &#39;Our City Compact&#39;" in html
    assert "Gabor–Granger" in html and "Van Westendorp" in html
    assert "candidates listed in" in html and "profit-maximising price" in html
    pdf = (out / "report.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") >= 8
    wb = load_workbook(out / "report.xlsx")
    assert {"Simulator", "Lookup", "Calc", "Importance", "Pricing"} <= set(wb.sheetnames)
    assert "recommendation:" in result.output and "pricing:" in result.output


def test_without_a_market_the_report_still_tells_what_it_can(example, tmp_path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, [
        "report", str(example.answers_path), "--study", str(example.study_path),
        "--survey-answers", str(example.survey_path), "--format", "html", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "No optimisation was run" in html
    assert "No market file was given" in html  # the pricing page says what it cannot compare
    assert not (out / "report.pdf").exists()


def test_optimise_without_a_market_is_an_error(example, tmp_path) -> None:
    result = runner.invoke(app, [
        "report", str(example.answers_path), "--study", str(example.study_path),
        "--optimise", "profit", "--out", str(tmp_path),
    ])  # fmt: skip
    assert result.exit_code == 2
    assert "--optimise needs a --market file" in result.output


def test_the_printed_advice_is_in_the_reports_language() -> None:
    """``offerlab demo --language fr`` printed its recommendation in French and its pricing
    comparison in English (decide's sentences, not the report's): both are the report's."""
    from io import StringIO
    from types import SimpleNamespace

    from rich.console import Console

    from offerlab.cli._advice import print_advice

    content = SimpleNamespace(
        recommendation=["Niveau 1 : CHF 990"],
        pricing_lines=["L’analyse conjointe situe le prix qui maximise le bénéfice à CHF 790."],
        pricing=SimpleNamespace(comparison=["The conjoint puts the price at CHF 790."]),
    )
    out = StringIO()
    print_advice(Console(file=out, width=200), content)  # type: ignore[arg-type]
    printed = out.getvalue()
    assert "pricing: L’analyse conjointe situe le prix" in printed and "The conjoint" not in printed
