"""The ``check`` command, on a small Typer app of its own and through ``python -m offerlab``."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from offerlab.cli.study import check
from offerlab.exceptions import StudyError

HERE = Path(__file__).parent
EXAMPLE = HERE.parent.parent / "examples" / "car_subscription.yaml"
BROKEN = HERE / "broken" / "prohibition_unknown_level.yaml"

app = typer.Typer()
app.command()(check)
runner = CliRunner()


def test_check_summarises_the_example() -> None:
    result = runner.invoke(app, [str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Ihr Auto im Abo" in out
    assert "CHF\u00a0590.– /\u00a0Monat" in out
    assert "Kompaktwagen" in out
    assert "3,264 allowed of 3,840" in out
    assert "12 per respondent, 3 concepts each" in out
    assert "dual response" in out
    assert "is a valid study" in out


def test_check_in_another_language() -> None:
    result = runner.invoke(app, [str(EXAMPLE), "--language", "fr"])
    assert result.exit_code == 0, result.output
    assert "Votre voiture en abonnement" in result.output
    assert "CHF\u00a0590.– /\u00a0mois" in result.output


def test_check_rejects_a_language_the_study_lacks() -> None:
    result = runner.invoke(app, [str(EXAMPLE), "--language", "es"])
    assert result.exit_code == 2
    assert "'es' is not one of 'de', 'fr', 'it', 'en'" in " ".join(
        result.output.replace("│", " ").split()
    )


def test_check_lets_study_errors_through() -> None:
    result = runner.invoke(app, [str(BROKEN)])
    assert isinstance(result.exception, StudyError)
    assert f"{BROKEN}:16:" in str(result.exception)


def _main_cli_importable() -> bool:
    try:
        importlib.import_module("offerlab.cli.main")
    except ImportError:
        return False
    return True


@pytest.mark.skipif(
    importlib.util.find_spec("offerlab.__main__") is None, reason="no python -m offerlab yet"
)
def test_python_m_offerlab_check() -> None:
    if not _main_cli_importable():
        pytest.skip("offerlab.cli.main does not import yet")
    ok = subprocess.run(
        [sys.executable, "-m", "offerlab", "check", str(EXAMPLE)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "offerlab", "check", str(BROKEN)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert bad.returncode != 0
    assert "prohibitions[1].car_class" in bad.stderr
    assert ":16:" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_check_shows_the_level_names_that_other_files_refer_to() -> None:
    result = runner.invoke(app, [str(EXAMPLE), "--language", "en"])
    assert result.exit_code == 0
    assert "(compact)" in result.output and "(premium)" in result.output
