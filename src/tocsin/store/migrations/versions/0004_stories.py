"""stories: MinHash signatures, story membership, attributions, story origins

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("signature", sa.LargeBinary))
        batch.add_column(sa.Column("figures", sa.JSON))
        batch.add_column(sa.Column("story_id", sa.Integer))
        batch.add_column(sa.Column("cites", sa.String(200)))
        batch.create_index("ix_documents_story_id", ["story_id"])
    op.create_table(
        "attributions",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.String(200)),
        sa.Column("source", sa.Text),
        sa.Column("speaker", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attributions"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name="fk_attributions_document_id_documents",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_attributions_document_id", "attributions", ["document_id"])
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("first_at", UTCDateTime),
        sa.Column("last_at", UTCDateTime),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("origin_document_id", sa.Integer),
        sa.Column("origin_source_id", sa.String(200)),
        sa.Column("origin_name", sa.Text),
        sa.Column("chain", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )


def downgrade() -> None:
    op.drop_table("stories")
    op.drop_table("attributions")
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_story_id")
        batch.drop_column("cites")
        batch.drop_column("story_id")
        batch.drop_column("figures")
        batch.drop_column("signature")
