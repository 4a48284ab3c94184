"""A retention period per study (days; NULL: answers are kept)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # A plain ADD COLUMN on every database (no batch copy of 'studies', see 0002).
    op.add_column("studies", sa.Column("retention_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("studies", schema=None) as batch_op:
        batch_op.drop_column("retention_days")
