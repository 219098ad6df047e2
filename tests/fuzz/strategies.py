"""Hypothesis strategies for ingest: records, JSON Lines lines, and whole files.

Records are dicts with the fields ingest reads (text, title, source, published_at, url,
language, id, html) holding arbitrary Unicode (Cyrillic, accented Latin, controls,
lone surrogates, terminal escapes) or values of the wrong type, plus extra fields.
"""

from __future__ import annotations

import gzip
import json
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from tests.fuzz.texts import SENTENCES, SOURCES

WORDS = sorted({w for sentences in SENTENCES.values() for s in sentences for w in s.split()})
ODD = ["\x00", "\x1b[2J", "\x1b]8;;http://e.example/\x07x\x1b]8;;\x07", "\u202e", "\ufeff",
       "\ufffe", "\uffff", "\u2028", "\r", "\x85", "\u200b", "e\u0301", "\U0001f680"]

cyrillic = st.characters(min_codepoint=0x400, max_codepoint=0x4FF)
accented = st.sampled_from("éèêëàâäîïôöûüùçœæÉÈÀÇ")
surrogates = st.characters(categories=["Cs"])
texts: st.SearchStrategy[str] = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join),
    st.text(st.one_of(cyrillic, accented, st.sampled_from(" .,«»\n\t")), min_size=1,
            max_size=200),
    st.text(max_size=100),
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD), surrogates),
             max_size=20).map("".join),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                    st.floats(allow_nan=True, allow_infinity=True), texts)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                     st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
dates = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    st.integers(min_value=-(10**20), max_value=10**20), st.floats(), texts,
    st.sampled_from(["2023-02-30T10:00:00Z", "0000-01-01", "99999-01-01", "2023-13-01",
                     "9" * 5000, "-1", "yesterday"]),
)
languages = st.one_of(st.sampled_from(["en", "fr", "ru", "uk", "de", "pl", "UK", " ru ", "xx",
                                       "", "German"]), texts)
html_fragments = st.one_of(
    texts.map(lambda t: f"<p>{escape(t)}</p>"),
    st.sampled_from(["<script>alert(1)</script>", "<style>p{}</style>", "<p>", "</div>",
                     "<html><body></body></html>", "<!-- x -->"]),
    texts,
)


def _fields(wrong: bool) -> dict[str, st.SearchStrategy[Any]]:
    """The record fields: of the right type, or (``wrong``) sometimes of any type."""
    def pick(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(values, values, json_values) if wrong else values

    return {
        "text": pick(texts), "title": pick(texts), "html": pick(html_fragments),
        "source": pick(st.one_of(st.sampled_from([s for v in SOURCES.values() for s in v]),
                                 texts)),
        "published_at": pick(dates), "url": pick(texts.map(lambda t: "https://x.org/" + t)),
        "language": pick(languages), "id": pick(st.one_of(texts, st.integers())),
    }


def _records(wrong: bool, required: str = "") -> st.SearchStrategy[dict[str, Any]]:
    fields = _fields(wrong)
    fixed = {required: fields.pop(required)} if required else {}
    records = st.fixed_dictionaries(fixed, optional=fields)
    return records.flatmap(lambda r: st.dictionaries(st.text(max_size=12), json_values,
                                                     max_size=3).map(lambda x: {**x, **r}))


# mostly records of the right types that carry a text (they go all the way to the store),
# some odd ones
records: st.SearchStrategy[dict[str, Any]] = st.one_of(
    _records(False, "text"), _records(False, "text"), _records(False, "html"),
    _records(False, "title"), _records(True))


def _dump(record: Any, ascii_only: bool) -> bytes:
    # without ensure_ascii a lone surrogate is written raw: invalid UTF-8, which is input too
    return json.dumps(record, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


junk_lines = st.one_of(
    st.text(max_size=80).filter(lambda t: "\n" not in t).map(
        lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=80).filter(lambda b: b"\n" not in b),
    st.sampled_from([b"{", b"[" * 3000, b"NaN", b"null", b"42", b"{}", b'{"text": 1}',
                     b'{"text": "a",}', b"   ", b""]),
)
json_lines: st.SearchStrategy[bytes] = st.one_of(
    st.tuples(records, st.booleans()).map(lambda pair: _dump(*pair)),
    st.tuples(records, st.booleans()).map(lambda pair: _dump(*pair)),
    junk_lines,
)


def _pub_date(value: Any) -> str:
    text = str(value)
    return text


def _feed(items: list[dict[str, Any]]) -> str:
    body = "".join(f"<item><title>{escape(str(i.get('title', '')))}</title><description>"
                   f"{escape(str(i.get('text', '')))}</description><pubDate>"
                   f"{escape(_pub_date(i.get('published_at', '')))}</pubDate></item>"
                   for i in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{body}' \
           "</channel></rss>"


def _page(record: dict[str, Any]) -> str:
    return (f"<html><head><title>{escape(str(record.get('title', '')))}</title></head><body>"
            f"<article><p>{escape(str(record.get('text', '')))}</p></article></body></html>")


def _encode(text: str, codec: str) -> bytes:
    return text.encode(codec, "surrogatepass" if codec.startswith("utf") else "replace")


payloads: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=2000),
    st.tuples(texts, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1251", "latin-1"]))
    .map(lambda pair: _encode(*pair)),
    st.lists(json_lines, max_size=6).map(lambda rows: b"\n".join(rows)),
    st.lists(records, max_size=4).map(lambda rs: _encode(json.dumps(rs), "utf-8")),
    records.map(lambda r: _encode(json.dumps(r), "utf-8")),
    st.lists(records, max_size=4).map(lambda rs: _encode(_feed(rs), "utf-8")),
    records.map(lambda r: _encode(_page(r), "utf-8")),
)
suffixes = st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl", ".ndjson", ".xml",
                            ".rss", ".atom", ".csv", "", ".jsonl.gz", ".json.gz", ".txt.gz"])


def _file(suffix: str, payload: bytes, compress: bool) -> tuple[str, bytes]:
    return suffix, gzip.compress(payload, mtime=0) if compress else payload


files: st.SearchStrategy[tuple[str, bytes]] = st.builds(
    _file, suffixes, payloads, st.booleans())
