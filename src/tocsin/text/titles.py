"""Titles: a document's headline is text too, scanned beside its body."""

from __future__ import annotations


def title_repeated(title: str, text: str) -> bool:
    """Feeds and channels often repeat the headline as the first line of the text: such a
    title is read once, in the text."""
    key = " ".join(title.split()).casefold().rstrip(".!?…")
    return bool(key) and key in " ".join(text[:len(title) * 3 + 200].split()).casefold()
