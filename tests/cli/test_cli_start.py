"""The command line answers at once: ``--help`` and ``check`` load no heavy library.

The wall-time bar (0.5 s, median of 5) is measured by ``bench/bench_cli_start.py``; this
test checks the cause with ``python -X importtime``, which does not depend on how busy the
machine is, plus a loose wall-time bound that catches a return of the 2–4 s start.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "car_subscription.yaml"
HEAVY = ("pandas", "scipy", "matplotlib", "sqlalchemy")


def _imported_modules(*args: str) -> set[str]:
    """Top-level names of the modules ``python -X importtime -m offerlab ARGS`` imports."""
    return {module.split(".")[0] for module in _imported_full_names(*args)}


def _imported_full_names(*args: str) -> set[str]:
    """Full names of the modules ``python -X importtime -m offerlab ARGS`` imports."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "offerlab", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        check=True,
    )
    names = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            names.add(module)
    assert "offerlab" in names  # the parse read real importtime output
    return names


@pytest.mark.parametrize("args", [("--help",), ("check", str(EXAMPLE))], ids=["help", "check"])
def test_start_imports_no_heavy_library(args: tuple[str, ...]) -> None:
    heavy = sorted(set(HEAVY) & _imported_modules(*args))
    assert heavy == [], f"offerlab {args[0]} imports {heavy}"


def test_check_needs_no_numpy() -> None:
    # The example has prohibitions; counting their concepts is a small loop, not numpy.
    assert "numpy" not in _imported_modules("check", str(EXAMPLE))


def test_check_loads_only_the_study_and_the_command_line() -> None:
    # Which offerlab packages and which libraries beyond the command line's own (typer,
    # rich, pydantic, yaml) `check` may load; the web, report and model stacks stay out.
    modules = _imported_full_names("check", str(EXAMPLE))
    packages = {m.split(".")[1] for m in modules if m.startswith("offerlab.")}
    assert packages <= {"cli", "exceptions", "study"}, packages
    assert {m for m in modules if m.startswith("offerlab.cli.")} <= {
        "offerlab.cli._choices",
        "offerlab.cli._errors",
        "offerlab.cli.main",
        "offerlab.cli.study",
    }
    tops = {m.split(".")[0] for m in modules}
    # markdown_it and pygments come with typer's rich help and error pages: not for a valid
    # file. The rest are offerlab's heavier dependencies, used by other commands.
    others = {"markdown_it", "pygments", "starlette", "jinja2", "openpyxl", "PIL", "numpy"}
    assert tops.isdisjoint(others), sorted(tops & others)


def test_check_reads_the_study_without_pyyamls_python_scanner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PyYAML's scanner in Python was 0.05 s of the 0.40 s CPU `check` took; the reader
    # now takes libyaml's events for a text it does not need to judge.
    from typer.testing import CliRunner

    from offerlab.cli.main import app

    def scanner_ran(*args: object) -> None:
        raise AssertionError("PyYAML's Python scanner read the study")

    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_more_tokens", scanner_ran)
    result = CliRunner().invoke(app, ["check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "is a valid study" in result.output


def test_check_answers_quickly() -> None:
    # CPU seconds of the child, which a busy machine inflates far less than wall time;
    # loose on purpose: `check` takes about 0.3 s, it took 2.8 s before the lazy imports.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "offerlab", "check", str(EXAMPLE)],
        capture_output=True,
        env=env,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.0


def test_help_answers_quickly() -> None:
    # CPU seconds of the child, as for `check`; loose on purpose: `--help` takes about
    # 0.2 s, the start used to take 2-4 s (bench/bench_cli_start.py times the wall clock).
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "offerlab", "--help"],
        capture_output=True,
        env=env,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.0


def test_every_command_still_shows_its_help() -> None:
    from typer.testing import CliRunner

    from offerlab.cli.main import COMMANDS, app

    runner = CliRunner()
    for entry in COMMANDS:
        result = runner.invoke(app, [entry.name, "--help"])
        assert result.exit_code == 0, (entry.name, result.output)
        assert "Usage:" in result.output and entry.name in result.output
