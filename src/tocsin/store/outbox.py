"""The outbox table: notifications waiting for a channel, and what became of them.

States: ``pending`` (to be sent at ``next_at``), ``delivered``, ``failed`` (a permanent
refusal, retries exhausted, or the channel no longer configured; ``last_error`` says
which). Nothing leaves the table by itself: `tocsin outbox` shows it, `tocsin outbox
retry` puts failed rows back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tocsin.store.schema import outbox

STATES = ("pending", "delivered", "failed")


def now() -> datetime:
    return datetime.now(UTC)


def enqueue(conn: Connection, channels: Iterable[str], alert_id: int, event: str,
            payload: dict[str, Any]) -> int:
    """One pending row per channel label, in the caller's transaction."""
    stamp = now()
    rows = [{"channel": label, "alert_id": alert_id, "event": event, "payload": payload,
             "delivery": uuid.uuid4().hex, "state": "pending", "attempts": 0,
             "next_at": stamp, "last_error": "", "created_at": stamp, "updated_at": stamp}
            for label in channels]
    if rows:
        conn.execute(outbox.insert(), rows)
    return len(rows)


def pending(engine: Engine) -> list[Any]:
    """Every pending row, oldest first (a channel's rows go out in this order)."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(outbox).where(outbox.c.state == "pending")
                                 .order_by(outbox.c.id)))


def settle(engine: Engine, row_id: int, state: str, *, attempts: int, error: str | None = None,
           next_at: datetime | None = None) -> None:
    """Record one attempt's outcome (its own transaction: a crash after sending repeats
    at most that one notification, under the same delivery id)."""
    stamp = now()
    values: dict[str, Any] = {"state": state, "attempts": attempts, "updated_at": stamp}
    if error is not None:  # a delivery keeps the error of the attempt before it
        values["last_error"] = error[:2000]
    if next_at is not None:
        values["next_at"] = next_at
    if state == "delivered":
        values["delivered_at"] = stamp
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == row_id).values(**values))


def listing(engine: Engine, state: str | None = None, limit: int = 100) -> list[Any]:
    """Rows newest first, optionally in one state."""
    query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(outbox.c.state == state)
    with engine.connect() as conn:
        return list(conn.execute(query))


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        found = {str(state): int(n) for state, n in conn.execute(
            sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state))}
    return {state: int(found.get(state, 0)) for state in STATES}


def retry(engine: Engine, ids: list[int] | None = None) -> int:
    """Put failed rows (``ids``, or all) back to pending, due now, attempts reset."""
    query = outbox.update().where(outbox.c.state == "failed")
    if ids is not None:
        query = query.where(outbox.c.id.in_(ids))
    with engine.begin() as conn:
        done = conn.execute(query.values(state="pending", attempts=0, next_at=now(),
                                         updated_at=now()))
    return int(done.rowcount or 0)
