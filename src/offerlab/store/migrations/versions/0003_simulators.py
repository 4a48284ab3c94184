"""Market simulators published from the console for business-unit viewers.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("market_yaml", sa.Text(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('fitting', 'ready', 'failed')", name=op.f("ck_simulators_status")
        ),
        sa.CheckConstraint("model IN ('mnl', 'lc', 'hb')", name=op.f("ck_simulators_model")),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_simulators_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_simulators_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulators")),
    )
    op.create_index(
        "ix_simulators_study_id_created_at", "simulators", ["study_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_simulators_study_id_created_at", table_name="simulators")
    op.drop_table("simulators")
