"""outbox and generations: durable alert delivery; a counter that tells a process its
cached stories index is stale

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name", name="pk_generations"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(300), nullable=False),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("delivery", sa.String(32), nullable=False),
        sa.Column("state", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_at", UTCDateTime, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_alert_id", "outbox", ["alert_id"])
    op.create_index("ix_outbox_state_next_at", "outbox", ["state", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_state_next_at", table_name="outbox")
    op.drop_index("ix_outbox_alert_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("generations")
