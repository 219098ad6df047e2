"""Deliver alert notifications: terminal, JSONL file, signed webhook, e-mail, Atom feed.

A notification ("payload") is a JSON-ready dict made by the alert stage. Any string in it
may come from a news document, so text is cleaned of control characters before it
reaches a terminal, a mail header or an XML file, and is never parsed as markup.

A channel sends one notification per call and says, by raising ``DeliveryFailed``,
whether trying again later is worth it. The terminal is written at once by whoever
alerts; every other channel is fed from the outbox (outbox.py), which keeps each
notification in the store until it is delivered or given up, with retries and backoff
across runs. Webhooks go through the SSRF guard (netguard.py) on every attempt.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import random
import re
import smtplib
import ssl
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.text import Text

from tocsin import __version__
from tocsin.alerts.channel_config import ChannelConfig
from tocsin.alerts.feed import (
    FeedError,
    describe,
    headline,
    index_text,
    level_name,
    plain,
    read_atom,
    render_atom,
    state_tag,
)
from tocsin.errors import ConfigError
from tocsin.netguard import BlockedURL, guarded_request
from tocsin.scoring.watch import level_rank

MAX_BACKOFF = 3600.0  # seconds; the outbox retries across runs, so waits may be long
ATOM_ENTRIES = 200
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
def _label(config: ChannelConfig) -> str:
    """A name for reports that never shows credentials (no user info, no query string)."""
    if config.kind == "webhook":
        url = httpx.URL(config.url or "")
        return f"webhook:{url.scheme}://{url.host}{f':{url.port}' if url.port else ''}{url.path}"
    if config.kind == "smtp":
        return f"smtp:{config.host}:{config.port}"
    return f"{config.kind}:{config.path}" if config.path else config.kind


def backoff_delay(attempt: int, base: float, retry_after: float | None = None) -> float:
    """Seconds before retry number ``attempt`` (1-based): doubling, a little jitter, capped."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_BACKOFF)
    return min(base * 2 ** (attempt - 1) * random.uniform(1.0, 1.1), MAX_BACKOFF)


# -- channels -----------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """One attempt failed; ``retry``: worth trying again later (after ``after`` seconds,
    when the receiver said so)."""

    def __init__(self, reason: str, *, retry: bool = False, after: float | None = None):
        super().__init__(reason)
        self.retry, self.after = retry, after


class Channel:
    """Sends one notification per call; raises :class:`DeliveryFailed`. Retrying and
    remembering what was sent is the outbox's business (outbox.py)."""

    local = True  # a file or the terminal: fast, so never limited by a time budget

    def __init__(self, config: ChannelConfig, label: str) -> None:
        self.config, self.label = config, label
        self._write = threading.Lock()  # two threads appending to one file would interleave

    def serves(self, watch: object) -> bool:
        return self.config.watch in ("*", str(watch))

    def send(self, payload: dict[str, Any], delivery: str, timeout: float | None = None) -> None:
        try:
            with self._write:
                self.deliver(payload, delivery, timeout or self.config.timeout)
        except DeliveryFailed:
            raise
        except (OSError, ValueError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", retry=True) from None

    def deliver(self, payload: dict[str, Any], delivery: str, timeout: float) -> None:
        raise NotImplementedError


class Terminal(Channel):
    STYLES = {"critical": "bold red", "warning": "yellow", "watch": "cyan"}

    def __init__(self, config: ChannelConfig, label: str, console: Console) -> None:
        super().__init__(config, label)
        self.console = console

    def deliver(self, payload: dict[str, Any], delivery: str, timeout: float) -> None:
        p = payload
        level, rule_level = p.get("level"), p.get("rule_level")
        index_style = self.STYLES.get(level_name(level), "")
        # a rule rang above what the index says: the line says so, in the rule's colour
        early = _rank(rule_level) > _rank(level)
        style = self.STYLES.get(str(rule_level), "") if early else index_style
        pieces = [Text("ALERT ", style=f"bold {style}".strip()),
                  Text(f"#{plain(p.get('id'), limit=20)} {state_tag(p)}"
                       f"{plain(p.get('watch'), limit=80)} "),
                  Text(level_name(level), style=index_style),
                  Text(f" (index {index_text(p)})")]
        if early:
            pieces.append(Text(f", rule level {plain(rule_level, limit=20)}", style=style))
        # Text pieces, never markup: "[red]" in a headline prints as written.
        self.console.print(Text.assemble(
            *pieces, Text(f" · {plain(p.get('event'), limit=20)} · "),
            Text(plain(p.get("title"), limit=300)),
        ), highlight=False, soft_wrap=True)


def _rank(level: object) -> int:
    return level_rank(level) if isinstance(level, str) else 0


class Jsonl(Channel):
    def deliver(self, payload: dict[str, Any], delivery: str, timeout: float) -> None:
        assert self.config.path is not None
        line = json.dumps(payload, ensure_ascii=False)
        # Escape what some readers split lines on (str.splitlines does), inside strings only.
        line = _LINE_BREAKS.sub(lambda m: f"\\u{ord(m[0]):04x}", line) + "\n"
        self.config.path.parent.mkdir(parents=True, exist_ok=True)
        with self.config.path.open("a", encoding="utf-8") as out:
            out.write(line)
            out.flush()


class Atom(Channel):
    notes: list[str]

    def deliver(self, payload: dict[str, Any], delivery: str, timeout: float) -> None:
        path, alert, watch = self.config.path, payload.get("id"), self.config.watch
        assert path is not None
        kept = [p for p in self._read(path) if p.get("id") != alert][: ATOM_ENTRIES - 1]
        data = render_atom([payload, *kept], feed_id=f"urn:tocsin:alerts:{watch}",
                           title="tocsin alerts" + ("" if watch == "*" else f": {watch}"),
                           updated=datetime.now(UTC),
                           self_url=self.config.feed_url or path.resolve().as_uri(),
                           alert_url=self.config.alert_url)
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
            self.notes = [*getattr(self, "notes", []),
                          f"{path} was unreadable ({exc}); moved to {aside}"]
            return []


class Webhook(Channel):
    local = False

    def __init__(self, config: ChannelConfig, label: str, allow_private: bool = False) -> None:
        super().__init__(config, label)
        self.allow_private = allow_private
        self._secret = config.secret or _from_env(config.secret_env, label)

    def send(self, payload: dict[str, Any], delivery: str, timeout: float | None = None) -> None:
        self.deliver(payload, delivery, timeout or self.config.timeout)  # no file lock

    def deliver(self, payload: dict[str, Any], delivery: str, timeout: float) -> None:
        url = self.config.url or ""
        try:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, TypeError, ValueError) as exc:
            raise DeliveryFailed(f"payload is not encodable as JSON: {exc}") from None
        stamp = str(int(time.time()))  # per attempt, so receivers can refuse stale replays
        event = re.sub(r"[^A-Za-z0-9_.-]", "", str(payload.get("event", "")))[:40]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"tocsin/{__version__}",
            "X-Tocsin-Event": event,
            "X-Tocsin-Delivery": delivery,
            "X-Tocsin-Timestamp": stamp,
        }
        if self._secret:
            digest = hmac.new(self._secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
            headers["X-Tocsin-Signature"] = f"sha256={digest.hexdigest()}"
        try:
            # The address is checked on every attempt, after resolving: a name that
            # now points inside the network is refused (and never retried).
            response = guarded_request("POST", url, allow_private=self.allow_private,
                                       timeout=timeout, content=body, headers=headers)
        except BlockedURL as exc:
            raise DeliveryFailed(f"refused: {exc.detail}") from None
        except httpx.TransportError as exc:  # refused, reset, timed out
            reason = f"{type(exc).__name__}: {exc}".replace(url, self.label)
            raise DeliveryFailed(reason, retry=True) from exc
        status = response.status_code
        if status in (408, 429) or status >= 500:
            after = response.headers.get("Retry-After", "").strip()
            raise DeliveryFailed(f"HTTP {status}", retry=True,
                                 after=float(after) if after.isdigit() else None)
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status} (not retried)")


class Smtp(Channel):
    local = False

    def __init__(self, config: ChannelConfig, label: str) -> None:
        super().__init__(config, label)
        self._secret = _from_env(config.password_env, label)
        self.notes: list[str] = []

    def send(self, payload: dict[str, Any], delivery: str, timeout: float | None = None) -> None:
        self.deliver(payload, delivery, timeout or self.config.timeout)

    def deliver(self, payload: dict[str, Any], delivery: str, timeout: float) -> None:
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=timeout) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.username:
                    smtp.login(c.username, self._secret)
                refused = smtp.send_message(_email(payload, delivery, c.sender or "",
                                                   c.recipients))
            if refused:  # delivered to the others; say who was missed
                self.notes.append(f"{delivery}: refused {sorted(refused)}")
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error
            reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            raise DeliveryFailed(f"SMTP {exc.smtp_code}: {plain(reply, limit=200)}",
                                 retry=400 <= exc.smtp_code < 500) from None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError,
                ssl.SSLCertVerificationError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:  # the other SMTPExceptions too: disconnects, timeouts
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", retry=True) from None


def make_channels(configs: list[ChannelConfig], *, console: Console | None = None,
                  allow_private: bool = False) -> list[Channel]:
    """One channel per config, each with a label unique among them (secrets from the
    environment are read now: a missing one is a ConfigError before anything runs)."""
    out: list[Channel] = []
    for config in configs:
        label, taken, n = _label(config), {c.label for c in out}, 1
        while label in taken:
            n += 1
            label = f"{_label(config)}#{n}"
        channel: Channel
        if config.kind == "terminal":
            channel = Terminal(config, label, console or Console(stderr=True))
        elif config.kind == "webhook":
            channel = Webhook(config, label, allow_private)
        elif config.kind == "smtp":
            channel = Smtp(config, label)
        else:
            channel = {"jsonl": Jsonl, "atom": Atom}[config.kind](config, label)
        out.append(channel)
    return out


def _email(payload: dict[str, Any], delivery: str, sender: str,
           recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[tocsin] {headline(payload)}"  # one line: no injected headers
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{delivery}@{sender.rpartition('@')[2]}>"  # same on retry
    message.set_content(describe(payload))
    return message


def _from_env(name: str | None, label: str) -> str:
    if not name:
        return ""
    value = os.environ.get(name or "", "")
    if name and not value:
        raise ConfigError(f"channel {label}: the environment variable {name} is not set; "
                          "export it, or remove secret_env / password_env from the channel")
    return value
