"""Durable delivery: every notification for a channel other than the terminal is written
to the outbox in the transaction that saves the alert change, then delivered from there.

A delivery pass sends what is due, oldest first; an alert's notifications on a channel
go in order (an update never overtakes the alert it updates). A failure worth retrying
(network error, timeout, 408/429/5xx, a temporary SMTP refusal) is tried again after a
doubling backoff (``Retry-After`` honoured) until the channel's ``retries`` are spent,
and the channel's other notifications due in that pass share the failure and the wait
(a dead server costs one timeout per pass, not one per notification); a permanent one
(another 4xx, a refused address, a permanent SMTP refusal) fails that notification at
once. Either way it stays in the table with its reason. Passes hold the store's
``deliver`` lock, so two processes never send one notification twice; a process killed
after sending and before recording sends it again on the next pass, with the same
delivery id (``X-Tocsin-Delivery``, the e-mail's Message-ID) for the receiver to spot.

Ingest runs a short pass (``deliver_wait`` seconds for network channels, files always);
`tocsin deliver` runs the rest, and `tocsin outbox` shows what is pending or failed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tocsin.alerts.channels import Channel, DeliveryFailed, Terminal, backoff_delay
from tocsin.store import outbox as table
from tocsin.store.locks import Waiting, exclusive

MIN_ATTEMPT = 0.5  # seconds: an attempt shorter than this would only time out


@dataclass
class PassReport:
    """What one call of :meth:`Outbox.deliver` did, per channel label."""

    delivered: Counter[str] = field(default_factory=Counter)
    retrying: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    waiting: int = 0  # still pending when the pass ended (due later, or out of time)
    next_at: datetime | None = None  # when the earliest of those is due
    errors: list[str] = field(default_factory=list)  # "label: reason", newest last


class Outbox:
    """The outbox of one store, for the configured channels (the terminal excluded)."""

    def __init__(self, engine: Engine, channels: list[Channel]) -> None:
        self.engine = engine
        self.channels = {c.label: c for c in channels if not isinstance(c, Terminal)}

    def enqueue(self, conn: Connection, alert_id: int, event: str,
                payload: dict[str, Any]) -> int:
        """Notifications for every channel serving the payload's watch (caller's
        transaction)."""
        labels = [label for label, c in self.channels.items() if c.serves(payload.get("watch"))]
        return table.enqueue(conn, labels, alert_id, event, payload)

    def deliver(self, budget: float | None = None, wait: float = 0.0,
                on_wait: Waiting | None = None,
                clock: Callable[[], datetime] = table.now) -> PassReport:
        """Send what is due. ``budget``: seconds network channels may take in all (None:
        no limit; files are always written). ``wait``: seconds to keep going for retries
        that fall due meanwhile."""
        report = PassReport()
        start = time.monotonic()
        deadline = None if budget is None else start + budget
        stop_waiting = start + max(wait, 0.0)
        while True:
            with exclusive(self.engine, "deliver", on_wait):
                self._round(report, deadline, clock)
            if report.next_at is None or not report.waiting:
                return report
            if deadline is not None and time.monotonic() >= deadline - MIN_ATTEMPT:
                return report  # out of time; what is left waits for the next pass
            pause = (report.next_at - clock()).total_seconds()
            if time.monotonic() + max(pause, 0.0) > stop_waiting:
                return report
            time.sleep(max(pause, 0.05))  # outside the lock: others may deliver meanwhile

    def _round(self, report: PassReport, deadline: float | None,
               clock: Callable[[], datetime]) -> None:
        # an alert's notifications on one channel go in order: a later one waits while
        # an earlier one is pending
        held: set[tuple[str, int]] = set()
        # channels that failed in a way worth retrying this round: the server or the
        # network is down, so the channel's other notifications share the failure and
        # its backoff instead of each waiting a whole schedule of retries in turn
        down: dict[str, tuple[datetime, str]] = {}
        report.waiting, report.next_at = 0, None
        for row in table.pending(self.engine):
            channel = self.channels.get(row.channel)
            if channel is None:
                self._give_up(report, row, "the channel is no longer configured")
                continue
            left = None if deadline is None else deadline - time.monotonic()
            key = (row.channel, row.alert_id)
            out_of_time = not channel.local and left is not None and left < MIN_ATTEMPT
            if key in held or row.next_at > clock() or (out_of_time and row.channel
                                                         not in down):
                held.add(key)
                self._wait(report, row.next_at)
                continue
            attempts = row.attempts + 1
            if row.channel in down:
                after, reason = down[row.channel]
                self._retry_or_give_up(report, row, channel, attempts, after,
                                       f"not sent, the channel failed: {reason}")
                held.add(key)
                continue
            timeout = channel.config.timeout if left is None else min(
                channel.config.timeout, left)
            try:
                channel.send(row.payload, row.delivery, timeout)
            except DeliveryFailed as exc:
                if exc.retry:
                    delay = backoff_delay(attempts, channel.config.backoff, exc.after)
                    after = clock() + timedelta(seconds=delay)
                    down[row.channel] = (after, str(exc))
                    self._retry_or_give_up(report, row, channel, attempts, after, str(exc))
                    held.add(key)
                else:
                    self._give_up(report, row, str(exc), attempts)
            except Exception as exc:  # a bug must cost one notification, not the pass
                self._give_up(report, row, f"unexpected {type(exc).__name__}: {exc}", attempts)
            else:
                table.settle(self.engine, row.id, "delivered", attempts=attempts)
                report.delivered[row.channel] += 1

    def _retry_or_give_up(self, report: PassReport, row: Any, channel: Channel,
                          attempts: int, after: datetime, reason: str) -> None:
        if attempts > channel.config.retries:
            self._give_up(report, row, f"gave up after {attempts} attempts: {reason}",
                          attempts)
            return
        table.settle(self.engine, row.id, "pending", attempts=attempts, error=reason,
                     next_at=after)
        report.retrying[row.channel] += 1
        report.errors.append(f"{row.channel}: {reason}")
        self._wait(report, after)

    @staticmethod
    def _wait(report: PassReport, at: datetime) -> None:
        report.waiting += 1
        if report.next_at is None or at < report.next_at:
            report.next_at = at

    def _give_up(self, report: PassReport, row: Any, reason: str,
                 attempts: int | None = None) -> None:
        table.settle(self.engine, row.id, "failed",
                     attempts=row.attempts if attempts is None else attempts, error=reason)
        report.failed[row.channel] += 1
        report.errors.append(f"{row.channel}: {reason}")
