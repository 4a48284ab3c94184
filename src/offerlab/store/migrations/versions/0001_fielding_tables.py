"""The fielding tables: studies, invitations, respondents, page submissions, quota cells."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offerlab.store.migrations._columns import NewTable, created_at, optional, required

revision = "0001"
down_revision = None


def upgrade() -> None:
    studies = NewTable("studies")
    studies.create(
        required("name", sa.String(length=64)),
        required("study_yaml", sa.Text()),
        required("design_csv", sa.Text()),
        required("n_versions", sa.Integer()),
        required("status", sa.String(length=16)),
        required("entries", sa.Integer()),
        created_at(),
        studies.one_of("status", ("testing", "live", "paused", "closed")),
        studies.unique("name"),
    )
    invitations = NewTable("invitations")
    invitations.create(
        invitations.study_key(),
        required("token", sa.String(length=64)),
        required("panel", sa.JSON()),
        created_at(),
        invitations.unique("token"),
    )
    cells = NewTable("quota_cells")
    cells.create(
        cells.study_key(),
        required("quota", sa.String(length=64)),
        required("option", sa.String(length=64)),
        required("target", sa.Integer()),
        required("count", sa.Integer()),
        cells.check("within_target", "count >= 0 AND count <= target"),
        sa.UniqueConstraint("study_id", "quota", "option", name="uq_quota_cells_cell"),
    )
    _create_respondents()
    submissions = NewTable("submissions")
    submissions.create(
        submissions.key("respondent_id", "respondents", ondelete="CASCADE"),
        required("page", sa.String(length=160)),
        required("nonce", sa.String(length=64)),
        required("answer", sa.JSON()),
        required("seconds", sa.Float()),
        required("submitted_at", sa.Float()),
        sa.UniqueConstraint("respondent_id", "page", name="uq_submissions_page"),
    )


def _create_respondents() -> None:
    respondents = NewTable("respondents")
    respondents.create(
        respondents.study_key(),
        required("token", sa.String(length=64)),
        respondents.key("invitation_id", "invitations", ondelete="SET NULL", nullable=True),
        required("version", sa.Integer()),
        required("seed", sa.Integer()),
        required("language", sa.String(length=2)),
        required("status", sa.String(length=16)),
        required("sequence", sa.JSON()),
        required("position", sa.Integer()),
        required("nonce", sa.String(length=64)),
        optional("shown_at", sa.Float()),
        required("panel", sa.JSON()),
        required("panel_id", sa.String(length=200)),
        required("fingerprint", sa.String(length=64)),
        required("flags", sa.JSON()),
        required("started_at", sa.Float()),
        optional("finished_at", sa.Float()),
        respondents.one_of("status", ("active", "complete", "screenout", "overquota")),
        respondents.unique("invitation_id"),
        respondents.unique("token"),
    )
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_respondents_fingerprint", ["study_id", "fingerprint"], unique=False
        )
        batch_op.create_index("ix_respondents_panel_id", ["study_id", "panel_id"], unique=False)
        batch_op.create_index("ix_respondents_study_status", ["study_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_table("submissions")
    with op.batch_alter_table("respondents", schema=None) as batch_op:
        batch_op.drop_index("ix_respondents_study_status")
        batch_op.drop_index("ix_respondents_panel_id")
        batch_op.drop_index("ix_respondents_fingerprint")

    op.drop_table("respondents")
    op.drop_table("quota_cells")
    op.drop_table("invitations")
    op.drop_table("studies")
