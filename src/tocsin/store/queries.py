"""Read-only queries for the CLI, the board, the alert channels and (later) the web API."""

from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tocsin.store.schema import (
    alert_events,
    alert_evidence,
    documents,
    entities,
    evidence,
    evidence_reviews,
    ingest_runs,
    quarantine,
    sources,
    stories,
)

# When a document's own date is missing or untrusted, it is placed at its ingest time.
effective_time = sa.func.coalesce(documents.c.published_at, documents.c.fetched_at)


@dataclass(frozen=True)
class DocumentFilter:
    language: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    source_ids: tuple[str, ...] = ()

    def apply(self, query: sa.Select[Any]) -> sa.Select[Any]:
        if self.language:
            query = query.where(documents.c.language == self.language)
        if self.source:
            # Matched in Python: SQLite's lower() folds ASCII only, and names are Cyrillic.
            query = query.where(documents.c.source_id.in_(
                sa.select(sources.c.id).where(sources.c.id.in_(self.source_ids))))
        if self.since:
            query = query.where(effective_time >= self.since)
        if self.until:
            query = query.where(effective_time < self.until)
        return query


def find_sources(engine: Engine, name: str) -> tuple[str, ...]:
    """Ids of the sources whose id, name or an alias is ``name``, ignoring case."""
    wanted = name.casefold()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sources.c.id, sources.c.name, sources.c.aliases))
        return tuple(row.id for row in rows
                     if wanted in {str(k).casefold() for k in
                                   [row.id, row.name, *(row.aliases or [])]})


def resolve(engine: Engine, where: DocumentFilter) -> DocumentFilter:
    if where.source and not where.source_ids:
        return replace(where, source_ids=find_sources(engine, where.source) or ("",))
    return where


def list_documents(engine: Engine, where: DocumentFilter, limit: int = 50,
                   offset: int = 0) -> list[dict[str, Any]]:
    query = (
        sa.select(documents.c.id, documents.c.published_at, documents.c.date_flag,
                  documents.c.language, documents.c.title, documents.c.url,
                  sources.c.name.label("source"),
                  sa.func.length(documents.c.text).label("chars"))
        .join(sources, sources.c.id == documents.c.source_id)
        .order_by(effective_time.desc(), documents.c.id.desc())
        .limit(limit).offset(offset)
    )
    where = resolve(engine, where)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(where.apply(query))]


def count_documents(engine: Engine, where: DocumentFilter) -> int:
    query = sa.select(sa.func.count()).select_from(
        documents.join(sources, sources.c.id == documents.c.source_id))
    where = resolve(engine, where)
    with engine.connect() as conn:
        return int(conn.execute(where.apply(query)).scalar_one())


def get_document(engine: Engine, key: str) -> dict[str, Any] | None:
    """A document by numeric id or by a prefix (8+ characters) of its hash."""
    query = (sa.select(documents, sources.c.name.label("source"),
                       sources.c.grade.label("source_grade"))
             .join(sources, sources.c.id == documents.c.source_id))
    if key.isdigit():
        query = query.where(documents.c.id == int(key))
    elif len(key) >= 8:
        query = query.where(documents.c.doc_hash.startswith(key.lower())).limit(2)
    else:
        return None
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if len(rows) != 1:
        return None
    doc = dict(rows[0]._mapping)
    doc.pop("signature", None)  # 512 bytes of MinHash, for clustering only
    doc.pop("figures", None)
    return doc


def document_findings(engine: Engine, document_id: int) -> dict[str, list[dict[str, Any]]]:
    """The evidence and entities stored for one document, in text order."""
    with engine.connect() as conn:
        found = conn.execute(sa.select(evidence).where(evidence.c.document_id == document_id)
                             .order_by(evidence.c.field.desc(), evidence.c.start,
                                       evidence.c.id))  # the title first
        ents = conn.execute(sa.select(entities).where(entities.c.document_id == document_id)
                            .order_by(entities.c.start))
        return {"evidence": [dict(r._mapping) for r in found],
                "entities": [dict(r._mapping) for r in ents]}


def list_quarantine(engine: Engine, reason: str | None = None, run_id: int | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
    query = sa.select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
    if reason:
        query = query.where(quarantine.c.reason == reason)
    if run_id is not None:
        query = query.where(quarantine.c.run_id == run_id)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


@dataclass
class Board:
    """What the terminal board shows."""

    total: int = 0
    quarantined: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    per_source: list[dict[str, Any]] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    per_day: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    per_day_source: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    last_run: dict[str, Any] | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    evidence_by_category: Counter[str] = field(default_factory=Counter)
    origins_by_category: dict[str, int] = field(default_factory=dict)
    credibility: dict[int, Any] = field(default_factory=dict)


def _day(engine: Engine) -> sa.ColumnElement[Any]:
    """The UTC calendar day of a document, in the dialect's own SQL."""
    if engine.dialect.name == "postgresql":
        return sa.cast(sa.func.timezone("UTC", effective_time), sa.Date)
    return sa.func.date(effective_time)


def board(engine: Engine, days: int = 14, evidence_limit: int = 12) -> Board:
    """Totals, documents per source, and per language and source for the last active days."""
    result = Board()
    with engine.connect() as conn:
        result.total = int(conn.execute(sa.select(sa.func.count(documents.c.id))).scalar_one())
        result.quarantined = int(
            conn.execute(sa.select(sa.func.count(quarantine.c.id))).scalar_one())
        for lang, n in conn.execute(sa.select(documents.c.language, sa.func.count())
                                    .group_by(documents.c.language)):
            result.languages[lang] = n
        per_source = (
            sa.select(sources.c.name, sources.c.grade, sources.c.kind,
                      sa.func.min(documents.c.language).label("language"),
                      sa.func.count(documents.c.id).label("documents"),
                      sa.func.min(effective_time).label("first"),
                      sa.func.max(effective_time).label("last"))
            .join(documents, documents.c.source_id == sources.c.id)
            .group_by(sources.c.id, sources.c.name, sources.c.grade, sources.c.kind)
            .order_by(sa.desc("documents"), sources.c.name)
        )
        result.per_source = [dict(r._mapping) for r in conn.execute(per_source)]
        day = _day(engine)
        recent_days = [d for (d,) in conn.execute(
            sa.select(day).group_by(day).order_by(day.desc()).limit(days))]
        if recent_days:
            per_day = (
                sa.select(day.label("day"), documents.c.language, sources.c.name,
                          sa.func.count(documents.c.id))
                .join(sources, sources.c.id == documents.c.source_id)
                .where(day.in_(recent_days))
                .group_by(day, documents.c.language, sources.c.name)
            )
            for d, lang, source, n in conn.execute(per_day):
                d = d if isinstance(d, date) else date.fromisoformat(str(d))
                result.per_day[d][lang] += n
                result.per_day_source[d][source] += n
            result.days = sorted(result.per_day, reverse=True)
        result.evidence = [dict(r._mapping) for r in conn.execute(
            sa.select(evidence.c.id, evidence.c.document_id, evidence.c.indicator,
                      evidence.c.category, evidence.c.polarity, evidence.c.severity,
                      evidence.c.start, evidence.c.end, evidence.c.spans,
                      evidence_sentence().label("sentence"), evidence.c.field,
                      effective_time.label("time"), documents.c.language,
                      sources.c.name.label("source"))
            .join(documents, documents.c.id == evidence.c.document_id)
            .join(sources, sources.c.id == documents.c.source_id)
            .order_by(effective_time.desc(), evidence.c.id.desc()).limit(evidence_limit))]
        for category, n in conn.execute(sa.select(evidence.c.category, sa.func.count())
                                        .where(evidence.c.polarity != "denied")
                                        .group_by(evidence.c.category)):
            result.evidence_by_category[category] = n
        last = conn.execute(sa.select(ingest_runs).order_by(ingest_runs.c.id.desc()).limit(1))
        row = last.first()
        result.last_run = dict(row._mapping) if row else None
    return result


def last_document_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(documents.c.id))).scalar() or 0)


def earliest_change(engine: Engine, after_id: int,
                    history_start: datetime | None) -> datetime | None:
    """From when documents stored after ``after_id`` can change the scores: their
    earliest evidence or that of the stories they joined, or their earliest document if
    it comes before the history the store had (the baselines' cold start moves)."""
    new = documents.c.id > after_id
    # stories the new documents joined: their origin (and so the grade and the
    # independence of older evidence) may have changed
    touched = sa.select(documents.c.story_id).where(new, documents.c.story_id.is_not(None))
    with engine.connect() as conn:
        with_evidence = conn.execute(
            sa.select(sa.func.min(effective_time))
            .select_from(documents.join(evidence, evidence.c.document_id == documents.c.id))
            .where(new | documents.c.story_id.in_(touched))).scalar()
        first = conn.execute(sa.select(sa.func.min(effective_time)).where(new)).scalar()
    found = [t for t in (with_evidence,) if isinstance(t, datetime)]
    if isinstance(first, datetime) and (history_start is None or first < history_start):
        found.append(first)
    return min(found) if found else None


def evidence_sentence() -> Any:
    """The sentence of a piece of evidence, from the field its offsets point into."""
    return sa.case(
        (evidence.c.field == "title",
         sa.func.substr(documents.c.title, evidence.c.start + 1,
                        evidence.c.end - evidence.c.start)),
        else_=sa.func.substr(documents.c.text, evidence.c.start + 1,
                             evidence.c.end - evidence.c.start))


def latest_reviews(conn: Any, pack: str) -> dict[tuple[int, str, str, int], bool]:
    """Analysts' verdicts on evidence, the latest per (document, indicator, field,
    offset)."""
    latest: dict[tuple[int, str, str, int], tuple[Any, int, bool]] = {}
    for r in conn.execute(sa.select(evidence_reviews).where(evidence_reviews.c.pack == pack)):
        key = (r.document_id, r.indicator, r.field, r.start)
        if key not in latest or (r.at, r.id) > latest[key][:2]:
            latest[key] = (r.at, r.id, r.verdict)
    return {key: verdict for key, (_, _, verdict) in latest.items()}


# ------------------------------------------------------------------ alerts
LIFECYCLE_KINDS = ("acknowledged", "confirmed", "dismissed", "withdrawn", "reopened")


def _connected(bind: Engine | Connection) -> AbstractContextManager[Connection]:
    """A connection on ``bind``: the caller's own (inside its transaction, left open), or
    a new one."""
    return bind.connect() if isinstance(bind, Engine) else nullcontext(bind)


def alert_trail(bind: Engine | Connection, evidence_ids: list[int],
                pack: str | None = None) -> list[dict[str, Any]]:
    """The evidence behind an alert, oldest first: each piece with its sentence, document
    (title, url), source and grade, story and echo chain, and the latest review."""
    rows: list[Any] = []
    with _connected(bind) as conn:
        verdicts = latest_reviews(conn, pack) if pack else {}
        for start in range(0, len(evidence_ids), 900):
            rows.extend(conn.execute(
                sa.select(evidence.c.id, evidence.c.indicator, evidence.c.category,
                          evidence.c.severity, evidence.c.polarity, evidence.c.start,
                          evidence.c.end, documents.c.id.label("document_id"),
                          documents.c.title, documents.c.url,
                          evidence_sentence().label("sentence"), evidence.c.field,
                          documents.c.published_at, documents.c.language,
                          documents.c.source_id, sources.c.name.label("source"),
                          sources.c.grade, documents.c.story_id, stories.c.origin_name,
                          stories.c.chain)
                .join(documents, documents.c.id == evidence.c.document_id)
                .join(sources, sources.c.id == documents.c.source_id)
                .outerjoin(stories, stories.c.id == documents.c.story_id)
                .where(evidence.c.id.in_(evidence_ids[start:start + 900]))))
    rows.sort(key=lambda r: (r.published_at or datetime.min.replace(tzinfo=UTC), r.id))
    return [{"evidence": r.id, "indicator": r.indicator, "category": r.category,
             "severity": r.severity, "polarity": r.polarity, "sentence": r.sentence,
             "field": r.field,
             "document": r.document_id, "title": r.title, "url": r.url,
             "published_at": r.published_at, "language": r.language, "source": r.source,
             "source_id": r.source_id, "grade": r.grade, "story": r.story_id,
             "origin": r.origin_name,
             "review": verdicts.get((r.document_id, r.indicator, r.field, r.start)),
             "chain": [f"{link['source']}" + (f" < {link['cites']}" if link.get("cites")
                                              else "") for link in (r.chain or [])]}
            for r in rows]


def last_moves(bind: Engine | Connection, alert_ids: list[int]) -> dict[int, Any]:
    """Per alert, its latest lifecycle event (acknowledged, confirmed, dismissed,
    withdrawn, reopened) with ``at``, ``kind``, ``by`` and ``note``; alerts never moved
    are absent."""
    out: dict[int, Any] = {}
    with _connected(bind) as conn:
        for start in range(0, len(alert_ids), 900):
            for row in conn.execute(
                    sa.select(alert_events.c.alert_id, alert_events.c.id, alert_events.c.at,
                              alert_events.c.kind, alert_events.c.by, alert_events.c.note)
                    .where(alert_events.c.alert_id.in_(alert_ids[start:start + 900]),
                           alert_events.c.kind.in_(LIFECYCLE_KINDS))):
                known = out.get(row.alert_id)
                if known is None or (row.at, row.id) > (known.at, known.id):
                    out[row.alert_id] = row
    return out


def linked_evidence(bind: Engine | Connection, alert_ids: list[int]) -> dict[int, list[int]]:
    """The evidence ids behind each alert, sorted."""
    out: dict[int, list[int]] = {i: [] for i in alert_ids}
    with _connected(bind) as conn:
        for start in range(0, len(alert_ids), 900):
            for alert_id, evidence_id in conn.execute(
                    sa.select(alert_evidence.c.alert_id, alert_evidence.c.evidence_id)
                    .where(alert_evidence.c.alert_id.in_(alert_ids[start:start + 900]))):
                out[alert_id].append(evidence_id)
    return {k: sorted(v) for k, v in out.items()}
