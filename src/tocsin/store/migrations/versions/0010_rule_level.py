"""rule_level: an alert's level is what the index says; the level its rules asked for is
kept apart

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from tocsin.store.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("rule_level", sa.String(20)))
    alerts = sa.table("alerts", sa.column("level", sa.String), sa.column("rule_level", sa.String),
                      sa.column("first_at", UTCDateTime))
    # The single level stored so far was the highest level the rules asked for.
    op.execute(alerts.update().values(rule_level=alerts.c.level))
    # Levels are recomputed from the index by the next ingest or `tocsin realert`:
    # alerting is owed from the first alert (the earliest debt wins).
    bind = op.get_bind()
    first = bind.execute(sa.select(sa.func.min(alerts.c.first_at))).scalar()
    if first is None:
        return
    if not isinstance(first, datetime):
        first = datetime.fromisoformat(str(first))
    first = first if first.tzinfo else first.replace(tzinfo=UTC)
    alerting = sa.table("alerting", sa.column("key", sa.String),
                        sa.column("pending_since", UTCDateTime),
                        sa.column("covered", sa.Integer), sa.column("version", sa.Integer),
                        sa.column("updated_at", UTCDateTime))
    row = bind.execute(sa.select(alerting.c.pending_since)
                       .where(alerting.c.key == "*")).first()
    now = datetime.now(UTC)
    if row is None:
        op.bulk_insert(alerting, [{"key": "*", "pending_since": first, "covered": 0,
                                   "version": 1, "updated_at": now}])
        return
    pending = row.pending_since
    if pending is not None and not isinstance(pending, datetime):
        pending = datetime.fromisoformat(str(pending))
    if pending is not None and pending.tzinfo is None:
        pending = pending.replace(tzinfo=UTC)
    since = first if pending is None else min(first, pending)
    op.execute(alerting.update().where(alerting.c.key == "*")
               .values(pending_since=since, version=alerting.c.version + 1, updated_at=now))


def downgrade() -> None:
    # the older schema has no alert below the `watch` level: it gets its rules' level
    alerts = sa.table("alerts", sa.column("level", sa.String), sa.column("rule_level", sa.String))
    op.execute(alerts.update().where(alerts.c.level == "", alerts.c.rule_level.is_not(None))
               .values(level=alerts.c.rule_level))
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("rule_level")
