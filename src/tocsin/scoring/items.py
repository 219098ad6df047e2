"""Evidence as scoring sees it: one row per piece of evidence in a watch's scope.

Evidence an analyst marked false (`tocsin review ID false`, latest verdict) is left
out. A document belongs to a watch when it names one of the watch's actors, places or
delivery systems (by id or by country). Each row carries the origin that independence
compares (see credibility.origin_key) and the grade of that origin's source.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tocsin.indicators.pack import Pack
from tocsin.scoring.credibility import origin_key
from tocsin.scoring.watch import Watch
from tocsin.store.queries import effective_time, latest_reviews
from tocsin.store.schema import (
    documents,
    entities,
    evidence,
    sources,
    stories,
)


@dataclass(frozen=True, slots=True)
class Item:
    evidence_id: int
    document_id: int
    time: datetime
    indicator: str
    category: str
    severity: int
    polarity: str
    origin: str
    grade: str
    source_id: str
    actor: str | None = None  # who the evidence is about (a claim's maker), if known

    @property
    def order(self) -> tuple[datetime, int, int]:
        return (self.time, self.document_id, self.evidence_id)


def scope_ids(watch: Watch, pack: Pack) -> frozenset[str]:
    """Ids of the pack's actors, places and weapons that put a document in the watch."""
    scope = watch.scope
    ids: set[str] = set(scope.actors) | set(scope.places) | set(scope.weapons)
    for entity in pack.entities:
        countries = entity.attrs.get("country") if entity.type != "weapon" else \
            entity.attrs.get("operator")
        if isinstance(countries, str):
            countries = [countries]
        if any(c in scope.countries for c in countries or ()):
            ids.add(entity.id)
    return frozenset(ids)


def load_items(engine: Engine, watch: Watch, pack: Pack, since: datetime | None = None,
               until: datetime | None = None) -> list[Item]:
    """The watch's evidence from the store, in time order (then document, evidence id)."""
    in_scope = scope_ids(watch, pack)
    query = (
        sa.select(evidence.c.id, evidence.c.document_id, effective_time.label("time"),
                  evidence.c.indicator, evidence.c.category, evidence.c.severity,
                  evidence.c.polarity, evidence.c.actor, evidence.c.place, evidence.c.weapon,
                  evidence.c.field, evidence.c.start,
                  documents.c.story_id, documents.c.source_id, stories.c.origin_source_id)
        .join(documents, documents.c.id == evidence.c.document_id)
        .outerjoin(stories, stories.c.id == documents.c.story_id)
        .where(evidence.c.pack == pack.id)
    )
    if since is not None:
        query = query.where(effective_time >= since)
    if until is not None:
        query = query.where(effective_time < until)
    named: dict[int, set[str]] = defaultdict(set)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        grades = {sid: grade for sid, grade in conn.execute(
            sa.select(sources.c.id, sources.c.grade))}
        doc_ids = sorted({r.document_id for r in rows})
        for start in range(0, len(doc_ids), 900):
            chunk = doc_ids[start:start + 900]
            for document_id, entity in conn.execute(
                    sa.select(entities.c.document_id, entities.c.entity).distinct()
                    .where(entities.c.document_id.in_(chunk))):
                named[document_id].add(entity)
        rejected = {k for k, ok in latest_reviews(conn, pack.id).items() if not ok}
    items = [_item(r, grades) for r in rows if _in_scope(r, named, in_scope)
             and (r.document_id, r.indicator, r.field, r.start) not in rejected]
    items.sort(key=lambda i: i.order)
    return items


def _in_scope(row: Any, named: dict[int, set[str]], in_scope: frozenset[str]) -> bool:
    own = {row.actor, row.place, row.weapon}
    return bool(own & in_scope) or bool(named.get(row.document_id, set()) & in_scope)


def _item(row: Any, grades: dict[str, str]) -> Item:
    # the grade of the source at the root of the echo chain, else of the publisher
    grade = grades.get(row.origin_source_id or row.source_id, "F")
    return Item(
        evidence_id=row.id, document_id=row.document_id, time=row.time,
        indicator=row.indicator, category=row.category, severity=int(row.severity),
        polarity=row.polarity, origin=origin_key(row.story_id, row.origin_source_id,
                                                 row.document_id),
        grade=grade, source_id=row.source_id, actor=row.actor,
    )


def first_document_time(engine: Engine) -> datetime | None:
    """When the store's history starts (for the cold start of baselines)."""
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.min(effective_time))).scalar()
    return value if isinstance(value, datetime) else None


def last_document_time(engine: Engine) -> datetime | None:
    """When the store's history ends."""
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(effective_time))).scalar()
    return value if isinstance(value, datetime) else None
