"""The demo's run, shared: `offerlab demo` once per session for every test that reads it.

The demo's hierarchical Bayes is its longest step; the tests of the demo's part-worths
(test_demo_model.py) check the very fit the demo decided on, kept as the run made it.
tests/conftest.py keeps the modules using it on one worker under ``pytest -n``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """``offerlab demo --out DIR --respondents 300``: its folder, its output and exit code,
    and the hierarchical Bayes fit it made (``hb``) with the choice data it fitted (``data``)."""
    from typer.testing import CliRunner

    import offerlab.cli.demo as demo
    from offerlab.cli.main import app

    out = tmp_path_factory.mktemp("demo") / "demo"
    kept: dict[str, Any] = {}
    made_by_the_demo = demo.demo_model

    def keeping_its_fit(seed: int) -> Any:
        model = made_by_the_demo(seed)
        fit = model.fit

        def fit_and_keep(data: Any, **options: Any) -> Any:
            kept["data"], kept["hb"] = data, fit(data, **options)
            return kept["hb"]

        model.fit = fit_and_keep
        return model

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "demo_model", keeping_its_fit)
        result = CliRunner().invoke(
            app, ["demo", "--out", str(out), "--respondents", "300"], env={"COLUMNS": "160"}
        )
    return SimpleNamespace(
        out=out,
        exit_code=result.exit_code,
        output=result.output,
        failure=f"{result.output}\n{result.exception!r}",
        hb=kept.get("hb"),
        data=kept.get("data"),
    )


@pytest.fixture(scope="session")
def demo_out(demo_run: SimpleNamespace) -> Path:
    """The demo's folder, after a run that succeeded."""
    assert demo_run.exit_code == 0, demo_run.failure
    return demo_run.out
