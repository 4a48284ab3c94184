"""The same offers give the same money on every surface (issue 13, finding 8).

``offerlab simulate-market`` (the CLI), the report's offline simulator and the console's
simulator, opened in Debian's Chromium, show the same revenue, margin and profit per
person with the same 95% intervals for the same offers — before and after a business
user changes a price. Screenshots go to tests/artifacts/browser/ (not committed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import typer
import yaml
from _browser import offline_page
from _reload import reload_when
from _screenshots import save_png
from _server import running
from test_browser import ARTIFACTS, _open_tiny_in_the_console
from typer.testing import CliRunner

from offerlab.cli._errors import guarded
from offerlab.cli.market import simulate_market_command
from offerlab.cli.report import report
from offerlab.field import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

pytestmark = pytest.mark.browser

TINY = Path(__file__).with_name("tiny_study.yaml")
MONEY_MARKET = """offers:
  - {name: Ours, ours: true, price: 15, colour: red}
  - {name: Theirs, price: 20, colour: blue}
none: true
base_cost: 4
costs:
  colour: {red: 3, blue: 5}
"""
app = typer.Typer(pretty_exceptions_enable=False)
app.command("simulate-market")(guarded(simulate_market_command))
app.command("report")(guarded(report))
runner = CliRunner()


def _cli_money(answers: Path, study: Path, market: Path, out: Path, draws: int) -> pd.DataFrame:
    result = runner.invoke(
        app,
        ["simulate-market", str(answers), "--study", str(study), "--market", str(market),
         "--draws", str(draws), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "shares.csv").set_index("alternative")


def _rows(page) -> dict[str, dict[str, float]]:
    """Every row of the page's simulator (alternatives and our offers together)."""
    out = {}
    for row in page.locator("#sim-shares .bar, #sim-ours .bar").all():
        values = {}
        for what in ("share", "lower", "upper", "revenue", "margin", "profit",
                     "profit-lower", "profit-upper"):  # fmt: skip
            value = row.get_attribute(f"data-{what}")
            values[what] = float("nan") if value is None else float(value)
        out[row.get_attribute("data-alternative")] = values
    return out


SAME = (("share", "share"), ("lower", "lower"), ("upper", "upper"), ("revenue", "revenue"))
OURS = (
    ("margin", "margin"),
    ("profit", "profit"),
    ("profit_lower", "profit-lower"),
    ("profit_upper", "profit-upper"),
)


def _same_money(shown: dict[str, dict[str, float]], cli: pd.DataFrame, names) -> None:
    """The page's numbers are the CLI's, offer by offer, and so is the total of ours."""
    for name in names:
        row, page = cli.loc[name], shown[name]
        for col, what in SAME + (OURS if row["ours"] else ()):
            expected = pytest.approx(row[col], rel=1e-6, abs=1e-9, nan_ok=True)
            assert page[what] == expected, (name, what)
    ours = cli[cli["ours"]]
    total = shown["(our offers)"]
    assert total["profit"] == pytest.approx(ours["profit"].sum(), rel=1e-6)
    assert total["share"] == pytest.approx(ours["share"].sum(), rel=1e-6)


def test_the_report_simulator_shows_the_clis_profit_and_intervals(tmp_path, browser) -> None:
    from _example import make_example

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    example = make_example(tmp_path)
    cli = _cli_money(example.answers_path, example.study_path, example.market_path,
                     tmp_path / "cli", 50)  # fmt: skip
    result = runner.invoke(
        app,
        ["report", str(example.answers_path), "--study", str(example.study_path),
         "--market", str(example.market_path), "--draws", "50", "--format", "html",
         "--out", str(tmp_path / "report")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    raw = yaml.safe_load(example.market_path.read_text("utf-8"))
    raw["offers"][1]["monthly_price"] = 640  # City Compact, as a business user types it
    dearer_market = tmp_path / "dearer.yaml"
    dearer_market.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    dearer = _cli_money(example.answers_path, example.study_path, dearer_market,
                        tmp_path / "cli_dearer", 50)  # fmt: skip
    report = tmp_path / "report" / "report.html"
    page = offline_page(browser, report, viewport={"width": 1280, "height": 800})
    page.wait_for_selector("#sim-ours .bar")
    _same_money(_rows(page), cli, [n for n in cli.index if n in _rows(page)])
    field = page.locator("#sim-Our_City_Compact-monthly_price")
    field.fill("640")
    field.dispatch_event("change")
    shown = _rows(page)
    _same_money(shown, dearer, ["Our Flex Electric", "Our City Compact", "Rival SUV Abo"])
    page.locator("#simulator").screenshot(path=str(ARTIFACTS / "report_simulator_money.png"))


def test_the_console_simulator_shows_the_clis_profit_and_intervals(tmp_path, browser) -> None:
    from _respondent import QUALIFY, Browser, client
    from test_console import _setup

    from offerlab.field._export import choice_data

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fielding, _ = _setup(f"sqlite:///{tmp_path / 'money.db'}")
    for i in range(40):
        respondent = Browser(client(fielding), seed=i)
        respondent.enter(f"/s/tiny?pid=p{i}")
        respondent.finish({**QUALIFY, "band": {"answer": "old"}})
    answers = tmp_path / "choices.csv"
    choice_data(fielding).to_csv(answers, index=False)
    market = tmp_path / "market.yaml"
    market.write_text(MONEY_MARKET, encoding="utf-8")
    cli = _cli_money(answers, TINY, market, tmp_path / "cli", 200)
    market_25 = tmp_path / "market_25.yaml"
    market_25.write_text(MONEY_MARKET.replace("price: 15", "price: 25"), encoding="utf-8")
    cli_25 = _cli_money(answers, TINY, market_25, tmp_path / "cli_25", 200)
    cli = cli.rename(index={"none": "Neither"})
    cli_25 = cli_25.rename(index={"none": "Neither"})
    with running(create_app(fielding)) as base:
        analyst = browser.new_context().new_page()
        _open_tiny_in_the_console(analyst, base, "analyst@a.ch")
        with analyst.expect_navigation():
            analyst.get_by_role("link", name="Market simulator").click()
        analyst.fill("#market_yaml", MONEY_MARKET)
        analyst.select_option("#model", "mnl")
        with analyst.expect_navigation():
            analyst.get_by_role("button", name="Fit and publish").click()
        reload_when(analyst, r'<section id="simulator">')  # the fit runs after the redirect
        analyst.wait_for_selector("#sim-ours .bar")
        viewer = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = viewer.new_page()
        _open_tiny_in_the_console(page, base, "viewer@a.ch")
        with page.expect_navigation():
            page.get_by_role("link", name="Market simulator").click()
        page.wait_for_selector("#sim-ours .bar")
        _same_money(_rows(page), cli, ["Ours", "Theirs", "Neither"])
        page.fill("#sim-Ours-price", "25")
        page.locator("#sim-Ours-price").dispatch_event("change")
        _same_money(_rows(page), cli_25, ["Ours", "Theirs", "Neither"])
        save_png(page, ARTIFACTS / "console_simulator_money.png")
