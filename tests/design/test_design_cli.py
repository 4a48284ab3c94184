"""``offerlab design`` as a Typer command: writes the table and prints the diagnostics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from offerlab.cli.design import design
from offerlab.design import Design
from offerlab.study import load_study

STUDY = {
    "name": "cli",
    "attributes": [
        {
            "name": "colour",
            "label": "Colour",
            "levels": [{"name": c, "label": c} for c in ("red", "blue", "green")],
        },
        {"name": "price", "label": "Price", "type": "price", "values": [10, 20, 30]},
        {
            "name": "extra",
            "label": "Extra",
            "levels": [{"name": "no", "label": "no"}, {"name": "yes", "label": "yes"}],
        },
    ],
    "tasks": {"alternatives": 3, "per_respondent": 6},
    "design": {"versions": 2, "seed": 4},
}


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("design")(design)
    app.command("noop")(lambda: None)  # keep "design" a named sub-command
    return app


@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(STUDY), encoding="utf-8")
    return path


@pytest.mark.parametrize("method", ["balanced", "efficient"])
def test_design_command_writes_and_diagnoses(app, study_file, tmp_path, method) -> None:
    out = tmp_path / "out" / "design.parquet"
    result = CliRunner().invoke(
        app,
        [
            "design",
            str(study_file),
            "--method",
            method,
            "--out",
            str(out),
            "--respondents",
            "300",
            "--seconds",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert frame["version"].nunique() == 2
    study = load_study(study_file)
    back = Design.read(study, out)
    assert back.levels.shape == (2, 6, 3, 3)
    text = " ".join(result.output.split())  # tables wrap their titles
    assert "D-efficiency" in text
    assert "300 respondents" in text
    assert "colour[red]" in text


def test_design_command_is_reproducible(app, study_file, tmp_path) -> None:
    outs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for out in outs:
        result = CliRunner().invoke(
            app,
            [
                "design",
                str(study_file),
                "--method",
                "random",
                "--seed",
                "9",
                "--versions",
                "3",
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
    a, b = (pd.read_csv(p) for p in outs)
    pd.testing.assert_frame_equal(a, b)
    assert a["version"].max() == 3
    assert not a["holdout"].any()


def test_bad_method_is_refused_with_the_choices(app, study_file, tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["design", str(study_file), "--method", "magic", "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2
    assert "'magic' is not one of 'efficient', 'balanced', 'random'" in " ".join(
        result.output.replace("│", " ").split()
    )
    assert not (tmp_path / "x.csv").exists()
