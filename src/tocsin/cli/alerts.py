"""Watches, scores, alerts and their lifecycle, reviews, realert, replay and backtest."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tocsin.cli.common import (
    BY,
    FORMAT,
    NOTE,
    WIDE,
    Col,
    Format,
    api,
    app,
    cell,
    emit,
    err,
    level_style,
    line,
    out,
    parse_when,
)

if TYPE_CHECKING:
    from tocsin.alerts.backtest import Backtest


class AlertsFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"
    atom = "atom"


class Bucket(StrEnum):
    day = "day"
    hour = "hour"


@app.command("watches")
def watches_command(ctx: typer.Context) -> None:
    """List the pack's watches: scope, weights, levels and alert rules."""
    with api(ctx) as t:
        watches = t.watches()
    for w in watches:
        out.print(Text(f"{w.id}: {w.title}", style="bold"))
        out.print(Text(f"  levels {w.levels}; cooldown {w.cooldown_hours:g} h; "
                       f"baseline {w.baseline.days} {w.baseline.bucket}s"))
        for rule in w.rules:
            out.print(Text(f"  rule {rule.id} ({rule.kind}) -> {rule.level}"))
        out.print(Text(f"  defined in {w.where}", style="dim"))


def _top(snap: Any) -> str:
    return "; ".join(f"{s.indicator} {s.value:.2f} ({len(s.origins)} orig)"
                     for s in snap.indicators[:2])


SCORE_COLUMNS = [
    Col("bucket (UTC)", lambda s: s.start),
    Col("watch", lambda s: s.watch, keep=2),
    Col("index", lambda s: index_number(s.index)),
    Col("level", lambda s: level_name(s.level), style=lambda s: level_style(s.level)),
    Col("pulls", lambda s: ", ".join(f"{c} {p:+.2f}" for c, p in s.pulls.items()), flex=True,
        keep=2),
    Col("top indicators", _top, flex=True, min_width=20),
]


@app.command("scores")
def scores_command(
    ctx: typer.Context,
    watch: Annotated[str | None, typer.Option(help="Watch id (default: all).")] = None,
    bucket: Annotated[Bucket, typer.Option(help="Bucket size.")] = Bucket.day,
    since: Annotated[str | None, typer.Option("--from", help="First bucket (UTC date, time "
                                              "or span back such as 30d), inclusive.")]
    = None,
    until: Annotated[str | None, typer.Option("--to", help="Last bucket (UTC), "
                                              "inclusive.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Show empty buckets too.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Newest buckets shown.")] = 20,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """The escalation index per bucket, newest first, explained by category and
    indicator."""
    start, end = parse_when(since, "--from"), parse_when(until, "--to", end=True)
    with api(ctx) as t:
        found = t.scores(watch, bucket.value, start, end, every)
    found.sort(key=lambda s: (s.start, s.watch), reverse=True)
    shown = found[:limit]
    emit(shown, SCORE_COLUMNS, fmt, f"escalation index per {bucket.value}, newest first "
         f"({len(shown)} of {len(found)})", wide=wide, record=lambda s: s.to_json())


ALERT_COLUMNS = [
    Col("id", lambda r: r["id"]),
    Col("first (UTC)", lambda r: _parse(r["at"])),
    Col("last (UTC)", lambda r: _parse(r["updated_at"]), keep=3),
    Col("watch", lambda r: r["watch"], keep=3),
    Col("level", lambda r: level_name(r["level"]), style=lambda r: level_style(r["level"])),
    Col("peak", lambda r: index_number(r["index"])),
    Col("rules", lambda r: _rule_level(r["level"], r["rule_level"]),
        style=lambda r: level_style(r["rule_level"])),
    Col("state", lambda r: r["state"], keep=2),
    Col("categories", lambda r: r.get("categories"), keep=3, flex=True),
    Col("title", lambda r: r["title"], flex=True, min_width=20),
]


@app.command("alerts")
def alerts_command(
    ctx: typer.Context,
    watch: Annotated[str | None, typer.Option(help="Only this watch.")] = None,
    state: Annotated[str | None, typer.Option(
        help="Only alerts in this state (new, acknowledged, confirmed, dismissed, "
             "withdrawn).")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    fmt: Annotated[AlertsFormat, typer.Option("--format", "-f", help="table, jsonl, csv or "
                                              "atom (an Atom feed).")] = AlertsFormat.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """List the alerts, newest first (`--format atom` prints an Atom feed)."""
    from datetime import UTC, datetime

    with api(ctx) as t:
        rows = t.alerts(watch, state, limit)
    if fmt == "atom":
        from tocsin.alerts.feed import render_atom

        feed = render_atom(rows, feed_id="urn:tocsin:alerts", title="tocsin alerts",
                           updated=max((_parse(r["updated_at"]) for r in rows),
                                       default=datetime.now(UTC)))
        typer.echo(feed.decode("utf-8"), nl=False)
        return
    emit(rows, ALERT_COLUMNS, fmt.value, f"{len(rows)} alerts, newest first", wide=wide)


# The one wording of levels (README, "Levels") lives in alerts/feed.py; imported when
# first used, as it loads the XML writer.
def index_number(value: object) -> str:
    from tocsin.alerts.feed import index_number

    return index_number(value)


def level_name(level: object) -> str:
    from tocsin.alerts.feed import level_name

    return level_name(level)


def standing(level: object, index: object, rule_level: object = None,
             label: str = "index") -> str:
    from tocsin.alerts.feed import standing

    return standing(level, index, rule_level, label)


def _rule_level(level: str | None, rule_level: str | None) -> str:
    """The rules' level, shown where it says more than the index's level."""
    from tocsin.scoring.watch import level_rank

    return rule_level or "" if level_rank(rule_level) > level_rank(level) else ""


def _parse(value: Any) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


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
    with api(ctx) as t:
        body = t.alert(alert_id)
    if fmt == "json":
        line(body)
        return
    render_alert(body, limit)


def _move(ctx: typer.Context, alert_id: int, state: str, by: str, note: str) -> None:
    with api(ctx) as t:
        row = t.move(alert_id, state, by, note)
    out.print(Text(f"alert {row['id']} is now {row['state']} ({by})"))


@app.command("ack")
def ack_command(ctx: typer.Context, alert_id: int, by: Annotated[str, BY],
                note: Annotated[str, NOTE] = "") -> None:
    """Acknowledge an alert: someone is looking at it."""
    _move(ctx, alert_id, "acknowledged", by, note)


@app.command("confirm")
def confirm_command(ctx: typer.Context, alert_id: int, by: Annotated[str, BY],
                    note: Annotated[str, NOTE] = "") -> None:
    """Confirm an alert: the development is real."""
    _move(ctx, alert_id, "confirmed", by, note)


@app.command("dismiss")
def dismiss_command(ctx: typer.Context, alert_id: int, by: Annotated[str, BY],
                    note: Annotated[str, NOTE] = "") -> None:
    """Dismiss an alert: a false alarm."""
    _move(ctx, alert_id, "dismissed", by, note)


@app.command("review")
def review_command(
    ctx: typer.Context,
    evidence_id: Annotated[int, typer.Argument(help="Evidence id (see `tocsin show`, "
                                               "`tocsin alert`, `tocsin evidence`).")],
    verdict: Annotated[str, typer.Argument(help="true (a right detection) or false.")],
    by: Annotated[str, BY],
    note: Annotated[str, NOTE] = "",
) -> None:
    """Mark one piece of evidence a true or a false detection. A false one leaves the
    scores, so the alerts resting on it are evaluated again now (updated or withdrawn);
    `tocsin eval --reviews` reports the precision of the reviews."""
    if verdict not in ("true", "false"):
        raise typer.BadParameter("say true or false", param_hint="VERDICT")
    with api(ctx) as t:
        result = t.review(evidence_id, verdict == "true", by, note)
    effect = ("it stays in the scores" if verdict == "true" else
              "it no longer counts in scores and alerts")
    out.print(Text(f"evidence {evidence_id} marked {verdict}: {effect}; {result.describe()}"),
              soft_wrap=True)


@app.command("realert")
def realert_command(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--from", help="Evaluate again from this date "
                                              "(UTC); default: what is owed.")] = None,
) -> None:
    """Run alerting now on what is owed (after reviews, grade changes, `redetect`,
    an interrupted ingest) or from --from (after editing a watch), storing and
    delivering what changes."""
    start = parse_when(since, "--from")
    with api(ctx) as t:
        result = t.realert(start)
    out.print(Text(result.describe()), soft_wrap=True)


DRAFT_COLUMNS = [
    Col("#", lambda d: d["n"]),
    Col("at (UTC)", lambda d: d["draft"].first_at),
    Col("watch", lambda d: d["draft"].watch, keep=3),
    Col("level", lambda d: level_name(d["draft"].level),
        style=lambda d: level_style(d["draft"].level)),
    Col("peak", lambda d: index_number(d["draft"].index)),
    Col("rules", lambda d: _rule_level(d["draft"].level, d["draft"].rule_level),
        style=lambda d: level_style(d["draft"].rule_level)),
    Col("categories", lambda d: d["draft"].categories, flex=True),
    Col("rules", lambda d: d["draft"].rules, flex=True, keep=2),
    Col("evidence", lambda d: len(d["draft"].evidence), keep=2),
    Col("updates", lambda d: len(d["draft"].events) - 1, keep=3),
]


@app.command("replay")
def replay_command(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--from", help="Start (UTC), inclusive; "
                                              "earlier evidence still feeds baselines.")]
    = None,
    until: Annotated[str | None, typer.Option("--to", help="End (UTC), inclusive.")] = None,
    watch: Annotated[str | None, typer.Option(help="Watch id (default: all).")] = None,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """Re-run scoring and alerting over the store in time order, as if live, and
    print the alerts it would have raised (nothing is stored or sent)."""
    from datetime import timedelta

    start, end = parse_when(since, "--from"), parse_when(until, "--to", end=True)
    with api(ctx) as t:
        drafts = t.replay(start, None if end is None else end + timedelta(microseconds=1),
                          watch)
    rows = [{"n": n, "draft": d} for n, d in enumerate(drafts, start=1)]
    emit(rows, DRAFT_COLUMNS, fmt, f"{len(drafts)} alerts in replay", wide=wide,
         record=lambda r: r["draft"].to_json())


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
    fmt: Annotated[Format, FORMAT] = Format.table,
) -> None:
    """Score a timeline of real milestones: alerted or not, lead time, and false
    alerts per 30 quiet days; writes a PNG and an HTML chart."""
    with api(ctx) as t:
        results = t.backtest(timeline, watch, out_dir, window)
    print_backtest(results, fmt)


def _alert_cell(o: Any) -> str:
    if o.alert_at:
        return f"{o.alert_at:%Y-%m-%d %H:%M}"
    return "missed" if o.covered else "not covered"


BACKTEST_COLUMNS = [
    Col("date", lambda o: o.milestone.day.isoformat()),
    Col("milestone", lambda o: o.milestone.title, flex=True, min_width=12),
    Col("categories", lambda o: o.milestone.categories, flex=True, keep=3),
    Col("alert (UTC)", _alert_cell,
        style=lambda o: "green" if o.alert_at else "red" if o.covered else "dim"),
    Col("level", lambda o: level_name(o.level) if o.alert_at else "",
        style=lambda o: level_style(o.level)),
    Col("peak", lambda o: index_number(o.index) if o.alert_at else ""),
    Col("rules", lambda o: _rule_level(o.level, o.rule_level) if o.alert_at else "",
        style=lambda o: level_style(o.rule_level)),
    Col("on day", lambda o: "yes" if o.on_day else "no", keep=2),
    Col("lead (h)", lambda o: f"{o.lead_hours:+.1f}" if o.lead_hours is not None else "",
        keep=2),
]


def print_backtest(results: list[tuple[Backtest, Path, Path]], fmt: str = "table") -> None:
    from tocsin.alerts.report import outcome_record

    for result, png, html in results:
        if fmt == "table":
            s = result.summary()
            lead = s["median_lead_hours"]
            caption = (f"{s['caught']}/{s['covered']} milestones covered by the store "
                       f"alerted ({s['on_day']} on the day), median lead "
                       f"{'-' if lead is None else f'{lead:+.1f}'} h; "
                       f"{s['alerts']} alerts, {s['false_alerts']} false over "
                       f"{s['quiet_days']} quiet days = "
                       f"{s['false_alerts_per_30_quiet_days']} per 30 quiet days")
            emit(result.outcomes, BACKTEST_COLUMNS, fmt, f"backtest of {result.watch}",
                 caption=caption)
        else:
            emit(result.outcomes, BACKTEST_COLUMNS, fmt,
                 record=partial(outcome_record, result.watch))
            if fmt == "jsonl":
                line({"summary": result.summary()})
        err.print(Text(f"chart: {png} and {html}", style="dim"))


def render_alert(body: dict[str, Any], limit: int = 40) -> None:
    """An alert as text: header, why it rang, the index explained, the evidence."""
    from tocsin.alerts.feed import printable

    out.print(Text(f"alert {body['id']} · {body['watch']} · ", style="bold")
              + Text(standing(body["level"], body["index"], body["rule_level"], "peak index"),
                     style=level_style(body["level"]))
              + Text(f" · {body['state']}"))
    out.print(Text(printable(body["title"])))
    out.print(Text(f"from {cell(_parse(body['at']))} to {cell(_parse(body['updated_at']))}"
                   f" UTC; categories: {', '.join(body['categories'])}; "
                   f"rules: {', '.join(body['rules'])}"))
    out.print(Text("\nwhy it rang", style="bold"))
    for reason in body["reasons"]:
        out.print(Text(f"  - {reason}"))
    snap = body.get("snapshot") or {}
    if snap:
        out.print(Text(f"\npeak index {index_number(body['index'])} at {snap.get('at')} "
                       f"({level_name(body['level'])}), pulls by category:", style="bold"))
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
            table.add_row(s["indicator"], f"{s['value']:.2f}", Text(printable(origins)),
                          f"{s['credibility']} {s['credibility_meaning']}",
                          f"{base['median']:.2f} ± {base['spread']:.2f}"
                          + (" (cold start)" if base["cold_start"] else ""),
                          f"{s['anomaly']:.1f}")
        out.print(table)
    trail = body["trail"]
    out.print(Text(f"\nevidence ({len(trail)})", style="bold"))
    for t in trail[:limit]:
        when = t["published_at"].strftime("%Y-%m-%d %H:%M") if t["published_at"] else "?"
        out.print(Text(f"  #{t['evidence']} {t['indicator']} [{t['polarity']}] · {when} · "
                       f"{printable(t['source'])} (grade {t['grade']}) · doc {t['document']}",
                       style="bold"))
        out.print(Text(f"    “{printable(t['sentence'])}”"))
        if t["review"] is not None:
            out.print(Text(f"    reviewed: {'true' if t['review'] else 'false'} detection",
                           style="dim"))
        if t["chain"] and len(t["chain"]) > 1:
            out.print(Text(f"    story {t['story']}, origin {printable(t['origin'] or '')}: "
                           + printable("; ".join(t["chain"])), style="dim"))
    if len(trail) > limit:
        out.print(Text(f"  ... {len(trail) - limit} more (--limit, or -f json)", style="dim"))
    out.print(Text("\nlifecycle", style="bold"))
    for e in body["events"]:
        who = f" by {e['by']}" if e["by"] else ""
        out.print(Text(f"  {cell(_parse(e['at']))} {e['kind']}{who}"
                       + (f": {e['note']}" if e["note"] else "")))
