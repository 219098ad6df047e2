"""`tocsin search` and `tocsin evidence`: find documents and evidence, export them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from tocsin.cli.common import FORMAT, WIDE, Col, Format, api, app, emit, out, parse_when

Language = Annotated[str | None, typer.Option("--language", "-l", help="Language code.")]
Source = Annotated[str | None, typer.Option("--source", "-s", help="Source id, name or "
                                            "alias.")]
Since = Annotated[str | None, typer.Option(help="From this date (UTC) or span back (7d), "
                                           "inclusive.")]
Until = Annotated[str | None, typer.Option(help="To this date (UTC), inclusive.")]
Indicator = Annotated[str | None, typer.Option(help="Indicator id, or a prefix ending in * "
                                               "(readiness.*).")]
Category = Annotated[str | None, typer.Option(help="Indicator category (rhetoric, "
                                              "doctrine, readiness, ...).")]
Polarity = Annotated[str | None, typer.Option(help="asserted, denied, hypothetical or "
                                              "reported.")]
Entity = Annotated[str | None, typer.Option(help="Entity: a canonical name (Belarus), an "
                                            "id (belarus, country:UA) or type:id.")]
POLARITIES = ("asserted", "denied", "hypothetical", "reported")


def _filters(language: str | None, source: str | None, since: str | None,
             until: str | None, indicator: str | None, category: str | None,
             polarity: str | None, entity: str | None, limit: int, offset: int
             ) -> dict[str, Any]:
    if polarity is not None and polarity not in POLARITIES:
        raise typer.BadParameter(f"choose among {', '.join(POLARITIES)}",
                                 param_hint="--polarity")
    return {"language": language, "source": source,
            "since": parse_when(since, "--since"), "until": parse_when(until, "--until", end=True),
            "indicator": indicator, "category": category, "polarity": polarity,
            "entity": entity, "limit": limit, "offset": offset}


def _snippet(row: dict[str, Any]) -> Text:
    text = Text(row["snippet"])
    for a, b in row["highlights"]:
        text.stylize("bold magenta", a, b)
    return text


SEARCH_COLUMNS = [
    Col("id", lambda r: r["id"]),
    Col("time (UTC)", lambda r: r["at"]),
    Col("lang", lambda r: r["language"], keep=2),
    Col("source", lambda r: r["source"], flex=True, min_width=10, keep=2),
    Col("grade", lambda r: r["grade"], keep=3),
    Col("evidence", lambda r: r["evidence"], keep=3),
    Col("title", lambda r: r["title"], flex=True, min_width=16),
    Col("snippet", lambda r: r["snippet"], flex=True, min_width=24, keep=2),
    Col("url", lambda r: r["url"], flex=True, keep=3),
]


@app.command("search")
def search_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='Words (all required), "a phrase", word*, '
                                         "a OR b, -word.")],
    language: Language = None, source: Source = None, since: Since = None,
    until: Until = None, indicator: Indicator = None, category: Category = None,
    polarity: Polarity = None, entity: Entity = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """Full-text search over titles and texts, best match first; filters narrow it to a
    language, source, period, indicator, category, polarity or entity."""
    where = _filters(language, source, since, until, indicator, category, polarity, entity,
                     limit, offset)
    with api(ctx) as t:
        rows = t.search(query, **where)
    if fmt is Format.table and not wide and rows:
        out.print(Text(f"{len(rows)} documents for {query!r}, best first", style="bold"))
        for row in rows:
            when = row["at"].strftime("%Y-%m-%d %H:%M") if row["at"] else "?"
            out.print(Text.assemble((f"#{row['id']} ", "bold"), f"{when} {row['language']} ",
                                    (Text(row["source"] or "", style="cyan")),
                                    f" [{row['grade']}] ", (row["title"] or "", "italic"),
                                    (f"  ({row['evidence']} evidence)" if row["evidence"]
                                     else "", "dim")))
            out.print(Text("    ") + _snippet(row))
        return
    emit(rows, SEARCH_COLUMNS, fmt, f"{len(rows)} documents for {query!r}", wide=wide)


EVIDENCE_COLUMNS = [
    Col("id", lambda r: r["id"]),
    Col("time (UTC)", lambda r: r["at"]),
    Col("indicator", lambda r: r["indicator"], flex=True, min_width=14),
    Col("polarity", lambda r: r["polarity"], keep=2),
    Col("lang", lambda r: r["language"], keep=3),
    Col("source", lambda r: r["source"], flex=True, min_width=10, keep=2),
    Col("grade", lambda r: r["grade"], keep=3),
    Col("doc", lambda r: r["document"], keep=2),
    Col("sentence", lambda r: r["sentence"], flex=True, min_width=24),
    Col("url", lambda r: r["url"], flex=True, keep=3),
]


@app.command("evidence")
def evidence_command(
    ctx: typer.Context,
    language: Language = None, source: Source = None, since: Since = None,
    until: Until = None, indicator: Indicator = None, category: Category = None,
    polarity: Polarity = None, entity: Entity = None,
    document: Annotated[int | None, typer.Option(help="Only this document.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    fmt: Annotated[Format, FORMAT] = Format.table,
    wide: Annotated[bool, WIDE] = False,
) -> None:
    """List stored evidence, newest first, with ids for `tocsin review`."""
    where = _filters(language, source, since, until, indicator, category, polarity, entity,
                     limit, offset)
    with api(ctx) as t:
        rows = t.evidence(document=document, **where)
    emit(rows, EVIDENCE_COLUMNS, fmt, f"{len(rows)} pieces of evidence, newest first",
         wide=wide)
