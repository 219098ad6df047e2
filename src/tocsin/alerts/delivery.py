"""The configured channels, as every alerting caller uses them: the terminal is told at
once, every other channel through the outbox (see ``alerts/outbox.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tocsin.alerts.channels import Channel, ChannelConfig, DeliveryFailed, Terminal, make_channels
from tocsin.alerts.feed import plain
from tocsin.alerts.outbox import Outbox, PassReport
from tocsin.alerts.store import Change
from tocsin.store.db import Store

Say = Callable[[str], None]


def _silent(_message: str) -> None:
    return None


@dataclass
class Delivery:
    channels: list[Channel]
    say: Say = _silent

    @classmethod
    def from_settings(cls, settings: Any, say: Say | None = None,
                      console: Any = None) -> Delivery:
        """Checked now (a missing secret stops the command before anything is stored).
        ``console`` is where the terminal channel prints (default: standard error)."""
        configs = settings.channels or [ChannelConfig(kind="terminal")]
        return cls(make_channels(configs, console=console,
                                 allow_private=settings.allow_private), say or _silent)

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
        report = self.outbox(store).deliver(budget=budget, wait=wait, on_wait=self.say)
        for line in summary(report):
            self.say(line)
        return report


def summary(report: PassReport) -> list[str]:
    """What a delivery pass did, in a line or a few (nothing when it did nothing)."""
    delivered, retrying = sum(report.delivered.values()), sum(report.retrying.values())
    failed = sum(report.failed.values())
    if not (delivered or retrying or failed or report.waiting):
        return []
    parts = [f"{delivered} delivered"]
    if report.waiting:
        parts.append(f"{report.waiting} waiting (`tocsin deliver` sends them)")
    if failed:
        parts.append(f"{failed} failed (`tocsin outbox --state failed`)")
    return ["notifications: " + ", ".join(parts),
            *(f"  {plain(line, limit=300)}" for line in report.errors[-5:])]
