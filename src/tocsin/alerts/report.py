"""A backtest with its chart: the figures per watch, and the PNG and HTML drawn of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tocsin.alerts.backtest import Backtest, backtest, read_timeline
from tocsin.alerts.engine import shown_index
from tocsin.indicators.pack import Pack
from tocsin.scoring.watch import Watch


def run_backtest(engine: Any, pack: Pack, watches: list[Watch], timeline: Path, out_dir: Path,
                 window_days: int) -> list[tuple[Backtest, Path, Path]]:
    """Backtest each watch on ``timeline``; per watch the result and its PNG and HTML."""
    from tocsin.alerts.chart import backtest_chart  # matplotlib: only this draws

    categories = {i.category for i in pack.indicators}
    milestones = read_timeline(timeline, categories)
    results = []
    for watch in watches:
        result = backtest(engine, pack, watch, milestones, window_days)
        png = out_dir / f"backtest-{watch.id}.png"
        html = out_dir / f"backtest-{watch.id}.html"
        backtest_chart(result, watch.levels, png=png, html=html,
                       title=f"tocsin backtest: {watch.title or watch.id}")
        results.append((result, png, html))
    return results


def outcome_record(watch: str, o: Any) -> dict[str, Any]:
    """One milestone's outcome as `tocsin backtest -f jsonl` prints it."""
    return {"watch": watch, "date": o.milestone.day.isoformat(), "title": o.milestone.title,
            "categories": list(o.milestone.categories), "alerted": o.caught,
            "on_day": o.on_day, "covered": o.covered,
            "alert_at": o.alert_at.isoformat() if o.alert_at else None, "level": o.level,
            "index": None if o.index is None else shown_index(o.index),
            "rule_level": o.rule_level,
            "first_document": o.first_document.isoformat() if o.first_document else None,
            "lead_hours": round(o.lead_hours, 1) if o.lead_hours is not None else None}
