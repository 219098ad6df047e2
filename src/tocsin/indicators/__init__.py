"""Indicator packs: schema and loader, compiler, matcher, polarity."""

CATEGORIES = (
    "rhetoric", "doctrine", "readiness", "exercise", "deployment", "test", "arms-control",
    "use", "nuclear-safety", "civil-defence", "de-escalation", "context",
)
# `context`: the war around a watch (routine conventional strikes by dual-capable
# systems), kept as evidence for a separate series but never a nuclear warning sign; its
# indicators need no anchor.
CONTEXT_CATEGORIES = frozenset({"context"})
