"""Replay and backtest: what the watches would have raised, and how early.

A timeline is a list of dated milestones (YAML: a list or ``milestones:`` of mappings
with ``date``, ``title``, ``categories``; CSV: a header with ``date,title,categories``,
categories separated by ``;`` or ``|``).

For each milestone, the backtest looks for alert activity (an alert raised or updated
with one of the milestone's categories; any category if it lists none) within
``window_days`` before or after its date, and for the first document about it (the
earliest in-scope evidence of one of its categories, denials left out, in the same
window). Lead time = first document - alert, in hours (positive: the alert came
before the first report; usually it is negative: so many hours after). Days outside
every milestone's window are quiet; an alert raised on a quiet day is a false alert.
A milestone outside the store's span of documents is "not covered", not missed.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine

from tocsin.alerts.engine import Draft, run
from tocsin.errors import TocsinError
from tocsin.indicators.pack import Pack
from tocsin.scoring.index import Scorer, series
from tocsin.scoring.items import Item, first_document_time, last_document_time, load_items
from tocsin.scoring.watch import Watch

MAX_TIMELINE_BYTES = 5 * 1024 * 1024
TOP_INDICATORS = 3  # per day, for the chart's tooltips


class TimelineError(TocsinError):
    """A timeline file cannot be read; the message names the file and the entry."""


@dataclass(frozen=True)
class Milestone:
    day: date
    title: str
    categories: tuple[str, ...]
    where: str


@dataclass
class Outcome:
    """What a milestone got: the first alert activity about it (``alert_at``), and the
    alert it belongs to, as `tocsin alerts` shows it: its level (None below ``watch``),
    peak index and rule level."""

    milestone: Milestone
    alert_at: datetime | None = None
    level: str | None = None
    index: float | None = None
    rule_level: str | None = None
    first_document: datetime | None = None
    covered: bool = True  # the store holds documents of the milestone's days

    @property
    def caught(self) -> bool:
        return self.alert_at is not None

    @property
    def on_day(self) -> bool:
        """Alerted no later than the day of the milestone, or of the first report about
        it when the news broke later (a late-evening event reported the next morning)."""
        if self.alert_at is None:
            return False
        day = self.milestone.day
        if self.first_document is not None:
            day = max(day, self.first_document.date())
        return self.alert_at.date() <= day

    @property
    def lead_hours(self) -> float | None:
        if self.alert_at is None or self.first_document is None:
            return None
        return (self.first_document - self.alert_at).total_seconds() / 3600


@dataclass
class Backtest:
    watch: str
    outcomes: list[Outcome]
    alerts: list[Draft]
    false_alerts: list[Draft]
    quiet_days: int
    series: list[tuple[datetime, float]] = field(default_factory=list)
    # bucket start -> the indicators above their usual range, strongest first (at most 3)
    top_indicators: dict[datetime, tuple[str, ...]] = field(default_factory=dict)

    @property
    def false_per_30(self) -> float:
        return 30 * len(self.false_alerts) / self.quiet_days if self.quiet_days else 0.0

    def summary(self) -> dict[str, Any]:
        caught = [o for o in self.outcomes if o.caught]
        leads = [o.lead_hours for o in caught if o.lead_hours is not None]
        return {
            "watch": self.watch, "milestones": len(self.outcomes),
            "covered": sum(1 for o in self.outcomes if o.covered), "caught": len(caught),
            "on_day": sum(1 for o in self.outcomes if o.on_day),
            "median_lead_hours": round(statistics.median(leads), 1) if leads else None,
            "alerts": len(self.alerts), "false_alerts": len(self.false_alerts),
            "quiet_days": self.quiet_days,
            "false_alerts_per_30_quiet_days": round(self.false_per_30, 2),
        }


# ------------------------------------------------------------------ timeline
def _parse_day(value: Any, where: str) -> date:
    text = str(value).strip()
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise TimelineError(f"{where}: not a date (YYYY-MM-DD): {value!r}") from exc
    if not 1900 <= day.year <= 2200:
        raise TimelineError(f"{where}: date out of range: {value!r}")
    return day


def _categories(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        parts = value.replace("|", ";").replace(",", ";").split(";")
        return tuple(p.strip() for p in parts if p.strip())
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return (str(value),)


class _DatesAsText(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so that a bad one (2022-02-30) is reported
    with its milestone instead of failing inside the YAML parser."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_timeline(path: Path, known_categories: set[str] | None = None) -> list[Milestone]:
    """Milestones from a YAML or CSV file; errors name the file and the entry."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TimelineError(f"{path}: cannot read the timeline: {exc}") from exc
    if len(raw) > MAX_TIMELINE_BYTES:
        raise TimelineError(f"{path}: timeline larger than {MAX_TIMELINE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TimelineError(f"{path}: the timeline is not UTF-8 ({exc})") from exc
    rows: list[tuple[str, Any]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"date", "title"} <= set(reader.fieldnames):
            raise TimelineError(f"{path}:1: a CSV timeline needs the columns date,title"
                                f"[,categories]")
        rows = [(f"{path}:{n}", r) for n, r in enumerate(reader, start=2)]
    else:
        try:
            data = yaml.load(text, Loader=_DatesAsText)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as exc:
            raise TimelineError(f"{path}: invalid YAML: {exc}") from exc
        if isinstance(data, dict):
            data = data.get("milestones")
        if not isinstance(data, list):
            raise TimelineError(f"{path}: a timeline is a list of milestones "
                                f"(or a mapping with `milestones:`)")
        rows = [(f"{path}: milestone {n}", r) for n, r in enumerate(data, start=1)]
    out: list[Milestone] = []
    for where, row in rows:
        if not isinstance(row, dict) or "date" not in row or not str(
                row.get("title") or "").strip():
            raise TimelineError(f"{where}: needs at least `date` and `title`")
        categories = _categories(row.get("categories"))
        unknown = [c for c in categories if known_categories and c not in known_categories]
        if unknown:
            raise TimelineError(f"{where}: unknown categories {unknown}")
        title = "".join(c if c.isprintable() else " " for c in str(row["title"])).strip()
        out.append(Milestone(_parse_day(row["date"], where), title,
                             categories, where))
    if not out:
        raise TimelineError(f"{path}: the timeline has no milestones")
    return sorted(out, key=lambda m: m.day)


# ------------------------------------------------------------------ replay
def replay(engine: Engine, pack: Pack, watch: Watch, since: datetime | None = None,
           until: datetime | None = None) -> list[Draft]:
    """The alerts ``watch`` would have raised, in time order, as if live: what was open
    or raised from ``since`` (evaluation runs from the start of the store, so that an
    alert open at ``since`` keeps its own start) until ``until`` (exclusive)."""
    items = load_items(engine, watch, pack, until=until)
    drafts = run(watch, items, history_start=first_document_time(engine))
    return [d for d in drafts if since is None or d.last_at >= since]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def backtest(engine: Engine, pack: Pack, watch: Watch, milestones: list[Milestone],
             window_days: int = 2) -> Backtest:
    history = first_document_time(engine)
    items = load_items(engine, watch, pack)
    drafts = run(watch, items, history_start=history)
    window = timedelta(days=window_days)
    outcomes = []
    for m in milestones:
        low, high = _midnight(m.day) - window, _midnight(m.day) + window + timedelta(days=1)
        outcome = Outcome(m)
        outcome.first_document = _first_document(items, m, low, high)
        for draft in drafts:
            for event in draft.events:
                relevant = not m.categories or set(event.categories) & set(m.categories)
                if low <= event.at < high and relevant and (
                        outcome.alert_at is None or event.at < outcome.alert_at):
                    outcome.alert_at = event.at
                    outcome.level, outcome.index = draft.level, draft.index
                    outcome.rule_level = draft.rule_level
        outcomes.append(outcome)
    busy = {m.day + timedelta(days=k) for m in milestones
            for k in range(-window_days, window_days + 1)}
    span: list[date] = []
    end_of_history = last_document_time(engine)
    if history and end_of_history:
        first, last = history.date(), end_of_history.date()
        span = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    for outcome in outcomes:
        outcome.covered = bool(span) and span[0] <= outcome.milestone.day <= span[-1]
    quiet = [d for d in span if d not in busy]
    false_alerts = [d for d in drafts if d.first_at.date() not in busy]
    scorer = Scorer(watch, bucket="day", history_start=history)
    start = _midnight(span[0]) if span else None
    end = _midnight(span[-1]) if span else None
    snapshots = series(scorer, items, start, end) if span else []
    points = [(s.start, s.index) for s in snapshots]
    tops = {s.start: tuple(i.indicator for i in s.indicators if i.excess > 0)[:TOP_INDICATORS]
            for s in snapshots}
    return Backtest(watch.id, outcomes, drafts, false_alerts, len(quiet), points,
                    {at: names for at, names in tops.items() if names})


def _first_document(items: list[Item], m: Milestone, low: datetime,
                    high: datetime) -> datetime | None:
    for item in items:
        if item.time >= high:
            break
        if item.time >= low and item.polarity != "denied" and (
                not m.categories or item.category in m.categories):
            return item.time
    return None
