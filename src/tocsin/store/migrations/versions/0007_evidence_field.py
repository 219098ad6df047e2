"""evidence field: evidence, entities and attributions found in a document's title or text;
the host and process of an ingest run

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("evidence", "alert_evidence", "evidence_reviews", "entities", "attributions")


def upgrade() -> None:
    # Offsets point into the field named here; everything stored before is from the text.
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("field", sa.String(10), nullable=False,
                                       server_default="text"))
    # The process behind a run, so a run killed mid-way is marked interrupted later.
    with op.batch_alter_table("ingest_runs") as batch:
        batch.add_column(sa.Column("host", sa.String(255)))
        batch.add_column(sa.Column("pid", sa.Integer))


def downgrade() -> None:
    # Title evidence has no place in the older schema: it goes (redetect brings it back).
    op.execute("DELETE FROM alert_evidence WHERE field = 'title'")
    op.execute("DELETE FROM evidence_reviews WHERE field = 'title'")
    op.execute("DELETE FROM evidence WHERE field = 'title'")
    op.execute("DELETE FROM entities WHERE field = 'title'")
    op.execute("DELETE FROM attributions WHERE field = 'title'")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("field")
    with op.batch_alter_table("ingest_runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
