"""Fixtures of the fielding tests: the example study and a small design.

The databases (``database_url``, ``postgres_server``) come from tests/conftest.py.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from offerlab.design import Design, make_design
from offerlab.study import Study, load_study

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "car_subscription.yaml"

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")


@pytest.fixture(scope="session")
def study() -> Study:
    return load_study(EXAMPLE)


@pytest.fixture(scope="session")
def study_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def design(study: Study) -> Design:
    return make_design(study, method="random", versions=4, seed=1)


@pytest.fixture(scope="session")
def _hb_fits_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from _fits import run_folder

    return run_folder(tmp_path_factory)


@pytest.fixture
def shared_hb_fits(monkeypatch: pytest.MonkeyPatch, _hb_fits_folder: Path) -> None:
    """The console's HB fits of this test shared with the other tests' fits of the same
    answers with the same settings (tests/field/_fits.py)."""
    from _fits import sharing_hb_fits

    sharing_hb_fits(monkeypatch, _hb_fits_folder)
