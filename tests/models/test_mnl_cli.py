"""The estimate and shares commands, through a Typer app of their own (CliRunner)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
import yaml
from _mnl_sim import STUDY, simulate
from typer.testing import CliRunner

from offerlab.cli.estimate import estimate
from offerlab.cli.shares import shares
from offerlab.exceptions import OfferlabError, SpecError

app = typer.Typer()
app.command("estimate")(estimate)
app.command("shares")(shares)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli")
    study = {**STUDY, "tasks": {"alternatives": 3, "none": {"type": "plain"}}}
    study_path = folder / "study.yaml"
    study_path.write_text(yaml.safe_dump(study, sort_keys=False))
    data_path = folder / "answers.csv"
    simulate(np.random.default_rng(4), 300, 8, none="plain").frame.to_csv(data_path, index=False)
    return study_path, data_path


def test_estimate_with_a_study_prints_and_writes_every_table(files, tmp_path: Path) -> None:
    study, data = files
    out = tmp_path / "tables"
    run = CliRunner().invoke(app, ["estimate", str(data), "--study", str(study), "--out", str(out)])
    assert run.exit_code == 0, run.output
    for title in ("estimates", "Fit", "Attribute importance", "Willingness to pay"):
        assert title in run.output
    written = sorted(p.name for p in out.iterdir())
    assert written == ["estimates.csv", "fit.csv", "importance.csv", "partworths.csv", "wtp.csv"]
    importance = pd.read_csv(out / "importance.csv")
    assert importance["importance"].sum() == pytest.approx(100)
    estimates = pd.read_csv(out / "estimates.csv")
    assert "none" in set(estimates["parameter"]) and "brand[alpha]" in set(estimates["parameter"])


def test_dummy_coding_and_cluster_se_from_the_command_line(files, tmp_path: Path) -> None:
    study, data = files
    args = ["estimate", str(data), "--study", str(study), "--coding", "dummy"]
    run = CliRunner().invoke(app, [*args, "--cov", "cluster", "--out", str(tmp_path)])
    assert run.exit_code == 0, run.output
    assert "cluster SE" in run.output
    estimates = pd.read_csv(tmp_path / "estimates.csv").set_index("parameter")
    assert "brand[beta]" in estimates.index and "brand[alpha]" not in estimates.index
    se = estimates["se_cluster"]
    assert estimates["upper"].to_numpy() == pytest.approx(
        (estimates["estimate"] + 1.959964 * se).to_numpy(), rel=1e-5
    )


def test_estimate_needs_exactly_one_of_study_and_spec(files) -> None:
    study, data = files
    spec = Path(__file__).parents[1] / "data" / "swissmetro_mnl.yaml"
    run = CliRunner().invoke(
        app, ["estimate", str(data), "--study", str(study), "--spec", str(spec)]
    )
    assert isinstance(run.exception, OfferlabError)  # the main CLI turns it into exit code 2
    assert "exactly one of --study" in str(run.exception)
    run = CliRunner().invoke(app, ["estimate", str(data)])
    assert isinstance(run.exception, OfferlabError)


def test_a_broken_spec_is_reported_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("utility:\n  B: {variable: x, alternative: [a]}\n")
    run = CliRunner().invoke(app, ["estimate", "--spec", str(bad)])
    assert isinstance(run.exception, SpecError)
    message = str(run.exception)  # the study loader's words, with the likely fix
    assert f"{bad}:2:" in message and "unknown key 'alternative'" in message
    assert "did you mean 'alternatives'?" in message


def test_shares_command_prints_each_offer_and_none(files, tmp_path: Path) -> None:
    study, data = files
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        yaml.safe_dump(
            [
                {"name": "basic", "brand": "alpha", "size": "small", "term": 12, "price": 20},
                {"name": "plus", "brand": "beta", "size": "large", "term": 18, "price": 32.5},
            ]
        )
    )
    args = ["shares", str(data), "--study", str(study), "--scenario", str(scenario)]
    run = CliRunner().invoke(app, [*args, "--seed", "1", "--draws", "200"])
    assert run.exit_code == 0, run.output
    for name in ("basic", "plus", "none", "95% interval"):
        assert name in run.output
    scenario.write_text(yaml.safe_dump([{"brand": "omega"}]))
    run = CliRunner().invoke(app, args)
    assert isinstance(run.exception, OfferlabError)
    assert str(scenario) in str(run.exception)
