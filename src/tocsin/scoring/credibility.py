"""Information credibility 1-6 (the NATO Admiralty code) from corroboration.

For a piece of evidence, look at every piece of evidence of the same indicator, on the
same side (affirming: asserted, reported, hypothetical; or denying), within ``window``
of it. Count the independent origins behind them: evidence is independent only if it
comes from a different story and its story's echo chain ends at a different origin.
Then, with the best reliability grade among those origins:

  1 confirmed        3+ independent origins, one of them graded A or B
  2 probably true    2+ independent origins, one of them graded A to C
  3 possibly true    2+ independent origins of lower grades; or 1 origin graded A to C
  4 doubtful         1 origin graded D or E
  5 improbable       contradicted: 2+ independent origins graded A to C deny it and it
                     has no corroboration
  6 cannot be judged 1 origin graded F (not graded yet)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tocsin.store.queries import effective_time
from tocsin.store.schema import documents, evidence, sources, stories

MEANINGS = {1: "confirmed", 2: "probably true", 3: "possibly true", 4: "doubtful",
            5: "improbable", 6: "cannot be judged"}
GOOD, FAIR = set("AB"), set("ABC")


@dataclass(frozen=True)
class Credibility:
    value: int
    origins: int  # independent origins on the same side, this one included
    against: int  # independent origins on the other side

    @property
    def meaning(self) -> str:
        return MEANINGS[self.value]


def origin_key(story_id: int | None, origin_source_id: str | None, document_id: int) -> str:
    """What independence compares: the origin at the root of the story's echo chain."""
    if origin_source_id:
        return f"source:{origin_source_id}"
    return f"story:{story_id}" if story_id is not None else f"doc:{document_id}"


def rate(origins: dict[str, str], against: dict[str, str]) -> int:
    """``origins``/``against``: origin key -> its best grade."""
    grades = set(origins.values())
    fair_against = sum(1 for g in against.values() if g in FAIR)
    if len(origins) >= 3 and grades & GOOD:
        return 1
    if len(origins) >= 2 and grades & FAIR:
        return 2
    if len(origins) == 1 and fair_against >= 2:
        return 5
    if len(origins) >= 2 or grades & FAIR:
        return 3
    if grades & {"D", "E"}:
        return 4
    return 6


def _side(polarity: str) -> str:
    return "deny" if polarity == "denied" else "affirm"


def credibility(engine: Engine, window: timedelta = timedelta(days=3),
                ids: list[int] | None = None) -> dict[int, Credibility]:
    """Credibility of the evidence ``ids`` (default: all), over the whole store."""
    query = (
        sa.select(evidence.c.id, evidence.c.indicator, evidence.c.polarity,
                  evidence.c.document_id, effective_time.label("time"), documents.c.story_id,
                  documents.c.source_id, stories.c.origin_source_id)
        .join(documents, documents.c.id == evidence.c.document_id)
        .outerjoin(stories, stories.c.id == documents.c.story_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        grades = {sid: grade for sid, grade in conn.execute(
            sa.select(sources.c.id, sources.c.grade))}
    by_indicator: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_indicator[row.indicator].append(row)
    wanted = set(ids) if ids is not None else None
    out: dict[int, Credibility] = {}
    for group in by_indicator.values():
        group.sort(key=lambda r: r.time)
        times = [r.time for r in group]
        for row in group:
            if wanted is not None and row.id not in wanted:
                continue
            low = bisect_left(times, row.time - window)
            high = bisect_right(times, row.time + window)
            same: dict[str, str] = {}
            other: dict[str, str] = {}
            for peer in group[low:high]:
                key = origin_key(peer.story_id, peer.origin_source_id, peer.document_id)
                # the grade of the origin the chain ends at, else of the publisher
                grade = grades.get(peer.origin_source_id or peer.source_id, "F")
                bucket = same if _side(peer.polarity) == _side(row.polarity) else other
                bucket[key] = min(bucket.get(key, "F"), grade)
            out[row.id] = Credibility(rate(same, other), len(same), len(other))
    return out


def independent_origins(engine: Engine, since: datetime | None = None) -> dict[str, int]:
    """Per category: independent origins of affirming evidence, counted per UTC day (the
    same origin on two days counts twice; its copies and rewrites never do)."""
    query = (sa.select(evidence.c.category, evidence.c.document_id, documents.c.story_id,
                       stories.c.origin_source_id, effective_time.label("time"))
             .join(documents, documents.c.id == evidence.c.document_id)
             .outerjoin(stories, stories.c.id == documents.c.story_id)
             .where(evidence.c.polarity != "denied"))
    if since is not None:
        query = query.where(effective_time >= since)
    keys: dict[str, set[tuple[Any, str]]] = defaultdict(set)
    with engine.connect() as conn:
        for category, document_id, story_id, origin_source_id, time in conn.execute(query):
            keys[category].add((time.date(), origin_key(story_id, origin_source_id,
                                                         document_id)))
    return {category: len(v) for category, v in keys.items()}
