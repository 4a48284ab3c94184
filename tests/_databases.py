"""SQLite databases for the tests, already migrated: copies of one migrated once a process.

Migrating a new SQLite file to the newest version costs about 65 ms of CPU (Alembic reads
its scripts and runs every step); the fielding tests make a few hundred databases a run.
A copy of a file migrated once is the same database for a millisecond. Each test still
gets its own file, and ``Fielding.open`` still runs ``migrate`` on it (which finds it at
the newest version). The migrations from an empty database keep their own tests
(tests/store on SQLite and PostgreSQL, the migration tests of tests/field,
``offerlab serve`` in tests/field/test_serve_cli.py).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from offerlab.store import make_engine, migrate


@functools.cache
def _migrated_sqlite() -> Path:
    """An SQLite file migrated to the newest version (removed when the process ends)."""
    folder = Path(tempfile.mkdtemp(prefix="offerlab-migrated-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "offerlab.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection closed: the write-ahead log is in the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def fresh_sqlite(path: Path) -> str:
    """A new SQLite database at ``path``, already migrated; its URL."""
    if path.exists():
        raise FileExistsError(path)
    shutil.copyfile(_migrated_sqlite(), path)
    return f"sqlite:///{path}"
