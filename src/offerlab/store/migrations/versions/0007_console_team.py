"""The console's team: a member's language, and invitations of new members by link."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offerlab.store.migrations._columns import NewTable, created_at, optional, required

revision = "0007_console_team"
down_revision = "0009_dashboard"  # after the dashboard merged on main


def upgrade() -> None:
    # A plain ADD COLUMN on every database (no batch copy of 'users', see 0002).
    op.add_column("users", sa.Column("language", sa.String(length=2), nullable=True))
    invitations = NewTable("member_invitations")
    invitations.create(
        invitations.key("venture_id", "ventures", ondelete="CASCADE"),
        required("email", sa.String(length=254)),
        required("role", sa.String(length=16)),
        required("token_hash", sa.String(length=64)),
        created_at(),
        required("expires_at", sa.Float()),
        optional("used_at", sa.Float()),
        invitations.creator_key(),
        invitations.unique("token_hash"),
        invitations.one_of("role", ("owner", "analyst", "viewer")),
    )
    op.create_index(
        "ix_member_invitations_venture_id", "member_invitations", ["venture_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_member_invitations_venture_id", table_name="member_invitations")
    op.drop_table("member_invitations")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
