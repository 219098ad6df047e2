"""Language identification with lingua, restricted to the languages tocsin supports.

Returns an ISO 639-1 code, or ``und`` when the text is too short or lingua is not sure.

lingua is asked only what the text's alphabet leaves open. A text written in one
script (Cyrillic, or Latin) goes to a detector of that script's languages, built on
first use, so a stream of Ukrainian posts never loads the English or French models and
the other way round; lingua itself keeps to the alphabet most words are written in, so
its answer is the same. A text that mixes the scripts goes to the detector of all the
languages. Between Russian and Ukrainian, the letters that only one of them writes
(``letters`` in data/languages.yaml) settle it when only one of the two sets appears:
they overruled lingua's call there before, so lingua is not asked at all. A long text
in Latin letters is first probed at its two ends (see PROBE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

UNDETERMINED = "und"
SAMPLE = 1200  # a news text is decided by its first thousand characters or so
# ... and most by 200 of them: when lingua is sure, to four decimals and alike, of the
# first 200 and of the last 200, the rest of the sample is not read (on 21,000 real,
# evaluation, spliced and cut texts, the language and the rounded confidence came out
# the same either way).
PROBE = 200
SURE = 0.99995  # rounds to 1.0
# A script leads when its words outnumber the other's this many times: then lingua,
# which keeps to the alphabet of most words, would rule the other script's languages out.
LEAD = 3
_LETTERS = {"Cyrillic": "\u0400-\u04ff", "Latin": "A-Za-z\u00c0-\u024f"}
_CHARS = {script: re.compile(f"[{letters}]") for script, letters in _LETTERS.items()}
_WORDS = {script: re.compile(rf"(?<![^\W\d_])[{letters}]+(?![^\W\d_])")
          for script, letters in _LETTERS.items()}


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str
    confidence: float


def _language_table() -> dict[str, dict[str, Any]]:
    raw = resources.files("tocsin.text").joinpath("data/languages.yaml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it
    table: dict[str, dict[str, Any]] = yaml.load(raw, Loader=loader)["languages"]  # noqa: S506
    return table


class LanguageIdentifier:
    """Built once per pipeline. lingua's models load when a text first needs them
    (~0.6 s and ~100 MB a script), not when this is built."""

    def __init__(
        self,
        languages: tuple[str, ...] = ("en", "fr", "ru", "uk"),
        min_letters: int = 4,
        min_confidence: float = 0.5,
    ) -> None:
        from lingua import Language

        table = _language_table()
        unknown = [code for code in languages if code not in table]
        if unknown:
            raise ValueError(f"no language data for {unknown}")
        self._lingua = {c: getattr(Language, table[c]["lingua"]) for c in languages}
        self._codes = {lang: code for code, lang in self._lingua.items()}
        self.supported = frozenset(languages)
        self._letters = {c: set(table[c].get("letters", "")) for c in languages}
        self.min_letters = min_letters
        self.min_confidence = min_confidence
        scripts: dict[str, tuple[str, ...]] = {}
        for code in languages:
            script = str(table[code].get("script", ""))
            scripts[script] = (*scripts.get(script, ()), code)
        # A script with one language, or none known, is left to the detector of all.
        self._scripts = {s: codes for s, codes in scripts.items()
                         if s in _WORDS and len(codes) > 1}
        self._detectors: dict[tuple[str, ...], Any] = {}

    @property
    def built(self) -> tuple[tuple[str, ...], ...]:
        """The language sets lingua detectors were built for so far (models load with
        them): what a stream has cost in memory."""
        return tuple(self._detectors)

    def _detector(self, codes: tuple[str, ...]) -> Any:
        """lingua for these languages, built on first use; models load lazily, once
        for all the detectors of this process."""
        if codes not in self._detectors:
            from lingua import LanguageDetectorBuilder

            builder = LanguageDetectorBuilder.from_languages(*(self._lingua[c] for c in codes))
            self._detectors[codes] = builder.build()
        return self._detectors[codes]

    def identify(self, text: str) -> LanguageGuess:
        if not _has_letters(text[:2000], self.min_letters):
            return LanguageGuess(UNDETERMINED, 0.0)
        # The first thousand characters decide: this keeps the cost per document flat.
        sample = text[:SAMPLE]
        codes = self._script_languages(sample)
        if codes is not None:
            decided = self._own_letters_decide(sample, codes) or self._probe(sample, codes)
            if decided is not None:
                return LanguageGuess(decided, 1.0)
        else:
            codes = tuple(self._lingua)
        values = self._detector(codes).compute_language_confidence_values(sample)
        ranked = [(self._codes[v.language], v.value) for v in values if v.language in self._codes]
        if not ranked:
            return LanguageGuess(UNDETERMINED, 0.0)
        best, confidence = ranked[0]
        if len(ranked) > 1 and {best, ranked[1][0]} == {"ru", "uk"}:
            # The text is Cyrillic, so it is Russian or Ukrainian: never `und`. Letters
            # that only one of the two writes overrule lingua's (often close) call.
            pair_confidence = round(ranked[0][1] + ranked[1][1], 4)
            other = ranked[1][0]
            if self._has_own_letters(sample, other) and not self._has_own_letters(sample, best):
                return LanguageGuess(other, pair_confidence)
            if self._has_own_letters(sample, best):
                return LanguageGuess(best, pair_confidence)
            return LanguageGuess(best, round(confidence, 4))
        if confidence < self.min_confidence:
            return LanguageGuess(UNDETERMINED, round(confidence, 4))
        return LanguageGuess(best, round(confidence, 4))

    def _script_languages(self, sample: str) -> tuple[str, ...] | None:
        """The languages of the script that clearly leads in ``sample``, or None (mixed,
        or a script of one language)."""
        written = [script for script, chars in _CHARS.items() if chars.search(sample)]
        if len(written) == 1:  # one script only: whether one of its words is there
            counts = {written[0]: int(_WORDS[written[0]].search(sample) is not None)}
        else:
            counts = {script: len(_WORDS[script].findall(sample)) for script in written}
        for script, codes in self._scripts.items():
            others = sum(n for s, n in counts.items() if s != script)
            if counts.get(script, 0) > LEAD * others:
                return codes
        return None

    def _probe(self, sample: str, codes: tuple[str, ...]) -> str | None:
        """The language of a long sample when lingua is sure of it, and the same, on its
        first PROBE characters and on its last (a text that changes language on the way
        is read whole). Not between Russian and Ukrainian: there the letters count."""
        if len(sample) <= 3 * PROBE or set(codes) == {"ru", "uk"}:
            return None
        detector = self._detector(codes)
        found = None
        for probe in (sample[:PROBE], sample[-PROBE:]):
            values = detector.compute_language_confidence_values(probe)
            if not values or values[0].value < SURE or values[0].language not in self._codes:
                return None
            if found not in (None, values[0].language):
                return None
            found = values[0].language
        return self._codes[found] if found is not None else None

    def _own_letters_decide(self, sample: str, codes: tuple[str, ...]) -> str | None:
        """Between two languages of one script that each have letters of their own
        (Russian ы э ъ ё, Ukrainian і ї є ґ): the one whose letters alone appear."""
        if set(codes) != {"ru", "uk"}:
            return None
        present = [c for c in codes if self._has_own_letters(sample, c)]
        return present[0] if len(present) == 1 else None

    def _has_own_letters(self, text: str, code: str) -> bool:
        own = self._letters.get(code)
        return own is not None and not own.isdisjoint(text)


def _has_letters(text: str, wanted: int) -> bool:
    found = 0
    for ch in text:
        if ch.isalpha():
            found += 1
            if found >= wanted:
                return True
    return False
