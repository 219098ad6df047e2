"""JSON and JSON Lines: one document per object.

Fields: ``text`` or ``html`` (one is required), and optional ``title``, ``url``,
``published_at``, ``source``, ``language``, ``id``. Other fields are kept in ``meta``.
A ``.json`` file holds one object or an array of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from tocsin.model import RawItem, Rejection

KNOWN_FIELDS = {"text", "html", "title", "url", "published_at", "source", "language", "id"}


def item_from_object(obj: Any, origin: str, line: int | None,
                     default_source: str) -> RawItem | Rejection:
    if not isinstance(obj, dict):
        return Rejection(origin, "invalid-record", f"expected a JSON object, got "
                         f"{type(obj).__name__}", line=line, excerpt=str(obj)[:300])
    for name in ("text", "html", "title", "url", "source", "language", "id"):
        value = obj.get(name)
        allowed = (str, int) if name == "id" else (str,)
        if value is not None and (isinstance(value, bool) or not isinstance(value, allowed)):
            return Rejection(origin, "invalid-record", f"field '{name}' must be a string, "
                             f"not {type(value).__name__}", line=line,
                             excerpt=_excerpt(obj))
    # an empty "text" beside an "html" means: extract the html
    text = obj.get("text") or None if obj.get("html") else obj.get("text")
    html = obj.get("html")
    if text is None and html is None:
        if not (obj.get("title") or "").strip():
            return Rejection(origin, "invalid-record", "object has neither 'text' nor 'html' "
                             "(nor a 'title' to stand for them)", line=line,
                             excerpt=_excerpt(obj))
        text = ""  # a headline-only item: its title is its text
    published = obj.get("published_at")
    if published is not None and not isinstance(published, str | int | float):
        published = str(published)
    return RawItem(
        origin=origin,
        line=line,
        source=str(obj.get("source") or default_source),
        text=str(text) if text is not None else None,
        html=str(html) if html is not None and text is None else None,
        title=_opt_str(obj.get("title")),
        url=_opt_str(obj.get("url")),
        published=published,
        language=_opt_str(obj.get("language")),
        external_id=_opt_str(obj.get("id")),
        kind="json",
        meta={k: v for k, v in obj.items() if k not in KNOWN_FIELDS},
    )


def parse_line(line: str, origin: str, number: int, default_source: str,
               max_line_chars: int) -> RawItem | Rejection | None:
    """One line of JSON Lines; None for a blank line."""
    if not line.strip():
        return None
    if len(line) > max_line_chars:
        return Rejection(origin, "too-large", f"line of {len(line):,} characters exceeds "
                         f"the cap ({max_line_chars:,})", line=number, excerpt=line[:300])
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Rejection(origin, "invalid-json", f"{exc.msg} (column {exc.colno})",
                         line=number, excerpt=line[:300])
    except (RecursionError, ValueError) as exc:
        return Rejection(origin, "invalid-json", _unreadable(exc), line=number,
                         excerpt=line[:300])
    return item_from_object(obj, origin, number, default_source)


def _excerpt(obj: Any) -> str:
    """The start of a record for the quarantine; a record nested too deep to write back
    (json.loads reads deeper than json.dumps writes) gets a placeholder."""
    try:
        return json.dumps(obj, ensure_ascii=False)[:300]
    except (RecursionError, ValueError):
        return "[a record nested too deep to show]"


def _unreadable(exc: Exception) -> str:
    """Valid JSON that Python will not build: nested too deep, or an integer too long."""
    if isinstance(exc, RecursionError):
        return "nested too deep to read (thousands of levels of arrays or objects)"
    return f"a value Python cannot read: {str(exc)[:120]}"


def read_json_lines(lines: Iterable[str], origin: str, default_source: str,
                    max_line_chars: int) -> Iterator[RawItem | Rejection]:
    for number, line in enumerate(lines, start=1):
        item = parse_line(line, origin, number, default_source, max_line_chars)
        if item is not None:
            yield item


def read_json_document(text: str, origin: str,
                       default_source: str) -> Iterator[RawItem | Rejection]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Rejection(origin, "invalid-json", f"{exc.msg} (line {exc.lineno}, column "
                        f"{exc.colno})", line=exc.lineno, excerpt=text[:300])
        return
    except (RecursionError, ValueError) as exc:
        yield Rejection(origin, "invalid-json", _unreadable(exc), excerpt=text[:300])
        return
    if isinstance(data, list) and not data:
        yield Rejection(origin, "empty", "an empty JSON array: no documents")
        return
    if not isinstance(data, list):
        yield item_from_object(data, origin, None, default_source)
        return
    for index, obj in enumerate(data):
        # An element of an array is named by its index: path[3]
        yield item_from_object(obj, f"{origin}[{index}]", None, default_source)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
