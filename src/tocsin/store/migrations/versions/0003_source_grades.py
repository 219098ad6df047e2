"""source feeds and the audit trail of grade changes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("feed", sa.Text))
    op.create_table(
        "source_grades",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("previous", sa.String(1)),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_source_grades"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
                                name="fk_source_grades_source_id_sources", ondelete="CASCADE"),
    )
    op.create_index("ix_source_grades_source_id", "source_grades", ["source_id"])


def downgrade() -> None:
    op.drop_table("source_grades")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("feed")
