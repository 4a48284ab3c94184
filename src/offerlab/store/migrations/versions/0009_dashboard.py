"""The live dashboard's figures from an index: respondents.is_test and ix_respondents_figures."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_dashboard"
down_revision = "0008_scenarios_publications"

_COLUMNS = ["study_id", "is_test", "status", "finished_at", "started_at", "shown_at"]


def upgrade() -> None:
    # A plain ADD COLUMN on every database (no batch copy of 'respondents', see 0006).
    op.add_column(
        "respondents",
        sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Test respondents so far are marked in the flags' JSON only.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE respondents SET is_test = true WHERE (flags::jsonb ->> 'test') = 'true'")
    else:
        op.execute("UPDATE respondents SET is_test = 1 WHERE json_extract(flags, '$.test') = 1")
    op.create_index("ix_respondents_figures", "respondents", _COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_respondents_figures", table_name="respondents")
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.drop_column("is_test")
