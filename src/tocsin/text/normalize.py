"""Text normalisation that never shifts meaning.

The result is what tocsin stores and what every evidence offset points into, so it must
be stable: normalising twice gives the same text (tested with Hypothesis).
"""

from __future__ import annotations

import re
import unicodedata

# Apostrophes: Ukrainian writes the same letter-apostrophe as ' ’ or ʼ (U+02BC); English
# and French use ’ for elision. One form makes "кур'єр" and "l'arme" match one pattern.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "\u201b": "'",
                              "\u2032": "'", "\uff07": "'"})
# Typographic double quotes become ". Guillemets « » and „ are kept: they are the normal
# quotes of French, Russian and Ukrainian and later stages read them.
_DOUBLE_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201f": '"', "\u2033": '"',
                                "\uff02": '"'})
# Zero-width joiners change rendering in some scripts: keep them, drop other format chars.
_KEEP_FORMAT = {"\u200c", "\u200d"}
_SPACES = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r" ?\n ?")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _drop_controls(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" or (cat == "Cf" and ch not in _KEEP_FORMAT) or cat == "Cs":
            # A control between two words (e.g. a vertical tab) separates them.
            if ch in "\x0b\x0c\x1c\x1d\x1e\x1f\x85":
                out.append("\n")
            continue
        if cat in ("Zl", "Zp"):
            out.append("\n")
            continue
        out.append(ch)
    return "".join(out)


def normalize(text: str) -> str:
    """NFC, unified quotes and apostrophes, no control characters, tidy white space.

    Paragraph breaks survive as one empty line; runs of spaces and tabs become one space.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _drop_controls(text)
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_APOSTROPHES).translate(_DOUBLE_QUOTES)
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    text = text.strip()
    # NFC after the edits too: removing a control can bring a base letter next to a
    # combining mark that now composes.
    return unicodedata.normalize("NFC", text)
