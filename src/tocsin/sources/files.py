"""Files and folders: picks the reader by file type, enforces the size cap.

``.txt`` ``.md`` plain text; ``.html`` ``.htm`` pages; ``.json`` ``.jsonl`` ``.ndjson``
records; ``.xml`` ``.rss`` ``.atom`` feeds (and any file whose first bytes say it is a
feed). Hidden files and folders are skipped; a file of unknown type is quarantined
with reason ``unsupported``, so nothing in a folder is passed over without a trace.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from tocsin.errors import InputError
from tocsin.model import RawItem, Rejection
from tocsin.sources.decode import decode_bytes
from tocsin.sources.feeds import looks_like_feed, read_feed
from tocsin.sources.jsonl import read_json_document, read_json_lines

TEXT_TYPES = {".txt", ".md", ".text", ".markdown"}
HTML_TYPES = {".html", ".htm", ".xhtml"}
JSON_TYPES = {".json"}
JSONL_TYPES = {".jsonl", ".ndjson"}
FEED_TYPES = {".xml", ".rss", ".atom"}
KNOWN_TYPES = TEXT_TYPES | HTML_TYPES | JSON_TYPES | JSONL_TYPES | FEED_TYPES


def expand_paths(paths: Iterable[Path]) -> Iterator[Path | Rejection]:
    """Files named, and the known files inside folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    child = Path(root) / name
                    if not name.startswith("."):
                        yield child  # unknown types are quarantined, not silently skipped
        elif path.is_file():
            yield path
        else:
            yield Rejection(str(path), "missing", "no such file or folder")


def read_file(path: Path, max_bytes: int,
              default_source: str = "") -> Iterator[RawItem | Rejection]:
    """All items of one file. Never raises for bad content: it yields Rejections."""
    origin = str(path)
    try:
        size = path.stat().st_size
        if size == 0:
            yield Rejection(origin, "empty", "the file is empty", size=0)
            return
        if size > max_bytes:
            yield Rejection(origin, "too-large", f"{size:,} bytes exceeds max_file_bytes "
                            f"({max_bytes:,}); raise the limit to ingest it", size=size)
            return
        data = path.read_bytes()
    except OSError as exc:
        yield Rejection(origin, "unreadable", exc.strerror or str(exc))
        return
    yield from read_bytes(data, origin, path.suffix.lower(), default_source)


def read_bytes(data: bytes, origin: str, suffix: str,
               default_source: str = "") -> Iterator[RawItem | Rejection]:
    if suffix in FEED_TYPES or (suffix not in KNOWN_TYPES and looks_like_feed(data)):
        yield from read_feed(data, origin, default_source)
        return
    if suffix not in KNOWN_TYPES:
        yield Rejection(origin, "unsupported", f"unknown file type '{suffix or '(none)'}'; "
                        f"known: {', '.join(sorted(KNOWN_TYPES))}", size=len(data))
        return
    try:
        text, encoding = decode_bytes(data, origin)
    except InputError as exc:
        yield Rejection(origin, exc.reason, exc.message, size=len(data),
                        excerpt=data[:300].decode("utf-8", "replace"))
        return
    meta = {"encoding": encoding} if encoding not in ("utf-8", "utf-8-sig") else {}
    if suffix in JSONL_TYPES:
        # split on \n only: JSON strings may hold U+2028 and other line separators
        yield from read_json_lines(text.split("\n"), origin, default_source,
                                   max_line_chars=len(text) + 1)
    elif suffix in JSON_TYPES:
        yield from read_json_document(text, origin, default_source)
    elif suffix in HTML_TYPES:
        yield RawItem(origin=origin, source=default_source, html=text, kind="html", meta=meta)
    else:
        title = None
        if suffix in {".md", ".markdown"}:
            # A Markdown file's leading "# heading" is its title.
            first, _, rest = text.lstrip("\ufeff").lstrip().partition("\n")
            if first.startswith("# ") and rest.strip():
                title, text = first[2:].strip(), rest
        yield RawItem(origin=origin, source=default_source, text=text, title=title,
                      kind="text", meta=meta)
