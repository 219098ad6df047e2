"""Alerts in the store: live alerting after ingestion, lifecycle, reviews, queries.

Live alerting runs the same engine as ``tocsin replay`` over the part of the store that
new evidence can change: from the earliest new document, back to the start of any alert
still open then (so that a development keeps one alert), with the baseline window
before it for history. The stored alerts of that range are then made what the engine
says: matched one to one (same development), updated with their lifecycle kept, new
ones inserted, and those no longer raised withdrawn. So the store always says what a
replay says. What is owed (alerting interrupted; reviews, grade changes, `redetect`)
is recorded in ``alerting`` and run by the next ingest or ``tocsin realert``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tocsin.alerts.engine import Draft, run
from tocsin.alerts.notice import notice, row_level, row_rule_level, stored_level
from tocsin.alerts.notice import payload as payload  # re-exported for the CLI
from tocsin.alerts.outbox import Outbox
from tocsin.errors import TocsinError
from tocsin.indicators.pack import Pack
from tocsin.scoring.items import first_document_time, load_items
from tocsin.scoring.watch import Watch, level_rank
from tocsin.store.locks import Waiting, exclusive
from tocsin.store.queries import (
    earliest_change,
    effective_time,
    last_document_id,
    latest_reviews,
    linked_evidence,
)
from tocsin.store.schema import (
    alert_events,
    alert_evidence,
    alerting,
    alerts,
    documents,
    evidence,
    evidence_reviews,
    stories,
)

STATES = ("new", "acknowledged", "confirmed", "dismissed", "withdrawn")
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
    event: str  # raised | updated | withdrawn | acknowledged | confirmed | dismissed
    payload: dict[str, Any]


def now() -> datetime:
    return datetime.now(UTC)


def _title(conn: Connection, draft: Draft) -> str:
    """A short title: the categories moving and the headline of the strongest report
    at the alert's peak."""
    snapshot: dict[str, Any] = draft.peak
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


def _overlaps(row: Any, draft: Draft) -> bool:
    return (row.first_at <= draft.last_at and row.last_at >= draft.first_at
            and bool(set(row.categories) & set(draft.categories)))


def save(engine: Engine, pack: Pack, watch: str, drafts: list[Draft],
         start: datetime, outbox: Outbox | None = None) -> list[Change]:
    """Make the stored alerts of ``watch`` from ``start`` on what ``drafts`` say.

    Each draft claims at most one stored alert of the same development (overlapping
    span, a category in common; the same first time preferred), and each stored alert
    is claimed at most once. A claimed alert takes the draft's span, level, evidence and
    engine events and keeps its lifecycle; an unclaimed draft is a new alert; a stored
    alert no draft claims any more (late documents, reviews, grade changes) is
    withdrawn, its history kept. Each change is put in the ``outbox`` in the same
    transaction, so a notification is never lost between saving and sending."""
    changes: list[Change] = []
    stamp = now()
    with engine.begin() as conn:
        stored = list(conn.execute(
            sa.select(alerts).where(alerts.c.watch == watch, alerts.c.first_at >= start,
                                    alerts.c.state != "withdrawn")
            .order_by(alerts.c.first_at, alerts.c.id)))
        claimed: set[int] = set()
        for draft in drafts:
            candidates = [r for r in stored if r.id not in claimed and _overlaps(r, draft)]
            candidates.sort(key=lambda r: (r.first_at != draft.first_at, r.first_at, r.id))
            row = candidates[0] if candidates else None
            values = dict(
                watch=draft.watch, pack=pack.id, level=stored_level(draft.level),
                rule_level=draft.rule_level, index=draft.index,
                first_at=draft.first_at, last_at=draft.last_at, title=_title(conn, draft),
                categories=draft.categories, indicators=draft.indicators, rules=draft.rules,
                reasons=draft.reasons, snapshot=draft.peak, updated_at=stamp)
            if row is None:
                inserted = conn.execute(alerts.insert().values(
                    **values, state="new", created_at=stamp)).inserted_primary_key
                assert inserted is not None
                alert_id, event, before, reopened = inserted[0], "raised", set(), False
                legacy = False
            else:
                claimed.add(row.id)
                alert_id, event = row.id, "updated"
                engine_events = (alert_events.c.alert_id == alert_id) & \
                    (alert_events.c.kind.in_(("raised", "updated")))
                known = list(conn.execute(sa.select(alert_events).where(engine_events)))
                # events stored before levels and rule levels were kept apart (0010):
                # re-levelling them is no news, so they compare without their levels
                legacy = any("rule_level" not in (r.data or {}) for r in known)
                before = {_event_key(r.at, r.kind, r.level, r.data, legacy) for r in known}
                rose = _rose(conn, row, draft) if row.state == "dismissed" else ""
                reopened = bool(rose)
                if reopened:
                    # dismissed, then it escalated: it needs a look again
                    values["state"] = "new"
                    conn.execute(alert_events.insert().values(
                        alert_id=alert_id, at=stamp, kind="reopened", level=draft.level,
                        index=draft.index, by="tocsin",
                        note=f"{rose} after it was dismissed",
                        data={"from": row.state, "rule_level": draft.rule_level}))
                conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**values))
                conn.execute(alert_events.delete().where(engine_events))
            events = [{"alert_id": alert_id, "at": e.at, "kind": e.kind, "level": e.level,
                       "index": e.index, "by": "tocsin", "note": "; ".join(e.reasons),
                       "data": {"rules": e.rules, "categories": e.categories,
                                "rule_level": e.rule_level}}
                      for e in draft.events]
            conn.execute(alert_events.insert(), events)
            _link_evidence(conn, alert_id, sorted(draft.evidence))
            after = {_event_key(e["at"], e["kind"], e["level"], e["data"], legacy)
                     for e in events}
            if after - before or reopened:
                fresh = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one()
                changes.append(Change(alert_id, event,
                                      notice(conn, fresh, event, sorted(draft.evidence))))
                if outbox is not None:
                    outbox.enqueue(conn, alert_id, event, changes[-1].payload)
        for row in stored:
            if row.id in claimed:
                continue
            conn.execute(alerts.update().where(alerts.c.id == row.id)
                         .values(state="withdrawn", updated_at=stamp))
            conn.execute(alert_events.insert().values(
                alert_id=row.id, at=stamp, kind="withdrawn", level=row_level(row),
                index=row.index, by="tocsin",
                note="no longer raised when the watch was evaluated again (late documents, "
                     "reviews, grade or pack changes)",
                data={"from": row.state, "rule_level": row_rule_level(row)}))
            gone = conn.execute(sa.select(alerts).where(alerts.c.id == row.id)).one()
            changes.append(Change(row.id, "withdrawn", notice(conn, gone, "withdrawn")))
            if outbox is not None:
                outbox.enqueue(conn, row.id, "withdrawn", changes[-1].payload)
    return changes


def _event_key(at: datetime, kind: str, level: str | None, data: Any,
               legacy: bool = False) -> tuple[Any, ...]:
    """What an engine event says (to tell whether re-evaluation changed it); ``legacy``:
    without its levels."""
    data = data or {}
    levels = (None, None) if legacy else (level or None, data.get("rule_level"))
    return (at, kind, *levels, tuple(data.get("rules") or ()),
            tuple(data.get("categories") or ()))


def _rose(conn: Connection, row: Any, draft: Draft) -> str:
    """How the dismissed alert ``row`` rose since an analyst last dismissed it (its level,
    or the level its rules ask for), or "" if it did not."""
    dismissal = conn.execute(sa.select(alert_events.c.level, alert_events.c.data)
                             .where(alert_events.c.alert_id == row.id,
                                    alert_events.c.kind == "dismissed")
                             .order_by(alert_events.c.at.desc(), alert_events.c.id.desc())
                             .limit(1)).first()
    level, rule_level = row_level(row), row_rule_level(row)
    if dismissal is not None:
        level = dismissal.level or None
        # a dismissal recorded before the rule level was kept apart: its level was that
        rule_level = (dismissal.data or {}).get("rule_level") or dismissal.level or rule_level
    if level_rank(draft.level) > level_rank(level):
        return f"rose from {level or 'below watch'} to {draft.level}"
    if level_rank(draft.rule_level) > level_rank(rule_level):
        return f"rule level rose from {rule_level} to {draft.rule_level}"
    return ""


def _link_evidence(conn: Connection, alert_id: int, ids: list[int]) -> None:
    """The alert's evidence becomes exactly ``ids``."""
    conn.execute(alert_evidence.delete().where(alert_evidence.c.alert_id == alert_id))
    for start in range(0, len(ids), 900):
        rows = conn.execute(sa.select(evidence.c.id, evidence.c.document_id,
                                      evidence.c.indicator, evidence.c.field, evidence.c.start)
                            .where(evidence.c.id.in_(ids[start:start + 900]))).all()
        if rows:
            conn.execute(alert_evidence.insert(), [
                {"alert_id": alert_id, "evidence_id": r.id, "document_id": r.document_id,
                 "indicator": r.indicator, "field": r.field, "start": r.start}
                for r in rows])


def horizon(engine: Engine, watch: Watch, since: datetime) -> datetime:
    """Where evaluation must start so that an alert still open at ``since`` (one that
    could take updates then) is rebuilt whole, and none is open where it starts."""
    cooldown = timedelta(hours=watch.cooldown_hours)
    span = timedelta(days=watch.max_alert_days)
    start = since
    with engine.connect() as conn:
        while True:
            earliest = conn.execute(
                sa.select(sa.func.min(alerts.c.first_at))
                .where(alerts.c.watch == watch.id, alerts.c.state != "withdrawn",
                       alerts.c.last_at >= start - cooldown, alerts.c.first_at < start,
                       alerts.c.first_at >= start - span)).scalar()
            if earliest is None or earliest >= start:
                return start
            start = earliest


# ------------------------------------------------------------------ what is owed
@dataclass(frozen=True)
class Debt:
    since: datetime | None  # the earliest time owed by reviews, grades, redetect
    covered: int  # documents up to this id have been taken into account
    version: int  # bumped by every debt recorded


def owed_state(engine: Engine) -> Debt:
    with engine.connect() as conn:
        row = conn.execute(sa.select(alerting).where(alerting.c.key == "*")).first()
    if row is None:
        return Debt(None, 0, 0)
    return Debt(row.pending_since, row.covered, row.version)


def owed(engine: Engine) -> datetime | None:
    """The earliest time from which alerting must run again, if any: recorded debts, and
    documents stored since alerting last ran (even by a run that was killed)."""
    debt = owed_state(engine)
    found = [debt.since] if debt.since else []
    change = earliest_change(engine, debt.covered, _history_before(engine, debt.covered))
    if change is not None:
        found.append(change)
    return min(found) if found else None


def _history_before(engine: Engine, covered: int) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.min(effective_time))
                             .where(documents.c.id <= covered)).scalar()
    return value if isinstance(value, datetime) else None


def owe(engine: Engine, since: datetime | None) -> None:
    """Record that alerting must run again from ``since`` (the earliest one wins); one
    statement, so that concurrent debts cannot overwrite each other."""
    if since is None:
        return
    with engine.begin() as conn:
        done = conn.execute(
            alerting.update().where(alerting.c.key == "*")
            .values(pending_since=sa.case(
                (alerting.c.pending_since.is_(None), since),
                (alerting.c.pending_since > since, since),
                else_=alerting.c.pending_since),
                version=alerting.c.version + 1, updated_at=now()))
        if done.rowcount == 0:
            conn.execute(alerting.insert().values(key="*", pending_since=since, covered=0,
                                                  version=1, updated_at=now()))


def owe_source(engine: Engine, source_id: str) -> None:
    """A source's grade changed: alerting is owed from its first report (as publisher or
    as the origin of a story)."""
    with engine.connect() as conn:
        first = conn.execute(
            sa.select(sa.func.min(effective_time))
            .select_from(documents.outerjoin(stories, stories.c.id == documents.c.story_id))
            .where((documents.c.source_id == source_id)
                   | (stories.c.origin_source_id == source_id))).scalar()
    owe(engine, first if isinstance(first, datetime) else None)


def settle(engine: Engine, seen: Debt, covered: int) -> None:
    """Alerting ran over what ``seen`` recorded and documents up to ``covered``: clear
    the debt unless a new one was recorded meanwhile (then only advance ``covered``)."""
    with engine.begin() as conn:
        conn.execute(alerting.update().where(alerting.c.key == "*")
                     .values(covered=sa.func.max(alerting.c.covered, covered)
                             if engine.dialect.name == "sqlite"
                             else sa.func.greatest(alerting.c.covered, covered),
                             updated_at=now()))
        conn.execute(alerting.update().where(alerting.c.key == "*",
                                             alerting.c.version == seen.version)
                     .values(pending_since=None))


def alert_live(engine: Engine, pack: Pack, watches: list[Watch], since: datetime | None,
               on_change: Callable[[Change], None] | None = None,
               complete: bool = True, on_wait: Waiting | None = None,
               outbox: Outbox | None = None) -> list[Change]:
    """Evaluate the watches again from ``since`` and from anything owed, store the
    alerts, and (when ``complete``: every watch of the pack was evaluated) clear what was
    owed. Returns what changed (each change also goes to ``on_change``, after it is
    stored, and into the ``outbox``, with it). If it is
    interrupted or killed, the debt stays recorded for the next run.

    It holds the store's alerting lock: two processes evaluating at once would both
    raise the same development. The one that waits then sees what the other stored
    and covered, and evaluates only what is still owed."""
    with exclusive(engine, "alerting", on_wait):
        return _alert_live(engine, pack, watches, since, on_change, complete, outbox)


def _alert_live(engine: Engine, pack: Pack, watches: list[Watch], since: datetime | None,
                on_change: Callable[[Change], None] | None, complete: bool,
                outbox: Outbox | None) -> list[Change]:
    seen = owed_state(engine)
    top = last_document_id(engine)
    pending = owed(engine)
    starts = [t for t in (since, pending) if t is not None]
    if not starts:
        return []
    since = min(starts)
    changes: list[Change] = []
    history = first_document_time(engine)
    for watch in watches:
        start = horizon(engine, watch, since)
        lookback = timedelta(days=watch.baseline.days + watch.credibility_window_days + 1)
        items = load_items(engine, watch, pack, since=start - lookback)
        drafts = [d for d in run(watch, items, history_start=history, evaluate_from=start)
                  if d.first_at >= start]
        for change in save(engine, pack, watch.id, drafts, start, outbox):
            changes.append(change)
            if on_change is not None:
                on_change(change)
    if complete:
        settle(engine, seen, top)
    return changes


# ------------------------------------------------------------------ lifecycle, reviews
def move(engine: Engine, alert_id: int, state: str, by: str, note: str = "",
         outbox: Outbox | None = None) -> Any:
    """Acknowledge, confirm or dismiss an alert; returns the updated row. The change is
    put in the ``outbox`` (event = the new state) in the same transaction, so the
    channels (the Atom feed's entry, a webhook's ticket) learn of it."""
    if state not in MOVES:
        raise AlertError(f"unknown state {state!r}: choose among {sorted(MOVES)}")
    if not by.strip():
        raise AlertError("say who you are (--by)")
    stamp = now()
    with engine.begin() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise AlertError(f"no alert {alert_id}")
        if row.state == "withdrawn":
            raise AlertError(f"alert {alert_id} was withdrawn (see `tocsin alert "
                             f"{alert_id}`)")
        if row.state == state:
            raise AlertError(f"alert {alert_id} is already {state}")
        if row.state not in MOVES[state]:
            raise AlertError(f"alert {alert_id} is {row.state}; it cannot become {state}")
        conn.execute(alerts.update().where(alerts.c.id == alert_id)
                     .values(state=state, updated_at=stamp))
        conn.execute(alert_events.insert().values(
            alert_id=alert_id, at=stamp, kind=state, level=row_level(row), index=row.index,
            by=by, note=note, data={"from": row.state, "rule_level": row_rule_level(row)}))
        moved = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one()
        if outbox is not None:
            outbox.enqueue(conn, alert_id, state, notice(conn, moved, state))
        return moved


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
            indicator=row.indicator, field=row.field, start=row.start, verdict=verdict, by=by,
            at=now(), note=note))
        when = conn.execute(sa.select(effective_time)
                            .where(documents.c.id == row.document_id)).scalar()
    owe(engine, when)  # the scores change: alerting runs again from there


def review_counts(engine: Engine, pack: str) -> dict[str, tuple[int, int]]:
    """Per indicator: (true, false) from the latest verdict on each piece of evidence."""
    with engine.connect() as conn:
        latest = latest_reviews(conn, pack)
    out: dict[str, list[int]] = {}
    for (_, indicator, _, _), verdict in latest.items():
        counts = out.setdefault(indicator, [0, 0])
        counts[0 if verdict else 1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


# ------------------------------------------------------------------ queries
def list_alerts(engine: Engine, watch: str | None = None, state: str | None = None,
                limit: int = 50) -> list[Any]:
    query = sa.select(alerts).order_by(alerts.c.first_at.desc(), alerts.c.id.desc())
    if watch:
        query = query.where(alerts.c.watch == watch)
    # withdrawn alerts are shown only when asked for
    query = query.where(alerts.c.state == state) if state else \
        query.where(alerts.c.state != "withdrawn")
    with engine.connect() as conn:
        return list(conn.execute(query.limit(limit)))


def evidence_of(engine: Engine, alert_ids: list[int]) -> dict[int, list[int]]:
    """The evidence ids behind each alert."""
    return linked_evidence(engine, alert_ids)


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
