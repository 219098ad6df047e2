"""Opening, migrating and writing the store. Queries live in ``queries.py``."""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tocsin.errors import StoreError
from tocsin.model import BatchResult, Document, IngestReport, Rejection
from tocsin.store.locks import exclusive
from tocsin.store.schema import (
    alert_evidence,
    attributions,
    documents,
    entities,
    evidence,
    ingest_runs,
    quarantine,
    source_grades,
    sources,
)
from tocsin.text.normalize import normalize

if TYPE_CHECKING:
    from alembic.config import Config

GRADES = "ABCDEF"
# The newest migration (a test checks it is Alembic's head): a store already there is
# opened without loading Alembic, which costs a tenth of a second at every start.
HEAD = "0011"


def slugify(name: str) -> str:
    """A stable source id from a name; keeps Cyrillic and accented letters."""
    slug = re.sub(r"[\W_]+", "-", name.casefold(), flags=re.UNICODE).strip("-")
    return slug[:200] or "unnamed"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _relink_alert_evidence(conn: sa.Connection, ids: list[int]) -> None:
    """After evidence of documents ``ids`` was replaced, point the alerts' links at the
    new rows (same document, indicator and offset); links whose evidence is gone go."""
    links = conn.execute(sa.select(alert_evidence)
                         .where(alert_evidence.c.document_id.in_(ids))).all()
    if not links:
        return
    fresh: dict[tuple[int, str, str, int], int] = {}
    for row in conn.execute(sa.select(evidence.c.id, evidence.c.document_id,
                                      evidence.c.indicator, evidence.c.field, evidence.c.start)
                            .where(evidence.c.document_id.in_(ids))
                            .order_by(evidence.c.id)):
        fresh.setdefault((row.document_id, row.indicator, row.field, row.start), row.id)
    conn.execute(alert_evidence.delete().where(alert_evidence.c.document_id.in_(ids)))
    kept = {(link.alert_id, fresh[key]): link for link in links
            if (key := (link.document_id, link.indicator, link.field, link.start)) in fresh}
    if kept:
        conn.execute(alert_evidence.insert(), [
            {"alert_id": alert_id, "evidence_id": evidence_id,
             "document_id": link.document_id, "indicator": link.indicator,
             "field": link.field, "start": link.start}
            for (alert_id, evidence_id), link in kept.items()])


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("tocsin.store").joinpath("migrations"))
    )
    return config


class Store:
    """The database. Every write method runs in one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._source_ids: dict[str, str] = {}

    # -- set-up -----------------------------------------------------------------------
    def migrate(self) -> None:
        if self.version() == HEAD:
            return
        from alembic import command

        config = alembic_config()
        try:
            # two processes opening a new store at once must not both create its tables
            with exclusive(self.engine, "migrate"), self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate {self.engine.url!r}: {exc}") from exc

    def version(self) -> str | None:
        """The store's migration, or None when it has none yet."""
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(sa.text("SELECT version_num FROM alembic_version")
                                    ).scalar()
        except SQLAlchemyError:
            return None  # migrate() reports what is wrong

    def close(self) -> None:
        self.engine.dispose()

    # -- sources ------------------------------------------------------------------------
    def upsert_sources(self, records: Iterable[dict[str, Any]], update: bool = True,
                       changed_by: str = "registry", note: str = "registry") -> int:
        """Add sources from registry records (``id``, ``name``, ``grade``...); update the
        fields a record gives of an existing source (``update``), or leave it alone. A
        grade that changes is recorded in ``source_grades``."""
        count = 0
        now = datetime.now(UTC)
        fields = ("name", "kind", "language", "country", "state_affiliated", "homepage",
                  "feed", "aliases", "grade")
        with self.engine.begin() as conn:
            for record in records:
                if "name" not in record:
                    raise StoreError(f"source record without a name: {record!r}")
                # Names come from outside (a registry file, `sources add`): control
                # characters (terminal escapes, OSC hyperlinks) never reach a terminal.
                record = {k: clean_field(v) for k, v in record.items()}
                if not record["name"]:
                    raise StoreError("a source name is empty once control characters go")
                source_id = record.get("id") or slugify(record["name"])
                given = {k: record[k] for k in fields if record.get(k) is not None}
                if "grade" in given:
                    given["grade"] = str(given["grade"]).upper()
                    if given["grade"] not in GRADES:
                        raise StoreError(f"source {record['name']!r}: grade "
                                         f"{given['grade']!r} is not A-F")
                if "aliases" in given:
                    given["aliases"] = list(given["aliases"])
                old = conn.execute(sa.select(sources.c.grade).where(
                    sources.c.id == source_id)).first()
                if old is None:
                    values = {"kind": "unknown", "aliases": [], "grade": "F", **given}
                    conn.execute(sources.insert().values(id=source_id, created_at=now,
                                                         **values))
                    previous, grade = None, values["grade"]
                elif update:
                    conn.execute(sources.update().where(sources.c.id == source_id)
                                 .values(**given))
                    previous, grade = old.grade, given.get("grade", old.grade)
                else:
                    continue
                if grade != previous:
                    conn.execute(source_grades.insert().values(
                        source_id=source_id, grade=grade, previous=previous,
                        changed_by=changed_by, changed_at=now, note=note))
                count += 1
        self._source_ids.clear()
        return count

    def _source_index(self, conn: sa.Connection) -> dict[str, str]:
        """name, id and aliases (casefolded) -> source id."""
        if not self._source_ids:
            for row in conn.execute(sa.select(sources.c.id, sources.c.name, sources.c.aliases)):
                for key in [row.id, row.name, *(row.aliases or [])]:
                    self._source_ids.setdefault(str(key).casefold(), row.id)
        return self._source_ids

    def _resolve_sources(self, conn: sa.Connection, names: Iterable[str]) -> dict[str, str]:
        index = self._source_index(conn)
        resolved: dict[str, str] = {}
        now = datetime.now(UTC)
        for name in names:
            key = name.casefold()
            if key not in index:
                source_id = slugify(name)
                if source_id.casefold() not in index:
                    conn.execute(sources.insert().values(
                        id=source_id, name=name, kind="unknown", aliases=[], grade="F",
                        created_at=now))
                index[key] = index.get(source_id.casefold(), source_id)
                index.setdefault(source_id.casefold(), source_id)
            resolved[name] = index[key]
        return resolved

    # -- ingest -------------------------------------------------------------------------
    def begin_run(self, inputs: Sequence[str]) -> int:
        host, pid = socket.gethostname(), os.getpid()
        with self.engine.begin() as conn:
            # Runs left `running` by a process of this host that is gone were killed
            # (kill -9, a crash, a power cut): say so, instead of `running` forever.
            for run_id, old_pid in conn.execute(
                    sa.select(ingest_runs.c.id, ingest_runs.c.pid).where(
                        ingest_runs.c.status == "running", ingest_runs.c.host == host,
                        ingest_runs.c.pid.is_not(None))).all():
                if not _alive(old_pid):
                    conn.execute(ingest_runs.update().where(ingest_runs.c.id == run_id)
                                 .values(status="interrupted"))
            result = conn.execute(ingest_runs.insert().values(
                started_at=datetime.now(UTC), inputs=list(inputs), status="running",
                host=host, pid=pid))
            key = result.inserted_primary_key
            if key is None:
                raise StoreError("the database did not return the new run's id")
            return int(key[0])

    def finish_run(self, report: IngestReport, status: str = "done") -> None:
        with self.engine.begin() as conn:
            conn.execute(ingest_runs.update().where(ingest_runs.c.id == report.run_id).values(
                finished_at=datetime.now(UTC), read=report.read, new=report.new,
                known=report.known, quarantined=report.quarantined, status=status))

    def write_batch(self, run_id: int, docs: Sequence[Document],
                    rejections: Sequence[Rejection], pack: str = "") -> BatchResult:
        """Store a batch (documents with their evidence, entities and attributions, and
        rejections) in one transaction; returns the new documents' ids and how many were
        already known."""
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                new_docs = self._new_documents(conn, docs)
                ids = self._resolve_sources(conn, {d.source for d in new_docs})
                new_ids: list[int] = []
                if new_docs:
                    conn.execute(documents.insert(), [
                        _document_row(d, ids[d.source], run_id, now) for d in new_docs])
                    by_hash = self._ids(conn, [d.doc_hash for d in new_docs])
                    new_ids = [by_hash[d.doc_hash] for d in new_docs]
                    self._write_detection(conn, new_docs, pack, by_hash)
                fresh = self._new_rejections(conn, rejections)
                if fresh:
                    conn.execute(quarantine.insert(), [
                        {"run_id": run_id, "origin": _safe(r.origin), "line": r.line,
                         "reason": r.reason, "message": _safe(r.message),
                         "excerpt": _safe(r.excerpt[:2000]), "size": r.size, "created_at": now,
                         "fingerprint": fingerprint} for fingerprint, r in fresh.items()])
        except (SQLAlchemyError, UnicodeError, ValueError) as exc:
            self._source_ids.clear()  # the transaction rolled back any new source
            raise StoreError(f"cannot write a batch to {self.engine.url!r}: {exc}") from exc
        return BatchResult(new_ids, len(docs) - len(new_docs))

    def redetect(self, detect: Any, pack: str, batch_size: int = 500) -> tuple[int, int]:
        """Run detection again over every stored document (after a pack changed), one
        transaction per batch; returns (documents, pieces of evidence).

        ``detect(title, text, language, sentences)`` returns a Detection.
        """
        done = found = 0
        last_id = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    sa.select(documents.c.id, documents.c.title, documents.c.text,
                              documents.c.language, documents.c.sentences)
                    .where(documents.c.id > last_id).order_by(documents.c.id)
                    .limit(batch_size)).all()
                if not rows:
                    return done, found
                ids = [row.id for row in rows]
                conn.execute(evidence.delete().where(evidence.c.document_id.in_(ids)))
                conn.execute(entities.delete().where(entities.c.document_id.in_(ids)))
                evidence_rows: list[dict[str, Any]] = []
                entity_rows: list[dict[str, Any]] = []
                for row in rows:
                    result = detect(row.title, row.text, row.language,
                                    [tuple(s) for s in row.sentences])
                    evidence_rows += [_evidence_row(row.id, pack, e) for e in result.evidence]
                    entity_rows += [_entity_row(row.id, h) for h in result.entities]
                if evidence_rows:
                    conn.execute(evidence.insert(), evidence_rows)
                if entity_rows:
                    conn.execute(entities.insert(), entity_rows)
                _relink_alert_evidence(conn, ids)
                done += len(rows)
                found += len(evidence_rows)
                last_id = ids[-1]

    def source_ids(self) -> dict[str, str]:
        """Every name, alias and id (casefolded) of the registry -> source id."""
        with self.engine.connect() as conn:
            return dict(self._source_index(conn))

    @staticmethod
    def _ids(conn: sa.Connection, hashes: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(hashes), 500):
            out.update({h: i_ for h, i_ in conn.execute(
                sa.select(documents.c.doc_hash, documents.c.id)
                .where(documents.c.doc_hash.in_(hashes[i:i + 500])))})
        return out

    @staticmethod
    def _write_detection(conn: sa.Connection, docs: Sequence[Document], pack: str,
                         doc_ids: dict[str, int]) -> None:
        with_findings = [d for d in docs if d.evidence or d.entities or d.attributions]
        if not with_findings:
            return
        evidence_rows = [_evidence_row(doc_ids[d.doc_hash], pack, e)
                         for d in with_findings for e in d.evidence]
        entity_rows = [_entity_row(doc_ids[d.doc_hash], h)
                       for d in with_findings for h in d.entities]
        attribution_rows = [
            {"document_id": doc_ids[d.doc_hash], "source_id": a.source_id, "source": a.source,
             "speaker": a.speaker, "text": a.text, "field": a.field, "start": a.start,
             "end": a.end}
            for d in with_findings for a in d.attributions]
        if attribution_rows:
            conn.execute(attributions.insert(), attribution_rows)
        if evidence_rows:
            conn.execute(evidence.insert(), evidence_rows)
        if entity_rows:
            conn.execute(entities.insert(), entity_rows)

    @staticmethod
    def _new_rejections(conn: sa.Connection,
                        rejections: Sequence[Rejection]) -> dict[str, Rejection]:
        by_print = {rejection_fingerprint(r): r for r in rejections}
        if by_print:
            seen = set(conn.execute(sa.select(quarantine.c.fingerprint).where(
                quarantine.c.fingerprint.in_(list(by_print)))).scalars())
            by_print = {k: v for k, v in by_print.items() if k not in seen}
        return by_print

    @staticmethod
    def _new_documents(conn: sa.Connection, docs: Sequence[Document]) -> list[Document]:
        """Documents whose hash is neither stored nor earlier in this batch."""
        hashes = {d.doc_hash for d in docs}
        known: set[str] = set()
        chunk = sorted(hashes)
        for i in range(0, len(chunk), 500):
            known.update(conn.execute(
                sa.select(documents.c.doc_hash).where(documents.c.doc_hash.in_(chunk[i:i + 500]))
            ).scalars())
        fresh: list[Document] = []
        for doc in docs:
            if doc.doc_hash not in known:
                known.add(doc.doc_hash)
                fresh.append(doc)
        return fresh


def _safe(text: str) -> str:
    """Untrusted text as the database takes it: valid UTF-8, no NUL."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _alive(pid: int) -> bool:
    """Whether a process of this host still runs (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists but is not ours, or the check is not allowed: assume alive
    return True


def clean_field(value: Any) -> Any:
    """A string (or list of strings) from outside, fit for a terminal and the store."""
    if isinstance(value, str):
        return normalize(value)
    if isinstance(value, list):
        return [clean_field(v) for v in value]
    return value


def _evidence_row(document_id: int, pack: str, found: Any) -> dict[str, Any]:
    return {"document_id": document_id, "pack": pack, "indicator": found.indicator,
            "category": found.category, "severity": found.severity,
            "polarity": found.polarity, "field": found.field,
            "start": found.start, "end": found.end,
            "terms": found.terms, "spans": [list(s) for s in found.spans],
            "actor": found.actor, "place": found.place, "weapon": found.weapon}


def _entity_row(document_id: int, hit: Any) -> dict[str, Any]:
    return {"document_id": document_id, "type": hit.type, "entity": hit.id, "name": hit.name,
            "text": hit.text, "field": hit.field, "start": hit.start, "end": hit.end}


def rejection_fingerprint(rejection: Rejection) -> str:
    digest = hashlib.sha256()
    for part in (rejection.origin, str(rejection.line), rejection.reason, rejection.message,
                 rejection.excerpt, str(rejection.size)):
        digest.update(part.encode("utf-8", "replace"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _document_row(doc: Document, source_id: str, run_id: int, now: datetime) -> dict[str, Any]:
    return {
        "doc_hash": doc.doc_hash, "source_id": source_id, "external_id": doc.external_id,
        "url": doc.url, "title": doc.title, "text": doc.text, "language": doc.language,
        "language_confidence": doc.language_confidence, "published_at": doc.published_at,
        "published_raw": doc.published_raw, "date_flag": doc.date_flag, "fetched_at": now,
        "sentences": [list(span) for span in doc.sentences], "kind": doc.kind,
        "origin": _safe(doc.origin), "meta": doc.meta, "run_id": run_id,
        "signature": doc.signature.tobytes() if doc.signature is not None else None,
        "figures": sorted(doc.figures),
        "cites": doc.cites,
    }


def open_store(url: str, migrate: bool = True) -> Store:
    """Open (and by default migrate) the database at ``url``."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = Path(url.removeprefix("sqlite:///"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder for {path}: {exc}") from exc
    try:
        engine = sa.create_engine(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise StoreError(f"invalid database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine)
    if migrate:
        store.migrate()
    return store
