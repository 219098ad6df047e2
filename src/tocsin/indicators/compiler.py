"""Compile a pack into one Aho-Corasick automaton over every surface form.

Everything the matcher looks for (concept terms, indicator terms, entity names,
polarity cues) becomes a key of one automaton, so detection is one scan of a document.
Compiling generates inflected forms (pymorphy3), which takes seconds; the result is
cached on disk, keyed by the pack's content and this module's FORMAT, so later starts
load it in a few tens of milliseconds. The cache holds plain data (tuples, strings,
ints) and the automaton, whose values are ints: ~60,000 keys share ~12,000 distinct
(length, labels) entries and ~1,700 distinct labels, each stored once, so a load
restores those few thousand tuples instead of one record per key.
"""

from __future__ import annotations

import os
import pickle
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick

from tocsin.indicators import CONTEXT_CATEGORIES
from tocsin.indicators.forms import PREFIX, FormGenerator, compact_key, match_key
from tocsin.indicators.pack import Clause, Entity, Indicator, Pack

FORMAT = 10  # bump when the compiled structure or the form generation changes

# label kinds
CONCEPT, CUE, ENTITY = 0, 1, 2


class Label(NamedTuple):
    """What a key means. A named tuple: the cache holds each distinct label once, and
    unpickling one costs a tuple, not a dataclass's state restored field by field."""

    kind: int
    name: str  # concept name, cue kind, or entity index as text
    language: str  # "" when the label applies to every language
    prefix: bool  # matches any word starting with the key
    proper: bool  # the match must start with a capital letter in the text
    ambiguous: bool = False  # an entity form that is also a common word or name


@dataclass(frozen=True, slots=True)
class CompiledIndicator:
    id: str
    title: str
    category: str
    severity: int
    clauses: tuple[Clause, ...]
    polarity_cues: frozenset[str]
    triggers: frozenset[str]  # concepts whose presence makes the indicator worth checking
    anchored: bool = True  # needs one of the pack's anchors in the sentence
    general: bool = False  # gives way to a specific indicator found in the same sentence


# What an automaton key stands for: the key's length and its labels.
Entry = tuple[int, tuple[Label, ...]]


@dataclass
class CompiledPack:
    pack_id: str
    digest: str
    automaton: Any  # key -> index into ``entries`` (an int automaton: pickles fast)
    entries: list[Entry]
    indicators: list[CompiledIndicator]
    entities: list[dict[str, Any]]  # type, id, name, concepts
    by_concept: dict[str, list[int]] = field(default_factory=dict)  # concept -> indicators
    # Concepts that make a sentence speak of nuclear matters; an anchored indicator fires
    # only in a sentence holding one (pack.yaml `anchors`; none: no such requirement).
    anchors: frozenset[str] = frozenset()
    # excluded concept -> concepts that lift the exclusion ("history" gives way to "present")
    overrides: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sentence_wide: frozenset[str] = frozenset()  # exclusions that veto a whole sentence

    @property
    def pattern_count(self) -> int:
        return len(self.automaton)

    def to_state(self) -> dict[str, Any]:
        """The compiled pack as plain data, for the cache."""
        return {
            "format": FORMAT, "pack_id": self.pack_id, "digest": self.digest,
            "automaton": self.automaton, "entries": self.entries,
            "indicators": [(i.id, i.title, i.category, i.severity,
                            tuple((c.all, c.any, c.none) for c in i.clauses),
                            tuple(sorted(i.polarity_cues)), tuple(sorted(i.triggers)),
                            i.anchored, i.general) for i in self.indicators],
            "entities": [(e["type"], e["id"], e["name"], tuple(e["concepts"]))
                         for e in self.entities],
            "by_concept": self.by_concept, "anchors": tuple(sorted(self.anchors)),
            "overrides": self.overrides, "sentence_wide": tuple(sorted(self.sentence_wide)),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CompiledPack:
        return cls(
            state["pack_id"], state["digest"], state["automaton"], state["entries"],
            [CompiledIndicator(id_, title, category, severity,
                               tuple(Clause(*c) for c in clauses), frozenset(cues),
                               frozenset(triggers), anchored, general)
             for id_, title, category, severity, clauses, cues, triggers, anchored, general
             in state["indicators"]],
            [{"type": type_, "id": id_, "name": name, "concepts": concepts}
             for type_, id_, name, concepts in state["entities"]],
            state["by_concept"], frozenset(state["anchors"]), state["overrides"],
            frozenset(state["sentence_wide"]))


def _entity_concepts(entity: Entity) -> tuple[str, ...]:
    concepts = [entity.type, f"{entity.type}:{entity.id}"]
    attrs = entity.attrs
    if entity.type == "weapon":
        capability = str(attrs.get("capability", "dual-capable"))
        concepts.append("weapon-nuclear-only" if capability == "nuclear-only" else "weapon-dual")
    if entity.type in ("actor", "organization"):
        concepts.append("speaker")
        if attrs.get("state"):
            concepts.append("state-actor")
        if attrs.get("role"):
            concepts.append(f"role:{attrs['role']}")
    if entity.type == "place" and attrs.get("source") != "geonames":
        concepts.append("watch-area")
    if attrs.get("country"):
        concepts.append(f"country:{attrs['country']}")
    return tuple(concepts)


def _indicator_triggers(indicator: Indicator) -> frozenset[str]:
    """The indicator is evaluated only on sentences holding one of these concepts."""
    triggers: set[str] = set()
    for clause in indicator.clauses:
        names = clause.all[:1] or clause.any
        triggers.update(f"@{indicator.id}" if n == "self" else n for n in names)
    return frozenset(triggers)


class Compiler:
    def __init__(self, forms: FormGenerator | None = None) -> None:
        self.forms = forms or FormGenerator()
        self._keys: dict[str, set[Label]] = defaultdict(set)
        self._labels: dict[Label, Label] = {}  # one object per distinct label

    def _add(self, term: str, language: str, label_kind: int, name: str, *,
             proper: bool = False, ambiguous: bool = False, label_language: str = "",
             as_name: bool = False, plural: bool = False) -> None:
        for form in self.forms.forms(term, language, name=as_name, plural=plural):
            prefix = form.endswith(PREFIX)
            # the key is read like a text: quotes and markup inside a term are read past
            key = compact_key(form[:-1] if prefix else form)[0].strip()
            if len(key) < 2:
                continue
            label = Label(label_kind, name, label_language, prefix, proper, ambiguous)
            self._keys[key].add(self._labels.setdefault(label, label))

    def compile(self, pack: Pack, gazetteer: list[Entity] | None = None) -> CompiledPack:
        # Concept terms belong to their language: French "but" (goal) must not veto an
        # English sentence. Entity names (below) apply to every language.
        for language, concepts in pack.concepts.items():
            for concept, terms in concepts.items():
                for term in terms:
                    self._add(term, language, CONCEPT, concept, label_language=language)
        for language, cues in pack.cues.items():
            for kind, terms in cues.items():
                for term in terms:
                    self._add(term, language, CUE, kind, label_language=language)
        for indicator in pack.indicators:
            for language, terms in indicator.terms.items():
                for term in terms:
                    self._add(term, language, CONCEPT, f"@{indicator.id}",
                              label_language=language)
        entities = list(pack.entities) + list(gazetteer or [])
        compiled_entities = []
        for index, entity in enumerate(entities):
            compiled_entities.append({"type": entity.type, "id": entity.id, "name": entity.name,
                                      "concepts": _entity_concepts(entity)})
            ambiguous = {match_key(a) for a in entity.ambiguous}
            for language, names in entity.names.items():
                for name in names:
                    # Designations ("9K720", "SS-26") and names are proper: capitalised.
                    self._add(name, language, ENTITY, str(index), proper=name[:1].isupper(),
                              ambiguous=match_key(name) in ambiguous, as_name=True,
                              plural=entity.type == "weapon")
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        entry_ids: dict[Entry, int] = {}
        for key, labels in self._keys.items():
            entry = (len(key), tuple(sorted(labels, key=repr)))
            automaton.add_word(key, entry_ids.setdefault(entry, len(entry_ids)))
        automaton.make_automaton()
        indicators = [
            CompiledIndicator(
                id=i.id, title=i.title, category=i.category, severity=i.severity,
                clauses=tuple(Clause(tuple(f"@{i.id}" if n == "self" else n for n in c.all),
                                     tuple(f"@{i.id}" if n == "self" else n for n in c.any),
                                     c.none) for c in i.clauses),
                polarity_cues=frozenset(i.raw.get("polarity_cues") or
                                        ("negation", "denial", "hypothetical", "reported")),
                triggers=_indicator_triggers(i),
                anchored=bool(i.raw.get("anchored", True)) and i.category not in CONTEXT_CATEGORIES,
                general=bool(i.raw.get("general", False)))
            for i in pack.indicators
        ]
        by_concept: dict[str, list[int]] = defaultdict(list)
        for n, compiled_indicator in enumerate(indicators):
            for concept in compiled_indicator.triggers:
                by_concept[concept].append(n)
        return CompiledPack(pack.id, pack.digest, automaton, list(entry_ids), indicators,
                            compiled_entities,
                            dict(by_concept), frozenset(pack.anchors),
                            {k: tuple(v) for k, v in pack.overrides.items()},
                            frozenset(pack.sentence_exclusions))


def cache_path(cache_dir: Path, pack_id: str, digest: str) -> Path:
    return cache_dir / f"pack-{pack_id}-{digest[:16]}-v{FORMAT}.pickle"


def load_cached(cache_dir: Path | None, pack_id: str, digest: str) -> CompiledPack | None:
    """The cached compilation of the pack with this id and content digest, if any.
    A cache file of another format, or one that is broken, counts as none."""
    if cache_dir is None:
        return None
    cache_file = cache_path(cache_dir, pack_id, digest)
    try:
        with cache_file.open("rb") as handle:
            state = pickle.load(handle)  # noqa: S301 - our own cache file
        if isinstance(state, dict) and state.get("format") == FORMAT \
                and state.get("digest") == digest:
            return CompiledPack.from_state(state)
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError,
            KeyError, ValueError, IndexError):
        pass  # a stale or broken cache is rebuilt
    return None


def compile_pack(pack: Pack, cache_dir: Path | None = None,
                 gazetteer: list[Entity] | None = None) -> CompiledPack:
    """Compile, or load the cached compilation of, ``pack``."""
    cached = load_cached(cache_dir, pack.id, pack.digest)
    if cached is not None:
        return cached
    if gazetteer is None:
        from tocsin.indicators.gazetteer import gazetteer_entities

        gazetteer = gazetteer_entities(pack.gazetteer)
    compiled = Compiler().compile(pack, gazetteer)
    if cache_dir is not None:
        cache_file = cache_path(cache_dir, pack.id, pack.digest)
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            # one temporary name per process: two first starts at once must not write
            # into the same file
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                pickle.dump(compiled.to_state(), handle, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(cache_file)
        except OSError:
            pass  # no cache: slower start, same results
    return compiled
