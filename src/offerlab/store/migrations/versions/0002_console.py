"""The team's console: ventures, users, memberships, shares, sessions, login failures."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offerlab.store.migrations._columns import NewTable, created_at, required

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    NewTable("login_failures").create(
        required("key", sa.String(length=300)),
        required("at", sa.Float()),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_key_at", ["key", "at"], unique=False)

    users = NewTable("users")
    users.create(
        required("email", sa.String(length=254)),
        required("password_hash", sa.String(length=200)),
        created_at(),
        users.unique("email"),
    )
    ventures = NewTable("ventures")
    ventures.create(
        required("name", sa.String(length=100)),
        created_at(),
        ventures.unique("name"),
    )
    sessions = NewTable("console_sessions")
    sessions.create(
        required("token_hash", sa.String(length=64)),
        sessions.key("user_id", "users", ondelete="CASCADE"),
        required("csrf", sa.String(length=64)),
        required("expires_at", sa.Float()),
        sessions.unique("token_hash"),
    )
    memberships = NewTable("memberships")
    memberships.create(
        memberships.key("user_id", "users", ondelete="CASCADE"),
        memberships.key("venture_id", "ventures", ondelete="CASCADE"),
        required("role", sa.String(length=16)),
        memberships.one_of("role", ("owner", "analyst", "viewer")),
        sa.UniqueConstraint("user_id", "venture_id", name="uq_memberships_member"),
    )
    shares = NewTable("study_shares")
    shares.create(
        shares.study_key(),
        shares.key("user_id", "users", ondelete="CASCADE"),
        sa.UniqueConstraint("study_id", "user_id", name="uq_study_shares_share"),
    )
    _add_studies_venture()


def _add_studies_venture() -> None:
    # A plain ADD COLUMN (no table copy): SQLite's batch mode would recreate 'studies',
    # and dropping the old table with foreign keys on would cascade to the respondents.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE studies ADD COLUMN venture_id INTEGER "
            "REFERENCES ventures (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("studies", sa.Column("venture_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_studies_venture_id_ventures",
            "studies",
            "ventures",
            ["venture_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    # On SQLite, run a downgrade with foreign keys off (PRAGMA foreign_keys=OFF): the batch
    # mode recreates 'studies'.
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_studies_venture_id_ventures"), type_="foreignkey")
        batch_op.drop_column("venture_id")

    op.drop_table("study_shares")
    op.drop_table("memberships")
    op.drop_table("console_sessions")
    op.drop_table("ventures")
    op.drop_table("users")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_key_at")

    op.drop_table("login_failures")
