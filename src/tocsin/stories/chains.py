"""Echo chains and origins of a story.

Each document may name the source it took its report from ("according to X"). Within a
story, a document's parent is the earliest earlier document of the source it names; if
that source has no document in the story, the chain ends at the named source itself
(an origin outside the store). Loops ("A cites B cites A") and missing links end the
chain; nothing recurses without bound. The story's origin is the root most of its
documents lead to (ties: the earliest); with no citations, the earliest publisher.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Member:
    document_id: int
    source_id: str
    source_name: str
    time: datetime
    cites: str | None  # registry source id named as origin
    cites_name: str | None = None


@dataclass(frozen=True)
class Origin:
    key: str  # "doc:<id>" or "source:<id>": what independence compares
    source_id: str
    name: str
    document_id: int | None


def _parents(members: list[Member]) -> dict[int, int | str | None]:
    ordered = sorted(members, key=lambda m: (m.time, m.document_id))
    parents: dict[int, int | str | None] = {}
    for member in ordered:
        if not member.cites or member.cites == member.source_id:
            parents[member.document_id] = None
            continue
        earlier = [m for m in ordered if m.source_id == member.cites
                   and (m.time, m.document_id) < (member.time, member.document_id)]
        parents[member.document_id] = earlier[0].document_id if earlier else \
            f"source:{member.cites}"
    return parents


def root_of(document_id: int, parents: dict[int, int | str | None]) -> int | str:
    seen: set[int | str] = {document_id}
    node: int | str = document_id
    while True:
        parent = parents.get(node) if isinstance(node, int) else None
        if parent is None or parent in seen:
            return node
        seen.add(parent)
        node = parent


def resolve(members: list[Member]) -> tuple[Origin, list[dict[str, Any]]]:
    """The story's origin and its chain (one link per document, in time order)."""
    if not members:
        raise ValueError("a story has at least one document")
    by_id = {m.document_id: m for m in members}
    parents = _parents(members)
    roots = {m.document_id: root_of(m.document_id, parents) for m in members}
    ordered = sorted(members, key=lambda m: (m.time, m.document_id))
    counts = Counter(roots.values())
    best = max(counts.values())
    # the most common root; on a tie, the one the earliest document leads to
    winner = next(roots[m.document_id] for m in ordered if counts[roots[m.document_id]] == best)
    if isinstance(winner, int):
        member = by_id[winner]
        origin = Origin(f"source:{member.source_id}", member.source_id, member.source_name,
                        member.document_id)
    else:
        source_id = winner.split(":", 1)[1]
        name = next((m.cites_name for m in members if m.cites == source_id and m.cites_name),
                    source_id)
        origin = Origin(f"source:{source_id}", source_id, name or source_id, None)
    chain = [{"document": m.document_id, "source": m.source_name, "source_id": m.source_id,
              "time": m.time.isoformat(), "cites": m.cites_name or m.cites,
              "parent": parents[m.document_id]} for m in ordered]
    return origin, chain
