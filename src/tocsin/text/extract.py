"""Main text and metadata of an HTML page, with trafilatura.

trafilatura finds the article, its title and site name; its date has day precision, so
a full timestamp from the page's own metadata (article:published_time, datePublished,
<time datetime>) is preferred when the page gives one for the same day.
"""

from __future__ import annotations

from dataclasses import dataclass

import lxml.html
import trafilatura
from lxml import etree

_TIMESTAMP_XPATHS = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//meta[@name='pubdate']/@content",
    "//meta[@name='date']/@content",
    "//time[@datetime][1]/@datetime",
)


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None
    published: str | None
    url: str | None
    sitename: str | None
    language: str | None


def extract_html(html: str) -> Extracted | None:
    """The article of a page, or of an HTML fragment (feed item, JSON ``html`` field).

    None when it holds no text at all.
    """
    head = html[:20000].lower()
    if "<html" not in head and "<body" not in head:
        # trafilatura expects a whole page and rejects a bare fragment.
        html = f"<html><body><div>{html}</div></body></html>"
    doc = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=False,
    )
    if isinstance(doc, dict):  # only with as_dict=True, which is not asked for
        raise TypeError("trafilatura returned a dict")
    if doc is None or not (doc.text or "").strip():
        text = trafilatura.html2txt(html) or ""
        if not text.strip():
            return None
        return Extracted(text, None, None, None, None, None)
    text = doc.text or ""
    title = (doc.title or "").strip() or None
    if title:
        # trafilatura keeps the headline as the first line of the text; the title
        # is stored apart, so drop the repeat.
        first, _, rest = text.partition("\n")
        if first.strip() == title and rest.strip():
            text = rest
    published = _page_timestamp(html, doc.date)
    return Extracted(text, title, published, doc.url, doc.sitename, doc.language)


def _page_timestamp(html: str, day: str | None) -> str | None:
    try:
        # bytes: lxml refuses a str that carries an XML encoding declaration
        tree = lxml.html.fromstring(html.encode("utf-8"))
    except (etree.ParserError, ValueError):
        return day
    for xpath in _TIMESTAMP_XPATHS:
        for value in tree.xpath(xpath):
            value = str(value).strip()
            if len(value) > 10 and (day is None or value[:10] == day[:10]):
                return value
    return day
