"""evidence and entities found by detection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("pack", sa.String(100), nullable=False),
        sa.Column("indicator", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
        sa.Column("polarity", sa.String(20), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("spans", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("place", sa.String(200)),
        sa.Column("weapon", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name="fk_evidence_document_id_documents", ondelete="CASCADE"),
    )
    op.create_index("ix_evidence_document_id", "evidence", ["document_id"])
    op.create_index("ix_evidence_category", "evidence", ["category"])
    op.create_index("ix_evidence_indicator", "evidence", ["indicator"])
    op.create_table(
        "entities",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entities"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name="fk_entities_document_id_documents", ondelete="CASCADE"),
    )
    op.create_index("ix_entities_document_id", "entities", ["document_id"])
    op.create_index("ix_entities_entity", "entities", ["entity"])


def downgrade() -> None:
    op.drop_table("entities")
    op.drop_table("evidence")
