"""An alert as text: the plain-text body (terminal, e-mail, feed) and the Atom feed.

Any string of a notification may come from a news document: text is cleaned of control
characters and bidi overrides, and XML is built and read by libraries, never by hand.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from lxml import etree

from tocsin import __version__

ATOM_NS = "http://www.w3.org/2005/Atom"
TOCSIN_NS = "urn:tocsin:atom"
# C0/C1 controls (escape sequences drive terminals), bidi overrides (they reorder what a
# reader sees) and lone surrogates (not encodable). Newlines and tabs are kept.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
                     "\ufdd0-\ufdef\ufffe\uffff]")
# What XML 1.0 forbids in text (lxml refuses it with a ValueError): stripped from every
# string an Atom writer sets, whatever its origin (a watch name, a feed title).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class FeedError(ValueError):
    """A feed file that is not one tocsin wrote."""


def render_atom(payloads: list[dict[str, Any]], *, feed_id: str, title: str,
                updated: datetime) -> bytes:
    """An Atom 1.0 feed with one entry per payload, in the order given; lxml escapes text."""
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS, "tocsin": TOCSIN_NS})
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "updated", rfc3339(updated))
    _sub(_sub(feed, "author"), "name", "tocsin")
    _sub(feed, "generator", "tocsin").set("version", __version__)
    for payload in payloads:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:tocsin:alert:{plain(payload.get('id'))}")
        _sub(entry, "title", headline(payload))
        _sub(entry, "published", rfc3339(payload.get("at"), updated))
        _sub(entry, "updated", rfc3339(payload.get("updated_at"), updated))
        for term in strings(payload.get("categories")):
            _sub(entry, "category").set("term", term)
        _sub(entry, "summary", plain(payload.get("summary"), multiline=True)).set("type", "text")
        _sub(entry, "content", describe(payload)).set("type", "text")
        # The payload as ASCII JSON (always valid XML text), so the feed can be read back.
        etree.SubElement(entry, f"{{{TOCSIN_NS}}}payload").text = json.dumps(payload)
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def plain(value: object, *, multiline: bool = False, limit: int = 2000) -> str:
    text = _UNSAFE.sub("", "" if value is None else str(value))
    if not multiline:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def printable(text: str) -> str:
    """Untrusted text for a terminal: every control or format character (escape
    sequences, bidi overrides) becomes a space; length and layout kept otherwise."""
    return "".join(c if c.isprintable() else " " for c in text)


def strings(value: object) -> list[str]:
    return [plain(v, limit=200) for v in value] if isinstance(value, list) else []


def index_text(payload: dict[str, Any]) -> str:
    value = payload.get("index")
    return f"{value:.0f}" if isinstance(value, int | float) else plain(value, limit=20)


def headline(payload: dict[str, Any]) -> str:
    level, watch = plain(payload.get("level"), limit=40), plain(payload.get("watch"), limit=80)
    return f"{level} {watch}: {plain(payload.get('title'), limit=300)}"


def describe(payload: dict[str, Any]) -> str:
    """The plain-text body shared by e-mail and the Atom content."""
    p = payload
    lines = [f"Alert #{plain(p.get('id'))} {plain(p.get('event'))}: {headline(p)}", "",
             f"Index: {index_text(p)} / 100", f"Level: {plain(p.get('level'))}",
             f"State: {plain(p.get('state'))}", f"Raised at: {plain(p.get('at'))}",
             f"Updated at: {plain(p.get('updated_at'))}"]
    for name in ("categories", "indicators", "rules", "evidence"):
        lines.append(f"{name.capitalize()}: {', '.join(strings(p.get(name))) or '-'}")
    summary = plain(p.get("summary"), multiline=True, limit=5000)
    return "\n".join([*lines, "", summary] if summary else lines) + "\n"


def rfc3339(moment: object, fallback: datetime | None = None) -> str:
    """RFC 3339 in UTC; an untrusted value that is not ISO 8601 gives ``fallback``."""
    if not isinstance(moment, datetime):
        try:
            moment = datetime.fromisoformat(str(moment))
        except ValueError:
            moment = fallback or datetime.now(UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}")
    child.text = None if text is None else _NOT_XML.sub("", text)
    return child


def read_atom(data: bytes) -> list[dict[str, Any]]:
    """The payloads of a feed written by ``render_atom``, newest first."""
    try:
        root = safe_fromstring(data)  # refuses entity declarations and external references
        if root.tag != f"{{{ATOM_NS}}}feed":
            raise FeedError(f"root element is {root.tag}, not an Atom feed")
        payloads = [json.loads(entry.findtext(f"{{{TOCSIN_NS}}}payload") or "null")
                    for entry in root.findall(f"{{{ATOM_NS}}}entry")]
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise FeedError(str(exc)) from exc
    if not all(isinstance(p, dict) for p in payloads):
        raise FeedError("an entry carries no tocsin payload")
    return payloads
