"""Detection: one Aho-Corasick scan of a document, then indicator rules per sentence.

Reads a document's text, language and sentence spans; assigns entities and evidence.
No I/O here: the compiled pack is handed in.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tocsin.indicators.compiler import (
    CONCEPT,
    CUE,
    ENTITY,
    CompiledIndicator,
    CompiledPack,
    Label,
)
from tocsin.indicators.forms import compact_key
from tocsin.indicators.polarity import clauses_holding, decide

Span = tuple[int, int]
# An automaton entry as one language reads it: key length, labels, any prefix label.
_Entry = tuple[int, tuple[Label, ...], bool]
_CLAUSE_MARK = re.compile(r";")
# Ambiguous entity names (Iskander the name, "Кинжал" the dagger) count only in a
# sentence that also holds one of these.
CONTEXT_CONCEPTS = ("military-context", "exercise", "exercise-name", "test-verb", "strike-verb",
                    "missile", "nuclear-weapon", "nuclear-forces", "alert")


@dataclass(slots=True)
class EntityHit:
    type: str
    id: str
    name: str
    text: str
    start: int
    end: int
    field: str = "text"  # the document field the offsets point into: "title" or "text"

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "name": self.name, "text": self.text,
                "field": self.field, "start": self.start, "end": self.end}


@dataclass(slots=True)
class Evidence:
    indicator: str
    title: str
    category: str
    severity: int
    polarity: str
    sentence: str
    start: int
    end: int
    terms: list[str]
    spans: list[Span]
    actor: str | None
    place: str | None
    weapon: str | None
    field: str = "text"  # the document field the offsets point into: "title" or "text"

    def as_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "category": self.category,
                "polarity": self.polarity, "severity": self.severity,
                "sentence": self.sentence, "field": self.field,
                "start": self.start, "end": self.end,
                "terms": self.terms, "spans": [list(s) for s in self.spans],
                "actor": self.actor, "place": self.place, "weapon": self.weapon}


@dataclass(slots=True)
class _Sentence:
    span: Span
    concepts: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    cues: dict[str, list[Span]] = field(default_factory=lambda: defaultdict(list))
    entities: list[EntityHit] = field(default_factory=list)


@dataclass(slots=True)
class Detection:
    entities: list[EntityHit]
    evidence: list[Evidence]


class Matcher:
    def __init__(self, compiled: CompiledPack) -> None:
        self.compiled = compiled
        self._by_language: dict[str, list[_Entry | None]] = {}

    def _entries(self, language: str) -> list[_Entry | None]:
        """The automaton's entries as a text of ``language`` reads them: only the labels
        that apply to it (another language's concept or cue never counts), None where no
        label is left, and whether any label matches a word's prefix. Made once per
        language, so the scan skips another language's keys ("не" in an English text) at
        once."""
        table = self._by_language.get(language)
        if table is None:
            table = []
            for length, labels in self.compiled.entries:
                kept = tuple(label for label in labels
                             if label.kind == ENTITY or language == "und"
                             or label.language in ("", language))
                table.append((length, kept, any(label.prefix for label in kept))
                             if kept else None)
            self._by_language[language] = table
        return table

    def detect(self, text: str, language: str, sentences: Sequence[Span]) -> Detection:
        if not text or not sentences:
            return Detection([], [])
        keyed, position_of = compact_key(text)
        starts = [s for s, _ in sentences]
        found: dict[int, _Sentence] = {}
        entity_candidates: list[tuple[int, int, int, bool]] = []  # start, end, index, ambiguous
        size = len(keyed)
        breaks, shifts = position_of.breaks, position_of.shifts
        shifted = len(breaks) > 1
        entries = self._entries(language)
        for end_index, entry in self.compiled.automaton.iter(keyed):
            readable = entries[entry]
            if readable is None:
                continue  # only other languages' terms
            length, labels, has_prefix = readable
            key_start = end_index - length + 1
            key_end = end_index + 1
            # A key that begins or ends with punctuation ("n'", "-м") brings its own
            # boundary on that side. (Inlined: this loop sees every hit inside words.)
            if key_start and keyed[key_start - 1].isalnum() and keyed[key_start].isalnum():
                continue
            whole_word = key_end >= size or not keyed[key_end].isalnum() \
                or not keyed[end_index].isalnum()
            if not whole_word and not has_prefix:
                continue  # the start of a longer word, and no label takes prefixes
            if shifted:  # key offsets to text offsets (inlined: the hottest loop)
                start = key_start + shifts[bisect_right(breaks, key_start) - 1]
                end = end_index + 1 + shifts[bisect_right(breaks, end_index) - 1]
            else:
                start, end = key_start, end_index + 1
            position = bisect_right(starts, start) - 1
            if position < 0 or start >= sentences[position][1]:
                continue  # between sentences (e.g. a title line not split)
            if end > sentences[position][1]:
                continue  # a phrase read across two sentences
            sentence = found.get(position)
            for label in labels:
                if not whole_word and not label.prefix:
                    continue
                if label.proper and not text[start].isupper() and not text[start].isdigit():
                    continue
                if sentence is None:
                    sentence = found[position] = _Sentence(sentences[position])
                span = (start, position_of(self._word_end(keyed, key_end) - 1) + 1
                        if label.prefix else end)
                if label.kind == CONCEPT:
                    sentence.concepts[label.name].append(span)
                elif label.kind == CUE:
                    sentence.cues[label.name].append(span)
                elif label.kind == ENTITY:
                    entity_candidates.append((span[0], span[1], int(label.name), label.ambiguous))
        entities = self._entities(text, entity_candidates, starts, sentences, found)
        evidence: list[Evidence] = []
        for position in sorted(found):
            evidence.extend(self._evaluate(text, found[position]))
        return Detection(entities, evidence)

    @staticmethod
    def _word_end(keyed: str, end: int) -> int:
        while end < len(keyed) and keyed[end].isalnum():
            end += 1
        return end

    def _entities(self, text: str, candidates: list[tuple[int, int, int, bool]],
                  starts: list[int], sentences: Sequence[Span],
                  found: dict[int, _Sentence]) -> list[EntityHit]:
        """Longest match wins where names overlap; ambiguous names need context."""
        chosen: list[tuple[int, int, int, bool]] = []
        # characters already named: one byte each, so an overlap test is one C scan
        # (a list of taken spans made long documents quadratic)
        taken = bytearray(len(text) + 1)
        for cand in sorted(candidates, key=lambda c: (-(c[1] - c[0]), c[0])):
            if taken.find(1, cand[0], cand[1]) != -1:
                continue
            taken[cand[0]:cand[1]] = b"\x01" * (cand[1] - cand[0])
            chosen.append(cand)
        hits: list[EntityHit] = []
        for start, end, index, ambiguous in sorted(chosen):
            position = bisect_right(starts, start) - 1
            sentence = found[position]
            entity = self.compiled.entities[index]
            if ambiguous and not self._has_context(sentence):
                continue
            hit = EntityHit(entity["type"], entity["id"], entity["name"], text[start:end],
                            start, end)
            hits.append(hit)
            sentence.entities.append(hit)
            for concept in entity["concepts"]:
                sentence.concepts[concept].append((start, end))
        return hits

    @staticmethod
    def _has_context(sentence: _Sentence) -> bool:
        return any(c in sentence.concepts for c in CONTEXT_CONCEPTS)

    def _evaluate(self, text: str, sentence: _Sentence) -> list[Evidence]:
        present = sentence.concepts
        candidates: set[int] = set()
        for concept in present:
            candidates.update(self.compiled.by_concept.get(concept, ()))
        out: list[Evidence] = []
        general: list[bool] = []
        clauses: list[Span] | None = None
        anchors = self.compiled.anchors
        anchored = not anchors or not anchors.isdisjoint(present)
        for index in sorted(candidates):
            indicator = self.compiled.indicators[index]
            if indicator.anchored and not anchored:
                continue  # nothing nuclear in the sentence
            if clauses is None:
                clauses = _clauses(text, sentence.span, sentence.cues.get("clause", ()))
            spans = self._match(indicator, present, clauses, self.compiled.overrides,
                                self.compiled.sentence_wide)
            if spans is None:
                continue
            spans = sorted(set(spans))
            out.append(Evidence(
                indicator=indicator.id, title=indicator.title, category=indicator.category,
                severity=indicator.severity,
                polarity=decide(text, sentence.span, spans, sentence.cues,
                                indicator.polarity_cues, clauses),
                sentence=text[sentence.span[0]:sentence.span[1]],
                start=sentence.span[0], end=sentence.span[1],
                terms=[text[a:b] for a, b in spans], spans=spans,
                actor=self._first(sentence, ("actor", "organization")),
                place=self._first(sentence, ("place",)),
                weapon=self._first(sentence, ("weapon",)),
            ))
            general.append(indicator.general)
        # A general sign ("nuclear arms spoken of") is only kept where nothing specific
        # explains the sentence: a warning sign, or a routine strike (context).
        if any(not g for g in general):
            out = [e for g, e in zip(general, out, strict=True) if not g]
        return out

    @staticmethod
    def _first(sentence: _Sentence, types: tuple[str, ...]) -> str | None:
        for hit in sentence.entities:
            if hit.type in types:
                return hit.id
        return None

    @staticmethod
    def _match(indicator: CompiledIndicator, present: dict[str, list[Span]],
               clauses: Sequence[Span] = (),
               overrides: dict[str, tuple[str, ...]] | None = None,
               sentence_wide: frozenset[str] = frozenset()) -> list[Span] | None:
        """The spans of the terms that satisfy the first satisfied clause, or None.

        An excluded concept vetoes only within the clauses that hold the matched terms
        ("Russia's doctrine, unlike in 1962, ..." keeps its present warning), and not at
        all when one of its overrides is in the sentence (pack.yaml `overrides`). The
        concepts of pack.yaml `sentence_exclusions` (a film, a nominations list) veto the
        whole sentence."""
        for clause in indicator.clauses:
            if not all(n in present for n in clause.all):
                continue
            hits = [n for n in clause.any if n in present]
            if clause.any and not hits:
                continue
            spans: list[Span] = []
            for name in (*clause.all, *hits):
                spans.extend(present[name])
            if any(_vetoes(present, n, spans, () if n in sentence_wide else clauses, overrides)
                   for n in clause.none):
                continue
            return spans
        return None


def _clauses(text: str, sentence: Span, breaks: Sequence[Span]) -> list[Span]:
    """The clauses of a sentence: split at ; and before the words that open a contrasting
    clause (", but", ", а", the pack's `clause` cues). Brackets and subordinate clauses
    ("denied (on Tuesday) that ...", ", while ...") stay inside their sentence's clause."""
    start, end = sentence
    cuts = {m.start() for m in _CLAUSE_MARK.finditer(text, start, end)}
    cuts.update(a for a, _ in breaks)
    out: list[Span] = []
    last = start
    for cut in sorted(c for c in cuts if start < c < end):
        out.append((last, cut))
        last = cut
    out.append((last, end))
    return out


def _vetoes(present: dict[str, list[Span]], concept: str, spans: list[Span],
            clauses: Sequence[Span], overrides: dict[str, tuple[str, ...]] | None) -> bool:
    found = present.get(concept)
    if not found:
        return False
    if overrides and any(o in present for o in overrides.get(concept, ())):
        return False
    if len(clauses) < 2:
        return True
    return bool(clauses_holding(clauses_holding(clauses, spans), found))
