"""RSS and Atom files, parsed by feedparser after a defusedxml safety check.

feedparser recovers truncated or sloppy feeds (it sets ``bozo``), which is what a
monitor wants; but it must never expand entities, so the bytes first go through
defusedxml, which refuses entity declarations (billion laughs, quadratic blowup) and
external references. A feed refused there is quarantined whole.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from tocsin.model import RawItem, Rejection


def looks_like_feed(head: bytes) -> bool:
    sample = head[:2048].lstrip().lower()
    return (b"<rss" in sample or b"<feed" in sample or b"<rdf:rdf" in sample) and (
        sample.startswith(b"<?xml") or sample.startswith(b"<rss") or sample.startswith(b"<feed")
        or sample.startswith(b"<rdf") or sample.startswith(b"\xef\xbb\xbf")
    )


def read_feed(data: bytes, origin: str, default_source: str) -> Iterator[RawItem | Rejection]:
    try:
        safe_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        yield Rejection(origin, "forbidden-xml", f"feed refused: {type(exc).__name__} "
                        "(entity declarations or external references are not allowed)",
                        excerpt=data[:300].decode("utf-8", "replace"), size=len(data))
        return
    except ParseError:
        pass  # malformed XML: feedparser's recovery gets its chance below
    parsed = feedparser.parse(_whole_characters(data), sanitize_html=True,
                              resolve_relative_uris=False)
    if not parsed.entries:
        reason = str(parsed.get("bozo_exception") or "no items")
        yield Rejection(origin, "invalid-feed", f"no items could be read ({reason})",
                        excerpt=data[:300].decode("utf-8", "replace"), size=len(data))
        return
    feed = parsed.feed
    source = default_source or str(feed.get("title") or "").strip()
    # A feed's declared language is often wrong for some of its items: keep it as a
    # hint in meta and let language identification decide.
    declared = str(feed.get("language") or "") or None
    truncated = bool(parsed.get("bozo"))
    for index, entry in enumerate(parsed.entries, start=1):
        content = entry.get("content")
        html = content[0].get("value") if content else entry.get("summary")
        if not html and not entry.get("title"):
            yield Rejection(origin, "invalid-record", f"item {index} has no content or title",
                            line=None)
            continue
        yield RawItem(
            origin=f"{origin}#item{index}",
            source=source,
            html=html or entry.get("title"),
            title=entry.get("title"),
            url=entry.get("link"),
            published=_entry_date(entry),
            external_id=entry.get("id"),
            kind="feed",
            meta={"feed_language": declared, "feed_recovered": truncated},
        )


def _whole_characters(data: bytes) -> bytes:
    """A UTF-8 feed cut inside its last character (a broken download) without that
    character: given as is, feedparser would give up on UTF-8 and read the whole feed in
    another encoding, turning every Cyrillic item into mojibake."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return data[:exc.start]
    return data


def _entry_date(entry: feedparser.FeedParserDict) -> str | datetime | None:
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if not raw:
            continue
        parsed: time.struct_time | None = entry.get(f"{key}_parsed")
        if parsed is not None:
            try:
                return datetime(*parsed[:6], tzinfo=UTC)
            except ValueError:  # "0000": feedparser reads year 0 or -1
                pass
        return str(raw)  # feedparser could not read it; the text stage flags it
    return None
