"""`tocsin deliver` and `tocsin outbox`, and the channels every alerting command uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tocsin.alerts.channels import (
    Channel,
    ChannelConfig,
    DeliveryFailed,
    Terminal,
    make_channels,
)
from tocsin.alerts.feed import plain
from tocsin.alerts.outbox import Outbox, PassReport
from tocsin.alerts.store import Change
from tocsin.errors import TocsinError
from tocsin.store import outbox as table
from tocsin.store.db import Store


@dataclass
class Delivery:
    """The configured channels: the terminal is told at once, the others via the outbox."""

    channels: list[Channel]
    err: Console

    @classmethod
    def from_settings(cls, settings: Any, err: Console) -> Delivery:
        """Checked now (a missing secret stops the command before anything is stored)."""
        configs = settings.channels or [ChannelConfig(kind="terminal")]
        return cls(make_channels(configs, console=err, allow_private=settings.allow_private),
                   err)

    def outbox(self, store: Store) -> Outbox:
        return Outbox(store.engine, self.channels)

    def announce(self, change: Change) -> None:
        for channel in self.channels:
            if isinstance(channel, Terminal) and channel.serves(change.payload.get("watch")):
                try:
                    channel.send(change.payload, "")
                except DeliveryFailed:
                    pass  # standard error is gone; the store has the alert

    def run(self, store: Store, budget: float | None, wait: float = 0.0) -> PassReport:
        report = self.outbox(store).deliver(budget=budget, wait=wait, on_wait=self.waiting)
        self.summary(store, report)
        return report

    def waiting(self, message: str) -> None:
        self.err.print(Text(message, style="yellow"))

    def summary(self, store: Store, report: PassReport) -> None:
        delivered, retrying = sum(report.delivered.values()), sum(report.retrying.values())
        failed = sum(report.failed.values())
        if not (delivered or retrying or failed or report.waiting):
            return
        parts = [f"{delivered} delivered"]
        if report.waiting:
            parts.append(f"{report.waiting} waiting (`tocsin deliver` sends them)")
        if failed:
            parts.append(f"{failed} failed (`tocsin outbox --state failed`)")
        style = "yellow" if failed or report.waiting else "dim"
        self.err.print(Text("notifications: " + ", ".join(parts), style=style))
        for line in report.errors[-5:]:
            self.err.print(Text(f"  {plain(line, limit=300)}", style=style))


class Shown(StrEnum):
    pending = "pending"
    failed = "failed"
    delivered = "delivered"
    all = "all"


class TableOrJson(StrEnum):
    table = "table"
    jsonl = "jsonl"


def register(app: typer.Typer, out: Console, err: Console,
             context: Callable[[typer.Context], Any],
             fail: Callable[[Exception], NoReturn]) -> None:
    @app.command("deliver")
    def deliver_command(
        ctx: typer.Context,
        wait: Annotated[float, typer.Option(min=0, help="Seconds to keep retrying what "
                                                        "falls due meanwhile.")] = 0.0,
    ) -> None:
        """Send the notifications waiting in the outbox that are due (retries with backoff;
        exit 1 if any failed for good)."""
        try:
            settings = context(ctx).settings
            delivery = Delivery.from_settings(settings, err)
            store = context(ctx).store()
            try:
                report = delivery.run(store, budget=None, wait=wait)
                left = table.counts(store.engine)
            finally:
                store.close()
        except TocsinError as exc:
            fail(exc)
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
        try:
            store = context(ctx).store()
            try:
                rows = table.listing(store.engine, None if state == "all" else state, limit)
                tally = table.counts(store.engine)
            finally:
                store.close()
        except TocsinError as exc:
            fail(exc)
        if fmt == "jsonl":
            for row in rows:
                item = {k: v for k, v in row._mapping.items() if k != "payload"}
                out.print(json.dumps(item, ensure_ascii=False, default=str), markup=False,
                          highlight=False, soft_wrap=True)
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
        try:
            store = context(ctx).store()
            try:
                done = table.retry(store.engine, ids or None)
            finally:
                store.close()
        except TocsinError as exc:
            fail(exc)
        out.print(Text(f"{done} notification(s) pending again; run `tocsin deliver`"))
