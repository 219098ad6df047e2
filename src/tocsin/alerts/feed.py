"""An alert as text: its level and index in one phrase (every output uses it), the
plain-text body (e-mail, feed) and the Atom feed.

Any string of a notification may come from a news document: text is cleaned of control
characters and bidi overrides, and XML is built and read by libraries, never by hand.

Levels (README, "Levels"): an alert's ``level`` is the watch's level for its peak
``index`` (None below `watch`); ``rule_level`` is what the rules that fired asked for.
When a rule rang above what the index says, the phrase says so beside the index:
"below watch (index 3), rule level warning".
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
from tocsin.scoring.watch import LEVELS, level_rank

ATOM_NS = "http://www.w3.org/2005/Atom"
TOCSIN_NS = "urn:tocsin:atom"
# C0/C1 controls (escape sequences drive terminals), bidi overrides (they reorder what a
# reader sees) and lone surrogates (not encodable). Newlines and tabs are kept.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
                     "\ufdd0-\ufdef\ufffe\uffff]")
# What XML 1.0 forbids in text (lxml refuses it with a ValueError): stripped from every
# string an Atom writer sets, whatever its origin (a watch name, a feed title).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HTTP = re.compile(r"https?://[^\s]+\Z", re.IGNORECASE)  # payloads read back are untrusted


class FeedError(ValueError):
    """A feed file that is not one tocsin wrote."""


def render_atom(payloads: list[dict[str, Any]], *, feed_id: str, title: str,
                updated: datetime, self_url: str | None = None,
                alert_url: str | None = None) -> bytes:
    """An Atom 1.0 feed with one entry per payload, in the order given; lxml escapes text.

    The feed links to itself (``self_url``: where it is served or written; the feed id
    when there is neither). An entry's id is ``urn:tocsin:alert:ID`` (stable across
    updates, so a reader replaces the entry); its ``alternate`` link is ``alert_url``
    with ``{id}`` filled in when one is configured, else the document of its strongest
    piece of evidence that has a URL, and the other evidence documents are ``related``
    links. Its ``updated`` is when the alert last changed, lifecycle moves included."""
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS, "tocsin": TOCSIN_NS})
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "updated", rfc3339(updated))
    _link(feed, "self", self_url or feed_id, "application/atom+xml")
    _sub(_sub(feed, "author"), "name", "tocsin")
    _sub(feed, "generator", "tocsin").set("version", __version__)
    for payload in payloads:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"urn:tocsin:alert:{plain(payload.get('id'))}")
        _sub(entry, "title", headline(payload))
        _sub(entry, "published", rfc3339(payload.get("at"), updated))
        _sub(entry, "updated", rfc3339(payload.get("changed_at") or payload.get("updated_at"),
                                       updated))
        links = evidence_urls(payload)
        if alert_url:
            _link(entry, "alternate", alert_url.replace("{id}", plain(payload.get("id"))))
        elif links:
            _link(entry, "alternate", links.pop(0))
        for url in links:
            _link(entry, "related", url)
        for term in strings(payload.get("categories")):
            _sub(entry, "category").set("term", term)
        _sub(entry, "summary", plain(payload.get("summary"), multiline=True)).set("type", "text")
        _sub(entry, "content", describe(payload)).set("type", "text")
        # The payload as ASCII JSON (always valid XML text), so the feed can be read back.
        etree.SubElement(entry, f"{{{TOCSIN_NS}}}payload").text = json.dumps(payload)
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def evidence_urls(payload: dict[str, Any]) -> list[str]:
    """The distinct http(s) document links of the payload's evidence, strongest first."""
    out: list[str] = []
    for t in payload.get("trail") or []:
        url = t.get("url") if isinstance(t, dict) else None
        if isinstance(url, str) and _HTTP.match(url) and plain(url) == url and url not in out:
            out.append(url)
    return out


def _link(parent: etree._Element, rel: str, href: str, kind: str | None = None) -> None:
    link = _sub(parent, "link")
    link.set("rel", rel)
    link.set("href", _NOT_XML.sub("", href))
    if kind:
        link.set("type", kind)


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


def index_number(value: object) -> str:
    """An index for people: whole points, but never "0" for an index above 0."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return plain(value, limit=20)
    if 0 < value < 0.5:
        return f"{max(value, 0.1):.1f}"
    return f"{value:.0f}"


def index_text(payload: dict[str, Any]) -> str:
    return index_number(payload.get("index"))


def level_name(level: object) -> str:
    """A level as shown: the watch's names, "below watch" for none."""
    return level if isinstance(level, str) and level in LEVELS else "below watch"


def standing(level: object, index: object, rule_level: object = None,
             label: str = "index") -> str:
    """The one phrase for an alert's level: "warning (index 52)"; when its rules asked for
    more than the index says, "below watch (index 3), rule level warning"."""
    text = f"{level_name(level)} ({label} {index_number(index)})"
    if isinstance(rule_level, str) and level_rank(rule_level) > level_rank(
            level if isinstance(level, str) else None):
        text += f", rule level {rule_level}"
    return text


def payload_standing(payload: dict[str, Any]) -> str:
    return standing(payload.get("level"), payload.get("index"), payload.get("rule_level"))


def state_tag(payload: dict[str, Any]) -> str:
    """"[dismissed] " and the like for an alert an analyst (or re-evaluation) moved."""
    state = plain(payload.get("state"), limit=20)
    return f"[{state}] " if state and state not in ("new", "open") else ""


def headline(payload: dict[str, Any]) -> str:
    """One line: state, watch, level and index, title (Atom title, e-mail subject)."""
    watch = plain(payload.get("watch"), limit=80)
    return (f"{state_tag(payload)}{watch} {payload_standing(payload)}: "
            f"{plain(payload.get('title'), limit=300)}")


def describe(payload: dict[str, Any]) -> str:
    """The plain-text body shared by e-mail and the Atom content."""
    p = payload
    at = f", at {plain(p.get('index_at'), limit=40)}" if p.get("index_at") else ""
    lines = [f"Alert #{plain(p.get('id'))} {plain(p.get('event'))}: {headline(p)}", "",
             f"Index: {index_text(p)} / 100 (the peak of the alert{at})",
             f"Level: {level_name(p.get('level'))} (the watch's level for that index)"]
    if p.get("rule_level"):
        lines.append(f"Rule level: {plain(p.get('rule_level'), limit=20)} "
                     f"(what the rules that fired ask for)")
    lines += [f"State: {plain(p.get('state'))}{_moved(p.get('lifecycle'))}",
              f"Raised at: {plain(p.get('at'))}", f"Updated at: {plain(p.get('updated_at'))}"]
    for name in ("categories", "indicators", "rules"):
        lines.append(f"{name.capitalize()}: {', '.join(strings(p.get(name))) or '-'}")
    summary = plain(p.get("summary"), multiline=True, limit=5000)
    if summary:
        lines += ["", "Why it rang:", summary]
    lines += ["", *evidence_lines(p)]
    return "\n".join(lines) + "\n"


def _moved(lifecycle: object) -> str:
    if not isinstance(lifecycle, dict):
        return ""
    who = plain(lifecycle.get("by"), limit=100)
    note = plain(lifecycle.get("note"), limit=500)
    return (f" ({plain(lifecycle.get('kind'), limit=20)}"
            f"{f' by {who}' if who else ''} at {plain(lifecycle.get('at'), limit=40)}"
            f"{f': {note}' if note else ''})")


def evidence_lines(payload: dict[str, Any]) -> list[str]:
    """The strongest evidence, one block each: source and grade, time, indicator and
    polarity; the sentence; the document's link (or its id when it has none)."""
    trail = [t for t in payload.get("trail") or [] if isinstance(t, dict)]
    ids = strings(payload.get("evidence"))
    lines = [f"Evidence ({len(trail)} strongest of {len(ids)}, each origin's best first):"
             if trail else f"Evidence: {', '.join(ids) or '-'}"]
    for n, t in enumerate(trail, start=1):
        lines.append(f"{n}. {plain(t.get('source'), limit=200)} (grade "
                     f"{plain(t.get('grade'), limit=1)}), {plain(t.get('published_at'))} · "
                     f"{plain(t.get('indicator'), limit=200)}, {plain(t.get('polarity'))}"
                     f" · evidence {plain(t.get('evidence'))}")
        lines.append(f"   \u201c{plain(t.get('sentence'), limit=1000)}\u201d")
        url = plain(t.get("url"), limit=2000)
        lines.append(f"   {url}" if url else f"   document {plain(t.get('document'))}: "
                     f"{plain(t.get('title'), limit=300)}")
    if trail and len(ids) > len(trail):
        lines.append(f"... and {len(ids) - len(trail)} more (`tocsin alert "
                     f"{plain(payload.get('id'))}`)")
    return lines


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
