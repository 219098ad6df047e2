"""Read-only queries about stories, chains and independent origins."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tocsin.store.schema import attributions, documents, sources, stories


def list_stories(engine: Engine, min_size: int = 2, limit: int = 50) -> list[dict[str, Any]]:
    query = (sa.select(stories).where(stories.c.size >= min_size)
             .order_by(stories.c.size.desc(), stories.c.first_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def get_story(engine: Engine, story_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(stories).where(stories.c.id == story_id)).first()
        if row is None:
            return None
        story = dict(row._mapping)
        docs = conn.execute(
            sa.select(documents.c.id, documents.c.title, documents.c.language,
                      documents.c.published_at, sources.c.name.label("source"),
                      sources.c.grade)
            .join(sources, sources.c.id == documents.c.source_id)
            .where(documents.c.story_id == story_id)).all()
        story["documents"] = {d.id: dict(d._mapping) for d in docs}
        return story


def story_of(engine: Engine, doc_hash: str) -> dict[str, Any] | None:
    """Story and origin of a stored document (for `tocsin analyze`)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(documents.c.id, documents.c.story_id, stories.c.origin_name,
                      stories.c.origin_source_id, stories.c.size)
            .join(stories, stories.c.id == documents.c.story_id)
            .where(documents.c.doc_hash == doc_hash)).first()
        return dict(row._mapping) if row else None


def document_attributions(engine: Engine, document_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(attributions).where(attributions.c.document_id == document_id)
            .order_by(attributions.c.start))]
