"""Fixtures of the fielding tests: the example study, a small design, SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from offerlab.design import Design, make_design
from offerlab.store._pgcluster import find_pg_bin, temporary_postgres
from offerlab.study import Study, load_study

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "car_subscription.yaml"
_COUNTER = itertools.count()

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
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server: OFFERLAB_TEST_POSTGRES_URL, or a throwaway cluster of our own."""
    given = os.environ.get("OFFERLAB_TEST_POSTGRES_URL")
    if given:
        yield given.replace("postgresql://", "postgresql+psycopg://", 1)
        return
    if find_pg_bin() is None:
        reason = "PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must run the PostgreSQL tests")
        pytest.skip(reason)
    with temporary_postgres() as url:
        yield url


def _fresh_postgres_database(server: str) -> str:
    import psycopg

    name = f"t{os.getpid()}_{next(_COUNTER)}_{secrets.token_hex(4)}"  # unique across conftests
    base, _, _ = server.rpartition("/")
    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain + "/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'offerlab.db'}"
    return _fresh_postgres_database(request.getfixturevalue("postgres_server"))
