"""Scores: per watch x indicator x bucket, then the watch's escalation index 0-100.

Items (pieces of evidence) are fed in time order; ``snapshot(at)`` scores the
bucket-long window that ends at ``at`` (the last 24 hours for day buckets) using only
what was visible at ``at``. So the same code scores a live flow and replays an archive
as if live; at the end of a calendar bucket the window is that bucket.

For one indicator in that window:

  value     = sum over independent origins of (the best weight that origin gave) x the
              credibility factor of the indicator (its corroboration over the
              credibility window before ``at``, Admiralty 1-6).
              weight = reliability(grade) x severity factor x polarity factor x the
              indicator's multiplier. Echoes of one report share their origin: they
              count once.
  baseline  = median and MAD of the indicator's values over the ``days`` calendar
              buckets before the window (empty buckets are 0). With no history
              before the window it is the prior (median 0, spread = floor); with
              less than ``min_history`` buckets of history it is "cold": computed on
              what there is, and the rules that compare with a baseline wait.
  anomaly   = (value - median) / max(1.4826 MAD, floor)   (a robust z-score)
  ratio     = value / max(mean of the previous buckets, floor)   (EMM: now vs. last N)
  excess    = max(0, value - median - band x spread)   (what rises above the usual range)

A category pulls the index by  weight x (1 - exp(-sum of its excesses / category_scale)),
which never exceeds its weight (Grabo: one noisy category cannot top the index); a
category marked ``against`` (de-escalation) pulls it down. Then

  index = 100 x (1 - exp(-max(0, sum of pulls) / scale)).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.scoring.credibility import MEANINGS, rate
from tocsin.scoring.items import Item
from tocsin.scoring.watch import Watch

FIRM = ("asserted", "reported")


def _clean(value: float) -> float:
    """Round away the last bits of float noise, so that thresholds compare what an
    analyst would compare (a value of 1e-17 is 0)."""
    return round(value, 9)


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
    actors: set[str | None] = field(default_factory=set)  # who makes the claims it reports


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
    # origins asserting or reporting it in the credibility window -> their best grade
    firm: dict[str, str] = field(default_factory=dict)

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
    cold: bool = False  # less store history than the baseline's min_history


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
            "cold_start": self.cold,
            "pulls": {k: round(v, 3) for k, v in sorted(self.pulls.items())},
            "indicators": [s.to_json() for s in self.indicators],
        }


class Scorer:
    """Scores one watch. Feed items in time order with ``add``; ask with ``snapshot``.

    ``snapshot(at)`` scores the bucket-long window that ends at ``at`` (the last 24 hours
    for day buckets), so a development that crosses midnight UTC is seen whole; at the
    end of a calendar bucket that window is the bucket itself. Baselines are the values
    of whole calendar buckets before the window.
    """

    def __init__(self, watch: Watch, bucket: str | None = None,
                 history_start: datetime | None = None) -> None:
        self.watch = watch
        self.size = bucket or watch.baseline.bucket
        self.step = bucket_step(self.size)
        per_day = 24 if self.size == "hour" else 1
        self.window = watch.baseline.days * per_day
        self.min_history = watch.baseline.min_history * per_day
        self.history_start = bucket_start(history_start, self.size) if history_start else None
        self.cred_window = max(timedelta(days=watch.credibility_window_days), self.step)
        self.items: dict[str, list[Item]] = defaultdict(list)  # per indicator, time order
        self.times: dict[str, list[datetime]] = defaultdict(list)
        self.meta: dict[str, tuple[str, int]] = {}  # indicator -> (category, severity)
        self._weights: dict[int, float] = {}  # evidence id -> weight
        self._last_positive: dict[str, datetime] = {}
        self._final: dict[tuple[str, datetime], float] = {}
        self._baselines: dict[tuple[str, datetime], tuple[float, float, float, bool]] = {}
        # indicator -> (score, bucket the baseline starts before, valid until)
        self._cache: dict[str, tuple[IndicatorScore, datetime, datetime]] = {}
        self._last: datetime | None = None

    # ---------------------------------------------------------------- feeding
    def add(self, item: Item) -> None:
        if self._last is not None and item.time < self._last:
            raise ValueError("items must be added in time order")
        self._last = item.time
        if self.history_start is None:
            self.history_start = bucket_start(item.time, self.size)
        self.meta[item.indicator] = (item.category, item.severity)
        self.items[item.indicator].append(item)
        self.times[item.indicator].append(item.time)
        weight = self._weights[item.evidence_id] = self.weight(item)
        if weight > 0:
            self._last_positive[item.indicator] = item.time
        self._cache.pop(item.indicator, None)

    def weight(self, item: Item) -> float:
        w = self.watch
        polarity = w.category_polarity.get(item.category, {}).get(
            item.polarity, w.polarity.get(item.polarity, 0.0))
        return (w.reliability.get(item.grade, w.reliability["F"])
                * w.severity.get(item.severity, 0.0) * polarity
                * w.indicators.get(item.indicator, 1.0))

    # ---------------------------------------------------------------- scoring
    def _slice(self, indicator: str, low: datetime, high: datetime) -> list[Item]:
        """The indicator's items with low < time <= high."""
        times = self.times.get(indicator, [])
        return self.items[indicator][bisect_right(times, low):bisect_right(times, high)]

    def corroboration(self, indicator: str, at: datetime) -> tuple[int, dict[str, str]]:
        """Credibility 1-6 of ``indicator`` as known at ``at`` (its evidence within the
        credibility window before ``at``), and its firm origins (asserted or reported)
        with their best grades."""
        same: dict[str, str] = {}
        against: dict[str, str] = {}
        firm: dict[str, str] = {}
        claims: set[tuple[str, str | None]] = set()
        denials: set[tuple[str, str | None]] = set()
        for item in self._slice(indicator, at - self.cred_window, at):
            side = against if item.polarity == "denied" else same
            side[item.origin] = min(side.get(item.origin, "F"), item.grade)
            if item.polarity == "denied":
                denials.add((item.origin, item.actor))
            elif item.polarity in FIRM:
                firm[item.origin] = min(firm.get(item.origin, "F"), item.grade)
                claims.add((item.origin, item.actor))
        # an origin that asserts and denies the same claim (same actor) reports a
        # dispute: it cannot confirm it
        disputed = {origin for origin, actor in claims & denials}
        firm = {o: g for o, g in firm.items() if o not in disputed}
        if not same:
            return 6, firm
        return rate(same, against), firm

    def _origins(self, indicator: str, low: datetime,
                 high: datetime) -> tuple[dict[str, Origin], set[str]]:
        origins: dict[str, Origin] = {}
        denials: set[tuple[str, str | None]] = set()
        for item in self._slice(indicator, low, high):
            if item.polarity == "denied":
                denials.add((item.origin, item.actor))
            weight = self._weights[item.evidence_id]
            if weight <= 0:
                continue
            origin = origins.get(item.origin)
            if origin is None:
                origin = origins[item.origin] = Origin(item.origin, weight, item.grade,
                                                       item.polarity)
            elif (weight, item.grade, item.polarity) > (origin.weight, origin.grade,
                                                        origin.polarity):
                # the best weight wins; ties break on the values, never on arrival order
                origin.weight, origin.grade, origin.polarity = weight, item.grade, \
                    item.polarity
            origin.sources.add(item.source_id)
            origin.evidence.append(item.evidence_id)
            origin.actors.add(item.actor)
        # contested: the origin also denies one of the claims it makes (same actor)
        contested = {o.key for o in origins.values()
                     if any((o.key, actor) in denials for actor in o.actors)}
        return origins, contested

    def _value(self, origins: dict[str, Origin], denied: set[str], credibility: int) -> float:
        # fsum: exact, so the arrival order of evidence can never change a score
        total = math.fsum(o.weight * (self.watch.contested if o.key in denied else 1.0)
                          for o in origins.values())
        return _clean(total * self.watch.credibility[credibility]) if origins else 0.0

    def _past(self, indicator: str, start: datetime) -> float:
        """The final value of a whole calendar bucket."""
        key = (indicator, start)
        if key not in self._final:
            end = start + self.step - timedelta(microseconds=1)
            origins, denied = self._origins(indicator, start - timedelta(microseconds=1), end)
            credibility = self.corroboration(indicator, end)[0] if origins else 6
            self._final[key] = self._value(origins, denied, credibility)
        return self._final[key]

    def baseline(self, indicator: str, first: datetime) -> tuple[float, float, float, bool]:
        """(median, spread, mean) of the calendar buckets before ``first``, and whether it
        is cold (less history than ``min_history``)."""
        key = (indicator, first)
        if key not in self._baselines:
            self._baselines[key] = self._baseline(indicator, first)
        return self._baselines[key]

    def _baseline(self, indicator: str, first: datetime) -> tuple[float, float, float, bool]:
        floor = self.watch.baseline.floor
        history = 0
        if self.history_start is not None:
            history = max(0, int((first - self.history_start) / self.step))
        n = min(self.window, history)
        if n == 0:
            return 0.0, floor, 0.0, True  # nothing before: the prior
        values = [self._past(indicator, first - self.step * k) for k in range(1, n + 1)]
        median = statistics.median(values)
        mad = statistics.median(abs(v - median) for v in values)
        return median, max(1.4826 * mad, floor), sum(values) / n, n < self.min_history

    def _first(self, at: datetime) -> datetime:
        """The calendar bucket where the window ending at ``at`` begins."""
        return bucket_start(at - self.step + timedelta(microseconds=1), self.size)

    def score(self, indicator: str, at: datetime) -> IndicatorScore:
        """The indicator over the window ending at ``at`` (cached until its evidence
        changes or some of it leaves the window)."""
        first = self._first(at)
        cached = self._cache.get(indicator)
        if cached is not None and cached[1] == first and at < cached[2]:
            return cached[0]
        low = at - self.step
        origins, denied = self._origins(indicator, low, at)
        credibility, firm = self.corroboration(indicator, at)
        value = self._value(origins, denied, credibility)
        median, spread, mean, cold = self.baseline(indicator, first)
        category, severity = self.meta[indicator]
        ordered = tuple(sorted(origins.values(), key=lambda o: (-o.weight, o.key)))
        result = IndicatorScore(
            indicator=indicator, category=category, severity=severity, value=value,
            origins=ordered, credibility=credibility, median=median, spread=spread,
            anomaly=(value - median) / spread,
            ratio=value / max(mean, self.watch.baseline.floor),
            excess=_clean(max(0.0, value - median - self.watch.baseline.band * spread)),
            cold=cold,
            contested=sum(1 for o in ordered if o.key in denied), firm=firm)
        # valid until the oldest item in either window leaves it
        expiry = [t + self.step for t in self.times[indicator][
            bisect_right(self.times[indicator], low):][:1]]
        expiry += [t + self.cred_window for t in self.times[indicator][
            bisect_right(self.times[indicator], at - self.cred_window):][:1]]
        self._cache[indicator] = (result, first, min(expiry, default=at + self.step))
        return result

    def snapshot(self, at: datetime) -> Snapshot:
        """The watch over the bucket-long window ending at ``at``, as it stood then."""
        low = at - self.step
        active = sorted(i for i, t in self._last_positive.items() if low < t <= at
                        or (t > at and self._slice(i, low, at)))
        scores = [s for s in (self.score(i, at) for i in active) if s.origins]
        return self.compose(bucket_start(at, self.size), at, scores)

    def compose(self, start: datetime, at: datetime,
                scores: list[IndicatorScore]) -> Snapshot:
        parts: dict[str, list[float]] = defaultdict(list)
        for s in scores:
            parts[s.category].append(s.excess)
        excess = {c: math.fsum(v) for c, v in sorted(parts.items())}
        pulls: dict[str, float] = {}
        shape = self.watch.index
        for category, amount in excess.items():
            if amount <= 0:
                continue
            cat = self.watch.category(category)
            pull = cat.weight * (1 - math.exp(-amount / shape.category_scale))
            pulls[category] = -pull if cat.against else pull
        total = math.fsum(pulls.values())
        index = 100 * (1 - math.exp(-max(0.0, total) / shape.scale))
        ordered = tuple(sorted(scores, key=lambda s: (-s.excess, s.indicator)))
        return Snapshot(self.watch.id, self.size, start, at, index,
                        self.watch.level_of(index), pulls, ordered,
                        self.is_cold(self._first(at)))

    def is_cold(self, first: datetime) -> bool:
        if self.history_start is None:
            return True
        return (first - self.history_start) / self.step < self.min_history


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
