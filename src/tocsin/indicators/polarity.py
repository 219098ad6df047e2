"""Polarity of a piece of evidence: asserted, denied, hypothetical or reported.

Cues come from the pack, per language (``cues`` in languages/<lang>.yaml). The rule,
in order: a denial cue in the sentence, or a negation close before (or just after) one
of the evidence's matched terms, makes it ``denied``; else a hypothetical cue (or a
question) makes it ``hypothetical``; else a reporting cue ("accused", "якобы") makes it
``reported``; else it is ``asserted``. Negations inside an exception ("not a bluff",
"would not hesitate", "не исключает") do not count: they affirm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Span = tuple[int, int]
NEGATION_BEFORE = 5  # words between a negation and the term it negates
NEGATION_AFTER = 3
# A negation after the term counts only within its clause: "…to Belarus, not far from…"
_CLAUSE_BREAK = re.compile(r"[,;:—–(]")


def _words_between(text: str, start: int, end: int) -> int:
    return len(text[start:end].split()) if end > start else 0


def _inside(span: Span, spans: Iterable[Span]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


def _strictly_inside(span: Span, spans: Iterable[Span]) -> bool:
    """Inside a longer exception: "может" in "не может быть победителей"."""
    return any(a <= span[0] and span[1] <= b and (b - a) > (span[1] - span[0])
               for a, b in spans)


def clauses_holding(clauses: Sequence[Span], spans: Iterable[Span]) -> list[Span]:
    """The clauses that hold the start of one of ``spans``."""
    starts = [s for s, _ in spans]
    return [(a, b) for a, b in clauses if any(a <= s < b for s in starts)]


def decide(text: str, sentence: Span, terms: Sequence[Span], cues: dict[str, list[Span]],
           allowed: frozenset[str], clauses: Sequence[Span] = ()) -> str:
    """``cues``: cue kind -> spans in the sentence (document offsets). With ``clauses``,
    a cue governs only the clauses that hold the evidence's terms: "Peskov denied it,
    but Medvedev threatened again" keeps the threat asserted."""
    if len(clauses) > 1:
        held = clauses_holding(clauses, terms)
        cues = {kind: [c for c in spans if any(a <= c[0] < b for a, b in held)]
                for kind, spans in cues.items()}
    exceptions = cues.get("negation_exceptions", [])
    if "denial" in allowed and any(not _inside(c, exceptions) for c in cues.get("denial", [])):
        return "denied"
    if "negation" in allowed:
        for neg in cues.get("negation", []):
            if _inside(neg, exceptions) or text[neg[1]:neg[1] + 1] == "-":
                continue  # an exception, or part of a word ("no-nonsense")
            for term in terms:
                if neg[1] <= term[0] and _words_between(text, neg[1], term[0]) <= NEGATION_BEFORE:
                    return "denied"
                if term[1] <= neg[0] and _words_between(text, term[1], neg[0]) <= NEGATION_AFTER \
                        and not _CLAUSE_BREAK.search(text, term[1], neg[0]):
                    return "denied"
    if "hypothetical" in allowed:
        hypothetical = [c for c in cues.get("hypothetical", [])
                        if not _strictly_inside(c, exceptions)]
        if hypothetical or text[sentence[0]:sentence[1]].rstrip(" »\"'").endswith("?"):
            return "hypothetical"
    if "reported" in allowed and cues.get("reported"):
        return "reported"
    return "asserted"
