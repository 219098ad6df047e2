"""The concepts of DESIGN.md as typed records. Stages pass these, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class RawItem:
    """One item as a source reader found it, before any cleaning.

    ``text`` or ``html`` carries the content (html is extracted by the text stage);
    ``origin`` is where it came from (a path, ``path#item3`` in a feed, ``path[2]`` in a
    JSON array) and ``line`` the line in a JSON Lines input, for messages and quarantine.
    """

    origin: str
    source: str
    line: int | None = None
    text: str | None = None
    html: str | None = None
    title: str | None = None
    url: str | None = None
    published: str | datetime | int | float | None = None
    language: str | None = None
    external_id: str | None = None
    kind: str = "file"
    meta: dict[str, Any] = field(default_factory=dict)
    # a file's modification time: the date of a page or text that gives none (flagged)
    file_time: datetime | None = None


@dataclass(slots=True)
class Rejection:
    """An input that could not become a document, kept with its reason (the quarantine)."""

    origin: str
    reason: str
    message: str
    line: int | None = None
    excerpt: str = ""
    size: int | None = None


@dataclass(slots=True)
class Document:
    """One ingested item, cleaned. ``text`` is what every later offset refers to."""

    doc_hash: str
    source: str
    text: str
    title: str | None
    url: str | None
    language: str
    language_confidence: float
    published_at: datetime | None
    published_raw: str | None
    date_flag: str | None
    sentences: list[tuple[int, int]]
    origin: str
    external_id: str | None = None
    kind: str = "file"
    meta: dict[str, Any] = field(default_factory=dict)
    # assigned by the detection stage (tocsin.indicators): EntityHit and Evidence records
    entities: list[Any] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)
    # assigned by the stories stage (tocsin.stories)
    attributions: list[Any] = field(default_factory=list)
    cites: str | None = None
    signature: Any = None
    figures: frozenset[str] = frozenset()


@dataclass(slots=True)
class BatchResult:
    new_ids: list[int]
    known: int

    @property
    def new(self) -> int:
        return len(self.new_ids)


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did; printed as the summary and stored as the run record."""

    run_id: int | None = None
    read: int = 0
    new: int = 0
    known: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.quarantined += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
