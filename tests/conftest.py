"""Fixtures shared by the tests that need a database (SQLite and PostgreSQL) or Chromium.

PostgreSQL is OFFERLAB_TEST_POSTGRES_URL, or one throwaway cluster for the whole session
(`.ci/run` installs the server from Debian's packages). Without the binaries the
PostgreSQL cases skip with the reason; under CI=true they fail instead.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import CHROMIUM, CHROMIUM_ARGS, needs_browser
from _databases import fresh_sqlite

from offerlab.store import make_engine, migrate
from offerlab.store._pgcluster import find_pg_bin, temporary_postgres

_COUNTER = itertools.count()

#: Where the temporary files go when nobody chose (TMPDIR): memory, if it has room.
MEMORY = Path("/dev/shm")
MEMORY_NEEDED = 4 * 2**30  # bytes free: a run's databases, PostgreSQL cluster, profiles


def pytest_configure(config: pytest.Config) -> None:
    _one_blas_thread_per_worker(config)
    _temporary_files_in_memory()


def _one_blas_thread_per_worker(config: pytest.Config) -> None:
    """Under ``pytest -n`` (make test) each worker's NumPy gets one OpenBLAS thread
    (OPENBLAS_NUM_THREADS=1, unless set): the workers, and the chains an HB fit forks,
    already keep every core busy, and OpenBLAS' own thread per core then spins waiting for
    a core. Two HB tests side by side (test_hb_exact, test_maxdiff's HB), as the two
    workers run them: 16.9 -> 8.9 and 18.2 -> 18.5 CPU s, 37.5 -> 25.0 s of wall time for
    both; alone, one thread cost no more (10.1 -> 9.2 CPU s). Set before xdist starts its
    workers, which inherit it (this process's NumPy is not the workers')."""
    if "OPENBLAS_NUM_THREADS" in os.environ or not config.getoption("numprocesses", None):
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"


def _temporary_files_in_memory() -> None:
    """Temporary files in memory (tmpfs) when TMPDIR is not set and /dev/shm has room:
    pytest's tmp_path, the PostgreSQL cluster, the SQLite databases, Chromium's profiles.
    The tests write databases (SQLite commits with ``synchronous=FULL``, each an fsync;
    the cluster's files) that a disk makes every test wait for, and a busy disk longer:
    the same tests, same code, ran in 41-43 s instead of 60-66 s of wall time (the same
    CPU). Set TMPDIR to keep them on a disk. Set before xdist starts its workers, which
    inherit it."""
    if "TMPDIR" in os.environ or not MEMORY.is_dir() or not os.access(MEMORY, os.W_OK):
        return
    if shutil.disk_usage(MEMORY).free < MEMORY_NEEDED:
        return
    os.environ["TMPDIR"] = str(MEMORY)
    tempfile.tempdir = None  # gettempdir() looks again


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


def _fresh_postgres_database(server: str, template: str | None = None) -> str:
    """A new database on ``server``: empty, or a copy of the database ``template``."""
    import psycopg

    name = f"t{os.getpid()}_{next(_COUNTER)}_{secrets.token_hex(4)}"
    base, _, _ = server.rpartition("/")
    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    copy = f" TEMPLATE {template}" if template else ""
    with psycopg.connect(plain + "/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}{copy}")
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind: what the migrations' own tests start from."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'offerlab.db'}"
    return _fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def _migrated_postgres_template(postgres_server: str) -> str:
    """The name of a PostgreSQL database migrated to the newest version, once a session
    (no connection left open: PostgreSQL copies a template nobody is connected to)."""
    url = _fresh_postgres_database(postgres_server)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url.rpartition("/")[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind, of its own, already at the newest migration: a copy
    of one migrated once a session (the migrations cost ~65 ms of CPU a database, a few
    hundred times a run). The migrations themselves run from an empty database in their
    own tests (``database_url``: tests/store, the migration tests of tests/field)."""
    if request.param == "sqlite":
        return fresh_sqlite(tmp_path / "offerlab.db")
    server = request.getfixturevalue("postgres_server")
    return _fresh_postgres_database(server, request.getfixturevalue("_migrated_postgres_template"))


AXE_SCRIPT = Path(__file__).parent / "browser-tools" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (``make test`` installs it with npm), to inject into pages."""
    if not AXE_SCRIPT.exists():
        reason = f"axe-core not installed ({AXE_SCRIPT}); run `make test` (needs npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE_SCRIPT.read_text(encoding="utf-8")


# -- one Chromium for all the tests of a module ---------------------------------------------


@pytest.fixture(scope="module")
def _module_chromium() -> Iterator[Any]:
    """One Chromium (and one Playwright driver) for a module's tests: starting both costs
    about a CPU second, a new context per test a tenth of that.

    Not for the whole session: a running sync Playwright leaves its asyncio loop marked
    as running in the main thread, so a later test's ``asyncio.run`` (or another module's
    own ``sync_playwright``) on the same worker would fail. A module's tests run
    together on one worker (``--dist loadscope``), so the browser starts once per module.
    """
    needs_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser(_module_chromium: Any) -> Iterator[Any]:
    """The module's Chromium; the contexts a test opened are closed after it (a page
    left open, such as a polling dashboard, would go on using the CPU)."""
    yield _module_chromium
    for context in _module_chromium.contexts:
        context.close()


# -- how `pytest -n 2` (make test) shares the work between its two workers -----------------
#: Modules that share an expensive session fixture run on the same worker, which builds it
#: once: the demo's run (tests/cli/conftest.py) and the report example (tests/report/).
SHARED_UNITS = {
    "tests/cli/test_pipeline.py": "demo",
    "tests/cli/test_demo_model.py": "demo",
    "tests/report/": "report example",
}
#: The longest work units of a fresh run (``--durations``), handed out first so that the
#: two workers finish together instead of one starting a minute-long module at the end.
LONGEST_FIRST = (
    "demo",
    "tests/field/test_browser_console.py",
    "report example",
    "tests/models/test_maxdiff.py",
    "tests/field/test_survey_layout.py",
    "tests/field/test_browser_simulator_report.py",
    "tests/models/test_hb_recovery.py",
    # 20-60 s each in a fresh run on a busy machine: kept from the end of the run, where
    # one of them on one worker would leave the other idle (tests/models comes last)
    "tests/models/test_hb_exact.py",
    "tests/field/test_serve_cli.py",
    "tests/field/test_publications.py",
    "tests/field/test_browser_needs.py",
    "tests/models/test_hb_scaling.py",
    "tests/models/test_hb_stopping.py",
)


def work_unit(nodeid: str) -> str:
    """The tests that run together on one worker: a module (its module-scoped fixtures are
    built once, not once per worker), or the modules sharing a session fixture."""
    module = nodeid.split("::")[0]
    return next((u for prefix, u in SHARED_UNITS.items() if module.startswith(prefix)), module)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))  # stable


@pytest.hookimpl(optionalhook=True)  # pytest without xdist (-p no:xdist) still runs
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under ``--dist loadscope``: one work unit per :func:`work_unit`, in collection
    order (``--no-loadscope-reorder``), so the longest start first."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnits(config, log)
