"""Surface forms of a term, generated once when a pack is compiled.

Russian and Ukrainian inflect: "ядерное оружие" is also "ядерного оружия", "ядерным
оружием"... pymorphy3 (with its ru and uk dictionaries) generates the forms. In a
phrase, the words in the nominative agree and are inflected together; the others
(genitive dependents such as "массового поражения") stay as written. English and
French get plurals; French elision ("l'arme") needs nothing, since an apostrophe is a
word boundary for the matcher.

Term syntax in packs: ``=form`` is taken exactly as written (no variants);
``prefix*`` matches any word that starts with ``prefix``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from tocsin.text.normalize import EMOJI

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
NUMBERS = ("sing", "plur")
EXACT = "="
PREFIX = "*"


def match_key(text: str) -> str:
    """The form both patterns and texts are compared in: lowercase, ё as е."""
    lowered = text.lower()
    if len(lowered) != len(text):  # e.g. "İ" lowers to two characters: keep offsets
        lowered = "".join((ch.lower() or ch)[0] for ch in text)
    return lowered.replace("ё", "е")


# What the matcher reads past: markup (Markdown and Telegram emphasis, link targets, bare
# addresses, escapes), quotation marks inside a phrase ("ядерный «зонтик»"), emoji,
# symbols, list bullets, hashtag signs and line breaks (hard-wrapped text). A run of
# them is one space in the key; a KeyMap maps key offsets back to the text, so offsets
# still point into the stored text.
_CHARS = ("*_~`|\\\\\\[\\]\"«»„‹›•·▪▫◦‣►▶➤→#"          # emphasis, escapes, quotes, bullets
          # emoji and their joiners and variation selectors, symbols, private use
          f"{EMOJI}\ufe00-\ufe0f\u200d\u20e3\u00a9\u00ae\u2122\ue000-\uf8ff")
_LINK = r"\]\((?:[^()\s]|\([^()\s]*\))*\)"  # a Markdown link's target
_ADDRESS = r"(?:https?://|www\.|t\.me/)\S+"  # a bare address
_ADDRESSES = re.compile(rf"{_LINK}|{_ADDRESS}")
# Each markup character, emoji or non-space white space becomes one space (same length);
# then only runs of spaces are collapsed, which is where offsets need the map.
_ONE = re.compile(rf"[{_CHARS}\t\n\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]")
_SPACES = re.compile(r"  +")


def _blank(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


class KeyMap:
    """Key offsets back to text offsets: the key drops characters only where runs of
    spaces were collapsed, so a few breakpoints say how far each stretch is shifted."""

    __slots__ = ("breaks", "shifts")

    def __init__(self) -> None:
        self.breaks = [0]  # key offsets where the shift changes
        self.shifts = [0]  # characters dropped before that key offset

    def __call__(self, index: int) -> int:
        if len(self.breaks) == 1:
            return index
        return index + self.shifts[bisect_right(self.breaks, index) - 1]


def compact_key(text: str) -> tuple[str, KeyMap]:
    """The match key of ``text`` with markup and quotes read past, and the map from key
    offsets to offsets in ``text``."""
    lowered = match_key(text)
    if "](" in lowered or "http" in lowered or "www." in lowered or "t.me/" in lowered:
        lowered = _ADDRESSES.sub(_blank, lowered)
    lowered = _ONE.sub(" ", lowered)
    mapping = KeyMap()
    parts: list[str] = []
    last = dropped = 0
    for run in _SPACES.finditer(lowered):
        start, end = run.span()
        parts.append(lowered[last:start + 1])  # one space of the run stays
        dropped += end - start - 1
        mapping.breaks.append(end - dropped)
        mapping.shifts.append(dropped)
        last = end
    if not parts:
        return lowered, mapping
    parts.append(lowered[last:])
    return "".join(parts), mapping


class FormGenerator:
    """Inflected and variant forms per language. pymorphy3 is loaded only when needed."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, bool, bool], frozenset[str]] = {}

    @cached_property
    def _morph(self) -> dict[str, Any]:
        import pymorphy3

        return {"ru": pymorphy3.MorphAnalyzer(lang="ru"),
                "uk": pymorphy3.MorphAnalyzer(lang="uk")}

    def forms(self, term: str, language: str, name: bool = False,
              plural: bool = False) -> frozenset[str]:
        """All surface forms (in match_key form) of ``term``; prefix terms keep their '*'.

        ``name``: a proper name, whose words all inflect ("Владимира Путина").
        """
        key = (term, language, name, plural)
        if key not in self._cache:
            forms = set(self._generate(term.strip(), language, name))
            if plural and language in ("ru", "uk"):
                forms |= _plural_fallback(match_key(term.strip()), language, forms)
            self._cache[key] = frozenset(forms)
        return self._cache[key]

    def _generate(self, term: str, language: str, name: bool) -> Iterable[str]:
        if term.startswith(EXACT):
            return {match_key(term[1:])}
        if term.endswith(PREFIX):
            return {match_key(term)}
        base = match_key(term)
        if language in ("ru", "uk"):
            return {base} | self._slavic(base, language, name)
        if name:  # English and French names do not inflect
            return {base}
        if language == "en":
            return {base} | _english_plurals(base)
        if language == "fr":
            return {base} | _french_plurals(base)
        return {base}

    def _slavic(self, phrase: str, language: str, name: bool = False) -> set[str]:
        morph = self._morph[language]
        words = phrase.split(" ")
        if len(words) == 1:
            return _lexeme(morph, phrase, name)
        # A noun phrase inflects up to its head noun ("особый режим" in "особый режим
        # несения боевого дежурства"); what follows the head (genitive dependents) stays.
        parses: list[Any] = []
        for word in words:
            head_part = word.split("-")[0]
            candidates = [p for p in morph.parse(head_part)
                          if "nomn" in p.tag and p.tag.POS in ("NOUN", "ADJF", "PRTF", "NUMR")]
            nouns = [p for p in candidates if p.tag.POS == "NOUN"]
            parses.append((nouns or candidates or [None])[0] if _is_word(word) else None)
            # A name ("Владимир Путин", "Калининградская область") inflects in every
            # word; a term stops at its head noun.
            if nouns and not name:
                break
        if not name and (parses[-1] is None or parses[-1].tag.POS != "NOUN"):
            return set()
        if not any(parses):
            return set()
        out: set[str] = set()
        for case in CASES:
            for number in NUMBERS:
                forms = []
                for word, parse in zip(words, parses, strict=False):
                    if parse is None:
                        forms.append(word)
                        continue
                    _, sep, tail = word.partition("-")
                    inflected = _inflect(parse, case, number)
                    if inflected is None:
                        break
                    forms.append(inflected.word + sep + tail)
                else:
                    forms.extend(words[len(parses):])
                    out.add(match_key(" ".join(forms)))
        return out


_PLURAL_ENDINGS = {
    # nominative plural after a hard consonant / after к г х ж ш ч щ, then gen dat ins loc
    "ru": (("ы", "и"), ("ов", "ам", "ами", "ах")),
    "uk": (("и", "и"), ("ів", "ам", "ами", "ах")),
}


def _plural_fallback(word: str, language: str, known: set[str]) -> set[str]:
    """Plurals of a one-word masculine name the dictionary knows only as a surname
    ("Іскандер" -> "Іскандери"): weapon systems are written in the plural all the time."""
    head, sep, tail = word.partition("-")
    if " " in word or not head.isalpha() or head[-1] in "аяоеєиыіїуюьй":
        return set()
    if any(f.partition("-")[0] in (head + "ы", head + "и") for f in known):
        return set()
    (hard, soft), oblique = _PLURAL_ENDINGS[language]
    nominative = head + (soft if head[-1] in "кгхжшчщ" else hard)
    return {f + sep + tail for f in (nominative, *(head + e for e in oblique))}


def _inflect(parse: Any, case: str, number: str) -> Any:
    inflected = parse.inflect({case, number})
    if inflected is None and number == "sing":
        # The Ukrainian dictionary leaves singular unmarked on some words.
        inflected = parse.inflect({case})
        if inflected is not None and "plur" in inflected.tag:
            return None
    return inflected


def _is_word(word: str) -> bool:
    return any(ch.isalpha() for ch in word)


def _lexeme(morph: Any, word: str, name: bool = False) -> set[str]:
    """Every form of every reading of a single word ("Искандер-М": of "Искандер").

    A name is inflected only through readings that have it as their nominative, so
    "Киев" does not bring the forms of "кий", nor "Байден" those of a verb.
    """
    head, sep, tail = word.partition("-")
    if not head.isalpha():
        return set()
    parses = morph.parse(head)
    if name:
        parses = [p for p in parses if p.tag.POS == "NOUN" and "nomn" in p.tag
                  and match_key(p.normal_form) == head]
    out: set[str] = set()
    for parse in parses:
        if parse.score < 0.01 and out:
            continue
        for form in parse.lexeme:
            out.add(match_key(form.word) + sep + tail)
    return out


def _english_plurals(phrase: str) -> set[str]:
    head, _, last = phrase.rpartition(" ")
    prefix = f"{head} " if head else ""
    if not last.isalpha():
        return set()
    if last.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    elif last.endswith("y") and len(last) > 2 and last[-2] not in "aeiou":
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return {prefix + plural}


def _french_plurals(phrase: str) -> set[str]:
    """Plural of every word of a noun phrase ("arme nucléaire" -> "armes nucléaires")."""
    words = phrase.split(" ")
    plural = []
    for word in words:
        if not word.isalpha() or word in _FRENCH_INVARIABLE:
            plural.append(word)
        elif word.endswith(("s", "x", "z")):
            plural.append(word)
        elif word.endswith("al") and len(word) > 3:
            plural.append(word[:-2] + "aux")
        elif word.endswith(("eau", "eu")):
            plural.append(word + "x")
        else:
            plural.append(word + "s")
    return {" ".join(plural)}


# Words that never take a plural mark inside a noun phrase.
_FRENCH_INVARIABLE = frozenset(
    "de des du la le les l d à au aux en et ou sur sous par pour avec sans contre entre".split()
)
