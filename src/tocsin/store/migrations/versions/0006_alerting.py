"""alerting: the re-evaluation still owed after an interruption or a change

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "alerting",
        sa.Column("key", sa.String(20), nullable=False),
        sa.Column("pending_since", UTCDateTime),
        sa.Column("covered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_alerting"),
    )
    # a store that had documents before owes alerting from its first one (its alerts
    # were made by an earlier version); covered 0: all its documents are owed
    documents = sa.table("documents", sa.column("published_at", UTCDateTime),
                         sa.column("fetched_at", UTCDateTime))
    first = op.get_bind().execute(sa.select(sa.func.min(sa.func.coalesce(
        documents.c.published_at, documents.c.fetched_at)))).scalar()
    if first is not None and not isinstance(first, datetime):
        first = datetime.fromisoformat(str(first))
    if isinstance(first, datetime) and first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    op.bulk_insert(table, [{"key": "*", "pending_since": first, "covered": 0, "version": 0,
                            "updated_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("alerting")
