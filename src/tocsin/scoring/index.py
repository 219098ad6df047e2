"""Scores: per watch x indicator x bucket, then the watch's escalation index 0-100.

Items (pieces of evidence) are fed in time order; ``snapshot(at)`` scores the bucket
that holds ``at`` using only what was visible at ``at``. So the same code scores a live
flow and replays an archive as if live.

For one indicator in one bucket:

  value     = sum over independent origins of (the best weight that origin gave) x the
              credibility factor of the indicator (its corroboration within the
              credibility window, Admiralty 1-6, as known at ``at``).
              weight = reliability(grade) x severity factor x polarity factor x the
              indicator's multiplier. Echoes of one report share their origin: they
              count once.
  baseline  = median and MAD of the indicator's values over the previous ``days``
              buckets (empty buckets are 0). With less store history than
              ``min_history`` the baseline is the prior: median 0.
  anomaly   = (value - median) / max(1.4826 MAD, floor)   (a robust z-score)
  ratio     = value / max(mean of the previous buckets, floor)   (EMM: now vs. last N)
  excess    = max(0, value - median)

A category pulls the index by  weight x (1 - exp(-sum of its excesses / category_scale)),
which never exceeds its weight (Grabo: one noisy category cannot top the index); a
category marked ``against`` (de-escalation) pulls it down. Then

  index = 100 x (1 - exp(-max(0, sum of pulls) / scale)).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.scoring.credibility import MEANINGS, rate
from tocsin.scoring.items import Item
from tocsin.scoring.watch import Watch

FIRM = ("asserted", "reported")


def bucket_start(at: datetime, size: str) -> datetime:
    at = at.astimezone(UTC)
    if size == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def bucket_step(size: str) -> timedelta:
    return timedelta(hours=1) if size == "hour" else timedelta(days=1)


@dataclass
class Origin:
    """One independent origin's contribution to an indicator in a bucket."""

    key: str
    weight: float
    grade: str
    polarity: str
    sources: set[str] = field(default_factory=set)
    evidence: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class IndicatorScore:
    indicator: str
    category: str
    severity: int
    value: float
    origins: tuple[Origin, ...]
    credibility: int
    median: float
    spread: float
    anomaly: float
    ratio: float
    excess: float
    cold: bool  # the baseline is still the prior (not enough history)
    contested: int = 0  # origins that also deny the indicator in this bucket

    @property
    def firm_origins(self) -> int:
        return len(self.origins) - self.contested

    @property
    def evidence(self) -> list[int]:
        return sorted(e for o in self.origins for e in o.evidence)

    def to_json(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator, "category": self.category,
            "severity": self.severity, "value": round(self.value, 3),
            "origins": [{"origin": o.key, "grade": o.grade, "polarity": o.polarity,
                         "weight": round(o.weight, 3), "sources": sorted(o.sources),
                         "evidence": sorted(o.evidence)} for o in self.origins],
            "credibility": self.credibility,
            "credibility_meaning": MEANINGS[self.credibility],
            "baseline": {"median": round(self.median, 3), "spread": round(self.spread, 3),
                         "cold_start": self.cold},
            "anomaly": round(self.anomaly, 2), "ratio": round(self.ratio, 2),
            "excess": round(self.excess, 3), "contested_origins": self.contested,
        }


@dataclass(frozen=True)
class Snapshot:
    watch: str
    bucket: str
    start: datetime
    at: datetime
    index: float
    level: str | None
    pulls: dict[str, float]  # category -> signed pull on the index
    indicators: tuple[IndicatorScore, ...]

    @property
    def moving(self) -> list[str]:
        """Categories above their baselines, strongest first."""
        return [c for c, p in sorted(self.pulls.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
                if p > 0]

    @property
    def evidence(self) -> list[int]:
        return sorted({e for s in self.indicators if s.excess > 0 for e in s.evidence})

    def to_json(self) -> dict[str, Any]:
        return {
            "watch": self.watch, "bucket": self.bucket, "start": self.start.isoformat(),
            "at": self.at.isoformat(), "index": round(self.index, 1), "level": self.level,
            "pulls": {k: round(v, 3) for k, v in sorted(self.pulls.items())},
            "indicators": [s.to_json() for s in self.indicators],
        }


class Scorer:
    """Scores one watch. Feed items in time order with ``add``; ask with ``snapshot``."""

    def __init__(self, watch: Watch, bucket: str | None = None,
                 history_start: datetime | None = None) -> None:
        self.watch = watch
        self.size = bucket or watch.baseline.bucket
        self.step = bucket_step(self.size)
        per_day = 24 if self.size == "hour" else 1
        self.window = watch.baseline.days * per_day
        self.min_history = watch.baseline.min_history * per_day
        self.history_start = bucket_start(history_start, self.size) if history_start else None
        self.cred_window = timedelta(days=watch.credibility_window_days)
        # (indicator, bucket start) -> origin key -> Origin
        self.cells: dict[tuple[str, datetime], dict[str, Origin]] = defaultdict(dict)
        # indicator -> time-ordered (time, origin, grade, polarity) for corroboration
        self.seen: dict[str, list[tuple[datetime, str, str, str]]] = defaultdict(list)
        # (indicator, bucket start) -> origins that deny it there
        self.denials: dict[tuple[str, datetime], set[str]] = defaultdict(set)
        self.meta: dict[str, tuple[str, int]] = {}  # indicator -> (category, severity)
        self._final: dict[tuple[str, datetime], float] = {}
        self._last: datetime | None = None

    # ---------------------------------------------------------------- feeding
    def add(self, item: Item) -> None:
        if self._last is not None and item.time < self._last:
            raise ValueError("items must be added in time order")
        self._last = item.time
        if self.history_start is None:
            self.history_start = bucket_start(item.time, self.size)
        self.meta[item.indicator] = (item.category, item.severity)
        self.seen[item.indicator].append((item.time, item.origin, item.grade, item.polarity))
        start = bucket_start(item.time, self.size)
        if item.polarity == "denied":
            self.denials[(item.indicator, start)].add(item.origin)
        weight = self.weight(item)
        if weight <= 0:
            return
        cell = self.cells[(item.indicator, start)]
        origin = cell.get(item.origin)
        if origin is None:
            origin = cell[item.origin] = Origin(item.origin, weight, item.grade, item.polarity)
        elif (weight, item.grade, item.polarity) > (origin.weight, origin.grade,
                                                    origin.polarity):
            # the best weight wins; ties break on the values, never on arrival order
            origin.weight, origin.grade, origin.polarity = weight, item.grade, item.polarity
        origin.sources.add(item.source_id)
        origin.evidence.append(item.evidence_id)

    def weight(self, item: Item) -> float:
        w = self.watch
        polarity = w.category_polarity.get(item.category, {}).get(
            item.polarity, w.polarity.get(item.polarity, 0.0))
        return (w.reliability.get(item.grade, w.reliability["F"])
                * w.severity.get(item.severity, 0.0) * polarity
                * w.indicators.get(item.indicator, 1.0))

    # ---------------------------------------------------------------- scoring
    def corroboration(self, indicator: str, at: datetime) -> tuple[int, dict[str, str]]:
        """Credibility 1-6 of ``indicator`` as known at ``at``, and its firm origins
        (asserted or reported, within the credibility window) with their best grades."""
        seen = self.seen.get(indicator, [])
        low = bisect_left(seen, (at - self.cred_window,))
        same: dict[str, str] = {}
        against: dict[str, str] = {}
        firm: dict[str, str] = {}
        for time, origin, grade, polarity in seen[low:]:
            if time > at:
                break
            side = against if polarity == "denied" else same
            side[origin] = min(side.get(origin, "F"), grade)
            if polarity in FIRM:
                firm[origin] = min(firm.get(origin, "F"), grade)
        if not same:
            return 6, firm
        return rate(same, against), firm

    def value(self, indicator: str, start: datetime, at: datetime) -> tuple[float, int]:
        cell = self.cells.get((indicator, start))
        if not cell:
            return 0.0, 6
        credibility, _ = self.corroboration(indicator, at)
        factor = self.watch.credibility[credibility]
        denied = self.denials.get((indicator, start), set())
        total = sum(o.weight * (self.watch.contested if o.key in denied else 1.0)
                    for o in cell.values())
        return total * factor, credibility

    def _past(self, indicator: str, start: datetime) -> float:
        key = (indicator, start)
        if key not in self._final:
            self._final[key] = self.value(indicator, start, start + self.step
                                          - timedelta(microseconds=1))[0]
        return self._final[key]

    def baseline(self, indicator: str, start: datetime) -> tuple[float, float, float, bool]:
        """(median, spread, mean) of the previous buckets, and whether it is the prior."""
        floor = self.watch.baseline.floor
        history = 0
        if self.history_start is not None:
            history = max(0, int((start - self.history_start) / self.step))
        n = min(self.window, history)
        if n < max(self.min_history, 1):
            return 0.0, floor, 0.0, True
        values = [self._past(indicator, start - self.step * k) if
                  (indicator, start - self.step * k) in self.cells else 0.0
                  for k in range(1, n + 1)]
        median = statistics.median(values)
        mad = statistics.median(abs(v - median) for v in values)
        return median, max(1.4826 * mad, floor), sum(values) / n, False

    def score(self, indicator: str, start: datetime, at: datetime) -> IndicatorScore:
        category, severity = self.meta[indicator]
        value, credibility = self.value(indicator, start, at)
        median, spread, mean, cold = self.baseline(indicator, start)
        origins = tuple(sorted(self.cells.get((indicator, start), {}).values(),
                               key=lambda o: (-o.weight, o.key)))
        return IndicatorScore(
            indicator=indicator, category=category, severity=severity, value=value,
            origins=origins, credibility=credibility, median=median, spread=spread,
            anomaly=(value - median) / spread,
            ratio=value / max(mean, self.watch.baseline.floor),
            excess=max(0.0, value - median), cold=cold,
            contested=sum(1 for o in origins
                          if o.key in self.denials.get((indicator, start), ())))

    def snapshot(self, at: datetime) -> Snapshot:
        """The watch's bucket holding ``at``, as it stood at ``at``."""
        start = bucket_start(at, self.size)
        active = sorted(i for i in self.meta if (i, start) in self.cells)
        scores = [self.score(i, start, at) for i in active]
        return self.compose(start, at, scores)

    def compose(self, start: datetime, at: datetime,
                scores: list[IndicatorScore]) -> Snapshot:
        excess: dict[str, float] = defaultdict(float)
        for s in scores:
            excess[s.category] += s.excess
        pulls: dict[str, float] = {}
        total = 0.0
        shape = self.watch.index
        for category, amount in excess.items():
            if amount <= 0:
                continue
            cat = self.watch.category(category)
            pull = cat.weight * (1 - math.exp(-amount / shape.category_scale))
            pulls[category] = -pull if cat.against else pull
            total += pulls[category]
        index = 100 * (1 - math.exp(-max(0.0, total) / shape.scale))
        ordered = tuple(sorted(scores, key=lambda s: (-s.excess, s.indicator)))
        return Snapshot(self.watch.id, self.size, start, at, index,
                        self.watch.level_of(index), pulls, ordered)


def series(scorer: Scorer, items: list[Item], start: datetime | None = None,
           end: datetime | None = None) -> list[Snapshot]:
    """The index at the end of every bucket from ``start`` to ``end`` (all buckets, empty
    ones included), feeding ``items`` (time-ordered) into ``scorer`` as it goes."""
    if not items and (start is None or end is None):
        return []
    first = bucket_start(start or items[0].time, scorer.size)
    last = bucket_start(end or items[-1].time, scorer.size)
    out: list[Snapshot] = []
    pos = 0
    current = first
    while current <= last:
        close = current + scorer.step - timedelta(microseconds=1)
        while pos < len(items) and items[pos].time <= close:
            scorer.add(items[pos])
            pos += 1
        out.append(scorer.snapshot(close))
        current += scorer.step
    return out
