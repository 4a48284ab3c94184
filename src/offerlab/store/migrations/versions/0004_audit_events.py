"""The audit log of console actions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offerlab.store.migrations._columns import NewTable, required

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    events = NewTable("audit_events")
    events.create(
        required("at", sa.Float()),
        events.key("user_id", "users", ondelete="SET NULL", nullable=True),
        required("actor", sa.String(length=254)),
        events.key("venture_id", "ventures", ondelete="SET NULL", nullable=True),
        events.key("study_id", "studies", ondelete="SET NULL", nullable=True),
        required("action", sa.String(length=40)),
        required("detail", sa.JSON()),
    )
    op.create_index(
        "ix_audit_events_venture_id_at", "audit_events", ["venture_id", "at"], unique=False
    )
    op.create_index("ix_audit_events_study_id_at", "audit_events", ["study_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_events_study_id_at", table_name="audit_events")
    op.drop_index("ix_audit_events_venture_id_at", table_name="audit_events")
    op.drop_table("audit_events")
