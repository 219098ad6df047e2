"""Publication dates into UTC, with a flag whenever a date cannot be trusted.

Flags: ``missing``, ``unparseable``, ``future`` (later than the moment of ingest plus a
day), ``too-old`` (before ``earliest``), ``no-timezone`` (read as UTC). A date flagged
``unparseable``, ``future`` or ``too-old`` is not trusted: ``published_at`` stays empty
and the raw value is kept for the analyst.
"""

from __future__ import annotations

import email.utils
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil import parser as dateutil_parser

UNTRUSTED = frozenset({"unparseable", "future", "too-old"})
_DOTTED = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}\b")
_HAS_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")


@dataclass(frozen=True, slots=True)
class ParsedDate:
    value: datetime | None
    raw: str | None
    flag: str | None


def parse_published(
    raw: str | datetime | int | float | None,
    now: datetime,
    earliest: datetime = datetime(1980, 1, 1, tzinfo=UTC),
    tolerance: timedelta = timedelta(days=1),
) -> ParsedDate:
    """Read a publication date from what a source gave; never raises."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ParsedDate(None, None, "missing")
    raw_text = raw.isoformat() if isinstance(raw, datetime) else str(raw).strip()
    value = _to_datetime(raw)
    if value is None:
        return ParsedDate(None, raw_text, "unparseable")
    flag = None
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=UTC)
            flag = "no-timezone"
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):  # an offset of 24 h or more (+25:00)
        return ParsedDate(None, raw_text, "unparseable")
    if value > now + tolerance:
        return ParsedDate(None, raw_text, "future")
    if value < earliest:
        return ParsedDate(None, raw_text, "too-old")
    return ParsedDate(value, raw_text, flag)


# Zone abbreviations the press uses, as fixed offsets in hours (dateutil knows only UTC
# and the local zone). Moscow time has been UTC+3 all year since 2014; IST is left out
# (India, Ireland or Israel?).
_ZONES = {name: int(hours * 3600) for name, hours in {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "WEST": 1, "CET": 1, "CEST": 2,
    "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7, "PKT": 5, "KST": 9, "JST": 9}.items()}


def _to_datetime(raw: str | datetime | int | float) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        seconds = raw / 1000 if raw > 1e11 else raw  # Unix time in s or ms
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = raw.strip()
    if text.isdigit() and len(text) >= 9:
        if len(text) > 16:
            return None  # no Unix time has so many digits (and int() refuses 4,300+)
        return _to_datetime(int(text))  # Unix time written as a string
    if not _HAS_YEAR.search(text):
        # dateutil would read "5" as the 5th of this month: demand a year.
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        # RFC 822 dates of RSS and most free-form dates; checks the calendar (no 31 Feb).
        # 03.04.2022 is the 3rd of April in every language tocsin reads.
        with warnings.catch_warnings():
            # a zone name it does not know: the date is taken as naive and flagged
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
            return dateutil_parser.parse(text, default=datetime(2000, 1, 1),
                                         dayfirst=bool(_DOTTED.match(text)),
                                         tzinfos=_ZONES)
    except (ValueError, OverflowError, dateutil_parser.ParserError,
            dateutil_parser.UnknownTimezoneWarning):  # a future dateutil raises it
        pass
    try:
        return email.utils.parsedate_to_datetime(text)  # obsolete RFC 822 zones (EST, ...)
    except (TypeError, ValueError, IndexError):
        return None
