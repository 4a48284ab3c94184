"""Named simulator scenarios per study, and the published versions of its decision report."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from offerlab.store.migrations._columns import NewTable, created_at, optional, required

revision = "0008_scenarios_publications"
down_revision = "0006"


def upgrade() -> None:
    scenarios = NewTable("scenarios")
    scenarios.create(
        scenarios.study_key(),
        required("name", sa.String(length=80)),
        created_at(),
        scenarios.creator_key(),
        required("state", sa.Text()),
        sa.UniqueConstraint("study_id", "name", name="uq_scenarios_name"),
    )
    publications = NewTable("publications")
    publications.create(
        publications.study_key(),
        required("version", sa.Integer()),
        created_at(),
        publications.creator_key(),
        required("model", sa.String(length=8)),
        required("status", sa.String(length=16)),
        required("step", sa.String(length=40)),
        required("market_yaml", sa.Text()),
        required("respondents", sa.Integer()),
        required("data_hash", sa.String(length=64)),
        optional("finished_at", sa.Float()),
        required("message", sa.Text()),
        required("summary", sa.Text()),
        publications.one_of("status", ("building", "ready", "failed")),
        sa.UniqueConstraint("study_id", "version", name="uq_publications_version"),
    )
    files = NewTable("publication_files")
    files.create(
        files.key("publication_id", "publications", ondelete="CASCADE"),
        required("language", sa.String(length=2)),
        required("format", sa.String(length=16)),
        required("content", sa.LargeBinary()),
        sa.UniqueConstraint(
            "publication_id", "language", "format", name="uq_publication_files_file"
        ),
    )


def downgrade() -> None:
    op.drop_table("publication_files")
    op.drop_table("publications")
    op.drop_table("scenarios")
