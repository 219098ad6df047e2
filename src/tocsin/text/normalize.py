"""Text normalisation that never shifts meaning.

The result is what tocsin stores and what every evidence offset points into, so it must
be stable: normalising twice gives the same text (tested with Hypothesis).
"""

from __future__ import annotations

import re
import unicodedata

import regex

# Apostrophes: Ukrainian writes the same letter-apostrophe as ' ’ or ʼ (U+02BC); English
# and French use ’ for elision. One form makes "кур'єр" and "l'arme" match one pattern.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "\u201b": "'",
                              "\u2032": "'", "\uff07": "'"})
# Typographic double quotes become ". Guillemets « » and „ are kept: they are the normal
# quotes of French, Russian and Ukrainian and later stages read them.
_DOUBLE_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201f": '"', "\u2033": '"',
                                "\uff02": '"'})
_UNIFIED = tuple((chr(code), plain) for table in (_APOSTROPHES, _DOUBLE_QUOTES)
                 for code, plain in table.items())
# Control, format, surrogate and line/paragraph-separator characters, except newline,
# tab and the zero-width (non-)joiners, which change rendering in some scripts.
# Noncharacters (U+FFFE, U+FFFF, U+FDD0..) go too: XML forbids some, and no text needs them.
_CONTROLS = regex.compile(r"(?V1)[[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Noncharacter_Code_Point}]"
                          r"--[\n\t\u200c\u200d]]")
# Terminal escape sequences go whole (CSI such as ESC[2J, OSC such as hyperlinks and window
# titles), so none of their text is left behind once the control characters go.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x9b[0-?]*[ -/]*[@-~]")
# Emoji, pictographs, arrows and dingbats: what Telegram posts use as bullets and
# decoration (the matcher reads past them; the sentence splitter starts items at them).
EMOJI = ("\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff"
         "\U0001f000-\U0001faff")
# These separate words or lines; dropping them would glue two words together.
_BREAKS = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029")
# Each pattern matches only what changes (a lone space or newline is left alone, not
# replaced by itself): a run of white space other than newlines becomes one space...
_SPACES = re.compile(r"[^\S\n ][^\S\n]*| [^\S\n]+")
# ... a space next to a newline goes...
_SPACE_AROUND_NEWLINE = re.compile(r" \n ?|\n ")
# ... and more than one empty line is one.
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _control(match: regex.Match[str]) -> str:
    return "\n" if match.group() in _BREAKS else ""


def normalize(text: str) -> str:
    """NFC, unified quotes and apostrophes, no control characters (terminal escape
    sequences go whole), tidy white space.

    Paragraph breaks survive as one empty line; runs of spaces and tabs become one space.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text or "\x9b" in text:
        text = _ESCAPES.sub("", text)
    # Every character _CONTROLS removes is one that str.isprintable() refuses (so are
    # newline, tab and the non-breaking spaces, which it keeps): a text printable but for
    # those skips the scan.
    if not text.replace("\n", " ").replace("\t", " ").replace("\xa0", " ").isprintable():
        text = _CONTROLS.sub(_control, text)
    text = unicodedata.normalize("NFC", text)
    if not text.isascii():  # every mark unified here is outside ASCII
        # str.replace scans in C per mark, much faster than translate's lookup per
        # character; each mark becomes an ASCII one, never another mark of the list
        for mark, plain in _UNIFIED:
            if mark in text:
                text = text.replace(mark, plain)
    text = _SPACES.sub(" ", text)
    if "\n" in text:
        text = _SPACE_AROUND_NEWLINE.sub("\n", text)
        if "\n\n\n" in text:
            text = _MANY_NEWLINES.sub("\n\n", text)
    text = text.strip()
    # NFC after the edits too: removing a control can bring a base letter next to a
    # combining mark that now composes.
    return unicodedata.normalize("NFC", text)
