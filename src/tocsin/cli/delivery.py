"""`tocsin deliver` and `tocsin outbox`: notifications and what became of them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tocsin.cli.common import api, app, err, line, out


class Shown(StrEnum):
    pending = "pending"
    failed = "failed"
    delivered = "delivered"
    all = "all"


class TableOrJson(StrEnum):
    table = "table"
    jsonl = "jsonl"


@app.command("deliver")
def deliver_command(
    ctx: typer.Context,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to keep retrying what "
                                                    "falls due meanwhile.")] = 0.0,
) -> None:
    """Send the notifications waiting in the outbox that are due (retries with backoff;
    exit 1 if any failed for good)."""
    from tocsin.store import outbox as table

    with api(ctx) as t:
        report = t.deliver(wait)
        left = table.counts(t.engine)
    if not any((report.delivered, report.retrying, report.failed)):
        err.print(Text(f"nothing due; {left['pending']} pending, {left['failed']} failed "
                       "in the outbox", style="dim"))
    if report.failed:
        raise typer.Exit(1)

group = typer.Typer(help="Notifications waiting for their channels, and what became of "
                         "them.", no_args_is_help=False, invoke_without_command=True)
app.add_typer(group, name="outbox")

@group.callback()
def outbox_command(
    ctx: typer.Context,
    state: Annotated[Shown, typer.Option(help="Which notifications.")] = Shown.all,
    limit: Annotated[int, typer.Option(min=1, help="Newest first, at most this many.")]
    = 50,
    fmt: Annotated[TableOrJson, typer.Option("--format", "-f")] = TableOrJson.table,
) -> None:
    """List the outbox: channel, alert, event, state, attempts, next try, last error."""
    if ctx.invoked_subcommand is not None:
        return
    from tocsin.alerts.feed import plain
    from tocsin.store import outbox as table

    with api(ctx) as t:
        rows = table.listing(t.engine, None if state == "all" else state, limit)
        tally = table.counts(t.engine)
    if fmt == "jsonl":
        for row in rows:
            line({k: v for k, v in row._mapping.items() if k != "payload"})
        return
    grid = Table(title=", ".join(f"{n} {s}" for s, n in tally.items()))
    for column in ("id", "channel", "alert", "event", "state", "tries", "next / done",
                   "last error"):
        grid.add_column(column, overflow="fold")
    for row in rows:
        when = row.delivered_at if row.state == "delivered" else row.next_at
        grid.add_row(str(row.id), Text(plain(row.channel, limit=80)), str(row.alert_id),
                     row.event, row.state, str(row.attempts),
                     f"{when:%Y-%m-%d %H:%M:%S}" if when else "",
                     Text(plain(row.last_error, limit=200)))
    out.print(grid)

@group.command("retry")
def outbox_retry(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Outbox ids; none: every "
                                                         "failed one.")] = None,
) -> None:
    """Put failed notifications back in line (attempts reset; `tocsin deliver` sends)."""
    from tocsin.store import outbox as table

    with api(ctx) as t:
        done = table.retry(t.engine, ids or None)
    out.print(Text(f"{done} notification(s) pending again; run `tocsin deliver`"))
