"""Draw one watch's escalation index with milestones and alerts: a PNG and a standalone HTML page.

Pyplot is never imported: a bare ``Figure`` with an Agg canvas is thread-safe, keeps no global
figure registry and can never open a window, so this runs inside a server or a batch job.
"""

from __future__ import annotations

import html
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from tocsin.errors import TocsinError

SIZE_INCHES = (14.0, 5.0)
DPI = 110
LABEL_CHARS = 40
TITLE_CHARS = 120
CAUGHT, MISSED = "#2e7d32", "#c62828"
ALERT, FALSE_ALERT = "#b71c1c", "#9e6b6b"
# The page may only use its own inline styles and data: images; nothing is ever fetched.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class Milestone:
    """One dated event from an analyst's timeline, and whether an alert caught it."""

    day: date
    title: str
    categories: tuple[str, ...]
    caught: bool


@dataclass(frozen=True)
class AlertMark:
    """One raised alert; ``false`` means it fell outside every milestone window."""

    at: datetime
    level: str
    alert_id: int
    false: bool


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _num(moment: datetime | date) -> float:
    # Naive datetimes are read as UTC (as matplotlib does); a bare date means midnight UTC.
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    return float(date2num(moment))


def _level_at(xs: np.ndarray, ys: np.ndarray, x: float) -> float:
    """The index value shown by the step line at ``x`` (the last point at or before it)."""
    i = int(np.searchsorted(xs, x, side="right")) - 1
    return float(ys[i]) if i >= 0 else 0.0


def _figure(series: Sequence[tuple[datetime, float]], milestones: Sequence[Milestone],
            alerts: Sequence[AlertMark], title: str) -> Figure:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # Untrusted titles may hold "$...$": parse_math=False keeps mathtext from reading them.
    ax.set_title(_shorten(title, TITLE_CHARS), loc="left", fontsize=11, parse_math=False)
    ax.set_ylim(0, 100)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_ylabel("escalation index", color="#555555")
    for low, alpha in ((25, 0.05), (50, 0.09), (75, 0.14)):
        ax.axhspan(low, low + 25, color=MISSED, alpha=alpha, linewidth=0, zorder=0)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)

    points = sorted((_num(at), float(value)) for at, value in series)
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    if len(xs):
        ax.step(xs, ys, where="post", color="#1f3b73", linewidth=1.0, zorder=3)
        ax.fill_between(xs, ys, step="post", color="#1f3b73", alpha=0.12, linewidth=0, zorder=2)
    else:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                fontsize=16, color="#888888")

    for stone in milestones:
        x = _num(stone.day)
        colour = CAUGHT if stone.caught else MISSED
        ax.axvline(x, color=colour, linewidth=0.9, alpha=0.8, zorder=4)
        ax.text(x, 98, _shorten(stone.title, LABEL_CHARS), rotation=90, ha="right", va="top",
                fontsize=7, color=colour, parse_math=False, zorder=5)

    for mark in alerts:
        x = _num(mark.at)
        y = _level_at(xs, ys, x) if len(xs) else 0.0
        if mark.false:
            ax.plot([x], [y], marker="^", markersize=8, linestyle="none", zorder=6,
                    markerfacecolor="none", markeredgecolor=FALSE_ALERT)
        else:
            ax.plot([x], [y], marker="^", markersize=8, linestyle="none", zorder=6,
                    color=ALERT, markeredgecolor="white", markeredgewidth=0.6)

    moments = list(xs) + [_num(s.day) for s in milestones] + [_num(a.at) for a in alerts]
    if moments:
        low, high = min(moments), max(moments)
        pad = max((high - low) * 0.01, 1.0)
        ax.set_xlim(low - pad, high + pad)
        locator = AutoDateLocator(tz=UTC)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
    else:
        ax.set_xticks([])

    ax.legend(handles=[
        Line2D([], [], color="#1f3b73", label="index"),
        Line2D([], [], color=CAUGHT, label="milestone caught"),
        Line2D([], [], color=MISSED, label="milestone missed"),
        Line2D([], [], marker="^", linestyle="none", color=ALERT, label="alert"),
        Line2D([], [], marker="^", linestyle="none", markerfacecolor="none",
               markeredgecolor=FALSE_ALERT, label="false alert"),
    ], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def _svg(fig: Figure) -> str:
    buffer = io.BytesIO()
    # A fixed salt gives stable element ids; fonttype "none" keeps labels as (escaped) text.
    with matplotlib.rc_context({"svg.hashsalt": "tocsin", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    # Inline SVG inside HTML must not carry the XML declaration or DOCTYPE.
    return text[text.index("<svg"):]


def _table(rows: list[dict[str, str]] | None, milestones: Sequence[Milestone]) -> str:
    if rows is None:
        rows = [{"date": s.day.isoformat(), "title": s.title,
                 "categories": ", ".join(s.categories), "caught": "yes" if s.caught else "no"}
                for s in milestones]
    if not rows:
        return "<p class=\"empty\">No rows.</p>"
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(c, '')))}</td>" for c in columns) + "</tr>"
        for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _page(title: str, svg: str, table: str) -> str:
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
figure {{ margin: 0 0 1.5rem 0; }}
figure svg {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }}
th {{ background: #f4f4f4; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<figure>
{svg}
</figure>
{table}
</body>
</html>
"""
    # Belt and braces: every text above is escaped, and the page must stay script-free.
    if "<script" in page.lower():
        raise TocsinError(f"chart page for {title!r} would contain a script element; "
                          "report this as a bug in tocsin.alerts.chart")
    return page


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                # mkstemp makes 0600 files; a chart is meant to be served and shared.
                os.fchmod(out.fileno(), 0o644)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise TocsinError(f"cannot write chart {path}: {exc.strerror or exc}; "
                          "check that the folder exists and is writable") from exc


def write_chart(series: list[tuple[datetime, float]], milestones: list[Milestone],
                alerts: list[AlertMark], *, png: Path, html: Path, title: str,
                rows: list[dict[str, str]] | None = None) -> None:
    """Write the index chart as ``png`` and as a self-contained, script-free ``html`` page.

    ``rows`` (column -> text) become the table under the chart; without them the table lists
    the milestones. Each file is replaced atomically, so a reader never sees half a chart.
    """
    fig = _figure(series, milestones, alerts, title)
    picture = io.BytesIO()
    fig.savefig(picture, format="png", dpi=DPI, metadata={"Software": None})
    page = _page(title, _svg(fig), _table(rows, milestones))
    _write_atomic(png, picture.getvalue())
    _write_atomic(html, page.encode("utf-8"))
