"""an index on a document's effective time (published, else fetched): the stories stage
loads the documents of a stretch of time per batch, which without it read the whole
table each time (quadratic over a long stream)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_effective_time", "documents",
                    [sa.text("coalesce(published_at, fetched_at)")])


def downgrade() -> None:
    op.drop_index("ix_documents_effective_time", table_name="documents")
