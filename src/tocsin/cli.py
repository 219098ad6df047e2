"""The tocsin command line. Thin: every command calls the library and prints."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from tocsin import __version__, cli_alerts, cli_delivery, cli_rules, cli_sources, cli_stories
from tocsin.alerts.feed import printable
from tocsin.alerts.store import alert_live
from tocsin.board import render_board
from tocsin.cli_delivery import Delivery
from tocsin.cli_rules import highlighted
from tocsin.config import Settings, load_settings
from tocsin.errors import TocsinError
from tocsin.indicators.detect import Detector
from tocsin.indicators.pack import load_pack
from tocsin.model import IngestReport
from tocsin.pipeline import Inputs, ingest, make_text_stage
from tocsin.scoring.credibility import credibility, independent_origins
from tocsin.scoring.watch import load_watches, select
from tocsin.store.db import Store, open_store
from tocsin.store.queries import (
    Board,
    DocumentFilter,
    board,
    count_documents,
    document_findings,
    get_document,
    list_documents,
    list_quarantine,
)
from tocsin.stories.queries import document_attributions
from tocsin.stories.stage import StoriesStage

EXIT_REJECTED = 3  # ingest finished, but some inputs went to quarantine

app = typer.Typer(
    name="tocsin",
    help="Early warning of nuclear escalation from open sources. "
    "Exit codes: 0 ok, 1 error, 2 usage, 3 some inputs quarantined.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"


@dataclass
class Context:
    settings: Settings

    def store(self) -> Store:
        return open_store(self.settings.database_url)

    def detector(self, pack: str | None = None) -> Detector:
        """The pack (built-in name or folder), compiled once and cached in the data dir."""
        return Detector.load(pack or self.settings.pack, self.settings.pack_cache)


def _version(value: bool) -> None:
    if value:
        out.print(f"tocsin {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", envvar="TOCSIN_DB",
                  help="Database URL (default: SQLite file in the data dir).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar="TOCSIN_DATA_DIR",
                        help="Where tocsin keeps its data.")] = None,
    config: Annotated[Path | None, typer.Option("--config", envvar="TOCSIN_CONFIG",
                      help="TOML config file (table [tocsin]).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                       help="Print the version and exit.")] = False,
) -> None:
    """tocsin: watch open sources for the warning signs of nuclear escalation."""
    try:
        ctx.obj = Context(load_settings(config, db=db, data_dir=data_dir))
    except TocsinError as exc:
        _fail(exc)


def _fail(exc: Exception) -> NoReturn:
    err.print(Text(f"error: {exc}", style="red"))
    raise typer.Exit(1)


def _context(ctx: typer.Context) -> Context:
    assert isinstance(ctx.obj, Context)
    return ctx.obj


def load_board(store: Store, days: int, window_days: float = 3) -> Board:
    """The board's data, with independent origins and credibility of the evidence shown."""
    data = board(store.engine, days)
    data.origins_by_category = independent_origins(store.engine)
    data.credibility = credibility(store.engine, timedelta(days=window_days),
                                   ids=[row["id"] for row in data.evidence])
    return data


def _print_report(report: IngestReport) -> None:
    line = (f"ingest #{report.run_id}: read {report.read:,}, new {report.new:,}, "
            f"already known {report.known:,}, quarantined {report.quarantined:,}")
    err.print(Text(line, style="bold"))
    if report.reasons:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(report.reasons.items()))
        err.print(Text(f"  quarantine reasons: {reasons} (see `tocsin quarantine`)",
                       style="yellow"))


_said: set[str] = set()


def waiting(message: str) -> None:
    """When another process holds a lock of the store and this one waits: said once per
    lock and run, not for every batch."""
    if message not in _said:
        _said.add(message)
        err.print(Text(message, style="yellow"))


def run_ingest(context: Context, inputs: Inputs) -> IngestReport:
    settings = context.settings
    # watches and channels are checked before anything is stored
    pack = load_pack(settings.pack)
    watches = select(load_watches(pack), settings.watch)
    delivery = Delivery.from_settings(settings, err)
    store = context.store()
    try:
        stage = make_text_stage(settings.languages, settings.limits)
        detector = context.detector()
        stories = StoriesStage.for_store(store, settings.languages, settings.story_threshold,
                                         settings.story_window_days)
        with Progress(SpinnerColumn(), TextColumn("ingesting"), BarColumn(),
                      TextColumn("{task.completed:,} items"), TimeElapsedColumn(),
                      console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("ingest", total=None)
            report = ingest(inputs, store, stage, settings.limits, settings.batch_size,
                            progress=lambda n: bar.advance(task, n), detector=detector,
                            stories=stories, on_wait=waiting)
        # documents stored since alerting last ran (by this run, or by one that was
        # killed) and any recorded debt are evaluated now; notifications go to the
        # outbox with the alerts, and a short pass sends what it can
        alert_live(store.engine, pack, watches, None, on_change=delivery.announce,
                   complete=settings.watch is None, on_wait=waiting,
                   outbox=delivery.outbox(store))
        delivery.run(store, budget=settings.deliver_wait)
        return report
    finally:
        store.close()


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files or folders; '-' reads JSON Lines "
                                                    "from standard input.")],
    source: Annotated[str, typer.Option(help="Source name for inputs that do not name one.")]
    = "",
) -> None:
    """Ingest documents from files and folders (txt, md, html, json, jsonl, RSS/Atom)."""
    try:
        report = run_ingest(_context(ctx), Inputs(paths, default_source=source))
    except TocsinError as exc:
        _fail(exc)
    _print_report(report)
    if report.quarantined:
        raise typer.Exit(EXIT_REJECTED)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_json_default)


@app.command("documents")
def documents_command(
    ctx: typer.Context,
    language: Annotated[str | None, typer.Option("--language", "-l")] = None,
    source: Annotated[str | None, typer.Option("--source", "-s",
                      help="Source name or id.")] = None,
    since: Annotated[str | None, typer.Option(help="From this date (UTC), inclusive.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this date (UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """List stored documents, newest first."""
    where = DocumentFilter(language, source, cli_alerts.parse_when(since, "--since"),
                           cli_alerts.parse_when(until, "--until"))
    try:
        store = _context(ctx).store()
        rows = list_documents(store.engine, where, limit, offset)
        total = count_documents(store.engine, where)
        store.close()
    except TocsinError as exc:
        _fail(exc)
    if fmt is Format.jsonl:
        for row in rows:
            out.print(_dump(row), markup=False, soft_wrap=True)
        return
    table = Table(title=f"{len(rows)} of {total:,} documents")
    for column in ("id", "published (UTC)", "lang", "source", "title"):
        table.add_column(column)
    for row in rows:
        published = row["published_at"].strftime("%Y-%m-%d %H:%M") if row["published_at"] \
            else f"? ({row['date_flag']})"
        table.add_row(str(row["id"]), published, row["language"], Text(row["source"]),
                      Text(row["title"] or "", overflow="ellipsis", no_wrap=True))
    out.print(table)


@app.command("show")
def show_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Document id, or 8+ characters of its hash.")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Show one document with its metadata and sentences."""
    try:
        store = _context(ctx).store()
        doc = get_document(store.engine, key)
        if doc is not None:
            doc.update(document_findings(store.engine, doc["id"]))
            doc["attributions"] = document_attributions(store.engine, doc["id"])
        store.close()
    except TocsinError as exc:
        _fail(exc)
    if doc is None:
        err.print(Text(f"error: no document {key!r} (use an id from `tocsin documents`)",
                       style="red"))
        raise typer.Exit(1)
    if fmt is Format.jsonl:
        out.print(_dump(doc), markup=False, soft_wrap=True)
        return
    meta = Table.grid(padding=(0, 2))
    for name in ("id", "doc_hash", "source", "source_grade", "language", "language_confidence",
                 "published_at", "published_raw", "date_flag", "fetched_at", "url", "origin",
                 "kind"):
        value = doc.get(name)
        if value is not None:  # origin, url, raw date: from outside, printed safe
            meta.add_row(Text(name, style="bold"), Text(printable(str(value))))
    meta.add_row(Text("sentences", style="bold"), Text(str(len(doc["sentences"]))))
    out.print(Text(doc["title"] or "(no title)", style="bold underline"))
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
    for found in doc["evidence"]:
        out.print(Text.assemble(
            (found["category"], "bold"), " ", (found["polarity"], ""), " ",
            (f"{found['indicator']} (severity {found['severity']})", "dim"),
            (" [title]" if found.get("field") == "title" else "", "dim"), "\n    ",
            highlighted((doc["title"] or "" if found.get("field") == "title" else doc["text"])
                        [found["start"]:found["end"]], found["start"], found["spans"])))


@app.command("quarantine")
def quarantine_command(
    ctx: typer.Context,
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    run: Annotated[int | None, typer.Option(help="Only this ingest run.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """List rejected inputs with where they came from and why."""
    try:
        store = _context(ctx).store()
        rows = list_quarantine(store.engine, reason, run, limit)
        store.close()
    except TocsinError as exc:
        _fail(exc)
    if fmt is Format.jsonl:
        for row in rows:
            out.print(_dump(row), markup=False, soft_wrap=True)
        return
    table = Table(title=f"{len(rows)} quarantined inputs (newest first)")
    for column in ("id", "run", "where", "reason", "message"):
        table.add_column(column, overflow="fold")
    for row in rows:
        where = row["origin"] + (f":{row['line']}" if row["line"] else "")
        table.add_row(str(row["id"]), str(row["run_id"]), Text(where), row["reason"],
                      Text(row["message"]))
    out.print(table)


@app.command("board")
def board_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, help="How many recent days to show.")] = 14,
) -> None:
    """Print the board: documents per language, source and day."""
    try:
        store = _context(ctx).store()
        data = load_board(store, days, _context(ctx).settings.credibility_window_days)
        store.close()
    except TocsinError as exc:
        _fail(exc)
    render_board(data, out)


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(min=1, help="Days shown on the board.")] = 14,
) -> None:
    """Ingest the bundled demo corpus and its source registry, print the board, then
    backtest the watches on the demo's timeline of real milestones."""
    context = _context(ctx)
    demo = resources.files("tocsin.demo")
    try:
        registry = yaml.safe_load(demo.joinpath("sources.yaml").read_text("utf-8"))
        store = context.store()
        # the demo adds its outlets once; grades an analyst changed since are kept
        store.upsert_sources(registry["sources"], update=False, changed_by="demo",
                             note="demo registry")
        store.close()
        with resources.as_file(demo.joinpath("corpus")) as corpus:
            report = run_ingest(context, Inputs([str(corpus)]))
        _print_report(report)
        store = context.store()
        data = load_board(store, days, context.settings.credibility_window_days)
        store.close()
    except TocsinError as exc:
        _fail(exc)
    render_board(data, out)
    try:
        with resources.as_file(cli_alerts.demo_timeline()) as timeline:
            results = cli_alerts.run_backtest(context, timeline, None,
                                              context.settings.data_dir / "backtest", 2)
    except TocsinError as exc:
        _fail(exc)
    cli_alerts.print_backtest(out, err, results)
    err.print(Text(f"database: {context.settings.database_url}", style="dim"))
    if report.quarantined:
        raise typer.Exit(EXIT_REJECTED)


cli_rules.register(app, out, err, _context, _fail)
cli_sources.register(app, out, err, _context, _fail)
cli_stories.register(app, out, err, _context, _fail)
cli_alerts.register(app, out, err, _context, _fail)
cli_delivery.register(app, out, err, _context, _fail)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
