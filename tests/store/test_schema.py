"""The migrated database has exactly the schema of the tables' metadata, on both databases.

Alembic's autogenerate (test_store.py) passes over CHECK constraints, server defaults and
the names of constraints; here every one of them is compared: the database that the chain
of revisions builds against a database that ``Base.metadata.create_all`` builds, both
reflected by SQLAlchemy the same way.
"""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from offerlab.store import Base, make_engine, migrate


def _twin(url: str) -> str:
    """A second empty database next to ``url`` (the same server or folder)."""
    if url.startswith("sqlite"):
        return url.replace("offerlab.db", "metadata.db")
    base, _, name = url.rpartition("/")
    with create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT").connect() as c:
        c.execute(text(f"CREATE DATABASE {name}_metadata"))
    return f"{base}/{name}_metadata"


def _schema(engine: Engine) -> dict[str, dict]:
    """Every table's columns, keys, unique constraints, indexes and checks, as reflected."""
    inspector = inspect(engine)
    dialect = engine.dialect
    tables = sorted(set(inspector.get_table_names()) - {"alembic_version"})
    return {
        table: {
            "columns": sorted(
                (c["name"], c["type"].compile(dialect), c["nullable"], c["default"])
                for c in inspector.get_columns(table)
            ),
            "primary key": inspector.get_pk_constraint(table),
            "foreign keys": sorted(
                (
                    fk["name"],
                    fk["constrained_columns"],
                    fk["referred_table"],
                    fk["referred_columns"],
                    sorted(fk["options"].items()),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(table)
            ),
            "checks": sorted(
                (c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)
            ),
        }
        for table in tables
    }


def test_the_migrated_schema_is_the_metadata_to_every_name_check_and_default(
    database_url,
) -> None:
    migrated = make_engine(database_url)
    migrate(migrated)
    declared = make_engine(_twin(database_url))
    Base.metadata.create_all(declared)

    have, want = _schema(migrated), _schema(declared)
    migrated.dispose()
    declared.dispose()
    assert sorted(have) == sorted(want)
    for table in want:
        assert have[table] == want[table], table
