"""Language identification with lingua, restricted to the languages tocsin supports.

Returns an ISO 639-1 code, or ``und`` when the text is too short or lingua is not sure.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

UNDETERMINED = "und"


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str
    confidence: float


def _language_table() -> dict[str, dict[str, Any]]:
    raw = resources.files("tocsin.text").joinpath("data/languages.yaml").read_text("utf-8")
    table: dict[str, dict[str, Any]] = yaml.safe_load(raw)["languages"]
    return table


class LanguageIdentifier:
    """Built once per pipeline (loading lingua's models takes ~0.7 s and ~240 MB)."""

    def __init__(
        self,
        languages: tuple[str, ...] = ("en", "fr", "ru", "uk"),
        min_letters: int = 4,
        min_confidence: float = 0.5,
    ) -> None:
        from lingua import Language, LanguageDetectorBuilder

        table = _language_table()
        unknown = [code for code in languages if code not in table]
        if unknown:
            raise ValueError(f"no language data for {unknown}")
        self._codes = {getattr(Language, table[c]["lingua"]): c for c in languages}
        self.supported = frozenset(languages)
        self._letters = {c: set(table[c].get("letters", "")) for c in languages}
        self.min_letters = min_letters
        self.min_confidence = min_confidence
        builder = LanguageDetectorBuilder.from_languages(*self._codes)
        self._detector = builder.with_preloaded_language_models().build()

    def identify(self, text: str) -> LanguageGuess:
        if not _has_letters(text[:2000], self.min_letters):
            return LanguageGuess(UNDETERMINED, 0.0)
        # A news text is decided by its first thousand characters or so (lingua is sure
        # well before that); this keeps the cost per document flat.
        sample = text[:1200]
        values = self._detector.compute_language_confidence_values(sample)
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

    def _has_own_letters(self, text: str, code: str) -> bool:
        own = self._letters.get(code, set())
        return any(ch in own for ch in text)


def _has_letters(text: str, wanted: int) -> bool:
    found = 0
    for ch in text:
        if ch.isalpha():
            found += 1
            if found >= wanted:
                return True
    return False
