"""Attribution: who a claim comes from ("according to X", "selon X", "по данным X",
"за даними X", "X told Y").

Cues are per-language regular expressions in ``data/attribution/<lang>.yaml``. A name
found by a cue is looked up in the source registry (names and aliases, with their
inflected forms: "по данным «Полярной звезды»" is the registry's "Полярная звезда"); a
registry hit is a ``source``, anything else a ``speaker`` (a person, an office, "a US
official").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import regex

from tocsin.indicators.forms import FormGenerator, match_key
from tocsin.indicators.yamlfile import load_plain
from tocsin.text.titles import title_repeated

_DESCRIPTORS = re.compile(
    r"^(?:l'|l’)|^(?:the|la|le|les|agence|quotidien|journal|chaîne|radio|site|hebdomadaire|"
    r"агентств\w*|газет\w*|издани\w*|видан\w*|телеканал\w*|портал\w*|телеграм-канал\w*|"
    r"канал\w*|радиостанци\w*|радіостанці\w*|сайт\w*|журнал\w*|информагентств\w*|"
    r"інформагенці\w*|агенці\w*)\s+", re.IGNORECASE)
_QUOTES = str.maketrans("", "", "«»\"“”„")


def core_name(text: str) -> str:
    """"агентства «Полярная звезда»" -> "полярная звезда" (match form, no descriptor)."""
    value = text.strip().translate(_QUOTES).strip(" ,.;:")
    while True:
        stripped = _DESCRIPTORS.sub("", value)
        if stripped == value:
            break
        value = stripped
    return match_key(value.strip())


MAX_ATTRIBUTIONS = 200  # per document: a real article has a handful


@dataclass(frozen=True, slots=True)
class Attribution:
    source: str | None  # canonical registry name, or the name as written
    source_id: str | None  # registry id when the source is known
    speaker: str | None
    text: str
    start: int
    end: int
    field: str = "text"  # the document field the offsets point into: "title" or "text"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "source_id": self.source_id, "speaker": self.speaker,
                "text": self.text, "field": self.field, "start": self.start, "end": self.end}


class SourceIndex:
    """Registry names and aliases, in every inflected form, to source id and name."""

    def __init__(self, records: Iterable[dict[str, Any]], forms: FormGenerator | None = None):
        forms = forms or FormGenerator()
        self._by_key: dict[str, tuple[str, str]] = {}
        for record in records:
            names = [record["name"], *(record.get("aliases") or [])]
            language = record.get("language") or "en"
            for name in names:
                core = core_name(str(name))
                if len(core) < 2:
                    continue
                variants = {core}
                if language in ("ru", "uk") or any("а" <= ch <= "я" for ch in core):
                    for lang in ("ru", "uk"):
                        variants |= forms.forms(core, lang, name=True)
                for variant in variants:
                    self._by_key.setdefault(variant, (record["id"], record["name"]))

    def lookup(self, written: str) -> tuple[str, str] | None:
        return self._by_key.get(core_name(written))


class AttributionExtractor:
    def __init__(self, sources: SourceIndex, languages: Iterable[str] = ("en", "fr", "ru", "uk")):
        self.sources = sources
        self.languages = tuple(languages)
        self._compiled: dict[str, tuple[list[Any], frozenset[str]] | None] = {}

    def _rules_of(self, language: str) -> tuple[list[Any], frozenset[str]] | None:
        """One language's patterns, compiled when a text in it first comes (compiling
        them all costs a quarter of a second)."""
        if language not in self._compiled:
            self._compiled[language] = self._compile(language) \
                if language in self.languages else None
        return self._compiled[language]

    def _compile(self, language: str) -> tuple[list[Any], frozenset[str]] | None:
        path = resources.files("tocsin.stories").joinpath(f"data/attribution/{language}.yaml")
        if not path.is_file():
            return None
        data = load_plain(path.read_text("utf-8"))
        compiled = []
        for entry in data["patterns"]:
            # an entry is a pattern, or {when: [words], re: pattern}: the pattern runs
            # only on texts holding one of the words (a cheap test first)
            pattern = entry["re"] if isinstance(entry, dict) else entry
            when = tuple(w.lower() for w in entry.get("when", ())) \
                if isinstance(entry, dict) else ()
            text = pattern.replace("{NAME}", f"(?:{data['name']})").replace(
                "{ANON}", f"(?:{data['anonymous']})")
            compiled.append((regex.compile(text), when))
        return compiled, frozenset(data.get("not_names") or [])

    def extract_document(self, title: str | None, text: str,
                         language: str) -> list[Attribution]:
        """Attributions of the title ("…, TASS reports") and of the text; a title that the
        text repeats is read once."""
        found = self.extract(text, language)
        if title and title.strip() and not title_repeated(title, text):
            found = [replace(a, field="title") for a in self.extract(title, language)] + found
        return found[:MAX_ATTRIBUTIONS]

    def extract(self, text: str, language: str) -> list[Attribution]:
        rules = self._rules_of(language)
        if rules is None:
            return []
        patterns, not_names = rules
        found: list[Attribution] = []
        taken: list[tuple[int, int]] = []
        # Patterns run sentence by sentence, and only on the pieces that hold one of
        # their cue words: found once in the whole text, each occurrence points at the
        # piece it lies in.
        pieces = [(m.start(), m.end(), m.group()) for m in _PIECES.finditer(text)]
        starts = [start for start, _, _ in pieces]
        whole = text.lower()
        same_offsets = len(whole) == len(text)  # lowercasing may lengthen a few letters
        for pattern, when in patterns:
            for offset, piece in self._pieces_with(when, pieces, starts, whole, same_offsets):
                for match in pattern.finditer(piece):
                    self._take(match, offset, text, not_names, taken, found)
                    if len(found) >= MAX_ATTRIBUTIONS:  # a pathological document
                        return sorted(found, key=lambda a: a.start)
        return sorted(found, key=lambda a: a.start)

    @staticmethod
    def _pieces_with(when: tuple[str, ...], pieces: list[tuple[int, int, str]],
                     starts: list[int], whole: str,
                     same_offsets: bool) -> Iterator[tuple[int, str]]:
        """The pieces (offset, text) that hold one of the words ``when`` (every piece
        when there are none), in text order."""
        if not when:
            yield from ((start, piece) for start, _, piece in pieces)
            return
        if not same_offsets:
            yield from ((start, piece) for start, _, piece in pieces
                        if any(w in piece.lower() for w in when))
            return
        holding: set[int] = set()
        for word in when:
            at = whole.find(word)
            while at >= 0:
                index = bisect_right(starts, at) - 1
                if index >= 0 and at + len(word) <= pieces[index][1]:
                    holding.add(index)
                at = whole.find(word, at + 1)
        for index in sorted(holding):
            yield pieces[index][0], pieces[index][2]

    def _take(self, match: Any, offset: int, text: str, not_names: frozenset[str],
              taken: list[tuple[int, int]], found: list[Attribution]) -> None:
        """Turn one pattern match into an attribution, unless an earlier one covers it."""
        start, end = match.start() + offset, match.end() + offset
        if any(start < b and a < end for a, b in taken):
            return
        groups = match.groupdict()
        source_text = (groups.get("src") or "").strip()
        speaker = (groups.get("spk") or "").strip() or None
        # `who`: a name that may be an outlet or a person ("according to X")
        who = (groups.get("who") or "").strip()
        if who and who not in not_names:
            if self.sources.lookup(who) or _looks_like_outlet(who):
                source_text = source_text or who
            else:
                speaker = speaker or who
        if source_text in not_names:
            source_text = ""
        if speaker in not_names:
            speaker = None
        if not source_text and not speaker:
            return
        source, source_id = None, None
        if source_text:
            # a name in a `src` slot ("X reported", "told X") is an outlet, known to the
            # registry or not
            hit = self.sources.lookup(source_text)
            source_id, source = hit if hit else (None, source_text)
        known_speaker = self.sources.lookup(speaker) if speaker else None
        if known_speaker:  # "according to Northgate Wire" caught by a speaker pattern
            source_id, source = known_speaker
            speaker = None
        taken.append((start, end))
        found.append(Attribution(source, source_id, speaker, text[start:end], start, end))


# Sentence-sized pieces (attribution never spans a full stop followed by a capital).
_PIECES = re.compile(r"[^\n]+?(?:[.!?…](?=\s+[«\"(]?[A-ZА-ЯЁІЇЄҐÀ-Ý0-9])|$)", re.MULTILINE)
_OUTLET_WORDS = re.compile(
    r"«|\"|agency|agence|news|wire|post|times|journal|gazette|press|tv|radio|daily|ledger|"
    r"briefing|courrier|écho|vigie|газет|агентств|агенці|канал|издани|видан|новост|вісник|"
    r"кур'єр|стрічк|сводк", re.IGNORECASE)


def _looks_like_outlet(name: str) -> bool:
    return bool(_OUTLET_WORDS.search(name))
