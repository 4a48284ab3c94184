"""``offerlab estimate --model lc|hb``: options reach the estimator, results reach the files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from offerlab.cli._heterogeneity import parse_class_counts, parse_restrictions, parse_signs
from offerlab.cli.main import app
from offerlab.exceptions import OfferlabError

SPEC = Path(__file__).resolve().parents[1] / "data" / "swissmetro_mnl.yaml"


def test_biogeme_b07_from_the_command_line(tmp_path: Path) -> None:
    # biogeme's b07_discrete_mixture: two classes per task, class 1 ignores time.
    result = CliRunner().invoke(
        app,
        [
            "estimate",
            "--spec",
            str(SPEC),
            "--model",
            "lc",
            "--cross-section",
            "--shared",
            "ASC_TRAIN",
            "--shared",
            "ASC_CAR",
            "--shared",
            "B_COST",
            "--fix",
            "1:B_TIME=0",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    fit = pd.read_csv(tmp_path / "fit.csv", index_col=0)["value"]
    assert float(fit["log-likelihood"]) == pytest.approx(-5208.498030, abs=1e-3)
    shares = pd.read_csv(tmp_path / "class_shares.csv", index_col="class")
    assert shares.loc[1, "share"] == pytest.approx(0.250792, abs=1e-5)
    estimates = pd.read_csv(tmp_path / "estimates.csv").set_index(["class", "parameter"])
    assert estimates.loc[(2, "B_TIME"), "estimate"] == pytest.approx(-2.797932, abs=1e-5)
    assert estimates.loc[(1, "B_TIME"), "status"] == "fixed"
    posteriors = pd.read_csv(tmp_path / "posteriors.csv")  # per task in a cross-section
    per_task = posteriors.groupby(["respondent", "observation"])["probability"]
    assert len(per_task) == 6768
    assert per_task.sum().to_numpy() == pytest.approx(1.0, abs=1e-12)


def test_a_range_of_class_counts_is_tabulated_and_the_best_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "estimate",
            "--spec",
            str(SPEC),
            "--model",
            "lc",
            "--classes",
            "1-2",
            "--starts",
            "2",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "class_table.csv", index_col="classes")
    assert list(table.index) == [1, 2]
    assert table.loc[1, "llf"] == pytest.approx(-5331.252007, abs=1e-4)  # one class = the MNL
    assert table.loc[2, "llf"] > table.loc[1, "llf"]
    assert "the smallest bic picks 2" in result.output


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (parse_class_counts, "3", [3]),
        (parse_class_counts, "1-4", [1, 2, 3, 4]),
        (parse_class_counts, "2,4", [2, 4]),
        (
            parse_restrictions,
            ["1:B_TIME=0", "2:B_COST=-1.5"],
            {1: {"B_TIME": 0.0}, 2: {"B_COST": -1.5}},
        ),
        (parse_signs, ["monthly_price=-", "km=+"], {"monthly_price": -1, "km": 1}),
    ],
)
def test_option_values_are_parsed(parse, text, expected) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_class_counts, "0-2", "not a range of counts >= 1"),
        (parse_class_counts, "two", "takes a number, a range like 1-4"),
        (parse_restrictions, ["B_TIME=0"], "CLASS:COEFFICIENT=VALUE"),
        (parse_restrictions, ["1:B_TIME=zero"], "'zero' is not a number"),
        (parse_signs, ["price<0"], "COEFFICIENT=- or COEFFICIENT=+"),
    ],
)
def test_bad_option_values_say_what_is_expected(parse, text, message) -> None:
    with pytest.raises(OfferlabError, match=message):
        parse(text)


def test_mixed_logit_options_reach_the_estimator(tmp_path: Path) -> None:
    from offerlab.models._mxl import MixedLogit

    spec = SPEC.parent.parent.parent / "examples" / "swissmetro_mxl.yaml"
    result = CliRunner().invoke(
        app,
        [
            "estimate",
            "--spec",
            str(spec),
            "--model",
            "mxl",
            "--draws",
            "sobol",
            "--n-draws",
            "64",
            "--seed",
            "3",
            "--hessian",
            "bhhh",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    fit = pd.read_csv(tmp_path / "fit.csv", index_col=0)["value"]
    assert fit["draws"] == "64 sobol"
    expected = MixedLogit(n_draws=64, draws="sobol", seed=3, hessian="bhhh").fit(spec=spec)
    assert float(fit["log-likelihood"]) == pytest.approx(expected.llf, abs=1e-9)
    random = pd.read_csv(tmp_path / "random_coefficients.csv")
    assert random["coefficient"].tolist() == ["B_TIME"]
    individual = pd.read_csv(tmp_path / "individual.csv")
    assert len(individual) == 6768  # b05a is a cross-section: one row per task
