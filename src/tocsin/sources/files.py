"""Files and folders: picks the reader by file type, enforces the size cap.

``.txt`` ``.md`` plain text; ``.html`` ``.htm`` pages; ``.json`` ``.jsonl`` ``.ndjson``
records; ``.xml`` ``.rss`` ``.atom`` feeds (and any file whose first bytes say it is a
feed). Any of them may be gzip-compressed (``.jsonl.gz``, ``.json.gz``...): JSON Lines are
streamed, other files are decompressed up to the size cap. Hidden files and folders are
skipped; a file of unknown type is quarantined with reason ``unsupported``, so nothing
in a folder is passed over without a trace.
"""

from __future__ import annotations

import codecs
import gzip
import os
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tocsin.errors import InputError
from tocsin.model import RawItem, Rejection
from tocsin.sources.decode import decode_bytes
from tocsin.sources.feeds import looks_like_feed, read_feed
from tocsin.sources.jsonl import parse_line, read_json_document, read_json_lines

TEXT_TYPES = {".txt", ".md", ".text", ".markdown"}
HTML_TYPES = {".html", ".htm", ".xhtml"}
JSON_TYPES = {".json"}
JSONL_TYPES = {".jsonl", ".ndjson"}
FEED_TYPES = {".xml", ".rss", ".atom"}
KNOWN_TYPES = TEXT_TYPES | HTML_TYPES | JSON_TYPES | JSONL_TYPES | FEED_TYPES
GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def file_type(path: Path) -> tuple[str, bool]:
    """The suffix that says how to read a file, and whether it is gzip-compressed."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        return (suffixes[-2] if len(suffixes) > 1 else ""), True
    return (suffixes[-1] if suffixes else ""), False


def expand_paths(paths: Iterable[Path]) -> Iterator[Path | Rejection]:
    """Files named, and the known files inside folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            unreadable: list[OSError] = []
            # Linked folders are followed (a drop folder of symlinks is common), each real
            # folder once, so a link back up the tree cannot loop.
            seen: set[str] = set()
            for root, dirs, files in os.walk(path, onerror=unreadable.append, followlinks=True):
                real = os.path.realpath(root)
                if real in seen:
                    dirs[:] = []
                    continue
                seen.add(real)
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    child = Path(root) / name
                    if not name.startswith("."):
                        yield child  # unknown types are quarantined, not silently skipped
            for error in unreadable:  # a folder os.walk could not enter
                yield Rejection(str(error.filename or path), "unreadable",
                                error.strerror or str(error))
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
        suffix, compressed = file_type(path)
        if suffix in JSONL_TYPES:
            # JSON Lines archives are streamed: the cap applies to each line, not the file.
            yield from _stream_json_lines(path, max_bytes, default_source, compressed)
            return
        if compressed:
            with gzip.open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)  # never more than the cap: gzip bombs
            size = len(data)
        if size > max_bytes:
            what = "decompressed, over" if compressed else f"{size:,} bytes exceeds"
            yield Rejection(origin, "too-large", f"{what} max_file_bytes ({max_bytes:,}); "
                            f"raise the limit to ingest it", size=size)
            return
        if not compressed:
            data = path.read_bytes()
    except GZIP_ERRORS as exc:
        yield Rejection(origin, "undecodable", f"broken gzip file: {exc}")
        return
    except OSError as exc:
        yield Rejection(origin, "unreadable", exc.strerror or str(exc))
        return
    if not data:
        yield Rejection(origin, "empty", "the file is empty once decompressed", size=0)
        return
    yield from read_bytes(data, origin, suffix, default_source, _modified(path))


def read_bytes(data: bytes, origin: str, suffix: str, default_source: str = "",
               file_time: datetime | None = None) -> Iterator[RawItem | Rejection]:
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
        yield RawItem(origin=origin, source=default_source, html=text, kind="html", meta=meta,
                      file_time=file_time)
    else:
        title, text = headline(text, markdown=suffix in {".md", ".markdown"})
        yield RawItem(origin=origin, source=default_source, text=text, title=title,
                      kind="text", meta=meta, file_time=file_time)


HEADLINE_CHARS = 200


def headline(text: str, markdown: bool = False) -> tuple[str | None, str]:
    """A text file's title and body. Markdown: a leading ``# heading``. Plain text: a
    first line of at most 200 characters standing alone (a blank line after it) that does
    not end as a sentence or a clause does (., ;), as a saved article starts."""
    body = text.lstrip("\ufeff").lstrip()
    first, _, rest = body.partition("\n")
    first = first.strip()
    if markdown:
        if first.startswith("# ") and rest.strip():
            return first[2:].strip(), rest
        return None, text
    if (first and len(first) <= HEADLINE_CHARS and rest.strip()
            and not rest.split("\n", 1)[0].strip() and not first.endswith((".", ",", ";", ":"))):
        return first, rest.lstrip("\n")
    return None, text


def _modified(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OSError, OverflowError, ValueError):
        return None


class _Readable(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def _lines(handle: _Readable, max_bytes: int) -> Iterator[tuple[bytes, int]]:
    """(line, its full length): a line longer than the cap is cut there and the rest of it
    skipped, so one endless line never fills memory."""
    while True:
        raw = handle.readline(max_bytes + 1)
        if not raw:
            return
        length = len(raw)
        if length > max_bytes and not raw.endswith(b"\n"):
            while True:
                rest = handle.readline(1 << 20)
                length += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
        yield raw, length


def _stream_json_lines(path: Path, max_bytes: int, default_source: str,
                       compressed: bool = False) -> Iterator[RawItem | Rejection]:
    """Lines of a JSON Lines file, decoded one by one (JSON text is UTF-8, RFC 8259)."""
    origin = str(path)
    number = produced = 0
    with (gzip.open(path, "rb") if compressed else path.open("rb")) as handle:
        try:
            for number, (raw, length) in enumerate(_lines(handle, max_bytes), start=1):
                for item in _json_line(raw, length, number, origin, max_bytes,
                                       default_source):
                    produced += 1
                    yield item
        except GZIP_ERRORS as exc:
            produced += 1
            yield Rejection(origin, "undecodable", f"broken gzip file after line {number}: "
                            f"{exc}; the lines before it were read", line=number + 1)
    if not produced:  # only blank lines: still a trace of the file
        yield Rejection(origin, "empty", f"no records: {number:,} blank lines", size=0)


def _json_line(raw: bytes, length: int, number: int, origin: str, max_bytes: int,
               default_source: str) -> Iterator[RawItem | Rejection]:
    if number == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    if length > max_bytes:
        yield Rejection(origin, "too-large", f"line of {length:,} bytes exceeds "
                        f"max_file_bytes ({max_bytes:,})", line=number,
                        excerpt=raw[:300].decode("utf-8", "replace"))
        return
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Rejection(origin, "undecodable", f"not UTF-8: {exc.reason} at byte "
                        f"{exc.start}", line=number,
                        excerpt=raw[:300].decode("utf-8", "replace"))
        return
    item = parse_line(line, origin, number, default_source, max_line_chars=max_bytes)
    if item is not None:
        yield item
