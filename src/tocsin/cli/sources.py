"""`tocsin sources list|show|add|grade|load`: the source registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tocsin.cli.common import FORMAT, WIDE, Col, Format, api, app, cell, emit, out

group = typer.Typer(help="The source registry: reliability grades A-F (NATO Admiralty).",
                    no_args_is_help=True)
app.add_typer(group, name="sources")

SOURCE_COLUMNS = [
    Col("id", lambda r: r["id"], flex=True, min_width=12),
    Col("name", lambda r: r["name"], flex=True, min_width=12),
    Col("grade", lambda r: r["grade"]),
    Col("kind", lambda r: r["kind"], keep=2),
    Col("lang", lambda r: r["language"], keep=2),
    Col("country", lambda r: r["country"], keep=3),
    Col("state", lambda r: "yes" if r["state_affiliated"] else "", keep=3),
    Col("documents", lambda r: r["documents"]),
]


@group.command("list")
def sources_list(
    ctx: typer.Context,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """List sources with their grade and number of documents."""
    with api(ctx) as t:
        rows = t.sources()
    emit(rows, SOURCE_COLUMNS, fmt, f"{len(rows)} sources", wide=wide)


@group.command("show")
def sources_show(ctx: typer.Context,
                 key: Annotated[str, typer.Argument(help="Id, name or alias.")]) -> None:
    """One source, with the history of its grade."""
    from tocsin.store.registry import GRADE_MEANINGS

    with api(ctx) as t:
        source = t.source(key)
    grid = Table.grid(padding=(0, 2))
    for name in ("id", "name", "kind", "language", "country", "state_affiliated",
                 "homepage", "feed", "aliases", "documents"):
        grid.add_row(Text(name, style="bold"), Text(cell(source.get(name))))
    grid.add_row(Text("grade", style="bold"),
                 Text(f"{source['grade']} ({GRADE_MEANINGS[source['grade']]})"))
    out.print(grid)
    for change in source["history"]:
        out.print(Text(f"  {change['changed_at']:%Y-%m-%d %H:%M} {cell(change['changed_by'])}:"
                       f" {change['previous'] or '-'} -> {change['grade']} "
                       f"{cell(change['note'])}"))


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
    with api(ctx) as t:
        source_id = t.add_source(record)
    out.print(Text(f"added {source_id} (grade {grade.upper()})"))


@group.command("grade")
def sources_grade(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Id, name or alias.")],
    grade: Annotated[str, typer.Argument(help="A-F")],
    note: Annotated[str, typer.Option(help="Why the grade changes.")] = "",
    by: Annotated[str | None, typer.Option(help="Who changes it (default: you).")] = None,
) -> None:
    """Change a source's reliability grade; the change is recorded with who and when, and
    the alerts its reports feed are evaluated again."""
    from tocsin.store.registry import GRADE_MEANINGS

    with api(ctx) as t:
        source, result = t.grade(key, grade, by, note)
    out.print(Text(f"{source['id']}: grade {source['grade']} "
                   f"({GRADE_MEANINGS[source['grade']]}); {result.describe()}"), soft_wrap=True)


@group.command("load")
def sources_load(ctx: typer.Context,
                 path: Annotated[Path, typer.Argument(help="YAML with `sources:`.")]) -> None:
    """Add or update sources from a YAML file (grades changed here are audited too, and
    the alerts they feed evaluated again)."""
    with api(ctx) as t:
        count, result = t.load_sources(path)
    out.print(Text(f"{count} sources loaded from {path}; {result.describe()}"), soft_wrap=True)
