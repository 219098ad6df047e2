"""What channels receive for one alert (the "payload"): its level and peak index, its
lifecycle, and the strongest of its evidence with sentence, source, grade and link.

Every string that may come from a document or a feed (titles, sentences, source names,
analysts' notes) is cleaned of control characters here, once, and URLs are kept only
when they are plain http(s) links: a payload goes to webhooks and files as it is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection, Engine

from tocsin.alerts.engine import shown_index
from tocsin.alerts.feed import plain
from tocsin.store.queries import alert_trail, last_moves, linked_evidence

TOP_EVIDENCE = 10  # pieces of evidence a notification carries in full
POLARITY_RANK = {"asserted": 0, "reported": 1, "hypothetical": 2, "denied": 3}


def stored_level(level: str | None) -> str:
    """``alerts.level`` is NOT NULL (SQLite cannot relax it without rebuilding the table
    its events hang on): below the watch's `watch` level it holds ""."""
    return level or ""


def row_level(row: Any) -> str | None:
    """An alert row's level: the watch's level for its peak index, None below `watch`."""
    return row.level or None


def row_rule_level(row: Any) -> str:
    """The level the rules that fired asked for (rows stored before it was kept apart
    hold the old single level, which was exactly that)."""
    return str(getattr(row, "rule_level", None) or row.level or "watch")


def safe_url(value: object) -> str | None:
    """``value`` if it is a plain http(s) URL with a host, else None (a document's URL
    comes from a feed: never pass ``javascript:`` or a control character on)."""
    if not isinstance(value, str) or len(value) > 2000 or plain(value) != value \
            or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.hostname else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def strongest(trail: list[dict[str, Any]], n: int = TOP_EVIDENCE) -> list[dict[str, Any]]:
    """The ``n`` strongest pieces of evidence, each independent origin's best first:
    by severity, source grade, polarity (asserted, reported, hypothetical, denied),
    then the earliest. So ten echoes of one report never crowd out a second origin."""
    def key(t: dict[str, Any]) -> tuple[Any, ...]:
        when = t.get("published_at")
        return (-(t.get("severity") or 0), t.get("grade") or "F",
                POLARITY_RANK.get(t.get("polarity") or "", 9),
                when.timestamp() if isinstance(when, datetime) else float("inf"),
                t.get("evidence") or 0)

    by_origin: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in trail:
        by_origin[str(t.get("origin") or t.get("source_id") or t.get("source"))].append(t)
    ranked = [(rank, key(t), t) for group in by_origin.values()
              for rank, t in enumerate(sorted(group, key=key))]
    return [t for _, _, t in sorted(ranked, key=lambda r: (r[0], r[1]))[:n]]


def evidence_item(t: dict[str, Any]) -> dict[str, Any]:
    """One piece of evidence as a notification carries it (text cleaned, URL checked)."""
    return {
        "evidence": t.get("evidence"), "indicator": plain(t.get("indicator"), limit=200),
        "polarity": plain(t.get("polarity"), limit=20), "severity": t.get("severity"),
        "sentence": plain(t.get("sentence"), limit=1000),
        "source": plain(t.get("source"), limit=200), "grade": plain(t.get("grade"), limit=1),
        "origin": plain(t.get("origin"), limit=200) or None,
        "document": t.get("document"), "title": plain(t.get("title"), limit=300),
        "url": safe_url(t.get("url")), "published_at": _iso(t.get("published_at")),
    }


def payload(row: Any, event: str, evidence_ids: list[int],
            trail: list[dict[str, Any]] | None = None, move: Any = None) -> dict[str, Any]:
    """A notification for the alert ``row``. ``trail``: its evidence (see
    ``store.queries.alert_trail``), of which the strongest go in full; ``move``: its
    latest lifecycle event, if any (who moved it, when, why)."""
    snapshot = row.snapshot or {}
    changed = row.last_at
    lifecycle = None
    if move is not None:
        lifecycle = {"kind": move.kind, "at": move.at.isoformat(),
                     "by": plain(move.by, limit=200), "note": plain(move.note, limit=1000)}
        changed = max(changed, move.at)
    return {
        "id": row.id, "event": event, "watch": row.watch, "level": row_level(row),
        "index": shown_index(row.index), "index_at": snapshot.get("at"),
        "rule_level": row_rule_level(row), "state": row.state,
        "at": row.first_at.isoformat(), "updated_at": row.last_at.isoformat(),
        "changed_at": changed.isoformat(), "title": plain(row.title, limit=500),
        "summary": "; ".join(row.reasons[-3:]), "categories": row.categories,
        "indicators": row.indicators, "rules": row.rules, "evidence": evidence_ids,
        "trail": [evidence_item(t) for t in strongest(trail or [])],
        "lifecycle": lifecycle,
    }


def notice(bind: Engine | Connection, row: Any, event: str,
           evidence_ids: list[int] | None = None) -> dict[str, Any]:
    """The payload of ``row`` with its evidence and last move read from the store (on the
    caller's connection when given one, so inside its transaction)."""
    if evidence_ids is None:
        evidence_ids = linked_evidence(bind, [row.id])[row.id]
    trail = alert_trail(bind, evidence_ids, row.pack)
    return payload(row, event, evidence_ids, trail, last_moves(bind, [row.id]).get(row.id))


def notices(engine: Engine, rows: list[Any], event: str = "state") -> list[dict[str, Any]]:
    """Payloads of many alerts (``tocsin alerts -f jsonl|atom``), in the order given."""
    with engine.connect() as conn:
        moves = last_moves(conn, [r.id for r in rows])
        linked = linked_evidence(conn, [r.id for r in rows])
        out = []
        for row in rows:
            ids = linked[row.id]
            out.append(payload(row, event, ids, alert_trail(conn, ids, row.pack),
                               moves.get(row.id)))
    return out

