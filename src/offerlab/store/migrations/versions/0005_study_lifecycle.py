"""The study life cycle: a 'draft' state, the pause setting, the entry key of respondents."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

_OLD = "status IN ('testing', 'live', 'paused', 'closed')"
_NEW = "status IN ('draft', 'testing', 'live', 'paused', 'closed')"


def _venture_column() -> sa.Column:
    # SQLite reflects the key 0002 added with ALTER TABLE without its ON DELETE: restate it,
    # or the copy of the table would lose it.
    return sa.Column(
        "venture_id",
        sa.Integer(),
        sa.ForeignKey(
            "ventures.id", name=op.f("fk_studies_venture_id_ventures"), ondelete="SET NULL"
        ),
        nullable=True,
    )


def upgrade() -> None:
    # Batch mode: SQLite changes a CHECK constraint only by copying the table.
    with op.batch_alter_table("studies", schema=None, reflect_args=[_venture_column()]) as batch_op:
        batch_op.drop_constraint(op.f("ck_studies_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_studies_status"), _NEW)
        batch_op.add_column(
            sa.Column("finish_when_paused", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_respondents_entry_key"), ["entry_key"])


def downgrade() -> None:
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_respondents_entry_key"), type_="unique")
        batch_op.drop_column("entry_key")
    op.execute("UPDATE studies SET status = 'testing' WHERE status = 'draft'")
    with op.batch_alter_table("studies", schema=None, reflect_args=[_venture_column()]) as batch_op:
        batch_op.drop_column("finish_when_paused")
        batch_op.drop_constraint(op.f("ck_studies_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_studies_status"), _OLD)
