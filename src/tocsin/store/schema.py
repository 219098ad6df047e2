"""SQLAlchemy Core schema, the same for SQLite and PostgreSQL.

Changes to it go through an Alembic migration in ``migrations/versions``; a test checks
that the migrated database and this module agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: tocsin stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False, server_default="unknown"),
    sa.Column("language", sa.String(8)),
    sa.Column("country", sa.String(8)),
    sa.Column("state_affiliated", sa.Boolean),
    sa.Column("homepage", sa.Text),
    sa.Column("aliases", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("feed", sa.Text),
    # NATO Admiralty reliability A-F; F = cannot be judged, the default.
    sa.Column("grade", sa.String(1), nullable=False, server_default="F"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("grade IN ('A','B','C','D','E','F')", name="ck_sources_grade"),
)

# Every change of a source's grade: who, when, from what, why.
source_grades = sa.Table(
    "source_grades",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_id", sa.String(200), sa.ForeignKey("sources.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("previous", sa.String(1)),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_source_grades_source_id", "source_id"),
)

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("known", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quarantined", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(20), nullable=False, server_default="running"),
    # who runs it: a run still `running` whose process is gone on this host was killed
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("doc_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("source_id", sa.String(200), sa.ForeignKey("sources.id"), nullable=False),
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
    sa.Column("run_id", sa.Integer, sa.ForeignKey("ingest_runs.id"), nullable=False),
    # stories: MinHash signature (128 x uint32), the story (its first document's id), and
    # the registry source the document names as its origin ("according to X")
    sa.Column("signature", sa.LargeBinary),
    sa.Column("figures", sa.JSON),  # numbers and weekdays a report gives (stories)
    sa.Column("story_id", sa.Integer),
    sa.Column("cites", sa.String(200)),
    sa.Index("ix_documents_story_id", "story_id"),
    sa.Index("ix_documents_published_at", "published_at"),
    sa.Index("ix_documents_source_id", "source_id"),
    sa.Index("ix_documents_language", "language"),
    # a document's effective time (stores/queries.py `effective_time`): stories load by it
    sa.Index("ix_documents_effective_time",
             sa.func.coalesce(sa.column("published_at"), sa.column("fetched_at"))),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("ingest_runs.id"), nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("line", sa.Integer),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("excerpt", sa.Text, nullable=False, server_default=""),
    sa.Column("size", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # The same bad input met again (a folder ingested daily) is recorded once.
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    sa.Index("ix_quarantine_reason", "reason"),
)

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("pack", sa.String(100), nullable=False),
    sa.Column("indicator", sa.String(200), nullable=False),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("severity", sa.Integer, nullable=False),
    sa.Column("polarity", sa.String(20), nullable=False),
    # the sentence, as character offsets into documents.text
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("field", sa.String(10), nullable=False, server_default="text"),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("terms", sa.JSON, nullable=False),
    sa.Column("spans", sa.JSON, nullable=False),
    sa.Column("actor", sa.String(200)),
    sa.Column("place", sa.String(200)),
    sa.Column("weapon", sa.String(200)),
    sa.Index("ix_evidence_document_id", "document_id"),
    sa.Index("ix_evidence_category", "category"),
    sa.Index("ix_evidence_indicator", "indicator"),
)

entities = sa.Table(
    "entities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("entity", sa.String(200), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("field", sa.String(10), nullable=False, server_default="text"),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Index("ix_entities_document_id", "document_id"),
    sa.Index("ix_entities_entity", "entity"),
)

attributions = sa.Table(
    "attributions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("source_id", sa.String(200)),
    sa.Column("source", sa.Text),
    sa.Column("speaker", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("field", sa.String(10), nullable=False, server_default="text"),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Index("ix_attributions_document_id", "document_id"),
)

# One row per story, rewritten whenever the story changes.
stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("first_at", UTCDateTime),
    sa.Column("last_at", UTCDateTime),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("origin_document_id", sa.Integer),
    sa.Column("origin_source_id", sa.String(200)),
    sa.Column("origin_name", sa.Text),
    sa.Column("chain", sa.JSON, nullable=False),
)

# Alerts: one row per development of a watch. `first_at`/`last_at` are data times (when
# the evidence was published); `created_at`/`updated_at` are wall-clock times.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("watch", sa.String(100), nullable=False),
    sa.Column("pack", sa.String(100), nullable=False),
    # the watch's level for the peak index ("" below `watch`; see alerts/notice.py)
    sa.Column("level", sa.String(20), nullable=False),
    sa.Column("index", sa.Float, nullable=False),  # the peak of the development
    sa.Column("state", sa.String(20), nullable=False, server_default="new"),
    sa.Column("first_at", UTCDateTime, nullable=False),
    sa.Column("last_at", UTCDateTime, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("indicators", sa.JSON, nullable=False),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("snapshot", sa.JSON, nullable=False),  # the peak's scored window, explained
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # the level the rules that fired ask for (may exceed `level`: a rule rang early)
    sa.Column("rule_level", sa.String(20)),
    sa.Index("ix_alerts_watch_first_at", "watch", "first_at"),
)

# The evidence behind an alert. Evidence rows are replaced by `redetect`, so the
# document, indicator and offset are kept to find it again.
alert_evidence = sa.Table(
    "alert_evidence",
    metadata,
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("evidence_id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("indicator", sa.String(200), nullable=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("field", sa.String(10), nullable=False, server_default="text"),
)

# What happened to an alert: raised/updated (data time) and the analysts' lifecycle
# steps acknowledged/confirmed/dismissed (wall-clock time, who, note).
alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("level", sa.String(20)),
    sa.Column("index", sa.Float),
    sa.Column("by", sa.Text),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("data", sa.JSON),
)

# Analysts' verdicts on single pieces of evidence (true or false detections). Kept by
# document, indicator and offset so that they survive `redetect`.
evidence_reviews = sa.Table(
    "evidence_reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("evidence_id", sa.Integer, nullable=False),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("pack", sa.String(100), nullable=False),
    sa.Column("indicator", sa.String(200), nullable=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("field", sa.String(10), nullable=False, server_default="text"),
    sa.Column("verdict", sa.Boolean, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
)

# Alerting still owed: the earliest data time from which the watches must be evaluated
# again (set by reviews, grade changes, `redetect`), `covered` = the last document id
# alerting has taken into account (documents after it are owed even if a run was
# killed), `version` = bumped by every new debt, so that alerting clears only what it
# saw. One row, key "*", created by the migration.
alerting = sa.Table(
    "alerting",
    metadata,
    sa.Column("key", sa.String(20), primary_key=True),
    sa.Column("pending_since", UTCDateTime),
    sa.Column("covered", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Counters bumped by a stage each time it commits, so that another process holding a
# cache of the store (the stories index of a run) knows to reload it. Key "stories".
generations = sa.Table(
    "generations",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False, server_default="0"),
)

# Notifications waiting for (or done with) a network or file channel: written in the
# transaction that saves the alert change, so a crash never loses one; delivered by
# `tocsin deliver` (and the short pass after each ingest) with retries and backoff.
# ``channel`` is the channel's label (no credentials); ``delivery`` the id a receiver
# sees on every attempt (X-Tocsin-Delivery), so a repeat after a crash can be recognised.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(300), nullable=False),
    sa.Column("alert_id", sa.Integer, nullable=False, index=True),
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
    sa.Index("ix_outbox_state_next_at", "state", "next_at"),
)


def managed(name: str | None, type_: str, _parents: Any) -> bool:
    """For Alembic's comparisons: the full-text index (an FTS5 virtual table and its shadow
    tables, migration 0009) is made by hand, not from this metadata."""
    return not (type_ == "table" and name is not None and name.startswith("documents_fts"))
