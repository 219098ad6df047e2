"""The text stage: raw items -> documents (clean text, language, sentences, date, identity)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tocsin.model import Document, RawItem, Rejection
from tocsin.text.dates import UNTRUSTED, parse_published
from tocsin.text.language import LanguageIdentifier
from tocsin.text.normalize import normalize
from tocsin.text.sentences import SentenceSplitter

if TYPE_CHECKING:
    from tocsin.config import Limits


def document_hash(source: str, text: str) -> str:
    """The identity of a document: its normalised text from one source."""
    digest = hashlib.sha256()
    digest.update(source.strip().casefold().encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


@dataclass
class TextStage:
    """Reads RawItem; assigns Document.text, language, sentences, published_at, doc_hash."""

    languages: LanguageIdentifier
    splitter: SentenceSplitter
    now: datetime
    max_chars: int = 1_000_000
    min_chars: int = 1

    def __call__(self, items: Iterable[RawItem]) -> Iterator[Document | Rejection]:
        for item in items:
            yield self.prepare(item)

    def prepare(self, item: RawItem) -> Document | Rejection:
        title, url, published = item.title, item.url, item.published
        source = item.source
        if item.html is not None and item.text is None:
            if len(item.html) > self.max_chars * 10:
                return _reject(item, "too-large",
                               f"HTML of {len(item.html):,} characters exceeds the cap")
            # trafilatura and lxml load with the first page, not with every command
            from tocsin.text.extract import extract_html

            extracted = extract_html(item.html)
            if extracted is not None:
                raw_text = extracted.text
                title = title or extracted.title
                url = url or extracted.url
                published = published or extracted.published
                if not source:
                    source = extracted.sitename or _host(url) or ""
            elif title and normalize(title):
                raw_text = ""  # an empty page under a headline: the headline is the text
            else:
                return _reject(item, "empty", "the page holds no text", item.html)
        else:
            raw_text = item.text or ""
        text = normalize(raw_text)
        if not text and title and normalize(title):
            text, title = normalize(title), None  # a headline-only item: the title is the text
        if len(text) < self.min_chars:
            return _reject(item, "empty", "no text after cleaning", raw_text)
        if len(text) > self.max_chars:
            return _reject(item, "too-large", f"text of {len(text):,} characters exceeds "
                           f"max_document_chars ({self.max_chars:,})", text)
        source = normalize(source) or "local"
        given = (item.language or "").strip().lower()
        if given in self.languages.supported and not _wrong_script(given, text):
            language, confidence = given, 1.0  # the source says so, and we know it
        else:
            guess = self.languages.identify(text)
            language, confidence = guess.code, guess.confidence
        date = parse_published(published, now=self.now)
        if date.flag == "missing" and item.file_time is not None:
            # a file that gives no date is placed at its modification time, and says so
            found = parse_published(item.file_time, now=self.now)
            if found.value is not None:
                date = replace(found, flag="file-time")
        return Document(
            doc_hash=document_hash(source, text),
            source=source,
            text=text,
            title=(normalize(title) or None) if title else None,
            url=normalize(url) or None if url else None,
            language=language,
            language_confidence=confidence,
            published_at=date.value if date.flag not in UNTRUSTED else None,
            published_raw=normalize(date.raw) if date.raw else None,
            date_flag=date.flag,
            sentences=self.splitter.split(text, language),
            origin=f"{item.origin}:{item.line}" if item.line else item.origin,
            external_id=normalize(item.external_id) or None if item.external_id else None,
            kind=item.kind,
            meta=clean_json(item.meta),
        )


MAX_META_DEPTH = 32  # deeper metadata is kept as text: no document is lost to it


def clean_json(value: Any, depth: int = 0) -> Any:
    """Metadata as strict JSON: text normalised (no surrogates, no NUL), no NaN; nesting
    deeper than MAX_META_DEPTH is kept as (cut) text."""
    if depth > MAX_META_DEPTH and isinstance(value, dict | list | tuple):
        try:
            return normalize(json.dumps(value)[:1000])
        except (RecursionError, ValueError):
            return "[nested too deep]"
    if isinstance(value, str):
        return normalize(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {normalize(str(k)): clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int):
        return value
    return normalize(str(value))


# Languages written in Cyrillic; the others the pack knows are written in Latin letters.
_CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk"})


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _wrong_script(language: str, text: str) -> bool:
    """A declared language whose alphabet the text does not use (a Ukrainian address
    filed as `en`): then the language is identified from the text instead."""
    sample = text[:2000]
    cyrillic, latin = len(_CYRILLIC.findall(sample)), len(_LATIN.findall(sample))
    if cyrillic + latin < 20:
        return False
    share = cyrillic / (cyrillic + latin)
    return share < 0.2 if language in _CYRILLIC_LANGUAGES else share > 0.8


def _reject(item: RawItem, reason: str, message: str, excerpt: str = "") -> Rejection:
    return Rejection(item.origin, reason, message, line=item.line, excerpt=excerpt[:300])


def _host(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None


def make_text_stage(languages: tuple[str, ...], limits: Limits,
                    now: datetime | None = None) -> TextStage:
    """The text stage for ``languages``, within ``limits``."""
    return TextStage(
        languages=LanguageIdentifier(languages),
        splitter=SentenceSplitter(),
        now=now or datetime.now(UTC),
        max_chars=limits.max_document_chars,
        min_chars=limits.min_document_chars,
    )
