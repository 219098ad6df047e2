"""Deliver alert notifications: terminal, JSONL file, signed webhook, e-mail, Atom feed.

A notification ("payload") is a JSON-ready dict made by the alert stage. Any string in it
may come from a news document, so text is cleaned of control characters before it
reaches a terminal, a mail header or an XML file, and is never parsed as markup.

Local channels (terminal, jsonl, atom) write synchronously. Network channels (webhook,
smtp) each own a daemon worker and a bounded queue, so ``dispatch`` never waits on a slow
server: a full queue drops the payload, a failing server is retried with backoff, and
whatever is given up goes to the dead-letter file with its reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import os
import random
import re
import smtplib
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rich.console import Console
from rich.text import Text

from tocsin import __version__
from tocsin.alerts.feed import (
    FeedError,
    describe,
    headline,
    index_text,
    plain,
    read_atom,
    render_atom,
    rfc3339,
)
from tocsin.errors import ConfigError

MAX_BACKOFF = 60.0
ATOM_ENTRIES = 200
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
_QUEUED = {"timeout", "retries", "backoff", "queue_size"}
_APPLIES = {"terminal": set(), "jsonl": {"path"}, "atom": {"path"},
            "webhook": {"url", "secret", "secret_env"} | _QUEUED,
            "smtp": {"host", "port", "sender", "recipients", "starttls", "username",
                     "password_env"} | _QUEUED}
_NEEDS = {"jsonl": ["path"], "atom": ["path"], "webhook": ["url"],
          "smtp": ["sender", "recipients"]}


class ChannelConfig(BaseModel):
    """One delivery channel; a setting that does not apply to ``kind`` is refused."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["terminal", "jsonl", "webhook", "smtp", "atom"]
    watch: str = "*"
    path: Path | None = None
    url: str | None = None
    secret: str | None = Field(default=None, repr=False)
    secret_env: str | None = None
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str | None = None
    recipients: list[str] = Field(default_factory=list)
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout: float = Field(default=10.0, gt=0)
    retries: int = Field(default=5, ge=0)
    backoff: float = Field(default=1.0, ge=0)
    queue_size: int = Field(default=1000, ge=1)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        try:
            url = httpx.URL(value or "")
        except httpx.InvalidURL as exc:
            raise ValueError(f"url is not a valid URL: {exc}") from None
        if value is not None and (url.scheme not in ("http", "https") or not url.host):
            raise ValueError("url must be an http:// or https:// URL with a host")
        return value

    @model_validator(mode="after")
    def _complete(self) -> ChannelConfig:
        stray = self.model_fields_set - {"kind", "watch"} - _APPLIES[self.kind]
        if stray:
            raise ValueError(f"{', '.join(sorted(stray))} does not apply to a {self.kind} channel")
        for name in _NEEDS.get(self.kind, []):
            if not getattr(self, name):
                raise ValueError(f"a {self.kind} channel needs {name}")
        if self.secret and self.secret_env:
            raise ValueError("give either secret or secret_env, not both")
        if bool(self.username) != bool(self.password_env):
            raise ValueError("username and password_env go together")
        return self


@dataclass
class ChannelCounts:
    delivered: int = 0
    failed: int = 0  # gave up: permanent error, retries exhausted, or close came first
    dropped: int = 0  # never attempted: queue full or dispatcher closed
    dead_lettered: int = 0  # failed or dropped payloads written to the dead-letter file
    notes: list[str] = field(default_factory=list)  # e.g. a corrupt feed set aside


@dataclass
class DeliveryReport:
    channels: dict[str, ChannelCounts]  # by label, e.g. "webhook:https://host/path"

    @property
    def delivered(self) -> int:
        return sum(c.delivered for c in self.channels.values())

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.channels.values())

    @property
    def dropped(self) -> int:
        return sum(c.dropped for c in self.channels.values())


class Dispatcher:
    """Route each payload to the channels serving its watch."""

    def __init__(self, configs: list[ChannelConfig], *, console: Console | None = None,
                 dead_letter: Path | None = None) -> None:
        self._dead_letter, self._bury_lock = dead_letter, threading.Lock()
        self._closed = False
        self._channels: list[_Channel] = []
        kinds: dict[str, type[_Channel]] = {"terminal": _Terminal, "jsonl": _Jsonl,
                                            "atom": _Atom, "webhook": _Webhook, "smtp": _Smtp}
        for config in configs:
            label, taken, n = _label(config), {c.label for c in self._channels}, 1
            while label in taken:
                n += 1
                label = f"{_label(config)}#{n}"
            channel = kinds[config.kind](config, label, self._bury)
            if isinstance(channel, _Terminal):
                channel.console = console or Console(stderr=True)
            self._channels.append(channel)

    def dispatch(self, payload: dict[str, Any]) -> None:
        routed = [c for c in self._channels
                  if c.config.watch in ("*", str(payload.get("watch")))]
        try:  # a deep copy: the caller may reuse the dict while a worker still holds it
            snapshot = json.loads(json.dumps(payload))
        except (TypeError, ValueError) as exc:
            for channel in routed:
                channel.settle(_Job(payload), "failed", f"payload is not JSON: {exc}")
            return
        for channel in routed:
            if self._closed:
                channel.settle(_Job(snapshot), "dropped", "dispatcher is closed")
            else:
                channel.submit(snapshot)

    def close(self, timeout: float = 10.0) -> DeliveryReport:
        """Stop accepting; queued deliveries get ``timeout`` seconds in all, then are given up."""
        self._closed = True
        deadline = time.monotonic() + max(timeout, 0.0)
        for channel in self._channels:
            channel.stop(deadline)
        for channel in self._channels:
            channel.join(deadline)
        return self.report()

    def report(self) -> DeliveryReport:
        return DeliveryReport({c.label: c.counts() for c in self._channels})

    def _bury(self, record: dict[str, Any]) -> bool:
        """Append to the dead-letter file; ASCII JSON so any payload can be written."""
        if self._dead_letter is None:
            return False
        try:
            self._dead_letter.parent.mkdir(parents=True, exist_ok=True)
            with self._bury_lock, self._dead_letter.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, default=repr) + "\n")
        except OSError:
            return False
        return True


def _label(config: ChannelConfig) -> str:
    """A name for reports that never shows credentials (no user info, no query string)."""
    if config.kind == "webhook":
        url = httpx.URL(config.url or "")
        return f"webhook:{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}{url.path}"
    if config.kind == "smtp":
        return f"smtp:{config.host}:{config.port}"
    return f"{config.kind}:{config.path}" if config.path else config.kind


def _backoff_delay(attempt: int, base: float, retry_after: float | None = None) -> float:
    """Seconds before retry number ``attempt`` (1-based): doubling, a little jitter, capped."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_BACKOFF)
    return min(base * 2 ** (attempt - 1) * random.uniform(1.0, 1.1), MAX_BACKOFF)


# -- channels -----------------------------------------------------------------------------


@dataclass
class _Job:
    payload: Any
    delivery: str = field(default_factory=lambda: uuid.uuid4().hex)  # same on every retry
    attempts: int = 0
    settled: bool = False


class _Failed(Exception):
    def __init__(self, reason: str, *, retry: bool = False, after: float | None = None):
        super().__init__(reason)
        self.retry, self.after = retry, after


class _Channel:
    """Counts each job's outcome once; local subclasses deliver inside ``submit``."""

    def __init__(self, config: ChannelConfig, label: str,
                 bury: Callable[[dict[str, Any]], bool]) -> None:
        self.config, self.label, self._bury = config, label, bury
        self._counts = ChannelCounts()
        self._stats = threading.Lock()  # counts and settled flags; never held during I/O
        self._write = threading.Lock()  # two threads appending to one file would interleave

    def submit(self, payload: dict[str, Any]) -> None:
        job = _Job(payload, attempts=1)
        try:
            with self._write:
                self.deliver(job)
        except (OSError, ValueError) as exc:
            self.settle(job, "failed", f"{type(exc).__name__}: {exc}")
        else:
            self.settle(job, "delivered")

    def deliver(self, job: _Job) -> None:
        raise NotImplementedError

    def settle(self, job: _Job, outcome: str, reason: str = "") -> None:
        """Count a job exactly once, even when a worker and ``close`` race to settle it."""
        with self._stats:
            if job.settled:
                return
            job.settled = True
            setattr(self._counts, outcome, getattr(self._counts, outcome) + 1)
        if outcome != "delivered" and self._bury({
                "channel": self.label, "outcome": outcome, "reason": reason,
                "attempts": job.attempts, "delivery": job.delivery,
                "at": rfc3339(datetime.now(UTC)), "payload": job.payload}):
            with self._stats:
                self._counts.dead_lettered += 1

    def counts(self) -> ChannelCounts:
        with self._stats:
            return replace(self._counts, notes=list(self._counts.notes))

    def stop(self, deadline: float) -> None:
        """Refuse new jobs; queued ones may still be delivered until ``deadline``."""

    def join(self, deadline: float) -> None:
        """Wait until ``deadline`` at most, then give up whatever is left."""


class _Terminal(_Channel):
    console: Console
    STYLES = {"critical": "bold red", "warning": "yellow", "watch": "cyan"}

    def deliver(self, job: _Job) -> None:
        p = job.payload
        level = plain(p.get("level"), limit=40)
        style = self.STYLES.get(level, "")
        # Text pieces, never markup: "[red]" in a headline prints as written.
        self.console.print(Text.assemble(
            Text("ALERT ", style=f"bold {style}".strip()),
            Text(f"#{plain(p.get('id'), limit=20)} "),
            Text(level, style=style),
            Text(f" {plain(p.get('watch'), limit=80)} index {index_text(p)}"
                 f" · {plain(p.get('event'), limit=20)} · "),
            Text(plain(p.get("title"), limit=300)),
        ), highlight=False, soft_wrap=True)


class _Jsonl(_Channel):
    def deliver(self, job: _Job) -> None:
        assert self.config.path is not None
        line = json.dumps(job.payload, ensure_ascii=False)
        # Escape what some readers split lines on (str.splitlines does), inside strings only.
        line = _LINE_BREAKS.sub(lambda m: f"\\u{ord(m[0]):04x}", line) + "\n"
        self.config.path.parent.mkdir(parents=True, exist_ok=True)
        with self.config.path.open("a", encoding="utf-8") as out:
            out.write(line)
            out.flush()


class _Atom(_Channel):
    def deliver(self, job: _Job) -> None:
        path, alert, watch = self.config.path, job.payload.get("id"), self.config.watch
        assert path is not None
        kept = [p for p in self._read(path) if p.get("id") != alert][: ATOM_ENTRIES - 1]
        data = render_atom([job.payload, *kept], feed_id=f"urn:tocsin:alerts:{watch}",
                           title="tocsin alerts" + ("" if watch == "*" else f": {watch}"),
                           updated=datetime.now(UTC))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)  # a feed is meant to be served; mkstemp made it 0600
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def _read(self, path: Path) -> list[dict[str, Any]]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            return read_atom(data)
        except FeedError as exc:
            aside = path.with_name(path.name + ".corrupt")
            os.replace(path, aside)  # kept for a human to look at; the feed starts afresh
            with self._stats:
                self._counts.notes.append(f"{path} was unreadable ({exc}); moved to {aside}")
            return []


class _Queued(_Channel):
    """A daemon worker draining a bounded queue, retrying with backoff that wakes on close."""

    def __init__(self, config: ChannelConfig, label: str,
                 bury: Callable[[dict[str, Any]], bool]) -> None:
        super().__init__(config, label, bury)
        self._pending: deque[_Job] = deque()
        self._inflight: _Job | None = None
        self._cond = threading.Condition()
        self._stopping = False
        self._deadline = math.inf
        self._abort = threading.Event()
        self._thread: threading.Thread | None = None
        # The webhook key or the SMTP password; never part of a label, reason or repr.
        self._secret = config.secret or _from_env(config.secret_env or config.password_env,
                                                  label)

    def submit(self, payload: dict[str, Any]) -> None:
        job = _Job(payload)
        with self._cond:
            if self._stopping:
                reason = "dispatcher is closed"
            elif len(self._pending) >= self.config.queue_size:
                reason = f"queue full ({self.config.queue_size} waiting)"
            else:
                self._pending.append(job)
                if self._thread is None:  # started on first use: no idle threads
                    self._thread = threading.Thread(target=self._run, daemon=True,
                                                    name=f"tocsin {self.label}")
                    self._thread.start()
                self._cond.notify()
                return
        self.settle(job, "dropped", reason)

    def stop(self, deadline: float) -> None:
        with self._cond:
            self._stopping, self._deadline = True, deadline
            self._cond.notify_all()

    def join(self, deadline: float) -> None:
        if self._thread is None:
            return
        self._thread.join(max(deadline - time.monotonic(), 0.0))
        if not self._thread.is_alive():
            return
        self._abort.set()  # wakes a backoff wait; a request still in flight is abandoned
        with self._cond:
            left = [*self._pending, *([self._inflight] if self._inflight else [])]
            self._pending.clear()
        for job in left:
            self.settle(job, "failed", "not delivered before close timed out")

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending:
                    return
                job = self._inflight = self._pending.popleft()
            self._attempt(job)
            with self._cond:
                self._inflight = None

    def _attempt(self, job: _Job) -> None:
        reason = "close came first"
        while not self._abort.is_set() and time.monotonic() < self._deadline:
            job.attempts += 1
            try:
                self.deliver(job)
            except _Failed as exc:
                reason = str(exc)
                if not exc.retry:
                    return self.settle(job, "failed", reason)
                if job.attempts > self.config.retries:
                    return self.settle(job, "failed", f"gave up after {job.attempts} attempts: "
                                                      f"{reason}")
                delay = _backoff_delay(job.attempts, self.config.backoff, exc.after)
                if time.monotonic() + delay >= self._deadline:
                    break
                self._abort.wait(delay)
            except Exception as exc:  # a bug must cost one alert, not the worker thread
                return self.settle(job, "failed", f"unexpected {type(exc).__name__}: {exc}")
            else:
                return self.settle(job, "delivered")
        self.settle(job, "failed", f"not delivered before close: {reason}")


class _Webhook(_Queued):
    def deliver(self, job: _Job) -> None:
        url = self.config.url or ""
        try:
            body = json.dumps(job.payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _Failed(f"payload is not encodable as UTF-8: {exc}") from None
        stamp = str(int(time.time()))  # per attempt, so receivers can refuse stale replays
        event = re.sub(r"[^A-Za-z0-9_.-]", "", str(job.payload.get("event", "")))[:40]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"tocsin/{__version__}",
            "X-Tocsin-Event": event,
            "X-Tocsin-Delivery": job.delivery,
            "X-Tocsin-Timestamp": stamp,
        }
        if self._secret:
            digest = hmac.new(self._secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
            headers["X-Tocsin-Signature"] = f"sha256={digest.hexdigest()}"
        try:  # one client per attempt: alerts are rare, and nothing is shared across threads
            response = httpx.post(url, content=body, headers=headers,
                                  timeout=self.config.timeout, follow_redirects=False)
        except httpx.TransportError as exc:  # refused, reset, timed out
            reason = f"{type(exc).__name__}: {exc}".replace(url, self.label)
            raise _Failed(reason, retry=True) from exc
        status = response.status_code
        if status in (408, 429) or status >= 500:
            after = response.headers.get("Retry-After", "").strip()
            raise _Failed(f"HTTP {status}", retry=True,
                          after=float(after) if after.isdigit() else None)
        if not 200 <= status < 300:
            raise _Failed(f"HTTP {status} (not retried)")


class _Smtp(_Queued):
    def deliver(self, job: _Job) -> None:
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.username:
                    smtp.login(c.username, self._secret)
                refused = smtp.send_message(_email(job, c.sender or "", c.recipients))
            if refused:  # delivered to the others; say who was missed
                with self._stats:
                    self._counts.notes.append(f"{job.delivery}: refused {sorted(refused)}")
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error
            reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            raise _Failed(f"SMTP {exc.smtp_code}: {plain(reply, limit=200)}",
                          retry=400 <= exc.smtp_code < 500) from None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError,
                ssl.SSLCertVerificationError) as exc:
            raise _Failed(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:  # the other SMTPExceptions too: disconnects, timeouts
            raise _Failed(f"{type(exc).__name__}: {exc}", retry=True) from None


def _email(job: _Job, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[tocsin] {headline(job.payload)}"  # one line: no injected headers
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{job.delivery}@{sender.rpartition('@')[2]}>"  # same on retry
    message.set_content(describe(job.payload))
    return message


def _from_env(name: str | None, label: str) -> str:
    value = os.environ.get(name or "", "")
    if name and not value:
        raise ConfigError(f"channel {label}: the environment variable {name} is not set; "
                          "export it, or remove secret_env / password_env from the channel")
    return value
