"""``offerlab simulate-market`` says one thing once: one "how sure" number, shares as
percentages in every table, money per head, the report's cautions (issue 13, finding 9)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
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


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    """simulate-market on the example, City Compact at CHF 990, the highest price studied."""
    example = make_example(tmp_path_factory.mktemp("example"))
    raw = yaml.safe_load(example.market_path.read_text("utf-8"))
    raw["optimise"] = {"tiers": ["Our City Compact"], "prices": [990]}
    market = example.tmp / "edge_market.yaml"
    market.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    out = example.tmp / "out"
    result = runner.invoke(
        app,
        ["simulate-market", str(example.answers_path), "--study", str(example.study_path),
         "--market", str(market), "--optimise", "profit", "--draws", "40", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.replace("│", " ").split())
    return text, pd.read_csv(out / "optimisation.csv"), pd.read_csv(out / "shares.csv")


def test_one_definition_of_how_sure_the_recommendation_is(run) -> None:
    text, best, _ = run
    assert "beats the runner-up" not in text
    p_best = best["p_best"].iloc[0]
    assert f"best of the {len(best)} candidates listed in {100 * p_best:.0f}% of the" in text


def test_shares_are_percentages_in_every_table(run) -> None:
    text, best, shares = run
    for share in list(best["share"].head(5)) + list(shares["share"]):
        assert f"{100 * share:.1f}%" in text
        assert f"{share:.6g}" not in text  # no 0.130724 beside 13.1%
    assert f"{100 * best['p_best'].iloc[0]:.1f}%" in text


def test_the_edge_of_range_caution_of_the_report_is_in_the_cli(run) -> None:
    text, best, _ = run
    assert "monthly_price=990" in best["lineup"].iloc[0]  # the only price searched
    assert "Caution: CHF 990 is the highest price studied" in text


def test_the_market_table_gives_profit_per_head_with_intervals(run) -> None:
    text, _, shares = run
    ours = shares[shares["ours"]]
    assert "profit per" in text and "margin per" in text and "our offers" in text
    for row in ours.itertuples():
        assert f"[{row.profit_lower:,.2f}, {row.profit_upper:,.2f}]" in text
    assert (ours["profit"] == (ours["price"] - ours["cost"]) * ours["share"]).all()
