"""alerts: alerts of the watches, their evidence and lifecycle, reviews of evidence

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("watch", sa.String(100), nullable=False),
        sa.Column("pack", sa.String(100), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("index", sa.Float, nullable=False),
        sa.Column("state", sa.String(20), nullable=False, server_default="new"),
        sa.Column("first_at", UTCDateTime, nullable=False),
        sa.Column("last_at", UTCDateTime, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("indicators", sa.JSON, nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_watch_first_at", "alerts", ["watch", "first_at"])
    op.create_table(
        "alert_evidence",
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("evidence_id", sa.Integer, nullable=False),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("indicator", sa.String(200), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "evidence_id", name="pk_alert_evidence"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"],
                                name="fk_alert_evidence_alert_id_alerts", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name="fk_alert_evidence_document_id_documents",
                                ondelete="CASCADE"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("level", sa.String(20)),
        sa.Column("index", sa.Float),
        sa.Column("by", sa.Text),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("data", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"],
                                name="fk_alert_events_alert_id_alerts", ondelete="CASCADE"),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.create_table(
        "evidence_reviews",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("evidence_id", sa.Integer, nullable=False),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("pack", sa.String(100), nullable=False),
        sa.Column("indicator", sa.String(200), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("verdict", sa.Boolean, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_reviews"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name="fk_evidence_reviews_document_id_documents",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_evidence_reviews_document_id", "evidence_reviews", ["document_id"])


def downgrade() -> None:
    op.drop_table("evidence_reviews")
    op.drop_table("alert_events")
    op.drop_table("alert_evidence")
    op.drop_table("alerts")
