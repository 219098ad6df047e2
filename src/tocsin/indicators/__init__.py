"""Indicator packs: schema and loader, compiler, matcher, polarity."""

CATEGORIES = (
    "rhetoric", "doctrine", "readiness", "exercise", "deployment", "test", "arms-control",
    "use", "nuclear-safety", "civil-defence", "de-escalation",
)
