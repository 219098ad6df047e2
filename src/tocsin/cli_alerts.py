"""Scores, alerts, replay and backtest commands."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tocsin.alerts.backtest import Backtest, backtest, read_timeline, replay
from tocsin.alerts.chart import AlertMark, Milestone, write_chart
from tocsin.alerts.engine import Draft, shown_index
from tocsin.alerts.feed import index_number, level_name, printable, render_atom, standing
from tocsin.alerts.notice import notices, row_level, row_rule_level
from tocsin.alerts.store import (
    STATES,
    alert_live,
    get_alert,
    list_alerts,
    move,
    owed,
    payload,
    review,
)
from tocsin.cli_delivery import Delivery
from tocsin.errors import TocsinError
from tocsin.indicators.pack import load_pack
from tocsin.scoring.index import Scorer, Snapshot, bucket_start, bucket_step, series
from tocsin.scoring.items import first_document_time, load_items
from tocsin.scoring.watch import Watch, load_watches, select
from tocsin.store.queries import alert_trail


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"


class AlertsFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"
    atom = "atom"


class Bucket(StrEnum):
    day = "day"
    hour = "hour"


BY = typer.Option("--by", help="Who you are (kept with the change).")
NOTE = typer.Option("--note", help="Why.")


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _line(out: Console, obj: dict[str, Any]) -> None:
    out.print(json.dumps(obj, ensure_ascii=False, default=_iso), markup=False,
              highlight=False, soft_wrap=True)


def parse_when(value: str | None, option: str) -> datetime | None:
    """An ISO date or time from the command line; UTC unless it says otherwise."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD) or time",
                                 param_hint=option) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _watches(context: Any, name: str | None) -> tuple[Any, list[Watch]]:
    pack = load_pack(context.settings.pack)
    return pack, select(load_watches(pack), name or context.settings.watch)


def _level_style(level: str | None) -> str:
    return {"critical": "bold red", "warning": "red", "watch": "yellow"}.get(level or "", "")


def _level_cells(level: str | None, index: float, rule_level: str | None) -> list[Text | str]:
    """The level, index and rule level columns of an alert row (README, "Levels")."""
    return [Text(level_name(level), style=_level_style(level)), index_number(index),
            Text(rule_level or "", style=_level_style(rule_level))]


def draft_table(drafts: list[Draft], title: str) -> Table:
    table = Table(title=title)
    for column in ("#", "at (UTC)", "watch", "level", "peak index", "rule level",
                   "categories", "rules", "evidence", "updates"):
        table.add_column(column, overflow="fold")
    for n, d in enumerate(drafts, start=1):
        table.add_row(str(n), d.first_at.strftime("%Y-%m-%d %H:%M"), d.watch,
                      *_level_cells(d.level, d.index, d.rule_level),
                      ", ".join(d.categories), ", ".join(d.rules), str(len(d.evidence)),
                      str(len(d.events) - 1))
    return table


def backtest_table(result: Backtest) -> Table:
    table = Table(title=f"backtest of {result.watch}")
    for column in ("date", "milestone", "categories", "alert", "on day", "lead (h)"):
        table.add_column(column, overflow="fold")
    for o in result.outcomes:
        lead = o.lead_hours
        table.add_row(
            o.milestone.day.isoformat(), Text(printable(o.milestone.title)),
            Text(", ".join(o.milestone.categories)),
            Text(f"{o.alert_at:%Y-%m-%d %H:%M} "
                 f"{standing(o.level, o.index, o.rule_level, 'peak index')}", style="green")
            if o.alert_at else Text("missed", style="red") if o.covered
            else Text("not covered by the store", style="dim"),
            "yes" if o.on_day else "no", f"{lead:+.1f}" if lead is not None else "")
    s = result.summary()
    lead = s["median_lead_hours"]
    table.caption = (f"{s['caught']}/{s['covered']} milestones covered by the store "
                     f"alerted ({s['on_day']} on the day), median lead "
                     f"{'-' if lead is None else f'{lead:+.1f}'} h; "
                     f"{s['alerts']} alerts, {s['false_alerts']} false over "
                     f"{s['quiet_days']} quiet days = {s['false_alerts_per_30_quiet_days']} "
                     f"per 30 quiet days")
    return table


def run_backtest(context: Any, timeline: Path, watch_name: str | None, out_dir: Path,
                 window_days: int) -> list[tuple[Backtest, Path, Path]]:
    pack, watches = _watches(context, watch_name)
    categories = {i.category for i in pack.indicators}
    milestones = read_timeline(timeline, categories)
    store = context.store()
    results = []
    try:
        for watch in watches:
            result = backtest(store.engine, pack, watch, milestones, window_days)
            png = out_dir / f"backtest-{watch.id}.png"
            html = out_dir / f"backtest-{watch.id}.html"
            marks = [AlertMark(d.first_at, level_name(d.level), n, d in result.false_alerts)
                     for n, d in enumerate(result.alerts, start=1)]
            chart_milestones = [Milestone(o.milestone.day, o.milestone.title,
                                          o.milestone.categories, o.caught)
                                for o in result.outcomes]
            rows = [{"date": o.milestone.day.isoformat(), "milestone": o.milestone.title,
                     "categories": ", ".join(o.milestone.categories),
                     "alert": f"{o.alert_at:%Y-%m-%d %H:%M} "
                              f"{standing(o.level, o.index, o.rule_level, 'peak index')}"
                     if o.alert_at else "missed" if o.covered else "not covered",
                     "lead (h)": f"{o.lead_hours:+.1f}" if o.lead_hours is not None else ""}
                    for o in result.outcomes]
            write_chart(result.series, chart_milestones, marks, png=png, html=html,
                        title=f"tocsin backtest: {watch.title or watch.id}", rows=rows)
            results.append((result, png, html))
    finally:
        store.close()
    return results


def register(app: typer.Typer, out: Console, err: Console,
             context: Callable[[typer.Context], Any],
             fail: Callable[[Exception], NoReturn]) -> None:
    @app.command("watches")
    def watches_command(ctx: typer.Context) -> None:
        """List the pack's watches: scope, weights, levels and alert rules."""
        try:
            _, watches = _watches(context(ctx), None)
        except TocsinError as exc:
            fail(exc)
        for w in watches:
            out.print(Text(f"{w.id}: {w.title}", style="bold"))
            out.print(Text(f"  levels {w.levels}; cooldown {w.cooldown_hours:g} h; "
                           f"baseline {w.baseline.days} {w.baseline.bucket}s"))
            for rule in w.rules:
                out.print(Text(f"  rule {rule.id} ({rule.kind}) -> {rule.level}"))
            out.print(Text(f"  defined in {w.where}", style="dim"))

    @app.command("scores")
    def scores_command(
        ctx: typer.Context,
        watch: Annotated[str | None, typer.Option(help="Watch id (default: all).")] = None,
        bucket: Annotated[Bucket, typer.Option(help="Bucket size.")] = Bucket.day,
        since: Annotated[str | None, typer.Option("--from", help="First bucket (UTC).")]
        = None,
        until: Annotated[str | None, typer.Option("--to", help="Last bucket (UTC), "
                                                  "inclusive.")] = None,
        every: Annotated[bool, typer.Option("--all", help="Show empty buckets too.")] = False,
        fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    ) -> None:
        """The escalation index per bucket, explained by category and indicator."""
        start, end = parse_when(since, "--from"), parse_when(until, "--to")
        try:
            ctx_obj = context(ctx)
            pack, watches = _watches(ctx_obj, watch)
            store = ctx_obj.store()
            history = first_document_time(store.engine)
            found: list[Snapshot] = []
            for w in watches:
                last = None if end is None else \
                    bucket_start(end, bucket.value) + bucket_step(bucket.value)
                items = load_items(store.engine, w, pack, until=last)
                scorer = Scorer(w, bucket=bucket.value, history_start=history)
                snaps = series(scorer, items, None, end)
                found.extend(s for s in snaps if (every or s.indicators)
                             and (start is None or s.start >= start))
            store.close()
        except TocsinError as exc:
            fail(exc)
        if fmt == "jsonl":
            for snap in found:
                _line(out, snap.to_json())
            return
        table = Table(title=f"escalation index per {bucket.value}")
        for column in ("bucket (UTC)", "watch", "index", "level", "pulls", "top indicators"):
            table.add_column(column, overflow="fold")
        for snap in found:
            top = [f"{s.indicator} {s.value:.2f} ({len(s.origins)} orig, z {s.anomaly:.1f})"
                   for s in snap.indicators[:3]]
            table.add_row(snap.start.strftime("%Y-%m-%d %H:%M"), snap.watch,
                          index_number(snap.index), Text(level_name(snap.level),
                                                         style=_level_style(snap.level)),
                          ", ".join(f"{c} {p:+.2f}" for c, p in snap.pulls.items()),
                          "\n".join(top))
        out.print(table)

    @app.command("alerts")
    def alerts_command(
        ctx: typer.Context,
        watch: Annotated[str | None, typer.Option(help="Only this watch.")] = None,
        state: Annotated[str | None, typer.Option(
            help="Only alerts in this state (new, acknowledged, confirmed, dismissed).")]
        = None,
        limit: Annotated[int, typer.Option(min=1)] = 50,
        fmt: Annotated[AlertsFormat, typer.Option("--format", "-f")] = AlertsFormat.table,
    ) -> None:
        """List the alerts, newest first (`--format atom` prints an Atom feed)."""
        if state is not None and state not in STATES:
            raise typer.BadParameter(f"choose among {', '.join(STATES)}", param_hint="--state")
        try:
            store = context(ctx).store()
            rows = list_alerts(store.engine, watch, state, limit)
            shown = notices(store.engine, rows) if fmt != "table" else []
            store.close()
        except TocsinError as exc:
            fail(exc)
        if fmt == "jsonl":
            for notice in shown:
                _line(out, notice)
            return
        if fmt == "atom":
            feed = render_atom(shown,
                               feed_id="urn:tocsin:alerts", title="tocsin alerts",
                               updated=max((r.updated_at for r in rows),
                                           default=datetime.now(UTC)))
            typer.echo(feed.decode("utf-8"), nl=False)
            return
        table = Table(title=f"{len(rows)} alerts")
        for column in ("id", "first (UTC)", "last (UTC)", "watch", "level", "peak index",
                       "rule level", "state", "title"):
            table.add_column(column, overflow="fold")
        for r in rows:
            table.add_row(str(r.id), r.first_at.strftime("%Y-%m-%d %H:%M"),
                          r.last_at.strftime("%Y-%m-%d %H:%M"), r.watch,
                          *_level_cells(row_level(r), r.index, row_rule_level(r)),
                          r.state, Text(r.title))
        out.print(table)

    @app.command("alert")
    def alert_command(
        ctx: typer.Context,
        alert_id: Annotated[int, typer.Argument(help="Alert id (from `tocsin alerts`).")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
        limit: Annotated[int, typer.Option(min=1, help="Pieces of evidence shown in text "
                                           "(json gives all).")] = 40,
    ) -> None:
        """Show an alert's evidence trail: why it rang, the sentences, sources, grades
        and echo chains behind it, and its lifecycle."""
        if fmt not in ("text", "json"):
            raise typer.BadParameter("choose text or json", param_hint="--format")
        try:
            store = context(ctx).store()
            data = get_alert(store.engine, alert_id)
            trail = alert_trail(store.engine, [x.evidence_id for x in data["links"]],
                                data["alert"].pack)
            store.close()
        except TocsinError as exc:
            fail(exc)
        row = data["alert"]
        if fmt == "json":
            body = payload(row, "state", sorted(link.evidence_id for link in data["links"]))
            body |= {"reasons": row.reasons, "snapshot": row.snapshot, "trail": trail,
                     "events": [{"at": e.at, "kind": e.kind, "level": e.level,
                                 "index": e.index, "by": e.by, "note": e.note}
                                for e in data["events"]]}
            _line(out, body)
            return
        _render_alert(out, row, data["events"], trail, limit)

    def _move(ctx: typer.Context, alert_id: int, state: str, by: str, note: str) -> None:
        try:
            ctx_obj = context(ctx)
            delivery = Delivery.from_settings(ctx_obj.settings, err)
            store = ctx_obj.store()
            try:  # the channels hear of it (the Atom feed's entry changes)
                row = move(store.engine, alert_id, state, by, note, delivery.outbox(store))
                delivery.run(store, budget=ctx_obj.settings.deliver_wait)
            finally:
                store.close()
        except TocsinError as exc:
            fail(exc)
        out.print(Text(f"alert {row.id} is now {row.state} ({by})"))

    @app.command("ack")
    def ack_command(ctx: typer.Context, alert_id: int,
                    by: Annotated[str, BY], note: Annotated[str, NOTE] = "",
                    ) -> None:
        """Acknowledge an alert: someone is looking at it."""
        _move(ctx, alert_id, "acknowledged", by, note)

    @app.command("confirm")
    def confirm_command(ctx: typer.Context, alert_id: int,
                        by: Annotated[str, BY], note: Annotated[str, NOTE] = "",
                        ) -> None:
        """Confirm an alert: the development is real."""
        _move(ctx, alert_id, "confirmed", by, note)

    @app.command("dismiss")
    def dismiss_command(ctx: typer.Context, alert_id: int,
                        by: Annotated[str, BY], note: Annotated[str, NOTE] = "",
                        ) -> None:
        """Dismiss an alert: a false alarm."""
        _move(ctx, alert_id, "dismissed", by, note)

    @app.command("review")
    def review_command(
        ctx: typer.Context,
        evidence_id: Annotated[int, typer.Argument(help="Evidence id (see `tocsin alert`).")],
        verdict: Annotated[str, typer.Argument(help="true (a right detection) or false.")],
        by: Annotated[str, BY], note: Annotated[str, NOTE] = "",
    ) -> None:
        """Mark one piece of evidence true or false; `tocsin eval` reports the precision
        of the reviews."""
        if verdict not in ("true", "false"):
            raise typer.BadParameter("say true or false", param_hint="VERDICT")
        try:
            store = context(ctx).store()
            review(store.engine, evidence_id, verdict == "true", by, note)
            store.close()
        except TocsinError as exc:
            fail(exc)
        out.print(Text(f"evidence {evidence_id} marked {verdict} ({by})"))

    @app.command("realert")
    def realert_command(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option("--from", help="Evaluate again from "
                                                  "this date (UTC); default: what is "
                                                  "owed.")] = None,
    ) -> None:
        """Run alerting now on what is owed (after reviews, grade changes, `redetect`,
        an interrupted ingest) or from --from (after editing a watch), storing and
        delivering what changes."""
        start = parse_when(since, "--from")
        try:
            ctx_obj = context(ctx)
            pack, watches = _watches(ctx_obj, None)
            delivery = Delivery.from_settings(ctx_obj.settings, err)
            store = ctx_obj.store()
            try:
                starts = [t for t in (start, owed(store.engine)) if t is not None]
                begin = min(starts) if starts else None
                changes = [] if begin is None else alert_live(
                    store.engine, pack, watches, begin, on_change=delivery.announce,
                    complete=ctx_obj.settings.watch is None, on_wait=delivery.waiting,
                    outbox=delivery.outbox(store))
                delivery.run(store, budget=ctx_obj.settings.deliver_wait)
            finally:
                store.close()
        except TocsinError as exc:
            fail(exc)
        if begin is None:
            out.print(Text("nothing owed: alerts are up to date"))
            return
        kinds = Counter(c.event for c in changes)
        out.print(Text(f"evaluated from {begin:%Y-%m-%d %H:%M} UTC: "
                       f"{kinds['raised']} raised, {kinds['updated']} updated, "
                       f"{kinds['withdrawn']} withdrawn"))

    @app.command("replay")
    def replay_command(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option("--from", help="Start (UTC); earlier "
                                                  "evidence still feeds baselines.")] = None,
        until: Annotated[str | None, typer.Option("--to", help="End (UTC), exclusive.")]
        = None,
        watch: Annotated[str | None, typer.Option(help="Watch id (default: all).")] = None,
        fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    ) -> None:
        """Re-run scoring and alerting over the store in time order, as if live, and
        print the alerts it would have raised (nothing is stored or sent)."""
        start, end = parse_when(since, "--from"), parse_when(until, "--to")
        try:
            ctx_obj = context(ctx)
            pack, watches = _watches(ctx_obj, watch)
            store = ctx_obj.store()
            drafts = [d for w in watches for d in replay(store.engine, pack, w, start, end)]
            store.close()
        except TocsinError as exc:
            fail(exc)
        drafts.sort(key=lambda d: (d.first_at, d.watch))
        if fmt == "jsonl":
            for d in drafts:
                _line(out, d.to_json())
            return
        out.print(draft_table(drafts, f"{len(drafts)} alerts in replay"))

    @app.command("backtest")
    def backtest_command(
        ctx: typer.Context,
        timeline: Annotated[Path, typer.Option(help="Milestones: YAML or CSV with date, "
                                               "title, categories.")],
        watch: Annotated[str | None, typer.Option(help="Watch id (default: all).")] = None,
        out_dir: Annotated[Path | None, typer.Option(
            "--out", help="Folder for the chart (default: <data_dir>/backtest).")] = None,
        window: Annotated[int, typer.Option(min=0, max=14, help="Days around a milestone "
                                            "in which an alert counts for it.")] = 2,
        fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    ) -> None:
        """Score a timeline of real milestones: alerted or not, lead time, and false
        alerts per 30 quiet days; writes a PNG and an HTML chart."""
        try:
            ctx_obj = context(ctx)
            target = out_dir or ctx_obj.settings.data_dir / "backtest"
            results = run_backtest(ctx_obj, timeline, watch, target, window)
        except TocsinError as exc:
            fail(exc)
        print_backtest(out, err, results, fmt)


def print_backtest(out: Console, err: Console, results: list[tuple[Backtest, Path, Path]],
                   fmt: str = "table") -> None:
    for result, png, html in results:
        if fmt == "jsonl":
            for o in result.outcomes:
                _line(out, {"watch": result.watch, "date": o.milestone.day.isoformat(),
                            "title": o.milestone.title,
                            "categories": list(o.milestone.categories),
                            "alerted": o.caught, "on_day": o.on_day, "covered": o.covered,
                            "alert_at": o.alert_at.isoformat() if o.alert_at else None,
                            "level": o.level, "index": None if o.index is None
                            else shown_index(o.index), "rule_level": o.rule_level,
                            "first_document": o.first_document.isoformat()
                            if o.first_document else None,
                            "lead_hours": round(o.lead_hours, 1)
                            if o.lead_hours is not None else None})
            _line(out, {"summary": result.summary()})
        else:
            out.print(backtest_table(result))
        err.print(Text(f"chart: {png} and {html}", style="dim"))


def demo_timeline() -> Any:
    return resources.files("tocsin.demo").joinpath("timeline.yaml")


def _render_alert(out: Console, row: Any, events: list[Any],
                  trail: list[dict[str, Any]], limit: int = 40) -> None:
    level, rule_level = row_level(row), row_rule_level(row)
    out.print(Text(f"alert {row.id} · {row.watch} · ", style="bold")
              + Text(standing(level, row.index, rule_level, "peak index"),
                     style=_level_style(level))
              + Text(f" · {row.state}"))
    out.print(Text(row.title))
    out.print(Text(f"from {row.first_at:%Y-%m-%d %H:%M} to {row.last_at:%Y-%m-%d %H:%M} UTC;"
                   f" categories: {', '.join(row.categories)}; rules: {', '.join(row.rules)}"))
    out.print(Text("\nwhy it rang", style="bold"))
    for reason in row.reasons:
        out.print(Text(f"  - {reason}"))
    snap = row.snapshot or {}
    if snap:
        out.print(Text(f"\npeak index {index_number(row.index)} at {snap.get('at')} "
                       f"({level_name(level)}), pulls by category:", style="bold"))
        for category, pull in (snap.get("pulls") or {}).items():
            out.print(Text(f"  {category:<15} {pull:+.3f}"))
        table = Table(show_header=True)
        for column in ("indicator", "value", "origins (grade)", "credibility", "baseline",
                       "anomaly"):
            table.add_column(column, overflow="fold")
        for s in snap.get("indicators", []):
            origins = ", ".join(f"{o['origin']} ({o['grade']}, {o['polarity']})"
                                for o in s["origins"])
            base = s["baseline"]
            table.add_row(s["indicator"], f"{s['value']:.2f}", Text(origins),
                          f"{s['credibility']} {s['credibility_meaning']}",
                          f"{base['median']:.2f} ± {base['spread']:.2f}"
                          + (" (cold start)" if base["cold_start"] else ""),
                          f"{s['anomaly']:.1f}")
        out.print(table)
    out.print(Text(f"\nevidence ({len(trail)})", style="bold"))
    for t in trail[:limit]:
        when = t["published_at"].strftime("%Y-%m-%d %H:%M") if t["published_at"] else "?"
        out.print(Text(f"  #{t['evidence']} {t['indicator']} [{t['polarity']}] · {when} · "
                       f"{t['source']} (grade {t['grade']}) · doc {t['document']}",
                       style="bold"))
        out.print(Text(f"    “{t['sentence']}”"))
        if t["review"] is not None:
            out.print(Text(f"    reviewed: {'true' if t['review'] else 'false'} detection",
                           style="dim"))
        if t["chain"] and len(t["chain"]) > 1:
            out.print(Text(f"    story {t['story']}, origin {t['origin']}: "
                           + "; ".join(t["chain"]), style="dim"))
    if len(trail) > limit:
        out.print(Text(f"  ... {len(trail) - limit} more (--limit, or -f json)", style="dim"))
    out.print(Text("\nlifecycle", style="bold"))
    for e in events:
        who = f" by {e.by}" if e.by else ""
        out.print(Text(f"  {e.at:%Y-%m-%d %H:%M} {e.kind}{who}"
                       + (f": {e.note}" if e.note else "")))
