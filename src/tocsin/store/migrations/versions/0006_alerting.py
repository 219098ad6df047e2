"""alerting: the re-evaluation still owed after an interruption or a change

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerting",
        sa.Column("key", sa.String(20), nullable=False),
        sa.Column("pending_since", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_alerting"),
    )


def downgrade() -> None:
    op.drop_table("alerting")
