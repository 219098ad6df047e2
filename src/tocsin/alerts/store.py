"""Alerts in the store: live alerting after ingestion, lifecycle, reviews, queries.

Live alerting re-runs the same engine as ``tocsin replay`` over the part of the store
that new evidence can change: from the earliest new evidence, back to the start of any
alert still open then (so that a development keeps one alert), with the baseline
window before it for history. The alerts it produces are matched to stored ones of the
same watch whose time spans overlap and that share a category; matches are updated
(their lifecycle is kept), the others are inserted. So live ingestion, in order, gives
the alerts a replay gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tocsin.alerts.engine import Draft, run
from tocsin.errors import TocsinError
from tocsin.indicators.pack import Pack
from tocsin.scoring.items import first_document_time, load_items
from tocsin.scoring.watch import Watch
from tocsin.store.queries import latest_reviews
from tocsin.store.schema import (
    alert_events,
    alert_evidence,
    alerts,
    documents,
    evidence,
    evidence_reviews,
)

STATES = ("new", "acknowledged", "confirmed", "dismissed")
# allowed moves of the lifecycle; confirmed and dismissed can be reopened by acknowledging
MOVES = {
    "acknowledged": {"new", "confirmed", "dismissed"},
    "confirmed": {"new", "acknowledged", "dismissed"},
    "dismissed": {"new", "acknowledged", "confirmed"},
}


class AlertError(TocsinError):
    """An alert or a piece of evidence that does not exist, or a move not allowed."""


@dataclass(frozen=True)
class Change:
    """An alert that live alerting inserted or changed, for the channels."""

    alert_id: int
    event: str  # raised | updated
    payload: dict[str, Any]


def now() -> datetime:
    return datetime.now(UTC)


def _title(conn: Connection, draft: Draft) -> str:
    """A short title: the categories moving and the headline of the strongest report."""
    snapshot: dict[str, Any] = draft.events[-1].snapshot if draft.events else {}
    first = next((origin["evidence"][0] for score in snapshot.get("indicators", [])
                  for origin in score.get("origins", []) if origin.get("evidence")), None)
    headline = ""
    if first is not None:
        headline = conn.execute(
            sa.select(documents.c.title).join(evidence, evidence.c.document_id ==
                                              documents.c.id).where(evidence.c.id == first)
        ).scalar() or ""
    what = ", ".join(draft.categories) or "indicators"
    return f"{what}: {headline}" if headline else what


def payload(row: Any, event: str, evidence_ids: list[int]) -> dict[str, Any]:
    """What channels receive for one alert (see channels.py)."""
    return {
        "id": row.id, "event": event, "watch": row.watch, "level": row.level,
        "index": round(row.index, 1), "state": row.state, "at": row.first_at.isoformat(),
        "updated_at": row.last_at.isoformat(), "title": row.title,
        "summary": "; ".join(row.reasons[-3:]), "categories": row.categories,
        "indicators": row.indicators, "rules": row.rules, "evidence": evidence_ids,
    }


def save(engine: Engine, pack: Pack, drafts: list[Draft],
         start: datetime | None = None) -> list[Change]:
    """Store ``drafts`` (the alerts of one watch from ``start`` on), matching stored ones."""
    changes: list[Change] = []
    stamp = now()
    with engine.begin() as conn:
        for draft in drafts:
            if start is not None and draft.last_at < start:
                continue
            # the stored alert of the same development: same watch, overlapping time
            # span, a category in common
            stored = next((row for row in conn.execute(
                sa.select(alerts).where(alerts.c.watch == draft.watch,
                                        alerts.c.first_at <= draft.last_at,
                                        alerts.c.last_at >= draft.first_at)
                .order_by(alerts.c.first_at, alerts.c.id))
                if set(row.categories) & set(draft.categories)), None)
            snapshot = draft.events[-1].snapshot if draft.events else {}
            values = dict(
                watch=draft.watch, pack=pack.id, level=draft.level, index=draft.index,
                first_at=draft.first_at, last_at=draft.last_at, title=_title(conn, draft),
                categories=draft.categories, indicators=draft.indicators, rules=draft.rules,
                reasons=draft.reasons, snapshot=snapshot, updated_at=stamp)
            if stored is None:
                inserted = conn.execute(alerts.insert().values(
                    **values, state="new", created_at=stamp)).inserted_primary_key
                assert inserted is not None
                alert_id = inserted[0]
                known_events: set[tuple[datetime, str]] = set()
                event = "raised"
            else:
                alert_id = stored.id
                if stored.first_at < draft.first_at:
                    values["first_at"] = stored.first_at
                conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**values))
                known_events = {(r.at, r.kind) for r in conn.execute(
                    sa.select(alert_events.c.at, alert_events.c.kind)
                    .where(alert_events.c.alert_id == alert_id))}
                event = "updated"
            fresh = [e for e in draft.events if (e.at, e.kind) not in known_events]
            if fresh:
                conn.execute(alert_events.insert(), [
                    {"alert_id": alert_id, "at": e.at, "kind": e.kind, "level": e.level,
                     "index": e.index, "by": "tocsin", "note": "; ".join(e.reasons),
                     "data": {"rules": e.rules}} for e in fresh])
            _link_evidence(conn, alert_id, sorted(draft.evidence))
            if fresh or stored is None:
                row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one()
                changes.append(Change(alert_id, event,
                                      payload(row, event, sorted(draft.evidence))))
    return changes


def _link_evidence(conn: Connection, alert_id: int, ids: list[int]) -> None:
    known = {r[0] for r in conn.execute(sa.select(alert_evidence.c.evidence_id)
                                        .where(alert_evidence.c.alert_id == alert_id))}
    wanted = [i for i in ids if i not in known]
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        rows = conn.execute(sa.select(evidence.c.id, evidence.c.document_id,
                                      evidence.c.indicator, evidence.c.start)
                            .where(evidence.c.id.in_(chunk))).all()
        if rows:
            conn.execute(alert_evidence.insert(), [
                {"alert_id": alert_id, "evidence_id": r.id, "document_id": r.document_id,
                 "indicator": r.indicator, "start": r.start} for r in rows])


def _horizon(engine: Engine, watch: Watch, since: datetime) -> datetime:
    """Where re-evaluation must start so that an alert open at ``since`` is rebuilt whole."""
    cooldown = timedelta(hours=watch.cooldown_hours)
    start = since
    with engine.connect() as conn:
        while True:
            earliest = conn.execute(
                sa.select(sa.func.min(alerts.c.first_at))
                .where(alerts.c.watch == watch.id, alerts.c.last_at >= start - cooldown,
                       alerts.c.first_at < start)).scalar()
            if earliest is None or earliest >= start:
                return start
            start = earliest


def alert_live(engine: Engine, pack: Pack, watches: list[Watch], since: datetime,
               on_change: Callable[[Change], None] | None = None) -> list[Change]:
    """Re-evaluate the watches from ``since`` (the earliest new evidence) and store the
    alerts. Returns what changed (and hands each change to ``on_change``)."""
    changes: list[Change] = []
    history = first_document_time(engine)
    for watch in watches:
        start = _horizon(engine, watch, since)
        lookback = timedelta(days=watch.baseline.days + watch.credibility_window_days + 1)
        items = load_items(engine, watch, pack, since=start - lookback)
        drafts = run(watch, items, history_start=history, evaluate_from=start)
        for change in save(engine, pack, drafts, start):
            changes.append(change)
            if on_change is not None:
                on_change(change)
    return changes


# ------------------------------------------------------------------ lifecycle, reviews
def move(engine: Engine, alert_id: int, state: str, by: str, note: str = "") -> Any:
    """Acknowledge, confirm or dismiss an alert; returns the updated row."""
    if state not in MOVES:
        raise AlertError(f"unknown state {state!r}: choose among {sorted(MOVES)}")
    if not by.strip():
        raise AlertError("say who you are (--by)")
    stamp = now()
    with engine.begin() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise AlertError(f"no alert {alert_id}")
        if row.state == state:
            raise AlertError(f"alert {alert_id} is already {state}")
        if row.state not in MOVES[state]:
            raise AlertError(f"alert {alert_id} is {row.state}; it cannot become {state}")
        conn.execute(alerts.update().where(alerts.c.id == alert_id)
                     .values(state=state, updated_at=stamp))
        conn.execute(alert_events.insert().values(
            alert_id=alert_id, at=stamp, kind=state, level=row.level, index=row.index,
            by=by, note=note, data={"from": row.state}))
        return conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one()


def review(engine: Engine, evidence_id: int, verdict: bool, by: str, note: str = "") -> None:
    """Record an analyst's verdict on one piece of evidence (the latest verdict counts)."""
    if not by.strip():
        raise AlertError("say who you are (--by)")
    with engine.begin() as conn:
        row = conn.execute(sa.select(evidence).where(evidence.c.id == evidence_id)).first()
        if row is None:
            raise AlertError(f"no evidence {evidence_id}")
        conn.execute(evidence_reviews.insert().values(
            evidence_id=row.id, document_id=row.document_id, pack=row.pack,
            indicator=row.indicator, start=row.start, verdict=verdict, by=by, at=now(),
            note=note))


def review_counts(engine: Engine, pack: str) -> dict[str, tuple[int, int]]:
    """Per indicator: (true, false) from the latest verdict on each piece of evidence."""
    with engine.connect() as conn:
        latest = latest_reviews(conn, pack)
    out: dict[str, list[int]] = {}
    for (_, indicator, _), verdict in latest.items():
        counts = out.setdefault(indicator, [0, 0])
        counts[0 if verdict else 1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


# ------------------------------------------------------------------ queries
def list_alerts(engine: Engine, watch: str | None = None, state: str | None = None,
                limit: int = 50) -> list[Any]:
    query = sa.select(alerts).order_by(alerts.c.first_at.desc(), alerts.c.id.desc())
    if watch:
        query = query.where(alerts.c.watch == watch)
    if state:
        query = query.where(alerts.c.state == state)
    with engine.connect() as conn:
        return list(conn.execute(query.limit(limit)))


def evidence_of(engine: Engine, alert_ids: list[int]) -> dict[int, list[int]]:
    """The evidence ids behind each alert."""
    out: dict[int, list[int]] = {i: [] for i in alert_ids}
    with engine.connect() as conn:
        for start in range(0, len(alert_ids), 900):
            for alert_id, evidence_id in conn.execute(
                    sa.select(alert_evidence.c.alert_id, alert_evidence.c.evidence_id)
                    .where(alert_evidence.c.alert_id.in_(alert_ids[start:start + 900]))):
                out[alert_id].append(evidence_id)
    return {k: sorted(v) for k, v in out.items()}


def get_alert(engine: Engine, alert_id: int) -> dict[str, Any]:
    """One alert with its events and its evidence (sentence, document, source)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise AlertError(f"no alert {alert_id}")
        events = list(conn.execute(sa.select(alert_events)
                                   .where(alert_events.c.alert_id == alert_id)
                                   .order_by(alert_events.c.at, alert_events.c.id)))
        links = list(conn.execute(sa.select(alert_evidence)
                                  .where(alert_evidence.c.alert_id == alert_id)))
    return {"alert": row, "events": events, "links": links}
