"""Sentence splitting for the supported languages.

sentencex (Wikimedia's segmenter) does the splitting; it is fast (~18 M chars/s) but
breaks after initials ("В. В. Путин"), month abbreviations ("1 янв. 2023 г.") and
titles ("M. Macron"). A repair pass joins those back, using one abbreviation list per
language (``data/abbreviations/<lang>.txt``).
"""

from __future__ import annotations

import re
from importlib import resources

from sentencex import segment

from tocsin.text.normalize import EMOJI

Span = tuple[int, int]

# An initial: one capital letter and a full stop ("В. В. Путин", "J. Biden").
_INITIAL = re.compile(r"(?:^|[\s(«\"])[A-ZА-ЯЁІЇЄҐ]\.$")


class SentenceSplitter:
    """Splits normalised text into sentence spans (character offsets into the text)."""

    def __init__(self) -> None:
        self._abbreviations: dict[str, frozenset[str]] = {}
        self._spaced: dict[str, tuple[str, ...]] = {}

    def abbreviations(self, language: str) -> frozenset[str]:
        if language not in self._abbreviations:
            path = resources.files("tocsin.text").joinpath(f"data/abbreviations/{language}.txt")
            words: set[str] = set()
            if path.is_file():
                for line in path.read_text("utf-8").splitlines():
                    line = line.strip()
                    if line and not line.startswith("#"):
                        words.add(line.lower())
            self._abbreviations[language] = frozenset(words)
            # Multi-part ones ("т.е.") are also written with spaces ("т. е.").
            self._spaced[language] = tuple(w for w in words if "." in w[:-1])
        return self._abbreviations[language]

    def split(self, text: str, language: str) -> list[Span]:
        if not text.strip():
            return []
        lang = language if language != "und" else "en"
        spans: list[Span] = []
        for paragraph_start, paragraph in _paragraphs(text):
            spans.extend(self._split_paragraph(paragraph, paragraph_start, lang))
        return spans

    def _split_paragraph(self, paragraph: str, offset: int, language: str) -> list[Span]:
        abbreviations = self.abbreviations(language)
        spaced = self._spaced[language]
        pieces: list[Span] = []
        cursor = 0
        for piece in segment(language, paragraph):
            # sentencex returns the pieces in order and keeps all characters; locate
            # each piece instead of trusting lengths, so offsets stay exact.
            start = paragraph.find(piece.strip(), cursor) if piece.strip() else -1
            if start < 0:
                continue
            end = start + len(piece.strip())
            cursor = end
            if pieces and self._joins(paragraph[pieces[-1][0]:pieces[-1][1]],
                                      paragraph[start:end], abbreviations, spaced):
                pieces[-1] = (pieces[-1][0], end)
            else:
                pieces.append((start, end))
        return [(offset + s, offset + e) for s, e in pieces]

    @staticmethod
    def _joins(previous: str, following: str, abbreviations: frozenset[str],
               spaced: tuple[str, ...]) -> bool:
        if not previous.endswith("."):
            return False
        if _starts_lowercase(following):
            return True
        if _INITIAL.search(previous[-3:]):
            return True
        token = previous.rsplit(None, 1)[-1].lstrip("«\"(").lower()
        if token in abbreviations:
            return True
        return previous[-8:].replace(" ", "").lower().endswith(spaced) if spaced else False


# A line that opens a new item even without a blank line before it: a list bullet, a
# numbered item, a hashtag line, a bold heading, or an emoji (Telegram posts are lists of
# "⚡️ X said Y" lines with no final stops). Other single line breaks are hard wraps.
_ITEM = rf"(?:[-*•▪►▶➤→–—]\s|\d{{1,2}}[.)]\s|#|\*\*|[{EMOJI}])"
_PARAGRAPH = re.compile(rf"[^\n]+(?:\n(?!\n|[ \t]*{_ITEM})[^\n]+)*")


def _paragraphs(text: str) -> list[tuple[int, str]]:
    """Sentences never cross a blank line (headlines, list items, paragraphs) nor the
    start of a list item or an emoji-led line."""
    return [(match.start(), match.group(0)) for match in _PARAGRAPH.finditer(text)]


def _starts_lowercase(piece: str) -> bool:
    """A piece whose first letter is lowercase continues the sentence before it."""
    for ch in piece[:8]:
        if ch.isalpha():
            return ch.islower()
        if ch.isdigit():
            return False
    return False
