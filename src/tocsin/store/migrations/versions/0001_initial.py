"""sources, ingest runs, documents and the quarantine

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False, server_default="unknown"),
        sa.Column("language", sa.String(8)),
        sa.Column("country", sa.String(8)),
        sa.Column("state_affiliated", sa.Boolean),
        sa.Column("homepage", sa.Text),
        sa.Column("aliases", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("grade", sa.String(1), nullable=False, server_default="F"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("grade IN ('A','B','C','D','E','F')", name="ck_sources_grade"),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
    )
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("read", sa.Integer, nullable=False, server_default="0"),
        sa.Column("new", sa.Integer, nullable=False, server_default="0"),
        sa.Column("known", sa.Integer, nullable=False, server_default="0"),
        sa.Column("quarantined", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(20), nullable=False, server_default="running"),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_runs"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("doc_hash", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("external_id", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("language_confidence", sa.Float, nullable=False),
        sa.Column("published_at", UTCDateTime),
        sa.Column("published_raw", sa.Text),
        sa.Column("date_flag", sa.String(20)),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.Column("sentences", sa.JSON, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("doc_hash", name="uq_documents_doc_hash"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"],
                                name="fk_documents_source_id_sources"),
        sa.ForeignKeyConstraint(["run_id"], ["ingest_runs.id"],
                                name="fk_documents_run_id_ingest_runs"),
    )
    op.create_index("ix_documents_published_at", "documents", ["published_at"])
    op.create_index("ix_documents_source_id", "documents", ["source_id"])
    op.create_index("ix_documents_language", "documents", ["language"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("line", sa.Integer),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False, server_default=""),
        sa.Column("size", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.UniqueConstraint("fingerprint", name="uq_quarantine_fingerprint"),
        sa.ForeignKeyConstraint(["run_id"], ["ingest_runs.id"],
                                name="fk_quarantine_run_id_ingest_runs"),
    )
    op.create_index("ix_quarantine_reason", "quarantine", ["reason"])


def downgrade() -> None:
    op.drop_table("quarantine")
    op.drop_index("ix_documents_language", "documents")
    op.drop_index("ix_documents_source_id", "documents")
    op.drop_index("ix_documents_published_at", "documents")
    op.drop_table("documents")
    op.drop_table("ingest_runs")
    op.drop_table("sources")
