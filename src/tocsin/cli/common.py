"""What every command shares: the app, one store context, one error handler, the date
options, and one printer for listings (table, jsonl, csv).

Kept light on purpose: this module and the command modules import typer and rich only;
the library (``tocsin.api``) and everything heavy load inside the commands that need them,
so ``tocsin --version`` and ``tocsin --help`` start at once.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tocsin import __version__
from tocsin.errors import TocsinError

if TYPE_CHECKING:
    from tocsin.api import Tocsin
    from tocsin.config import Settings

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
    csv = "csv"


FORMAT = typer.Option("--format", "-f", help="table, jsonl (one JSON object a line) or csv.")
WIDE = typer.Option("--wide", help="Every column, nothing cut (for wide terminals).")
BY = typer.Option("--by", help="Who you are (kept with the change).")
NOTE = typer.Option("--note", help="Why.")


@dataclass
class Context:
    """What the main callback leaves for the commands: settings, and an API on demand."""

    config: Path | None
    db: str | None
    data_dir: Path | None
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from tocsin.config import load_settings

            self._settings = load_settings(self.config, db=self.db, data_dir=self.data_dir)
        return self._settings


def context(ctx: typer.Context) -> Context:
    root = ctx.find_root()
    assert isinstance(root.obj, Context)
    return root.obj


def say(message: str) -> None:
    err.print(Text(message, style="yellow"))


@contextmanager
def api(ctx: typer.Context) -> Iterator[Tocsin]:
    """The store of this invocation, closed afterwards; a TocsinError ends the command
    with its message and exit 1 (no traceback)."""
    with handled():
        from tocsin.api import Tocsin

        handle = Tocsin(context(ctx).settings, say=say)
        try:
            yield handle
        finally:
            handle.close()


@contextmanager
def handled() -> Iterator[None]:
    """One error handler: what tocsin raises on purpose is printed, exit 1."""
    try:
        yield
    except TocsinError as exc:
        fail(exc)


def fail(exc: Exception | str) -> NoReturn:
    err.print(Text(f"error: {exc}", style="red"))
    raise typer.Exit(1)


def version(value: bool) -> None:
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
    show_version: Annotated[bool, typer.Option("--version", callback=version, is_eager=True,
                            help="Print the version and exit.")] = False,
) -> None:
    """tocsin: watch open sources for the warning signs of nuclear escalation."""
    ctx.obj = Context(config, db, data_dir)
    with handled():
        ctx.obj.settings  # noqa: B018 - a bad setting is an error before any command runs


# ------------------------------------------------------------------ dates
_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_when(value: str | None, option: str, *, end: bool = False,
               now: datetime | None = None) -> datetime | None:
    """A date option: ``YYYY-MM-DD``, an ISO time (UTC unless it says), or a span back
    from now (``36h``, ``7d``, ``2w``). Dates are inclusive: as an end (``end=True``) a
    bare date means the end of that day."""
    if value is None:
        return None
    value = value.strip()
    relative = _RELATIVE.match(value)
    if relative:
        return (now or datetime.now(UTC)) - int(relative[1]) * _UNITS[relative[2]]
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) - timedelta(microseconds=1) if end else start
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD), an ISO time or a "
                                 "span such as 7d, 36h, 2w", param_hint=option) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ------------------------------------------------------------------ output
def to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    if hasattr(value, "_mapping"):
        return dict(value._mapping)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_C1 = re.compile("[\x7f-\x9f]")  # DEL and C1 controls (0x9b starts an escape on some
# terminals); JSON escapes C0 controls itself


def dumps(obj: Any) -> str:
    """One JSON object, UTF-8 text kept readable, every control character escaped."""
    text = json.dumps(obj, ensure_ascii=False, default=to_json)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def line(obj: Any) -> None:
    """One JSON object on its own line of standard output (plain: no console rendering,
    which costs more than the analysis of a short post)."""
    typer.echo(dumps(obj))


@dataclass(frozen=True)
class Col:
    """One column of a listing.

    ``get`` takes the row and returns the cell; ``keep`` is how much the column is worth
    on a narrow terminal (1 always shown, 3 only when there is room); ``flex`` columns
    (free text) give up width and end in an ellipsis; the others are shown whole or not
    at all, so an id, a date or a level is never cut."""

    name: str
    get: Callable[[Any], Any]
    keep: int = 1
    flex: bool = False
    min_width: int = 12
    style: Callable[[Any], str] | None = None


def cell(value: Any) -> str:
    """A value as one line of safe text."""
    from tocsin.alerts.feed import printable

    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return " ".join(printable(str(value)).split())


def layout(columns: Sequence[Col], rows: list[list[str]], width: int, wide: bool
           ) -> list[tuple[int, int]]:
    """Which columns to show and how wide: (column index, width). Whole columns first by
    worth; flexible ones shrink (down to their minimum) before any column is dropped."""
    natural = [max([len(c.name), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    if wide:
        return [(i, natural[i]) for i in range(len(columns))]
    chosen = list(range(len(columns)))

    def needed(ids: list[int]) -> int:
        fixed = sum(natural[i] for i in ids if not columns[i].flex)
        flexible = sum(min(natural[i], columns[i].min_width) for i in ids if columns[i].flex)
        return fixed + flexible + 3 * len(ids) + 1  # padding and rules

    while needed(chosen) > width and len(chosen) > 1:
        worst = max(chosen, key=lambda i: (columns[i].keep, i))
        if columns[worst].keep == 1:
            break
        chosen.remove(worst)
    spare = width - (sum(natural[i] for i in chosen if not columns[i].flex)
                     + 3 * len(chosen) + 1)
    flex = [i for i in chosen if columns[i].flex]
    widths = {i: natural[i] for i in chosen}
    least = {i: min(natural[i], columns[i].min_width) for i in flex}
    if flex and sum(least.values()) > spare:  # still too narrow: free text gives way first
        floor = max(spare // len(flex), 4)
        least = {i: min(least[i], floor) for i in flex}
    room = max(spare - sum(least.values()), 0)
    wants = {i: natural[i] - least[i] for i in flex}
    if sum(wants.values()) > room:  # each flexible column gets its minimum, then a share
        for i in flex:
            widths[i] = least[i] + room * wants[i] // max(sum(wants.values()), 1)
    return [(i, widths[i]) for i in chosen]


def emit(rows: Sequence[Any], columns: Sequence[Col], fmt: Format | str,
         title: str = "", *, wide: bool = False, caption: str | None = None,
         record: Callable[[Any], Any] | None = None) -> None:
    """Print a listing: a table that fits the terminal, JSON Lines (``record`` of each row,
    default the row itself) or CSV (every column, whole)."""
    fmt = Format(fmt)
    if fmt is Format.jsonl:
        for row in rows:
            line(record(row) if record else row)
        return
    cells = [[cell(c.get(row)) for c in columns] for row in rows]
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.name for c in columns])
        writer.writerows(cells)
        typer.echo(buffer.getvalue(), nl=False)
        return
    shown = layout(columns, cells, out.width, wide)
    table = Table(title=title or None, caption=caption, title_justify="left",
                  caption_justify="left", expand=False)
    for i, w in shown:
        table.add_column(columns[i].name, width=w, no_wrap=not wide,
                         overflow="fold" if wide else "ellipsis")
    for row, values in zip(rows, cells, strict=True):
        table.add_row(*[Text(values[i], style=_style(columns[i], row)) for i, _ in shown])
    # --wide: as wide as the rows need (the terminal may wrap lines; no cell is cut)
    needed = sum(w for _, w in shown) + 3 * len(shown) + 1
    if wide and needed > out.width:
        Console(file=out.file, width=needed, highlight=False, color_system="auto",
                force_terminal=out.is_terminal).print(table)
    else:
        out.print(table)
    hidden = len(columns) - len(shown)
    if hidden and not wide:
        err.print(Text(f"({hidden} column(s) left out at {out.width} columns: --wide shows "
                       "all, -f csv or -f jsonl gives everything)", style="dim"), soft_wrap=True)


def _style(column: Col, row: Any) -> str:
    return column.style(row) if column.style is not None else ""


def level_style(level: str | None) -> str:
    return {"critical": "bold red", "warning": "red", "watch": "yellow"}.get(level or "", "")
