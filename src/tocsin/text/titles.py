"""Titles: a document's headline is text too, scanned beside its body."""

from __future__ import annotations

import re

_NOT_WORDS = re.compile(r"[\W_]+")


def _words(text: str) -> str:
    return _NOT_WORDS.sub(" ", text.casefold()).strip()


def title_repeated(title: str, text: str) -> bool:
    """Feeds and channels often repeat the headline as the first line of the text (with
    or without its emoji and markup): such a title is read once, in the text."""
    key = _words(title)
    return bool(key) and key in _words(text[:len(title) * 3 + 200])
