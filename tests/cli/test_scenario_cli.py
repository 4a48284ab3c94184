"""``offerlab shares --scenario``: file:line:field errors, exit 2, marked extrapolation."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from _example import EXAMPLES, make_example

from offerlab.cli._errors import guarded
from offerlab.cli.shares import shares

app = typer.Typer(pretty_exceptions_enable=False)
app.command("shares")(guarded(shares))
app.command("unused")(lambda: None)  # two commands: the name is part of the call, as in main
runner = CliRunner()
SCENARIO = (EXAMPLES / "car_subscription_scenario.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    return make_example(tmp_path_factory.mktemp("example"))


def _shares(example, scenario: str, tmp_path: Path, *args: str):
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario, encoding="utf-8")
    given = [str(example.answers_path), "--study", str(example.study_path)]
    result = runner.invoke(app, ["shares", *given, "--scenario", str(path), *args])
    return result, path


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _one_line(output: str) -> str:
    return " ".join(output.split())


def test_a_price_outside_the_studied_range_is_an_error_with_file_line_and_field(
    example, tmp_path: Path
) -> None:
    scenario = SCENARIO.replace("monthly_price: 690", "monthly_price: 1200")
    result, path = _shares(example, scenario, tmp_path, "--draws", "0")
    assert result.exit_code == 2, result.output
    line = _line_of(scenario, "monthly_price: 1200")
    assert (
        f"{path}:{line}:5: offers[0].monthly_price: 1200 lies outside the studied range "
        "[390, 990]" in _one_line(result.output)
    )
    assert "--extrapolate" in result.output and "Shares of preference" not in result.output


def test_with_extrapolate_every_extrapolated_number_is_marked(example, tmp_path: Path) -> None:
    scenario = SCENARIO.replace("monthly_price: 690", "monthly_price: 1200")
    out = tmp_path / "out"
    result, _ = _shares(example, scenario, tmp_path, "--extrapolate", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    flex = rows["Flex Electric †"]
    assert flex.count("†") == 3  # the name, the share and its interval
    assert "†" not in rows["Family SUV"] and "†" not in rows["City Compact"]
    text = _one_line(result.output)
    assert "† extrapolated (--extrapolate)" in text
    assert "Flex Electric: monthly_price = 1200 lies outside the studied range [390, 990]" in text
    table = pd.read_csv(out / "shares.csv").set_index("offer")
    assert table["extrapolated"].to_dict() == {
        "Flex Electric": True, "Family SUV": False, "City Compact": False, "none": False,
    }  # fmt: skip
    assert table["share"].sum() == pytest.approx(1.0, abs=1e-12)


def test_within_the_range_nothing_is_marked(example, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result, _ = _shares(example, SCENARIO, tmp_path, "--draws", "0", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "†" not in result.output
    assert not pd.read_csv(out / "shares.csv")["extrapolated"].any()


@pytest.mark.parametrize(
    ("change", "needle", "column", "field", "says"),
    [
        (("car_class: suv", "car_class: truck"), "car_class: truck", 5,
         "offers[1].car_class", "attribute 'car_class' has no level 'truck'"),
        (("    delivery: home\n", "    delivery: home\n    colour: red\n"), "colour: red", 5,
         "offers[0].colour", "unknown attribute; the study has monthly_price"),
        (("    term: 6\n", ""), "- name: City Compact", 5,
         "offers[2]", "no level given for term"),
        (("name: Family SUV", "name: Flex Electric"), "name: Flex Electric\n    monthly_price: 790",
         5, "offers[1].name", "the name 'Flex Electric' is used twice"),
    ],
)  # fmt: skip
def test_scenario_errors_name_file_line_and_field(
    example, tmp_path: Path, change, needle: str, column: int, field: str, says: str
) -> None:
    scenario = SCENARIO.replace(*change)
    result, path = _shares(example, scenario, tmp_path)
    assert result.exit_code == 2, result.output
    line = scenario[: scenario.index(needle)].count("\n") + 1
    assert f"{path}:{line}:{column}: {field}: {says}" in _one_line(result.output)
    assert "Traceback" not in result.output


def test_a_yaml_syntax_error_is_one_clear_line(example, tmp_path: Path) -> None:
    scenario = SCENARIO.replace("car_class: electric", "car_class: [electric")
    result, path = _shares(example, scenario, tmp_path)
    assert result.exit_code == 2, result.output
    line = _line_of(scenario, "car_class: [electric")
    message = result.output.strip()
    assert message == f"error: {path}:{line}:16: the '[' opened here is never closed with ']'"


def test_a_yaml_bomb_scenario_is_refused(example, tmp_path: Path) -> None:
    bomb = (Path(__file__).parents[1] / "study" / "bombs" / "nested_aliases.yaml").read_text()
    result, path = _shares(example, bomb, tmp_path)
    assert result.exit_code == 2, result.output
    assert f"{path}:7:23: e[5]: the alias *d repeats" in _one_line(result.output)
