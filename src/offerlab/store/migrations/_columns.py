"""The pieces every revision writes again: the integer key, required columns, named keys.

Names follow the naming convention of ``store/_tables.py`` (``pk_<table>``,
``fk_<table>_<column>_<referred table>``, ``uq_<table>_<column>``, ``ck_<table>_<name>``)
and are marked final with ``op.f``, so each database gets exactly the names the tables'
metadata expects; a revision that used its own names would need its own downgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def required(name: str, type_: sa.types.TypeEngine) -> sa.Column:
    """A NOT NULL column."""
    return sa.Column(name, type_, nullable=False)


def optional(name: str, type_: sa.types.TypeEngine) -> sa.Column:
    """A column that may be NULL."""
    return sa.Column(name, type_, nullable=True)


def created_at() -> sa.Column:
    """When the row was made: seconds since the epoch, as every time in the store."""
    return required("created_at", sa.Float())


class NewTable:
    """One table a revision creates: its name makes the names of its constraints."""

    def __init__(self, name: str) -> None:
        self.name = name

    def create(self, *items: sa.Column | sa.Constraint) -> None:
        """``op.create_table`` with the integer ``id`` first and the named primary key."""
        op.create_table(
            self.name,
            sa.Column("id", sa.Integer(), nullable=False),
            *items,
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{self.name}")),
        )

    def key(
        self, column: str, referred: str, *, ondelete: str, nullable: bool = False
    ) -> sa.Column:
        """An integer column that refers to ``referred.id``."""
        name = op.f(f"fk_{self.name}_{column}_{referred}")
        return sa.Column(
            column,
            sa.Integer(),
            sa.ForeignKey(f"{referred}.id", name=name, ondelete=ondelete),
            nullable=nullable,
        )

    def study_key(self) -> sa.Column:
        """``study_id``: the row belongs to a study and goes with it."""
        return self.key("study_id", "studies", ondelete="CASCADE")

    def creator_key(self) -> sa.Column:
        """``created_by``: the console user who made the row, NULL once the user is gone."""
        return self.key("created_by", "users", ondelete="SET NULL", nullable=True)

    def unique(self, column: str) -> sa.UniqueConstraint:
        """No two rows share ``column``."""
        return sa.UniqueConstraint(column, name=op.f(f"uq_{self.name}_{column}"))

    def check(self, name: str, condition: str) -> sa.CheckConstraint:
        """A CHECK named ``ck_<table>_<name>``."""
        return sa.CheckConstraint(condition, name=op.f(f"ck_{self.name}_{name}"))

    def one_of(self, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
        """``column`` holds one of ``values`` (a CHECK named after the column)."""
        return self.check(column, f"{column} IN ({', '.join(repr(v) for v in values)})")
