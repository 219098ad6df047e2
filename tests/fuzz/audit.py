"""What a store holds about a corpus: each input's documents and quarantine rows.

Origins name their file: ``path`` (a text, HTML or JSON file), ``path:LINE`` (a JSON
Lines document), ``path[INDEX]`` (an element of a JSON array), ``path#itemN`` (a feed
item). A quarantine row has the file in ``origin`` and the line apart.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.corpus import Entry, Manifest

# The reason codes README.md documents ("Quarantine reasons").
REASONS = frozenset({"empty", "too-large", "undecodable", "invalid-json", "invalid-record",
                     "forbidden-xml", "invalid-feed", "unsupported", "missing", "unreadable",
                     "unstorable"})
SERIAL = re.compile(r"FZ\d{6}")
_PART = re.compile(r"(?::\d+|\[\d+\]|#item\d+)$")


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def as_stored(text: str) -> str:
    """A path as the store writes an origin it must clean: valid UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def file_of(origin: str, paths: dict[str, Entry]) -> str | None:
    """The corpus path an origin names; a file may itself be called ``x:12.txt``."""
    candidate = origin
    while candidate not in paths:
        stripped = _PART.sub("", candidate)
        if stripped == candidate:
            return None
        candidate = stripped
    return candidate


@dataclass
class Audit:
    paths: dict[str, Entry]  # absolute path as stored -> its entry
    documents: Counter[str] = field(default_factory=Counter)  # path -> documents from it
    serials: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    quarantined: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    reasons: Counter[str] = field(default_factory=Counter)
    strays: list[str] = field(default_factory=list)  # origins naming no corpus file
    all_serials: set[str] = field(default_factory=set)

    def traced(self, path: str) -> bool:
        return bool(self.documents[path] or self.quarantined.get(path))

    def lost(self, manifest: Manifest) -> list[tuple[str, Entry]]:
        """(serial, entry) of each expected document stored from none of its paths; the
        entries of a twin group (a file and a link to it) share their documents."""
        by_group: dict[str, set[str]] = defaultdict(set)
        for path, entry in self.paths.items():
            if entry.twin:
                by_group[entry.twin] |= self.serials.get(path, set())
        lost = []
        for path, entry in self.paths.items():
            found = by_group[entry.twin] if entry.twin else self.serials.get(path, set())
            lost += [(s, entry) for s in entry.serials if s not in found]
        return lost

    def silent(self) -> list[Entry]:
        """Inputs with neither a document nor a quarantine row."""
        return [e for p, e in self.paths.items() if not self.traced(p)]


def audit(manifest: Manifest, db: Path, run: int | None = None) -> Audit:
    paths = {as_stored(str(manifest.root / e.path)): e for e in manifest.files()}
    result = Audit(paths)
    for origin, text, title in rows(db, "SELECT origin, text, coalesce(title, '') "
                                        "FROM documents"):
        found = set(SERIAL.findall(text + " " + title))
        result.all_serials |= found
        path = file_of(origin, paths)
        if path is None:
            result.strays.append(origin)
            continue
        result.documents[path] += 1
        result.serials[path] |= found
    where = f" WHERE run_id = {int(run)}" if run is not None else ""
    for origin, reason in rows(db, f"SELECT origin, reason FROM quarantine{where}"):
        result.reasons[reason] += 1
        path = file_of(origin, paths)
        if path is None:
            result.strays.append(origin)
            continue
        result.quarantined[path].append(reason)
    return result
