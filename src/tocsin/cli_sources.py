"""`tocsin sources list|show|add|grade|load`: the source registry."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tocsin.alerts.store import owe_source
from tocsin.errors import TocsinError
from tocsin.store.db import slugify
from tocsin.store.registry import (
    GRADE_MEANINGS,
    add_source,
    find_source,
    grade_history,
    list_sources,
    load_registry_file,
    set_grade,
)


class TableOrJsonl(StrEnum):
    table = "table"
    jsonl = "jsonl"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return "unknown"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def register(app: typer.Typer, out: Console, err: Console,
             context: Callable[[typer.Context], Any],
             fail: Callable[[Exception], NoReturn]) -> None:
    group = typer.Typer(help="The source registry: reliability grades A-F (NATO Admiralty).",
                        no_args_is_help=True)
    app.add_typer(group, name="sources")

    @group.command("list")
    def sources_list(
        ctx: typer.Context,
        fmt: Annotated[TableOrJsonl, typer.Option("--format", "-f")] = TableOrJsonl.table,
    ) -> None:
        """List sources with their grade and number of documents."""
        try:
            store = context(ctx).store()
            rows = list_sources(store)
            store.close()
        except TocsinError as exc:
            fail(exc)
        if fmt == "jsonl":
            for row in rows:
                out.print(_dump(row), markup=False, highlight=False, soft_wrap=True)
            return
        table = Table(title=f"{len(rows)} sources")
        for column in ("id", "name", "grade", "kind", "lang", "country", "state", "documents"):
            table.add_column(column)
        for row in rows:
            table.add_row(Text(row["id"]), Text(row["name"]), row["grade"], Text(row["kind"]),
                          Text(row["language"] or ""), Text(row["country"] or ""),
                          "yes" if row["state_affiliated"] else "", str(row["documents"]))
        out.print(table)

    @group.command("show")
    def sources_show(ctx: typer.Context,
                     key: Annotated[str, typer.Argument(help="Id, name or alias.")]) -> None:
        """One source, with the history of its grade."""
        try:
            store = context(ctx).store()
            source = find_source(store, key)
            history = grade_history(store, source["id"]) if source else []
            store.close()
        except TocsinError as exc:
            fail(exc)
        if source is None:
            fail(TocsinError(f"no source {key!r}; see `tocsin sources list`"))
        grid = Table.grid(padding=(0, 2))
        for name in ("id", "name", "kind", "language", "country", "state_affiliated",
                     "homepage", "feed", "aliases", "documents"):
            grid.add_row(Text(name, style="bold"), Text(str(source.get(name))))
        grid.add_row(Text("grade", style="bold"),
                     Text(f"{source['grade']} ({GRADE_MEANINGS[source['grade']]})"))
        out.print(grid)
        for change in history:
            out.print(Text(f"  {change['changed_at']:%Y-%m-%d %H:%M} {change['changed_by']}: "
                           f"{change['previous'] or '-'} -> {change['grade']} {change['note']}"))

    @group.command("add")
    def sources_add(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The source's name.")],
        kind: Annotated[str, typer.Option(help="agency, newspaper, aggregator, "
                                               "broadcaster, official, telegram...")]
        = "unknown",
        language: Annotated[str | None, typer.Option()] = None,
        country: Annotated[str | None, typer.Option()] = None,
        state_affiliated: Annotated[bool, typer.Option("--state-affiliated")] = False,
        homepage: Annotated[str | None, typer.Option()] = None,
        feed: Annotated[str | None, typer.Option()] = None,
        alias: Annotated[list[str] | None, typer.Option(help="Repeat for each alias.")] = None,
        grade: Annotated[str, typer.Option(help="A-F; F = cannot be judged.")] = "F",
    ) -> None:
        """Add a source to the registry."""
        record = {"name": name, "kind": kind, "language": language, "country": country,
                  "state_affiliated": state_affiliated, "homepage": homepage, "feed": feed,
                  "aliases": alias or [], "grade": grade}
        try:
            store = context(ctx).store()
            source_id = add_source(store, record, _user())
            store.close()
        except TocsinError as exc:
            fail(exc)
        out.print(Text(f"added {source_id} (grade {grade.upper()})"))

    @group.command("grade")
    def sources_grade(
        ctx: typer.Context,
        key: Annotated[str, typer.Argument(help="Id, name or alias.")],
        grade: Annotated[str, typer.Argument(help="A-F")],
        note: Annotated[str, typer.Option(help="Why the grade changes.")] = "",
        by: Annotated[str | None, typer.Option(help="Who changes it (default: you).")] = None,
    ) -> None:
        """Change a source's reliability grade; the change is recorded with who and when."""
        try:
            store = context(ctx).store()
            source = set_grade(store, key, grade, by or _user(), note)
            owe_source(store.engine, source["id"])  # the scores of its reports change
            store.close()
        except TocsinError as exc:
            fail(exc)
        out.print(Text(f"{source['id']}: grade {source['grade']} "
                       f"({GRADE_MEANINGS[source['grade']]})"))

    @group.command("load")
    def sources_load(ctx: typer.Context,
                     path: Annotated[Path, typer.Argument(help="YAML with `sources:`.")]) -> None:
        """Add or update sources from a YAML file (grades changed here are audited too)."""
        try:
            records = load_registry_file(path)
            store = context(ctx).store()
            store.upsert_sources(records, changed_by=_user(), note=f"loaded from {path.name}")
            for record in records:  # grades may have changed: alerting is owed
                owe_source(store.engine, str(record.get("id") or slugify(record["name"])))
            store.close()
        except TocsinError as exc:
            fail(exc)
        out.print(Text(f"{len(records)} sources loaded from {path}"))
