"""The console's team: a member's language, and invitations of new members by link.

Revision ID: 0007_console_team
Revises: 0009_dashboard (after the dashboard merged on main)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_console_team"
down_revision = "0009_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on every database (no batch copy of 'users', see 0002).
    op.add_column("users", sa.Column("language", sa.String(length=2), nullable=True))
    op.create_table(
        "member_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venture_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["venture_id"],
            ["ventures.id"],
            name=op.f("fk_member_invitations_venture_id_ventures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_member_invitations_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_invitations_token_hash")),
        sa.CheckConstraint(
            "role IN ('owner', 'analyst', 'viewer')", name=op.f("ck_member_invitations_role")
        ),
    )
    op.create_index(
        "ix_member_invitations_venture_id", "member_invitations", ["venture_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_member_invitations_venture_id", table_name="member_invitations")
    op.drop_table("member_invitations")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
