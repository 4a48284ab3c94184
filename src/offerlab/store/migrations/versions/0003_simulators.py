"""Market simulators published from the console for business-unit viewers."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offerlab.store.migrations._columns import NewTable, created_at, optional, required

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    simulators = NewTable("simulators")
    simulators.create(
        simulators.study_key(),
        created_at(),
        simulators.creator_key(),
        required("model", sa.String(length=8)),
        required("status", sa.String(length=16)),
        required("market_yaml", sa.Text()),
        required("respondents", sa.Integer()),
        optional("finished_at", sa.Float()),
        required("message", sa.Text()),
        required("payload", sa.Text()),
        simulators.one_of("status", ("fitting", "ready", "failed")),
        simulators.one_of("model", ("mnl", "lc", "hb")),
    )
    op.create_index(
        "ix_simulators_study_id_created_at", "simulators", ["study_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_simulators_study_id_created_at", table_name="simulators")
    op.drop_table("simulators")
