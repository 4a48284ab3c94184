"""The database: SQLite in the working folder by default, PostgreSQL when configured.

``OFFERLAB_DATABASE_URL`` chooses the database (``postgresql://user:pw@host/db``
or any SQLAlchemy URL); without it, ``offerlab.db`` in the working folder is used.

SQLite is set up for a web app: write-ahead log (readers never wait for the
writer), foreign keys on, a busy timeout (a writer waits for the lock instead of
failing), ``synchronous=FULL`` (a committed answer survives a crash of the
machine, not only of the process; ``OFFERLAB_SQLITE_SYNCHRONOUS=NORMAL`` trades
that for about twice the pages per second, still safe from a killed process),
and every transaction that may write starts with
``BEGIN IMMEDIATE``: it takes the write lock at once, so two requests never both
read and then fail to upgrade to writing (SQLite's "database is locked" under
load). Connections with the execution option ``offerlab_read_only`` begin a plain
(deferred) transaction and never wait for writers.

Migrations (Alembic, shipped in the package) run on start, under a lock so that
several workers starting together migrate once: PostgreSQL's advisory lock, or
SQLite's write lock.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_SQLITE", "database_url", "make_engine", "migrate"]

DEFAULT_SQLITE = "offerlab.db"
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 7_316_244_001  # any constant, the same for every worker
_BUSY_TIMEOUT_MS = 30_000


def database_url(url: str | None = None) -> str:
    """The URL to use: ``url``, else ``OFFERLAB_DATABASE_URL``, else SQLite in the working folder.

    ``postgresql://`` URLs get the psycopg (3) driver.
    """
    url = url or os.environ.get("OFFERLAB_DATABASE_URL") or ""
    if not url:
        return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None, **options: Any) -> Engine:
    """An engine for ``url`` (see :func:`database_url`), set up for concurrent requests."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() == "sqlite":
        if resolved.database in (None, "", ":memory:"):  # one shared in-memory connection
            from sqlalchemy.pool import StaticPool

            options.setdefault("poolclass", StaticPool)
        else:
            options.setdefault("pool_size", 16)
            options.setdefault("max_overflow", 16)
        engine = create_engine(
            resolved,
            connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_MS / 1000},
            **options,
        )
        _setup_sqlite(engine)
        return engine
    return create_engine(
        resolved,
        pool_size=options.pop("pool_size", 10),
        max_overflow=options.pop("max_overflow", 20),
        pool_pre_ping=True,
        **options,
    )


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        _write_ahead_log(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={_synchronous()}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get("offerlab_read_only"):
            connection.exec_driver_sql("BEGIN")  # a snapshot for reading, no lock
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _write_ahead_log(cursor: Any) -> None:
    """Switch the file to WAL (it stays so). Several workers opening a new database at once
    race for the switch, which SQLite answers with 'locked' at once instead of waiting."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")  # in-memory databases stay 'memory'
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _synchronous() -> str:
    """FULL (the default): a commit survives a power cut. NORMAL, by choice through
    ``OFFERLAB_SQLITE_SYNCHRONOUS``: survives a crash of the process or server (the
    write-ahead log is synced at checkpoints), about twice the pages per second."""
    value = os.environ.get("OFFERLAB_SQLITE_SYNCHRONOUS", "FULL").upper()
    return value if value in ("FULL", "NORMAL") else "FULL"


def migrate(engine: Engine) -> None:
    """Bring the database's tables to the newest version (idempotent, safe with many workers).

    On SQLite, foreign keys are off while migrations run: a migration in batch mode
    copies a table and drops the old one, and with them on, dropping ``studies`` would
    delete every respondent (``ON DELETE CASCADE``). The keys are checked before the
    migration commits instead (``PRAGMA foreign_key_check``).
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        driver = connection.connection.driver_connection
        if sqlite:  # outside a transaction, or SQLite ignores it
            driver.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("a migration left rows whose foreign keys do not match")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
