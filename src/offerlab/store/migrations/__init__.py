"""Alembic migrations of the fielding tables, run by :func:`offerlab.store.migrate`."""
