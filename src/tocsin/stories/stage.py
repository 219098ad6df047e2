"""The stories stage: attributions per document, then story membership and origins.

Reads Document.text, language, source, published time; assigns attributions, the cited
source, the MinHash signature, and (after the documents are stored) their story.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tocsin.model import Document
from tocsin.store.db import Store, slugify
from tocsin.store.locks import bump, exclusive, generation
from tocsin.store.queries import effective_time
from tocsin.store.schema import documents, sources, stories
from tocsin.stories.attribution import AttributionExtractor, SourceIndex
from tocsin.stories.chains import Member, resolve
from tocsin.stories.cluster import StoryIndex
from tocsin.stories.minhash import figures, from_bytes, shingles, signature_of

# The run's story index keeps every document it has seen (~13 KB each); past this many,
# and twice what its last load needed, it is loaded afresh with only the stretch of time
# a batch needs, so a long stream's memory stays flat.
INDEX_DOCUMENTS = 10_000


@dataclass
class StoriesStage:
    extractor: AttributionExtractor
    threshold: float = 0.25
    window: timedelta = timedelta(days=3)
    _index: StoryIndex | None = field(default=None, repr=False)
    _covered: tuple[datetime, datetime] | None = field(default=None, repr=False)
    _stored: set[int] = field(default_factory=set, repr=False)  # story ids in the store
    _generation: int = field(default=-1, repr=False)  # the store's stories, as last seen
    _loaded: int = field(default=0, repr=False)  # documents in the index after its load

    @classmethod
    def for_store(cls, store: Store, languages: tuple[str, ...], threshold: float = 0.25,
                  window_days: float = 3) -> StoriesStage:
        from tocsin.store.registry import source_names

        return cls(AttributionExtractor(SourceIndex(source_names(store.engine)), languages),
                   threshold,
                   timedelta(days=window_days))

    def prepare(self, docs: list[Document], source_ids: dict[str, str] | None = None) -> None:
        """Before storing: attributions, cited source and signature of each document."""
        for doc in docs:
            doc.attributions = self.extractor.extract_document(doc.title, doc.text,
                                                               doc.language)
            own = (source_ids or {}).get(doc.source.casefold(), slugify(doc.source))
            doc.cites = next((a.source_id for a in doc.attributions
                              if a.source_id and a.source_id != own), None)
            # A text with no words at all (emoji, punctuation) has no shingles: it would
            # look like every other such text, so it joins no story.
            pieces = shingles(doc.text, doc.language)
            if pieces:
                doc.signature = signature_of(pieces)
            doc.figures = figures(doc.text)

    def cluster(self, store: Store) -> set[int]:
        """After storing: put the new documents into stories; returns the stories touched.

        The story index lives for the whole run: stored documents are loaded once for
        each stretch of time the run needs (their window), not again for every batch.
        Documents left without a story by an earlier run that stopped between storing and
        clustering, or stored by another process, are picked up too. Clustering holds the
        store's write lock, and when another process changed the stories since this one
        last did (the ``stories`` generation moved), the index is loaded afresh.
        """
        try:
            with exclusive(store.engine, "write"), store.engine.begin() as conn:
                current = generation(conn, "stories")
                if current != self._generation:
                    self._index = None
                touched = self._cluster(conn)
                self._generation = bump(conn, "stories") if touched else current
                return touched
        except Exception:
            self._index = None  # the database rolled back: rebuild from it next time
            self._generation = -1
            raise

    def _cluster(self, conn: sa.Connection) -> set[int]:
        # Every document still without a story: this run's new ones and any left over;
        # one another process clustered already is not taken twice.
        # A wordless document (a lone emoji) has no signature and joins no story.
        new = conn.execute(
            sa.select(documents.c.id, effective_time.label("time"), documents.c.signature,
                      documents.c.figures)
            .where(documents.c.story_id.is_(None), documents.c.signature.is_not(None))).all()
        if not new:
            return set()
        times = [row.time for row in new]
        if self._index is not None and len(self._index) > max(INDEX_DOCUMENTS, 2 * self._loaded):
            self._index = None  # grown past what batches need: reload only their stretch
        index = self._load(conn, min(times) - self.window, max(times) + self.window)
        index.merged.clear()
        for row in sorted(new, key=lambda r: (r.time, r.id)):
            index.add(row.id, row.time, from_bytes(row.signature),
                      frozenset(row.figures or ()))
        touched: set[int] = set()
        # stored stories swallowed by another (a new document bridged them)
        for old in sorted(set(index.merged) & self._stored):
            now = index.find(old)
            conn.execute(documents.update().where(documents.c.story_id == old)
                         .values(story_id=now))
            conn.execute(stories.delete().where(stories.c.id == old))
            self._stored.discard(old)
            touched.add(now)
        # one statement for the batch, not one a document
        assigned = [{"doc": row.id, "story": index.find(row.id)} for row in new]
        conn.execute(documents.update().where(documents.c.id == sa.bindparam("doc"))
                     .values(story_id=sa.bindparam("story")), assigned)
        touched.update(a["story"] for a in assigned)
        self._stored |= touched
        refresh(conn, touched)
        return touched

    def _load(self, conn: sa.Connection, low: datetime, high: datetime) -> StoryIndex:
        """The run's index, with every stored document between ``low`` and ``high``."""
        fresh = self._index is None
        if self._index is None:
            self._index, self._covered, self._stored = (
                StoryIndex(self.threshold, self.window), None, set())
        index = self._index
        gaps = [(low, high)] if self._covered is None else [
            (a, b) for a, b in ((low, self._covered[0]), (self._covered[1], high)) if a < b]
        for a, b in gaps:
            for row in conn.execute(
                    sa.select(documents.c.id, effective_time.label("time"),
                              documents.c.signature, documents.c.story_id, documents.c.figures)
                    .where(documents.c.story_id.is_not(None), effective_time >= a,
                           effective_time <= b)):
                if not index.has(row.id):
                    index.preload(row.id, row.time, from_bytes(row.signature), row.story_id,
                                  frozenset(row.figures or ()))
                    self._stored.add(row.story_id)
        self._covered = (low, high) if self._covered is None else (
            min(low, self._covered[0]), max(high, self._covered[1]))
        if fresh:
            self._loaded = len(index)
        return index


def refresh(conn: sa.Connection, story_ids: set[int]) -> None:
    """Rewrite the stories rows (size, time span, languages, origin, chain)."""
    if not story_ids:
        return
    rows = conn.execute(
        sa.select(documents.c.id, documents.c.story_id, documents.c.language,
                  documents.c.source_id, documents.c.cites, effective_time.label("time"),
                  sources.c.name.label("source_name"))
        .join(sources, sources.c.id == documents.c.source_id)
        .where(documents.c.story_id.in_(story_ids))).all()
    names = {sid: name for sid, name in conn.execute(sa.select(sources.c.id, sources.c.name))}
    members: dict[int, list[Member]] = defaultdict(list)
    languages: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        members[row.story_id].append(Member(row.id, row.source_id, row.source_name, row.time,
                                            row.cites, names.get(row.cites)))
        languages[row.story_id].add(row.language)
    conn.execute(stories.delete().where(stories.c.id.in_(story_ids)))
    values: list[dict[str, Any]] = []
    for story_id, group in members.items():
        origin, chain = resolve(group)
        times = [m.time for m in group]
        values.append({"id": story_id, "size": len(group), "first_at": min(times),
                       "last_at": max(times), "languages": sorted(languages[story_id]),
                       "origin_document_id": origin.document_id,
                       "origin_source_id": origin.source_id, "origin_name": origin.name,
                       "chain": chain})
    if values:
        conn.execute(stories.insert(), values)

