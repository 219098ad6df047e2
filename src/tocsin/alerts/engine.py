"""Alert rules and grouping: from snapshots of a watch to alerts, in time order.

After every moment at which new evidence arrives, the watch's bucket is scored as it
stood then and each rule of the watch is checked:

  index        the index reaches the rule's level
  spike        an indicator's anomaly against its baseline >= min_anomaly, with a value
               >= min_value from >= min_origins independent origins, above its usual
               range
  confirmed    an indicator of severity >= min_severity asserted or reported by
               >= min_origins independent origins graded max_grade or better, within
               the credibility window, and above its usual range
  convergence  >= min_categories categories above their baselines in the same bucket

Only evidence of a category that raises the index (a positive pull) can make a rule
fire, so an alert always rests on something the index counts.

Levels (one definition, see the README, "Levels"): an alert's ``index`` is the peak of
its development (the highest index at a moment a rule fired for it, ``index_at``), its
``level`` is what the watch's levels say of that index (None below ``watch``), and
``peak`` is the snapshot that explains it. The level the rules that fired ask for (each
rule's ``level:``; the index's own level for an ``index`` rule) is kept apart as
``rule_level``: a confirmed severe indicator may ring while the index is still low, and
says so instead of borrowing a level the index does not have.

Cold start: while the store has less history than the watch's ``min_history``, only
``confirmed`` (which needs corroboration, not a baseline) can ring.

Grouping: rules that fire within ``cooldown_hours`` of the last activity of an open
alert of the watch that shares one of their categories (and is not older than
``max_alert_days``) update that alert (evidence grows, level may rise); otherwise they
raise a new alert. Parallel developments (a doctrine change, a missile strike) keep
their own alerts; a development that never calms down is cut into ``max_alert_days``
pieces. An update is an event (sent to channels) only when it changes
something an analyst acts on: a higher level or rule level, a new category, a new rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from tocsin.scoring.index import Scorer, Snapshot
from tocsin.scoring.items import Item
from tocsin.scoring.watch import Rule, Watch, level_rank


@dataclass(frozen=True)
class Firing:
    rule: str
    kind: str
    level: str  # the level the rule asks for
    reason: str
    indicators: tuple[str, ...]
    categories: tuple[str, ...]
    evidence: tuple[int, ...]


@dataclass
class Event:
    """A moment that changed the alert: ``index`` is the index at that moment and
    ``level`` its level; ``rule_level`` what the rules firing then asked for."""

    at: datetime
    kind: str  # raised | updated
    level: str | None
    index: float
    rules: list[str]
    categories: list[str]
    reasons: list[str]
    snapshot: dict[str, Any]
    rule_level: str = "watch"


@dataclass
class Draft:
    """An alert as the engine builds it (stored or printed by the caller).

    ``index`` is the peak of the development, at ``index_at``, explained by ``peak``;
    ``level`` is the watch's level for that index (None below ``watch``); ``rule_level``
    the highest level the rules that fired asked for."""

    watch: str
    first_at: datetime
    last_at: datetime
    level: str | None
    index: float
    rule_level: str = "watch"
    index_at: datetime | None = None
    peak: dict[str, Any] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    evidence: set[int] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [r for e in self.events for r in e.reasons]

    def to_json(self) -> dict[str, Any]:
        """The replay contract (one object per alert)."""
        return {
            "at": self.first_at.isoformat(), "updated_at": self.last_at.isoformat(),
            "watch": self.watch, "level": self.level, "index": shown_index(self.index),
            "index_at": (self.index_at or self.first_at).isoformat(),
            "rule_level": self.rule_level,
            "categories": self.categories, "indicators": self.indicators,
            "rules": self.rules, "evidence": sorted(self.evidence), "reasons": self.reasons,
            "events": [{"at": e.at.isoformat(), "kind": e.kind, "level": e.level,
                        "index": shown_index(e.index), "rule_level": e.rule_level,
                        "rules": e.rules, "categories": e.categories} for e in self.events],
        }


def shown_index(index: float) -> float:
    """The index as JSON carries it: one decimal, and never 0.0 when it is above 0 (an
    alert with evidence behind it never reads "index 0")."""
    value = round(index, 1)
    return 0.1 if value == 0 and index > 0 else value


def _add(target: list[str], values: Iterable[str]) -> bool:
    grew = False
    for v in values:
        if v not in target:
            target.append(v)
            grew = True
    return grew


def check(watch: Watch, snap: Snapshot) -> list[Firing]:
    """The rules of ``watch`` that fire on ``snap``."""
    out: list[Firing] = []
    for rule in watch.rules:
        out.extend(_check(rule, snap))
    return out


def _check(rule: Rule, snap: Snapshot) -> list[Firing]:
    if snap.index < rule.min_index:
        return []
    if snap.cold and rule.kind != "confirmed":
        return []  # baselines still warming up: only corroboration can ring
    # only evidence the index counts upwards can ring (not a weight-0 or `against`
    # category): an alert never rests on something that leaves the index at 0
    scores = [s for s in snap.indicators if rule.applies(s.category)
              and snap.pulls.get(s.category, 0) > 0]
    if rule.kind == "index":
        if snap.level is None or level_rank(snap.level) < level_rank(rule.level):
            return []
        moving = [c for c in snap.moving if rule.applies(c)]
        driving = [s for s in scores if s.excess > 0]
        return [Firing(rule.id, rule.kind, snap.level,
                       f"index {snap.index:.0f} reached {snap.level} "
                       f"({', '.join(snap.moving)})",
                       tuple(s.indicator for s in driving), tuple(moving),
                       tuple(e for s in driving for e in s.evidence))]
    if rule.kind == "spike":
        return [Firing(rule.id, rule.kind, rule.level,
                       f"{s.indicator} {s.value:.2f} vs baseline {s.median:.2f} "
                       f"(anomaly {s.anomaly:.1f}, {s.firm_origins} independent origins)",
                       (s.indicator,), (s.category,), tuple(s.evidence))
                for s in scores
                if s.anomaly >= rule.min_anomaly and s.value >= rule.min_value
                and s.firm_origins >= rule.min_origins and s.excess > 0]
    if rule.kind == "confirmed":
        out = []
        for s in scores:
            if s.severity < rule.min_severity or s.excess <= 0:
                continue  # not severe enough, or no more than usual
            good = sorted(o for o, g in s.firm.items() if g <= rule.max_grade)
            if len(good) >= rule.min_origins:
                out.append(Firing(rule.id, rule.kind, rule.level,
                                  f"{s.indicator} (severity {s.severity}) confirmed by "
                                  f"{len(good)} independent origins graded "
                                  f"{rule.max_grade} or better",
                                  (s.indicator,), (s.category,), tuple(s.evidence)))
        return out
    # convergence
    moving = [c for c in snap.moving if rule.applies(c)]
    if len(moving) < rule.min_categories:
        return []
    driving = [s for s in scores if s.excess > 0]
    return [Firing(rule.id, rule.kind, rule.level,
                   f"{len(moving)} categories above baseline together: {', '.join(moving)}",
                   tuple(s.indicator for s in driving), tuple(moving),
                   tuple(e for s in driving for e in s.evidence))]


class Alerter:
    """Turns a time-ordered flow of items into alerts for one watch."""

    def __init__(self, watch: Watch, history_start: datetime | None = None) -> None:
        self.watch = watch
        self.scorer = Scorer(watch, history_start=history_start)
        self.cooldown = timedelta(hours=watch.cooldown_hours)
        self.span = timedelta(days=watch.max_alert_days)
        self.alerts: list[Draft] = []

    def feed(self, items: Iterable[Item], evaluate_from: datetime | None = None) -> None:
        """Add items; after each moment with new items (at or after ``evaluate_from``),
        check the rules. Items of one moment are added together, so their order within
        that moment does not matter."""
        for at, group in groupby(items, key=lambda i: i.time):
            for item in group:
                self.scorer.add(item)
            if evaluate_from is None or at >= evaluate_from:
                self.step(at)

    def development(self, at: datetime, categories: list[str]) -> Draft | None:
        """The open alert these firings continue: active within the cooldown, not older
        than ``max_alert_days``, sharing a category; the most recent such one."""
        for alert in reversed(self.alerts):
            if at - alert.last_at > self.cooldown or at - alert.first_at > self.span:
                continue
            if set(alert.categories) & set(categories):
                return alert
        return None

    def step(self, at: datetime) -> None:
        snap = self.scorer.snapshot(at)
        firings = check(self.watch, snap)
        if not firings:
            return
        rule_level = max((f.level for f in firings), key=level_rank)
        rules = sorted({f.rule for f in firings})
        categories = sorted({c for f in firings for c in f.categories})
        indicators = sorted({i for f in firings for i in f.indicators})
        evidence = {e for f in firings for e in f.evidence}
        # each reason names its rule and the level that rule asks for
        reasons = [f"{f.rule} ({f.level}): {f.reason}" for f in firings]
        alert = self.development(at, categories)
        if alert is None:
            alert = Draft(self.watch.id, at, at, snap.level, snap.index, rule_level, at,
                          snap.to_json())
            _add(alert.categories, categories)
            _add(alert.indicators, indicators)
            _add(alert.rules, rules)
            alert.evidence.update(evidence)
            alert.events.append(Event(at, "raised", snap.level, snap.index, rules, categories,
                                      reasons, alert.peak, rule_level))
            self.alerts.append(alert)
            return
        alert.last_at = at
        alert.evidence.update(evidence)
        _add(alert.indicators, indicators)
        before = (level_rank(alert.level), level_rank(alert.rule_level))
        if snap.index > alert.index:  # a new peak: its level and its explanation
            alert.index, alert.index_at, alert.peak = snap.index, at, snap.to_json()
            alert.level = self.watch.level_of(alert.index)
        if level_rank(rule_level) > level_rank(alert.rule_level):
            alert.rule_level = rule_level
        higher = (level_rank(alert.level), level_rank(alert.rule_level)) != before
        new_categories = _add(alert.categories, categories)
        new_rules = _add(alert.rules, rules)
        if higher or new_categories or new_rules:
            alert.events.append(Event(at, "updated", snap.level, snap.index, rules,
                                      categories, reasons, snap.to_json(), rule_level))

def run(watch: Watch, items: list[Item], history_start: datetime | None = None,
        evaluate_from: datetime | None = None) -> list[Draft]:
    """All alerts ``items`` raise for ``watch`` (``items`` in time order)."""
    alerter = Alerter(watch, history_start)
    alerter.feed(items, evaluate_from)
    return alerter.alerts
