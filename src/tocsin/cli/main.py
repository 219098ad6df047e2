"""Ingest, documents, show, quarantine, board and demo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from tocsin.cli.common import (
    EXIT_REJECTED,
    FORMAT,
    WIDE,
    Col,
    Format,
    api,
    app,
    emit,
    err,
    handled,
    line,
    out,
    parse_when,
)

if TYPE_CHECKING:
    from tocsin.model import IngestReport


def print_report(report: IngestReport) -> None:
    text = (f"ingest #{report.run_id}: read {report.read:,}, new {report.new:,}, "
            f"already known {report.known:,}, quarantined {report.quarantined:,}")
    err.print(Text(text, style="bold"))
    if report.reasons:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(report.reasons.items()))
        err.print(Text(f"  quarantine reasons: {reasons} (see `tocsin quarantine`)",
                       style="yellow"))


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files or folders; '-' reads JSON Lines "
                                                    "from standard input.")],
    source: Annotated[str, typer.Option(help="Source name for inputs that do not name one.")]
    = "",
) -> None:
    """Ingest documents from files and folders (txt, md, html, json, jsonl, RSS/Atom)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with api(ctx) as t:
        with Progress(SpinnerColumn(), TextColumn("ingesting"), BarColumn(),
                      TextColumn("{task.completed:,} items"), TimeElapsedColumn(),
                      console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("ingest", total=None)
            report = t.ingest(paths, source=source, progress=lambda n: bar.advance(task, n))
    print_report(report)
    if report.quarantined:
        raise typer.Exit(EXIT_REJECTED)


def _when(row: dict[str, Any]) -> str:
    at = row.get("published_at")
    return at.strftime("%Y-%m-%d %H:%M") if at else f"? ({row.get('date_flag')})"


DOCUMENT_COLUMNS = [
    Col("id", lambda r: r["id"]),
    Col("published (UTC)", _when),
    Col("lang", lambda r: r["language"], keep=2),
    Col("source", lambda r: r["source"], flex=True, min_width=10),
    Col("title", lambda r: r["title"], flex=True, min_width=20),
    Col("chars", lambda r: r.get("chars"), keep=3),
    Col("url", lambda r: r.get("url"), keep=3, flex=True),
]


@app.command("documents")
def documents_command(
    ctx: typer.Context,
    language: Annotated[str | None, typer.Option("--language", "-l")] = None,
    source: Annotated[str | None, typer.Option("--source", "-s",
                      help="Source name, id or alias.")] = None,
    since: Annotated[str | None, typer.Option(help="From this date (UTC) or span back "
                                              "(7d), inclusive.")] = None,
    until: Annotated[str | None, typer.Option(help="To this date (UTC), inclusive.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """List stored documents, newest first."""
    start, end = parse_when(since, "--since"), parse_when(until, "--until", end=True)
    with api(ctx) as t:
        rows, total = t.documents(language=language, source=source, since=start, until=end,
                                  limit=limit, offset=offset)
    emit(rows, DOCUMENT_COLUMNS, fmt, f"{len(rows)} of {total:,} documents, newest first",
         wide=wide)


@app.command("show")
def show_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Document id, or 8+ characters of its hash.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or jsonl")] = "text",
) -> None:
    """Show one document: metadata, text, attributions, entities, and each piece of
    evidence with its id (for `tocsin review`) and sentence."""
    from rich.table import Table

    from tocsin.alerts.feed import printable
    from tocsin.cli.rules import highlighted

    if fmt not in ("text", "table", "jsonl", "json"):
        raise typer.BadParameter("choose text or jsonl", param_hint="--format")
    with api(ctx) as t:
        doc = t.document(key)
    if fmt in ("jsonl", "json"):
        line(doc)
        return
    meta = Table.grid(padding=(0, 2))
    for name in ("id", "doc_hash", "source", "source_grade", "language", "language_confidence",
                 "published_at", "published_raw", "date_flag", "fetched_at", "url", "origin",
                 "kind", "story_id"):
        value = doc.get(name)
        if value is not None:  # origin, url, raw date: from outside, printed safe
            meta.add_row(Text(name, style="bold"), Text(printable(str(value))))
    meta.add_row(Text("sentences", style="bold"), Text(str(len(doc["sentences"]))))
    out.print(Text(printable(doc["title"] or "(no title)"), style="bold underline"))
    out.print(meta)
    out.print()
    out.print(Text(doc["text"]))
    for found in doc["attributions"]:
        who = " / ".join(str(x) for x in (found["speaker"], found["source"]) if x)
        out.print(Text(f"attribution: {who} ({found['text']})", style="dim"))
    if doc["entities"]:
        out.print()
        out.print(Text("entities: " + ", ".join(sorted({f"{e['type']}:{e['name']}"
                                                        for e in doc["entities"]})),
                       style="dim"))
    if doc["evidence"]:
        out.print(Text(f"\nevidence ({len(doc['evidence'])}): mark one with "
                       "`tocsin review ID true|false`", style="bold"))
    for found in doc["evidence"]:
        source = (doc["title"] or "") if found.get("field") == "title" else doc["text"]
        out.print(Text.assemble(
            (f"#{found['id']} ", "bold"), (found["category"], "bold"), " ",
            (found["polarity"], ""), " ",
            (f"{found['indicator']} (severity {found['severity']})", "dim"),
            (" [title]" if found.get("field") == "title" else "", "dim"), "\n    ",
            highlighted(source[found["start"]:found["end"]], found["start"], found["spans"])))


QUARANTINE_COLUMNS = [
    Col("id", lambda r: r["id"]),
    Col("run", lambda r: r["run_id"], keep=2),
    Col("where", lambda r: r["origin"] + (f":{r['line']}" if r["line"] else ""), flex=True),
    Col("reason", lambda r: r["reason"]),
    Col("message", lambda r: r["message"], flex=True, min_width=20),
]


@app.command("quarantine")
def quarantine_command(
    ctx: typer.Context,
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    run: Annotated[int | None, typer.Option(help="Only this ingest run.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """List rejected inputs with where they came from and why, newest first."""
    with api(ctx) as t:
        rows = t.quarantine(reason, run, limit)
    emit(rows, QUARANTINE_COLUMNS, fmt, f"{len(rows)} quarantined inputs, newest first",
         wide=wide)


@app.command("board")
def board_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, help="How many recent days to show.")] = 14,
) -> None:
    """Print the board: documents per language, source and day."""
    from tocsin.board import render_board

    with api(ctx) as t:
        data = t.board(days)
    render_board(data, out)


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, help="Days shown on the board.")] = 14,
) -> None:
    """Ingest the bundled demo corpus and its source registry, print the board, then
    backtest the watches on the demo's timeline of real milestones."""
    from importlib import resources

    from tocsin.board import render_board
    from tocsin.cli.alerts import print_backtest

    with api(ctx) as t:
        report = t.demo()
        print_report(report)
        render_board(t.board(days), out)
        with resources.as_file(resources.files("tocsin.demo") / "timeline.yaml") as timeline:
            results = t.backtest(timeline)
        print_backtest(results)
        settings = t.settings
    with handled():
        where = f"--data-dir {settings.data_dir}" if not settings.db else \
            f"--db {settings.database_url}"
    err.print(Text(f"database: {settings.database_url}\nexplore it: tocsin {where} alerts "
                   f"(or export TOCSIN_DATA_DIR={settings.data_dir})", style="dim"))
    if report.quarantined:
        raise typer.Exit(EXIT_REJECTED)
