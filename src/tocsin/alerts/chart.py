"""Draw one watch's escalation index with milestones and alerts: a PNG and a standalone HTML page.

What the chart shows, top to bottom: the title and the backtest's summary figures; a
legend; a lane of numbered milestone badges (laid out by ``chart_layout.place`` so no two
overlap) with leader lines to their dates; the index as a per-day step over bands at the
watch's own levels, alert triangles resting on or above their level's lower bound; under
the axis, a key from badge number to date, title and outcome. The HTML page embeds the
same figure as inline SVG whose day columns, badges and alerts carry ``<title>`` tooltips,
and repeats the figures and tables as text. Nothing is fetched and no script runs.

Pyplot is never imported: a bare ``Figure`` with an Agg canvas is thread-safe, keeps no global
figure registry and can never open a window, so this runs inside a server or a batch job.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import offset_copy

from tocsin.alerts import chart_page
from tocsin.alerts.chart_layout import Slot, place
from tocsin.alerts.chart_page import HOVER
from tocsin.errors import TocsinError
from tocsin.scoring.watch import LEVELS as LEVEL_NAMES

if TYPE_CHECKING:
    from tocsin.alerts.backtest import Backtest

WIDTH_INCHES = 14.0
DPI = 110
TITLE_CHARS = 120
CAUGHT, MISSED, UNCOVERED = "#1b7837", "#c2185b", "#8a8a8a"
ALERT, FALSE_ALERT = "#b2182b", "#5e5e5e"
INDEX = "#1f3b73"
BAND_COLOURS = {"watch": ("#f2b705", 0.10), "warning": ("#e8710a", 0.13),
                "critical": ("#c62828", 0.16)}
ALERT_SIZE = 8.0  # points
BADGE_FONT, KEY_FONT = 7.5, 7.5
MAX_NUMBERED = 120  # more milestones than this get date lines only; the page lists them
KEY_COLUMNS = 2
# Vertical stack, inches: title, summary, legend, badge rows, plot, date ticks, key rows.
TITLE_H, SUMMARY_H, LEGEND_H = 0.34, 0.24, 0.30
ROW_H, LANE_FOOT = 0.22, 0.14
PLOT_H, TICKS_H, KEY_ROW_H, BOTTOM = 3.3, 0.40, 0.19, 0.2
LEFT_IN, RIGHT_IN = 0.8, 1.25


@dataclass(frozen=True)
class Day:
    """The index of one bucket (a day), with the indicators that pushed it most."""

    start: datetime
    index: float
    top: tuple[str, ...] = ()


@dataclass(frozen=True)
class Milestone:
    """One dated event from an analyst's timeline, and whether an alert caught it."""

    day: date
    title: str
    categories: tuple[str, ...]
    caught: bool
    covered: bool = True  # the store holds documents of its days
    alert_at: datetime | None = None
    level: str | None = None
    lead_hours: float | None = None


@dataclass(frozen=True)
class AlertMark:
    """One raised alert: when, its (highest) level; ``false``: outside every milestone window."""

    at: datetime
    level: str
    alert_id: int
    false: bool


@dataclass(frozen=True)
class Summary:
    """The backtest's figures, as printed under the title and on the page."""

    milestones: int
    covered: int
    caught: int
    on_day: int
    median_lead_hours: float | None
    alerts: int
    false_alerts: int
    quiet_days: int
    false_per_30: float

    @classmethod
    def of(cls, figures: Mapping[str, Any]) -> Summary:
        """From ``Backtest.summary()``."""
        return cls(figures["milestones"], figures["covered"], figures["caught"],
                   figures["on_day"], figures["median_lead_hours"], figures["alerts"],
                   figures["false_alerts"], figures["quiet_days"],
                   figures["false_alerts_per_30_quiet_days"])

    def parts(self) -> list[tuple[str, str]]:
        lead = "-" if self.median_lead_hours is None else f"{self.median_lead_hours:+.1f} h"
        return [("alerted", f"{self.caught}/{self.covered} covered milestones"),
                ("on the day", str(self.on_day)),
                ("median lead", lead),
                ("false alerts", f"{self.false_per_30:g} per 30 quiet days "
                                 f"({self.false_alerts} in {self.quiet_days} quiet days)")]


class ChartError(TocsinError):
    """The chart's inputs cannot be drawn; the message says which input and why."""


# ------------------------------------------------------------------ inputs
def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _num(moment: datetime | date) -> float:
    # Naive datetimes are read as UTC (as matplotlib does); a bare date means midnight UTC.
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    return float(date2num(moment))


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _checked_levels(levels: Mapping[str, float]) -> dict[str, float]:
    if set(levels) != set(LEVEL_NAMES) or not (
            0 < levels["watch"] < levels["warning"] < levels["critical"] <= 100):
        raise ChartError(f"chart levels {dict(levels)!r}: need watch, warning and critical "
                         "with 0 < watch < warning < critical <= 100 (a watch's `levels`)")
    return {name: float(levels[name]) for name in LEVEL_NAMES}


def _days(series: Sequence[Day | tuple[datetime, float]]) -> list[Day]:
    days = [p if isinstance(p, Day) else Day(p[0], float(p[1])) for p in series]
    return sorted(days, key=lambda d: _num(d.start))


def level_of(index: float, levels: Mapping[str, float]) -> str | None:
    reached = [name for name in LEVEL_NAMES if index >= levels[name]]
    return reached[-1] if reached else None


def bands(levels: Mapping[str, float]) -> list[tuple[str, float, float]]:
    """(level, lower bound, upper bound) of each shaded band, lowest first."""
    bounds = [levels[name] for name in LEVEL_NAMES] + [100.0]
    return [(name, bounds[i], bounds[i + 1]) for i, name in enumerate(LEVEL_NAMES)]


# ------------------------------------------------------------------ figure
@dataclass
class _Frame:
    """The horizontal mapping shared by the badge lane and the plot."""

    x0: float
    x1: float
    left_px: float
    width_px: float

    def px(self, x: float) -> float:
        return self.left_px + (x - self.x0) / (self.x1 - self.x0) * self.width_px

    def data(self, px: float) -> float:
        return self.x0 + (px - self.left_px) / self.width_px * (self.x1 - self.x0)


def _extent(days: list[Day], milestones: Sequence[Milestone],
            alerts: Sequence[AlertMark]) -> tuple[float, float] | None:
    moments = [_num(d.start) for d in days] + [_num(s.day) for s in milestones] + \
              [_num(a.at) for a in alerts]
    if days:
        moments.append(_num(days[-1].start) + _last_width(days))
    if not moments:
        return None
    low, high = min(moments), max(moments)
    pad = max((high - low) * 0.01, 1.0)
    return low - pad, high + pad


def _last_width(days: list[Day]) -> float:
    """How long the last bucket lasts: as long as the one before it, or a day."""
    if len(days) > 1:
        return _num(days[-1].start) - _num(days[-2].start)
    return 1.0


def _badge_style(stone: Milestone) -> dict[str, Any]:
    if not stone.covered:
        return {"color": UNCOVERED, "face": "white", "line": ":"}
    if stone.caught:
        return {"color": CAUGHT, "face": CAUGHT, "line": "-"}
    return {"color": MISSED, "face": "white", "line": "--"}


def _outcome(stone: Milestone) -> str:
    if not stone.covered:
        return "not covered by the store"
    if not stone.caught:
        return "missed"
    lead = "" if stone.lead_hours is None else f", lead {stone.lead_hours:+.1f} h"
    return f"alerted{lead}"


def _text_width(fig: Figure, renderer: RendererAgg, text: str, size: float) -> float:
    probe = fig.text(0, 0, text, fontsize=size, parse_math=False)
    width = float(probe.get_window_extent(renderer).width)
    probe.remove()
    return width


def _fit(fig: Figure, renderer: RendererAgg, head: str, title: str, tail: str,
         size: float, room: float) -> str:
    """``head title tail`` with the title shortened until the line is ``room`` pixels wide."""
    full = f"{head}{title}{tail}"
    if _text_width(fig, renderer, full, size) <= room:
        return full
    low, high = 0, len(title)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if _text_width(fig, renderer, f"{head}{_shorten(title, mid)}{tail}", size) <= room:
            low = mid
        else:
            high = mid - 1
    return f"{head}{_shorten(title, max(low, 1))}{tail}"


class _Builder:
    """Builds the figure in one pass: measure, stack the parts, then draw into them."""

    def __init__(self, days: list[Day], milestones: Sequence[Milestone],
                 alerts: Sequence[AlertMark], levels: dict[str, float], title: str,
                 summary: Summary | None) -> None:
        self.days, self.milestones, self.alerts = days, list(milestones), list(alerts)
        self.levels, self.title, self.summary = levels, title, summary
        self.fig = Figure(figsize=(WIDTH_INCHES, 6.0), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        self.renderer = self.canvas.get_renderer()
        self.tooltips: dict[str, str] = {}
        span = _extent(days, milestones, alerts)
        self.numbered = 0 < len(self.milestones) <= MAX_NUMBERED and span is not None
        width_px = (WIDTH_INCHES - LEFT_IN - RIGHT_IN) * DPI
        self.frame = _Frame(*(span or (0.0, 1.0)), LEFT_IN * DPI, width_px)
        self.has_span = span is not None

    # -- measuring
    def _badges(self) -> tuple[list[str], list[Slot]]:
        labels = [str(n) for n in range(1, len(self.milestones) + 1)]
        if not self.numbered:
            return labels, []
        pad = 2 * 0.3 * BADGE_FONT * DPI / 72  # the round box's padding, both sides
        widths = [_text_width(self.fig, self.renderer, label, BADGE_FONT) + pad + 2
                  for label in labels]
        centres = [self.frame.px(_num(s.day)) for s in self.milestones]
        left = self.frame.left_px
        return labels, place(centres, widths, left, left + self.frame.width_px, gap=3.0)

    def _key_lines(self) -> list[str]:
        if not self.numbered:
            return []
        room = (WIDTH_INCHES - LEFT_IN - RIGHT_IN) * DPI / KEY_COLUMNS - 10
        return [_fit(self.fig, self.renderer, f"{n}  {s.day.isoformat()}  ", s.title,
                     f"  · {_outcome(s)}", KEY_FONT, room)
                for n, s in enumerate(self.milestones, start=1)]

    # -- drawing
    def build(self) -> Figure:
        labels, slots = self._badges()
        key = self._key_lines()
        lane_rows = max((s.row for s in slots), default=-1) + 1
        key_rows = -(-len(key) // KEY_COLUMNS)
        note = not self.numbered and bool(self.milestones)
        heights = [TITLE_H, SUMMARY_H if self.summary else 0.0, LEGEND_H,
                   lane_rows * ROW_H + LANE_FOOT, PLOT_H, TICKS_H,
                   (key_rows + (1 if note else 0)) * KEY_ROW_H, BOTTOM]
        total = sum(heights)
        self.fig.set_size_inches(WIDTH_INCHES, total)
        tops = [total - sum(heights[:i]) for i in range(len(heights) + 1)]

        def frac(y: float) -> float:  # inches from the bottom -> figure fraction
            return y / total

        left, width = LEFT_IN / WIDTH_INCHES, (WIDTH_INCHES - LEFT_IN - RIGHT_IN) / WIDTH_INCHES
        self._heading(frac(tops[0] - 0.08), frac(tops[1] - 0.04))
        self._legend(frac((tops[2] + tops[3]) / 2))
        ax = self.fig.add_axes((left, frac(tops[5]), width, frac(PLOT_H)))
        self._plot(ax)
        if slots:
            lane = self.fig.add_axes((left, frac(tops[4]), width, frac(tops[3] - tops[4])),
                                     sharex=ax)
            self._lane(lane, labels, slots, lane_rows)
        self._key(key, note, frac(tops[6]), frac(KEY_ROW_H), left, width)
        return self.fig

    def _heading(self, title_y: float, summary_y: float) -> None:
        # Untrusted titles may hold "$...$": parse_math=False keeps mathtext from reading them.
        self.fig.text(LEFT_IN / WIDTH_INCHES, title_y, _shorten(self.title, TITLE_CHARS),
                      fontsize=11, va="top", parse_math=False)
        if self.summary:
            text = "   ·   ".join(f"{k}: {v}" for k, v in self.summary.parts())
            self.fig.text(LEFT_IN / WIDTH_INCHES, summary_y, text, fontsize=8.5, va="top",
                          color="#444444", parse_math=False)

    def _legend(self, y: float) -> None:
        handles: list[Any] = [
            Patch(facecolor=INDEX, alpha=0.35, edgecolor=INDEX, label="index (per day)"),
            Line2D([], [], color=CAUGHT, marker="o", markersize=7, label="milestone alerted"),
            Line2D([], [], color=MISSED, linestyle="--", marker="o", markersize=7,
                   markerfacecolor="white", label="milestone missed"),
        ]
        if any(not s.covered for s in self.milestones):
            handles.append(Line2D([], [], color=UNCOVERED, linestyle=":", marker="o",
                                  markersize=7, markerfacecolor="white", label="not covered"))
        handles += [
            Line2D([], [], marker="^", linestyle="none", markersize=ALERT_SIZE, color=ALERT,
                   markeredgecolor="white", label="alert"),
            Line2D([], [], marker="^", linestyle="none", markersize=ALERT_SIZE,
                   markerfacecolor="white", markeredgecolor=FALSE_ALERT,
                   label="false alert (no milestone near)"),
        ]
        handles += [Patch(facecolor=BAND_COLOURS[n][0], alpha=BAND_COLOURS[n][1] * 2,
                          label=f"{n} ≥ {low:g}") for n, low, _ in bands(self.levels)]
        self.fig.legend(handles=handles, loc="center left", ncols=len(handles),
                        bbox_to_anchor=(LEFT_IN / WIDTH_INCHES - 0.008, y), fontsize=8,
                        frameon=False, handlelength=1.8, columnspacing=1.4)

    def _plot(self, ax: Any) -> None:
        ax.set_ylim(0, 100)
        ax.set_yticks(sorted({0.0, 100.0, *self.levels.values()}))
        ax.set_ylabel("escalation index", color="#555555")
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        for name, low, high in bands(self.levels):
            colour, alpha = BAND_COLOURS[name]
            ax.axhspan(low, high, color=colour, alpha=alpha, linewidth=0, zorder=0,
                       gid=f"tocsin-band-{name}")
            ax.axhline(low, color=colour, linewidth=0.6, alpha=0.7, zorder=1)
            ax.text(1.006, (low + high) / 2, f"{name}\n≥ {low:g}", va="center", fontsize=8,
                    color="#555555", transform=ax.get_yaxis_transform(), parse_math=False)
        self._index(ax)
        self._milestone_lines(ax)
        self._alerts(ax)
        if self.has_span:
            ax.set_xlim(self.frame.x0, self.frame.x1)
            locator = AutoDateLocator(tz=UTC)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
        else:
            ax.set_xticks([])

    def _index(self, ax: Any) -> None:
        if not self.days:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                    fontsize=16, color="#888888")
            return
        xs = [_num(d.start) for d in self.days]
        ys = [d.index for d in self.days]
        edges = np.array(xs + [xs[-1] + _last_width(self.days)])
        values = np.array(ys + ys[-1:])
        # A step per bucket: each day's value is held over the whole day, the last included.
        ax.fill_between(edges, values, step="post", color=INDEX, alpha=0.35, linewidth=0,
                        zorder=2)
        ax.step(edges, values, where="post", color=INDEX, linewidth=0.9, zorder=3)
        self._day_tooltips(ax, edges)

    def _day_tooltips(self, ax: Any, edges: np.ndarray) -> None:
        """Invisible full-height columns, one per run of days that read the same."""
        runs: list[tuple[int, int]] = []
        for i, day in enumerate(self.days):
            if runs and (round(self.days[runs[-1][0]].index, 1), self.days[runs[-1][0]].top) \
                    == (round(day.index, 1), day.top):
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
        for n, (first, last) in enumerate(runs):
            day = self.days[first]
            when = f"{day.start:%Y-%m-%d}"
            if last > first:
                when += f" to {self.days[last].start:%Y-%m-%d} ({last - first + 1} days)"
            level = level_of(day.index, self.levels) or "below watch"
            lines = [f"{when}: index {day.index:.1f} ({level})"]
            if day.top:
                lines.append("top indicators: " + ", ".join(day.top))
            gid = f"{HOVER}day-{n}"
            ax.add_patch(Rectangle((edges[first], 0), edges[last + 1] - edges[first], 100,
                                   facecolor="none", edgecolor="none", zorder=3.5, gid=gid))
            self.tooltips[gid] = "\n".join(lines)

    def _milestone_text(self, n: int, stone: Milestone) -> str:
        lines = [f"milestone {n}: {stone.day.isoformat()} {stone.title}",
                 "categories: " + (", ".join(stone.categories) or "any")]
        if stone.caught and stone.alert_at is not None:
            lines.append(f"alerted: yes, {stone.level or 'alert'} at {_stamp(stone.alert_at)}")
        else:
            lines.append("alerted: yes" if stone.caught else f"alerted: no ({_outcome(stone)})")
        if stone.lead_hours is not None:
            lines.append(f"lead: {stone.lead_hours:+.1f} h (first report minus alert)")
        return "\n".join(lines)

    def _milestone_lines(self, ax: Any) -> None:
        for n, stone in enumerate(self.milestones, start=1):
            style = _badge_style(stone)
            gid = f"{HOVER}milestone-line-{n}"
            ax.axvline(_num(stone.day), color=style["color"], linestyle=style["line"],
                       linewidth=0.9, alpha=0.85, zorder=4, gid=gid)
            self.tooltips[gid] = self._milestone_text(n, stone)

    def _alerts(self, ax: Any) -> None:
        xs = np.array([_num(d.start) for d in self.days], dtype=float)
        ys = np.array([d.index for d in self.days], dtype=float)
        # The transform lifts each triangle by half its height: its base rests on the point.
        lifted = offset_copy(ax.transData, fig=self.fig, y=ALERT_SIZE / 2 + 0.5, units="points")
        for mark in self.alerts:
            x = _num(mark.at)
            i = int(np.searchsorted(xs, x, side="right")) - 1
            index = float(ys[i]) if i >= 0 else 0.0
            # An alert of level L is drawn in L's band even when a rule other than the index
            # level raised it below the band, so its level can be read from where it sits.
            y = min(max(index, self.levels.get(mark.level, 0.0)), 100.0)
            gid = f"{HOVER}alert-{mark.alert_id}"
            style: dict[str, Any] = (
                {"markerfacecolor": "white", "markeredgecolor": FALSE_ALERT,
                 "markeredgewidth": 1.2} if mark.false else
                {"color": ALERT, "markeredgecolor": "white", "markeredgewidth": 0.6})
            ax.plot([x], [y], marker="^", markersize=ALERT_SIZE, linestyle="none", zorder=6,
                    transform=lifted, clip_on=False, gid=gid, **style)
            verdict = ("false alert: no milestone within the window" if mark.false
                       else "alert near a milestone")
            self.tooltips[gid] = (f"alert #{mark.alert_id}: level {mark.level}, raised "
                                  f"{_stamp(mark.at)}\nindex that day {index:.1f}\n{verdict}")

    def _lane(self, lane: Any, labels: list[str], slots: list[Slot], rows: int) -> None:
        foot = LANE_FOOT / ROW_H  # the lane's unit is one row
        lane.set_ylim(-foot, rows)
        lane.set_axis_off()
        for n, (stone, label, slot) in enumerate(
                zip(self.milestones, labels, slots, strict=True), start=1):
            style = _badge_style(stone)
            x, y = self.frame.data(slot.centre), slot.row + 0.5
            # The leader runs from under the badge to the milestone's date at the plot's top.
            lane.plot([x, _num(stone.day)], [y, -foot], color=style["color"],
                      linestyle=style["line"], linewidth=0.8, alpha=0.85, zorder=1,
                      clip_on=False)
            gid = f"{HOVER}milestone-{n}"
            lane.text(x, y, label, ha="center", va="center", fontsize=BADGE_FONT,
                      color="white" if style["face"] != "white" else style["color"],
                      fontweight="bold", zorder=3, gid=gid, parse_math=False,
                      bbox={"boxstyle": "round,pad=0.3", "facecolor": style["face"],
                            "edgecolor": style["color"], "linestyle": style["line"],
                            "linewidth": 0.9})
            self.tooltips[gid] = self._milestone_text(n, stone)

    def _key(self, key: list[str], note: bool, top: float, row: float, left: float,
             width: float) -> None:
        rows = -(-len(key) // KEY_COLUMNS)
        for i, line in enumerate(key):
            column, line_no = divmod(i, rows)
            colour = _badge_style(self.milestones[i])["color"]
            self.fig.text(left + column * width / KEY_COLUMNS, top - (line_no + 0.5) * row,
                          line, fontsize=KEY_FONT, va="center", color=colour,
                          parse_math=False, gid=f"tocsin-key-{i + 1}")
        if note:
            self.fig.text(left, top - 0.5 * row, f"{len(self.milestones)} milestones: too "
                          "many to number here; the HTML page lists them all.",
                          fontsize=KEY_FONT, va="center", color="#555555")


def figure(series: Sequence[Day | tuple[datetime, float]], milestones: Sequence[Milestone],
           alerts: Sequence[AlertMark], *, levels: Mapping[str, float], title: str,
           summary: Summary | None = None) -> tuple[Figure, dict[str, str]]:
    """The chart as a matplotlib figure, and the tooltip of each SVG group id."""
    builder = _Builder(_days(series), milestones, alerts, _checked_levels(levels), title,
                       summary)
    return builder.build(), builder.tooltips


# ------------------------------------------------------------------ tables and files
def milestone_rows(milestones: Sequence[Milestone]) -> list[dict[str, str]]:
    """The page's milestone table: one row per badge number."""
    return [{"#": str(n), "date": s.day.isoformat(), "milestone": s.title,
             "categories": ", ".join(s.categories),
             "alert": (f"{s.level or 'alert'} {_stamp(s.alert_at)}" if s.alert_at
                       else "yes" if s.caught else _outcome(s)),
             "lead (h)": f"{s.lead_hours:+.1f}" if s.lead_hours is not None else ""}
            for n, s in enumerate(milestones, start=1)]


def _alert_rows(alerts: Sequence[AlertMark]) -> list[dict[str, str]]:
    return [{"alert": f"#{a.alert_id}", "raised": _stamp(a.at), "level": a.level,
             "verdict": "false alert" if a.false else "near a milestone"} for a in alerts]


def write_chart(series: Sequence[Day | tuple[datetime, float]],
                milestones: Sequence[Milestone], alerts: Sequence[AlertMark], *,
                png: Path, html: Path, title: str, levels: Mapping[str, float],
                summary: Summary | None = None,
                rows: Sequence[Mapping[str, str]] | None = None) -> None:
    """Write the index chart as ``png`` and as a self-contained, script-free ``html`` page.

    ``levels`` are the watch's (``Watch.levels``): the bands and where alerts sit follow
    them. ``summary`` adds the backtest's figures to both. ``rows`` (column -> text) replace
    the page's milestone table. Each file is replaced atomically, so a reader never sees
    half a chart.
    """
    fig, tooltips = figure(series, milestones, alerts, levels=levels, title=title,
                           summary=summary)
    picture = io.BytesIO()
    fig.savefig(picture, format="png", dpi=DPI, metadata={"Software": None})
    sections = [("Milestones", chart_page.table(milestone_rows(milestones) if rows is None
                                                else rows))]
    if alerts:
        sections.append(("Alerts", chart_page.table(_alert_rows(alerts))))
    text = chart_page.page(title, chart_page.figures(summary.parts() if summary else []),
                           chart_page.svg_with_tooltips(fig, tooltips), sections)
    chart_page.write_atomic(png, picture.getvalue())
    chart_page.write_atomic(html, text.encode("utf-8"))


def backtest_chart(result: Backtest, levels: Mapping[str, float], *, png: Path, html: Path,
                   title: str) -> None:
    """Write the chart of a ``tocsin.alerts.backtest.Backtest`` for a watch's ``levels``."""
    tops = result.top_indicators
    series = [Day(at, value, tops.get(at, ())) for at, value in result.series]
    false_ids = {id(d) for d in result.false_alerts}
    # an alert below the watch level (a rule rang, the index did not) sits on its day
    marks = [AlertMark(d.first_at, d.level or "below watch", n, id(d) in false_ids)
             for n, d in enumerate(result.alerts, start=1)]
    stones = [Milestone(o.milestone.day, o.milestone.title, o.milestone.categories,
                        o.caught, o.covered, o.alert_at, o.level, o.lead_hours)
              for o in result.outcomes]
    write_chart(series, stones, marks, png=png, html=html, title=title, levels=levels,
                summary=Summary.of(result.summary()))


__all__ = ["AlertMark", "ChartError", "Day", "Milestone", "Summary", "backtest_chart",
           "bands", "figure", "level_of", "milestone_rows", "write_chart"]
