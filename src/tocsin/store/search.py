"""Finding things: evidence by filters, documents by full-text search.

SQLite searches an FTS5 index (``documents_fts``, kept by triggers, migration 0009);
PostgreSQL its own text search over a GIN expression index. Both read one small query
language, the same on both: words are all required, ``"a phrase"`` is a phrase,
``word*`` a prefix, ``OR`` between two terms either, ``-word`` excludes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tocsin.errors import TocsinError
from tocsin.store.queries import effective_time, evidence_sentence, find_sources
from tocsin.store.schema import documents, entities, evidence, sources

# the PostgreSQL document vector; the index of migration 0009 is built on this expression
POSTGRES_VECTOR = "to_tsvector('simple', coalesce(title, '') || ' ' || text)"
FTS_TABLE = "documents_fts"
START, STOP = "\x02", "\x03"  # around matched words in a snippet (never in stored text)
MAX_LIMIT = 10_000


class SearchError(TocsinError):
    """A query the search cannot read."""


@dataclass(frozen=True)
class EvidenceFilter:
    """What to look for; every field is optional and they all hold together.

    ``since`` and ``until`` are inclusive instants on the document's time (its date, or
    its ingest time when it has none). ``entity`` is an entity id (``belarus``,
    ``country:ua``), ``type:id`` (``place:belarus``) or a canonical name (``Belarus``).
    """

    indicator: str | None = None  # an id, or a prefix ending in * ("readiness.*")
    category: str | None = None
    polarity: str | None = None
    language: str | None = None
    source: str | None = None
    entity: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    document: int | None = None
    pack: str | None = None
    limit: int = 50
    offset: int = 0

    def documents_where(self, engine: Engine) -> list[sa.ColumnElement[bool]]:
        """Conditions on ``documents`` (language, source, dates, entity)."""
        out: list[sa.ColumnElement[bool]] = []
        if self.language:
            out.append(documents.c.language == self.language)
        if self.source:
            out.append(documents.c.source_id.in_(find_sources(engine, self.source) or ("",)))
        if self.since:
            out.append(effective_time >= self.since)
        if self.until:
            out.append(effective_time <= self.until)
        if self.document is not None:
            out.append(documents.c.id == self.document)
        if self.entity:
            out.append(sa.exists().where(entities.c.document_id == documents.c.id,
                                         _entity_is(self.entity)))
        return out

    def evidence_where(self) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        if self.indicator:
            if self.indicator.endswith("*"):
                out.append(evidence.c.indicator.startswith(self.indicator[:-1]))
            else:
                out.append(evidence.c.indicator == self.indicator)
        if self.category:
            out.append(evidence.c.category == self.category)
        if self.polarity:
            out.append(evidence.c.polarity == self.polarity)
        if self.pack:
            out.append(evidence.c.pack == self.pack)
        return out

    @property
    def bounded(self) -> tuple[int, int]:
        return min(max(self.limit, 1), MAX_LIMIT), max(self.offset, 0)


ENTITY_TYPES = ("actor", "organization", "place", "weapon")


def _entity_is(value: str) -> sa.ColumnElement[bool]:
    """An entity named by its id (``putin``, ``country:ua``), its canonical name
    (``Vladimir Putin``; ASCII case folded) or ``type:id`` (``place:belarus``)."""
    wanted = value.strip().lower()
    entity = sa.func.lower(entities.c.entity)
    either = [entity == wanted, entity.endswith(":" + wanted),
              sa.func.lower(entities.c.name) == wanted]
    kind, _, rest = wanted.partition(":")
    if kind in ENTITY_TYPES and rest:
        either.append(sa.and_(entities.c.type == kind,
                              sa.or_(entity == rest, entity.endswith(":" + rest))))
    return sa.or_(*either)


def list_evidence(engine: Engine, where: EvidenceFilter) -> list[dict[str, Any]]:
    """Evidence newest first, with its sentence, document and source."""
    limit, offset = where.bounded
    query = (sa.select(evidence.c.id, effective_time.label("at"), evidence.c.indicator,
                       evidence.c.category, evidence.c.severity, evidence.c.polarity,
                       evidence.c.field, evidence.c.actor, evidence.c.place,
                       evidence.c.weapon, evidence_sentence().label("sentence"),
                       documents.c.id.label("document"), documents.c.title, documents.c.url,
                       documents.c.language, sources.c.name.label("source"),
                       sources.c.grade, documents.c.story_id.label("story"))
             .join(documents, documents.c.id == evidence.c.document_id)
             .join(sources, sources.c.id == documents.c.source_id)
             .where(*where.documents_where(engine), *where.evidence_where())
             .order_by(effective_time.desc(), evidence.c.id.desc())
             .limit(limit).offset(offset))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


# ------------------------------------------------------------------ full text
_TOKEN = re.compile(r'-?"[^"]*"\*?|\S+')


def _terms(query: str) -> list[tuple[str, str, bool]]:
    """(operator, term, prefix) per piece: operator is "", "OR" or "NOT"."""
    out: list[tuple[str, str, bool]] = []
    pending = ""
    for raw in _TOKEN.findall(query):
        if raw in ("OR", "AND"):
            pending = "OR" if raw == "OR" else ""
            continue
        negate = raw.startswith("-") and len(raw) > 1
        piece = raw[1:] if negate else raw
        prefix = piece.endswith("*")
        piece = piece.rstrip("*").strip('"').strip()
        if not piece:
            continue
        out.append(("NOT" if negate else pending, piece, prefix))
        pending = ""
    if not out or all(op == "NOT" for op, _, _ in out):
        raise SearchError(f"nothing to search for in {query!r}: give at least one word "
                          '(words are all required; "a phrase", word*, a OR b, -word)')
    return out


def fts5_query(query: str) -> str:
    """The query in FTS5 syntax, every term quoted (so "Kh-101" or "С-400" are terms,
    never operators)."""
    parts: list[str] = []
    for op, term, prefix in _terms(query):
        quoted = '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")
        if op == "NOT":
            parts.append(f"NOT {quoted}")
        elif op == "OR" and parts:
            parts.append(f"OR {quoted}")
        else:
            parts.append(quoted)
    # FTS5 wants a positive term before NOT: put the exclusions last
    positive = [p for p in parts if not p.startswith("NOT ")]
    return " ".join(positive + [p for p in parts if p.startswith("NOT ")])


def postgres_query(query: str) -> str:
    """The query as a PostgreSQL tsquery: every word quoted (so punctuation is never an
    operator), phrases as <->, prefixes as :*, OR as |, exclusions as !."""
    def quoted(word: str) -> str:
        return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"

    out = ""
    for op, term, prefix in _terms(query):
        words = term.split()
        piece = " <-> ".join(quoted(w) for w in words) + (":*" if prefix else "")
        piece = f"({piece})" if len(words) > 1 else piece
        if op == "NOT":
            piece = f"!{piece}"
        out += piece if not out else (f" | {piece}" if op == "OR" else f" & {piece}")
    return out


def highlights(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    """The snippet without its markers, and the [start, end) of each matched piece."""
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    at, start = 0, None
    for char in snippet:
        if char == START:
            start = at
        elif char == STOP and start is not None:
            spans.append((start, at))
            start = None
        else:
            text.append(char)
            at += 1
    return "".join(text), spans


def search_documents(engine: Engine, query: str, where: EvidenceFilter) -> list[dict[str, Any]]:
    """Documents matching ``query`` and the filters, best first: id, time, language,
    source, grade, title, url, evidence count, rank, snippet and its highlights. Filters on
    evidence (indicator, category, polarity) keep documents holding such evidence."""
    limit, offset = where.bounded
    if engine.dialect.name == "sqlite":
        fts = sa.table(FTS_TABLE, sa.column("rowid"), sa.column(FTS_TABLE))
        rank = sa.func.bm25(sa.literal_column(FTS_TABLE))
        snippet = sa.func.snippet(sa.literal_column(FTS_TABLE), -1, START, STOP, "…", 16)
        base = (sa.select(documents.c.id, rank.label("rank"), snippet.label("snippet"))
                .select_from(fts.join(documents, documents.c.id == fts.c.rowid))
                .where(sa.literal_column(FTS_TABLE).op("MATCH")(fts5_query(query)))
                .order_by(rank))  # bm25: lower is better
    else:
        tsq = sa.func.to_tsquery("simple", postgres_query(query))
        vector: sa.ColumnElement[Any] = sa.literal_column(POSTGRES_VECTOR)
        rank = sa.func.ts_rank(vector, tsq)
        snippet = sa.func.ts_headline(
            "simple", sa.func.coalesce(documents.c.title, "") + " " + documents.c.text, tsq,
            f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=10")
        base = (sa.select(documents.c.id, rank.label("rank"), snippet.label("snippet"))
                .where(vector.op("@@")(tsq)).order_by(rank.desc()))
    conditions = where.documents_where(engine)
    on_evidence = where.evidence_where()
    if on_evidence:
        conditions.append(sa.exists().where(evidence.c.document_id == documents.c.id,
                                            *on_evidence))
    found = base.where(*conditions).order_by(documents.c.id.desc()).limit(limit).offset(offset)
    try:
        with engine.connect() as conn:
            hits = list(conn.execute(found))
            details = {r.id: r for r in conn.execute(
                sa.select(documents.c.id, effective_time.label("at"), documents.c.language,
                          documents.c.title, documents.c.url, sources.c.name.label("source"),
                          sources.c.grade, documents.c.story_id.label("story"),
                          sa.select(sa.func.count()).where(
                              evidence.c.document_id == documents.c.id)
                          .scalar_subquery().label("evidence"))
                .join(sources, sources.c.id == documents.c.source_id)
                .where(documents.c.id.in_([h.id for h in hits])))}
    except sa.exc.OperationalError as exc:  # an FTS5 syntax error the quoting missed
        raise SearchError(f"cannot search for {query!r}: {exc.orig}") from exc
    out = []
    for hit in hits:
        row = details[hit.id]
        text, spans = highlights(hit.snippet or "")
        out.append({"id": hit.id, "at": row.at, "language": row.language,
                    "source": row.source, "grade": row.grade, "title": row.title,
                    "url": row.url, "story": row.story, "evidence": row.evidence,
                    "rank": round(float(hit.rank), 4), "snippet": text,
                    "highlights": spans})
    return out
