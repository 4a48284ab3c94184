"""Storage of fielding: SQLAlchemy tables, Alembic migrations, atomic steps.

SQLite in the working folder by default; PostgreSQL when ``OFFERLAB_DATABASE_URL``
is set. :func:`make_engine` sets the database up, :func:`migrate` brings its
tables to the newest version.
"""

from offerlab.store import _tables
from offerlab.store._audit import AUDIT_ACTIONS, record_event
from offerlab.store._engine import database_url, make_engine, migrate
from offerlab.store._ops import assign_version, cell_is_full, lock_respondent, take_quota_cells
from offerlab.store._tables import *  # noqa: F403 (the tables: their module lists them)

__all__ = [
    "AUDIT_ACTIONS",
    "assign_version",
    "cell_is_full",
    "database_url",
    "lock_respondent",
    "make_engine",
    "migrate",
    "record_event",
    "take_quota_cells",
]
__all__ += _tables.__all__  # the tables, listed once in their module
