"""The terminal board: what the store holds, by language, source and day."""

from __future__ import annotations

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tocsin.store.queries import Board

LANGUAGE_ORDER = ("en", "fr", "ru", "uk", "de", "pl", "und")


def _languages(board: Board) -> list[str]:
    seen = set(board.languages)
    return [c for c in LANGUAGE_ORDER if c in seen] + sorted(seen - set(LANGUAGE_ORDER))


POLARITY_STYLE = {"asserted": "bold red", "denied": "green", "hypothetical": "yellow",
                  "reported": "cyan"}


def _evidence_lines(board: Board) -> Group:
    """Newest evidence, two lines each: what and where, then the sentence (wrapped at
    words at any width, never squeezed into a column)."""
    lines: list[Text | Padding] = [Text("Newest evidence", style="bold")]
    for row in board.evidence:
        sentence = Text(row["sentence"] or "")
        for a, b in row["spans"]:
            sentence.stylize("bold magenta", a - row["start"], b - row["start"])
        when = row["time"].strftime("%Y-%m-%d %H:%M") if row["time"] else "?"
        lines.append(Text.assemble(
            (f"#{row['id']} ", "bold"), f"{when} · ", (row["source"], "cyan"),
            f" ({row['language']}) · ", (row["category"], "bold"), " ",
            (row["polarity"], POLARITY_STYLE.get(row["polarity"], "")), " · credibility ",
            _credibility(board, row["id"])))
        lines.append(Padding(sentence, (0, 0, 0, 4)))
    return Group(*lines)


def _credibility(board: Board, evidence_id: int) -> Text:
    cred = board.credibility.get(evidence_id)
    if cred is None:
        return Text("")
    return Text(f"{cred.value} ({cred.origins})", style="bold" if cred.value <= 2 else "")


def render_board(board: Board, console: Console) -> None:
    langs = _languages(board)
    summary = Text.assemble(
        ("documents ", "bold"), f"{board.total:,}   ",
        *[part for code in langs
          for part in ((f"{code} ", "cyan"), f"{board.languages[code]:,}  ")],
        ("   quarantined ", "bold"),
        (f"{board.quarantined:,}", "red" if board.quarantined else ""),
    )
    if board.last_run:
        run = board.last_run
        summary.append(f"\nlast ingest #{run['id']} ({run['status']}): read {run['read']:,}, "
                       f"new {run['new']:,}, already known {run['known']:,}, "
                       f"quarantined {run['quarantined']:,}")

    days = Table(title="Documents per day (most recent days with documents)", expand=False)
    days.add_column("day (UTC)")
    for code in langs:
        days.add_column(code, justify="right")
    days.add_column("total", justify="right", style="bold")
    days.add_column("sources")
    for day in board.days:
        counts = board.per_day[day]
        day_sources = ", ".join(f"{name} {n}" for name, n in
                                sorted(board.per_day_source[day].items(), key=lambda kv: -kv[1]))
        days.add_row(day.isoformat(), *[str(counts.get(c, "")) for c in langs],
                     str(sum(counts.values())), Text(day_sources, overflow="fold"))

    per_source = Table(title="Sources", expand=False)
    for name, justify in (("source", "left"), ("grade", "center"), ("kind", "left"),
                          ("lang", "left"), ("documents", "right"), ("first", "left"),
                          ("last", "left")):
        per_source.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in board.per_source:
        per_source.add_row(
            Text(row["name"]), row["grade"], Text(row["kind"]), Text(row["language"] or ""),
            f"{row['documents']:,}",
            row["first"].date().isoformat() if row["first"] else "",
            row["last"].date().isoformat() if row["last"] else "",
        )
    if board.evidence_by_category:
        summary.append("\nindependent origins (documents), evidence not denied: ")
        summary.append(", ".join(
            f"{k} {board.origins_by_category.get(k, 0)} ({v})"
            for k, v in sorted(board.evidence_by_category.items(),
                               key=lambda kv: -board.origins_by_category.get(kv[0], 0))))
    console.print(Panel(Group(summary), title="tocsin board", border_style="blue"))
    if board.total:
        console.print(days)
        console.print(per_source)
        if board.evidence:
            console.print(_evidence_lines(board))
    else:
        console.print("The store is empty: ingest something with `tocsin ingest PATH`.")
