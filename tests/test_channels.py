"""Alert channels against loopback servers and temporary files; nothing leaves the machine."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from aiosmtpd.controller import Controller
from defusedxml.ElementTree import fromstring as safe_fromstring
from pydantic import ValidationError
from rich.console import Console

from tocsin.alerts.channels import ChannelConfig, backoff_delay, make_channels
from tocsin.alerts.feed import ATOM_NS, render_atom
from tocsin.alerts.notice import safe_url, strongest
from tocsin.alerts.outbox import Outbox, PassReport
from tocsin.errors import ConfigError
from tocsin.store import outbox as table
from tocsin.store.db import open_store

A = f"{{{ATOM_NS}}}"
WAIT = 30.0  # generous upper bound so a broken test fails instead of hanging


def alert(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": 12, "event": "raised", "watch": "russia-nato", "level": "warning",
        "index": 63.4, "state": "open", "at": "2026-11-25T10:00:00+00:00",
        "updated_at": "2026-11-25T10:00:00+00:00", "title": "Drills near the border",
        "summary": "Two sources report exercises.", "categories": ["posture"],
        "indicators": ["exercise"], "evidence": [101, 102], "rules": ["r-posture-1"],
    }
    return payload | changes


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)


class Recorder:
    """Requests seen by the loopback server; ``respond(n)`` gives the status for the n-th."""

    def __init__(self, respond: Callable[[int], int | tuple[int, dict[str, str]]]) -> None:
        self.respond = respond
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.finished = 0
        self.lock = threading.Lock()


@contextmanager
def http_server(recorder: Recorder) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with recorder.lock:
                recorder.requests.append((dict(self.headers.items()), body))
                n = len(recorder.requests) - 1
            answer = recorder.respond(n)
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with recorder.lock:
                recorder.finished += 1

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook?token=abc"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sent:
    report: PassReport
    rows: list[Any]  # the outbox, oldest first
    outbox: Outbox


def send(tmp_path: Path, configs: list[ChannelConfig], *payloads: dict[str, Any],
         budget: float | None = None, wait: float = WAIT, allow_private: bool = True,
         console: Console | None = None) -> Sent:
    """Put ``payloads`` in a fresh store's outbox for ``configs`` and run a delivery pass
    (the webhooks of these tests listen on loopback, hence ``allow_private``)."""
    store = open_store(f"sqlite:///{tmp_path / 'outbox.db'}")
    outbox = Outbox(store.engine, make_channels(configs, console=console,
                                                allow_private=allow_private))
    with store.engine.begin() as conn:
        for payload in payloads:
            outbox.enqueue(conn, payload["id"], payload["event"], payload)
    report = outbox.deliver(budget=budget, wait=wait)
    return Sent(report, sorted(table.listing(store.engine, limit=1000), key=lambda r: r.id),
                outbox)


# -- webhook ------------------------------------------------------------------------------


def test_webhook_retries_503_then_delivers_signed_body(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 503 if n < 2 else 200)
    with http_server(recorder) as url:
        hook = ChannelConfig(kind="webhook", url=url, secret="s3cret", backoff=0.01)
        sent = send(tmp_path, [hook], alert(title="Учения у границы"))
    assert sum(sent.report.delivered.values()) == 1
    [row] = sent.rows
    assert (row.state, row.attempts, row.last_error) == ("delivered", 3, "HTTP 503")
    assert len(recorder.requests) == 3
    assert {headers["X-Tocsin-Delivery"] for headers, _ in recorder.requests} == {row.delivery}
    for headers, body in recorder.requests:
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert headers["X-Tocsin-Event"] == "raised"
        signed = f"{headers['X-Tocsin-Timestamp']}.".encode() + body
        expected = hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Tocsin-Signature"], f"sha256={expected}")
    assert json.loads(recorder.requests[-1][1]) == alert(title="Учения у границы")


def test_webhook_label_hides_query_token() -> None:
    url = "https://user:pw@hooks.example/alert?token=abc"
    [channel] = make_channels([ChannelConfig(kind="webhook", url=url)])
    assert channel.label == "webhook:https://hooks.example/alert"


def test_webhook_without_secret_sends_no_signature(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 204)
    with http_server(recorder) as url:
        sent = send(tmp_path, [ChannelConfig(kind="webhook", url=url)], alert())
    assert sum(sent.report.delivered.values()) == 1
    assert "X-Tocsin-Signature" not in recorder.requests[0][0]


def test_a_hanging_server_costs_one_budget_and_loses_nothing(tmp_path: Path) -> None:
    entered, release = threading.Event(), threading.Event()

    def hang(n: int) -> int:
        entered.set()
        release.wait(WAIT)
        return 200

    recorder = Recorder(hang)
    try:
        with http_server(recorder) as url:
            hook = ChannelConfig(kind="webhook", url=url, timeout=WAIT)
            sent = send(tmp_path, [hook], *[alert(id=n) for n in range(7)],
                        budget=1.0, wait=0)
            release.set()
    finally:
        release.set()
    # one request, cut at the budget; the others share its failure without being tried
    assert len(recorder.requests) == 1
    assert [r.state for r in sent.rows] == ["pending"] * 7
    assert "Timeout" in sent.rows[0].last_error
    assert all(r.last_error.startswith("not sent, the channel failed") for r in sent.rows[1:])
    assert all("token=abc" not in r.last_error for r in sent.rows)


def test_a_server_back_up_gets_everything_in_order(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 503 if n == 0 else 200)
    with http_server(recorder) as url:
        hook = ChannelConfig(kind="webhook", url=url, backoff=0.01)
        sent = send(tmp_path, [hook], alert(id=1), alert(id=2),
                    alert(id=1, event="updated", level="critical"))
    assert [r.state for r in sent.rows] == ["delivered"] * 3
    bodies = [json.loads(body) for _, body in recorder.requests]
    assert [(b["id"], b["event"]) for b in bodies] == [
        (1, "raised"), (1, "raised"), (2, "raised"), (1, "updated")]


def test_webhook_does_not_retry_400(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 400)
    with http_server(recorder) as url:
        sent = send(tmp_path, [ChannelConfig(kind="webhook", url=url, backoff=0.01)], alert())
    assert len(recorder.requests) == 1
    [row] = sent.rows
    assert (row.state, row.last_error) == ("failed", "HTTP 400 (not retried)")
    assert row.payload == alert()


def test_webhook_gives_up_after_retries_on_permanent_500(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 500)
    with http_server(recorder) as url:
        hook = ChannelConfig(kind="webhook", url=url, retries=2, backoff=0.01)
        sent = send(tmp_path, [hook], alert())
    assert len(recorder.requests) == 3
    [row] = sent.rows
    assert (row.state, row.attempts) == ("failed", 3)
    assert row.last_error == "gave up after 3 attempts: HTTP 500"
    assert row.delivery == recorder.requests[0][0]["X-Tocsin-Delivery"]


def test_webhook_honours_retry_after_over_backoff(tmp_path: Path) -> None:
    # With backoff=600 only the server's Retry-After: 0 lets the retry happen in the pass.
    recorder = Recorder(lambda n: (429, {"Retry-After": "0"}) if n == 0 else 200)
    with http_server(recorder) as url:
        sent = send(tmp_path, [ChannelConfig(kind="webhook", url=url, backoff=600)], alert())
    assert sum(sent.report.delivered.values()) == 1
    assert len(recorder.requests) == 2


def test_webhook_connection_refused_is_retried_then_failed(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    sent = send(tmp_path, [ChannelConfig(kind="webhook", url=url, retries=1, backoff=0.01)],
                alert())
    [row] = sent.rows
    assert row.state == "failed" and row.attempts == 2 and "ConnectError" in row.last_error


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    assert 1.0 <= backoff_delay(1, 1.0) <= 1.1
    assert 4.0 <= backoff_delay(3, 1.0) <= 4.4
    assert backoff_delay(30, 1.0) == 3600.0
    assert backoff_delay(1, 1.0, retry_after=5) == 5
    assert backoff_delay(1, 1.0, retry_after=86400) == 3600.0


def test_missing_secret_env_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOCSIN_TEST_HOOK_KEY", raising=False)
    hook = ChannelConfig(kind="webhook", url="https://x.example/",
                         secret_env="TOCSIN_TEST_HOOK_KEY")
    with pytest.raises(ConfigError, match="TOCSIN_TEST_HOOK_KEY"):
        make_channels([hook])


# -- the guard: webhooks inside the network are refused unless allowed -------------------

REFUSED_TARGETS = [
    "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://10.0.0.1/",
    "http://172.16.0.9/hook", "http://192.168.1.1/", "http://100.64.0.1/", "http://0.0.0.0/",
    "http://0/", "http://[::1]/", "http://[::]/", "http://localhost/", "http://2130706433/",
    "http://0x7f.1/", "http://127.1/", "http://127.0.0.1:8080/x?y=1", "http://0x7f000001/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[fe80::1]/",
    "http://[fc00::1]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://240.0.0.1/",
    "http://255.255.255.255/", "https://user:pw@127.0.0.1/", "http://169.254.1.1/",
    "http://[::ffff:7f00:1]/", "http://198.18.0.1/", "http://192.0.2.1/",
]


@pytest.mark.parametrize("url", REFUSED_TARGETS)
def test_a_webhook_inside_the_network_is_refused_by_default(tmp_path: Path, url: str) -> None:
    sent = send(tmp_path, [ChannelConfig(kind="webhook", url=url, backoff=0.01)], alert(),
                allow_private=False)
    [row] = sent.rows
    assert row.state == "failed" and row.attempts == 1  # refused, never retried
    assert row.last_error.startswith("refused: ")
    assert "pw" not in row.last_error


def test_the_guard_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 200)
    with http_server(recorder) as url:
        refused = send(tmp_path, [ChannelConfig(kind="webhook", url=url)], alert(),
                       allow_private=False)
        assert recorder.requests == []
        assert "fetch.allow_private" in refused.rows[0].last_error
    metadata = send(tmp_path / "m", [ChannelConfig(kind="webhook",
                                                   url="http://169.254.169.254/x")],
                    alert(), allow_private=True)
    assert "metadata" in metadata.rows[0].last_error  # never, even when allowed


def test_a_redirect_is_not_followed(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: (302, {"Location": "http://169.254.169.254/"}))
    with http_server(recorder) as url:
        sent = send(tmp_path, [ChannelConfig(kind="webhook", url=url)], alert())
    assert len(recorder.requests) == 1
    assert sent.rows[0].state == "failed" and sent.rows[0].last_error.startswith("HTTP 302")


def test_two_deliverers_never_send_one_notification_twice(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 200)
    with http_server(recorder) as url:
        sent = send(tmp_path, [ChannelConfig(kind="webhook", url=url)],
                    *[alert(id=n) for n in range(30)], wait=0, budget=0)
        assert recorder.requests == []  # budget 0: nothing sent, all pending
        threads = [threading.Thread(target=sent.outbox.deliver) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
    ids = [json.loads(body)["id"] for _, body in recorder.requests]
    assert sorted(ids) == list(range(30))


def test_a_channel_removed_from_the_config_fails_its_notifications(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    first = send(tmp_path, [ChannelConfig(kind="jsonl", path=path)], alert(), budget=0,
                 wait=0)
    store = open_store(f"sqlite:///{tmp_path / 'outbox.db'}")
    with store.engine.begin() as conn:
        first.outbox.enqueue(conn, 13, "raised", alert(id=13))
    report = Outbox(store.engine, []).deliver()
    assert sum(report.failed.values()) == 1
    [row] = [r for r in table.listing(store.engine) if r.alert_id == 13]
    assert row.last_error == "the channel is no longer configured"


# -- smtp ---------------------------------------------------------------------------------


class Mailbox:
    def __init__(self, replies: list[str] | None = None) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.replies = replies or []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@contextmanager
def smtp_server(mailbox: Mailbox) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def mail_channel(port: int) -> ChannelConfig:
    return ChannelConfig(kind="smtp", host="127.0.0.1", port=port, sender="tocsin@example.org",
                         recipients=["duty@example.org"], backoff=0.01)


def test_smtp_sends_subject_and_body_without_header_injection(tmp_path: Path) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        sent = send(tmp_path, [mail_channel(port)], alert(title="Hello\r\nBcc: x@y",
                                                          evidence=[7, 8]))
    assert sent.rows[0].state == "delivered"
    [(rcpt, raw)] = mailbox.messages
    assert rcpt == ["duty@example.org"]
    message = message_from_bytes(raw, policy=default_policy)
    assert message["Subject"] == "[tocsin] russia-nato warning (index 63): Hello Bcc: x@y"
    assert message["Bcc"] is None
    body = message.get_content()
    for expected in ("Index: 63 / 100", "Level: warning", "Categories: posture",
                     "Indicators: exercise", "Rules: r-posture-1", "Evidence: 7, 8",
                     "2026-11-25T10:00:00+00:00"):
        assert expected in body


TRAIL = [
    {"evidence": 7, "indicator": "exercise.nuclear", "polarity": "asserted", "severity": 4,
     "sentence": "Russia began drills of its non-strategic nuclear forces.",
     "source": "Northgate Wire", "grade": "B", "origin": "Northgate Wire", "document": 70,
     "title": "Drills", "url": "https://northgate.example/drills",
     "published_at": "2026-11-25T09:00:00+00:00"},
    {"evidence": 8, "indicator": "exercise.nuclear", "polarity": "reported", "severity": 4,
     "sentence": "Drills \x1b[31mbegan\r\nBcc: evil@x.example", "source": "Вестник\u202e",
     "grade": "C", "origin": "Вестник", "document": 71, "title": "Учения", "url": None,
     "published_at": "2026-11-25T09:30:00+00:00"},
]


def test_an_email_carries_each_piece_of_evidence_sentence_source_grade_and_link(
        tmp_path: Path) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        send(tmp_path, [mail_channel(port)], alert(evidence=[7, 8, 9], trail=TRAIL,
                                                   level=None, index=3.2,
                                                   rule_level="warning"))
    [(_, raw)] = mailbox.messages
    message = message_from_bytes(raw, policy=default_policy)
    # a rule rang above what the index says: the subject says both
    assert message["Subject"] == ("[tocsin] russia-nato below watch (index 3), rule level "
                                  "warning: Drills near the border")
    assert message["Bcc"] is None
    body = message.get_content()
    assert "Evidence (2 strongest of 3, each origin's best first):" in body
    assert "1. Northgate Wire (grade B), 2026-11-25T09:00:00+00:00" in body
    assert "Russia began drills of its non-strategic nuclear forces." in body
    assert "   https://northgate.example/drills" in body
    assert "2. Вестник (grade C)" in body and "document 71: Учения" in body
    assert "\x1b" not in body and "\u202e" not in body
    assert "\nBcc:" not in body  # the sentence stays on its line
    assert "... and 1 more (`tocsin alert 12`)" in body


def test_smtp_retries_a_temporary_refusal(tmp_path: Path) -> None:
    mailbox = Mailbox(replies=["451 4.3.0 try again later"])
    with smtp_server(mailbox) as port:
        sent = send(tmp_path, [mail_channel(port)], alert())
    assert (sent.rows[0].state, sent.rows[0].attempts) == ("delivered", 2)
    assert len(mailbox.messages) == 1


def test_smtp_permanent_refusal_is_not_retried(tmp_path: Path) -> None:
    mailbox = Mailbox(replies=["554 5.7.1 rejected", "554 5.7.1 rejected"])
    with smtp_server(mailbox) as port:
        sent = send(tmp_path, [mail_channel(port)], alert())
    assert mailbox.replies == ["554 5.7.1 rejected"]  # only one attempt used a reply
    assert sent.rows[0].state == "failed" and "SMTP 554" in sent.rows[0].last_error


# -- local channels -----------------------------------------------------------------------


def test_jsonl_appends_one_line_per_payload(tmp_path: Path) -> None:
    path = tmp_path / "out" / "alerts.jsonl"
    sent = send(tmp_path, [ChannelConfig(kind="jsonl", path=path)],
                alert(id=1, title="Ядерные учения"),
                alert(id=2, title="line\nbreak\u2028and\x85more"))
    assert sum(sent.report.delivered.values()) == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    assert "Ядерные учения" in lines[0]  # not \u-escaped
    assert json.loads(lines[1])["title"] == "line\nbreak\u2028and\x85more"


def test_jsonl_write_error_is_kept_for_a_retry(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    config = ChannelConfig(kind="jsonl", path=tmp_path / "dir")
    sent = send(tmp_path, [config], alert(), wait=0)
    [row] = sent.rows
    assert (row.state, row.attempts) == ("pending", 1)
    assert "IsADirectoryError" in row.last_error and row.payload == alert()


def atom_entries(path: Path) -> list[Any]:
    return safe_fromstring(path.read_bytes()).findall(f"{A}entry")


def test_atom_keeps_one_entry_per_alert_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    sent = send(tmp_path, [ChannelConfig(kind="atom", path=path)],
                alert(id=1, title="first"), alert(id=2, title="second"),
                alert(id=1, event="updated", level="critical", title="first, worse",
                      updated_at="2026-11-25T11:30:00+00:00"))
    assert sum(sent.report.delivered.values()) == 3
    entries = atom_entries(path)
    assert [e.findtext(f"{A}id") for e in entries] == ["urn:tocsin:alert:1", "urn:tocsin:alert:2"]
    assert entries[0].findtext(f"{A}title") == "russia-nato critical (index 63): first, worse"
    assert entries[0].findtext(f"{A}updated") == "2026-11-25T11:30:00Z"
    assert entries[0].findtext(f"{A}published") == "2026-11-25T10:00:00Z"
    assert entries[0].find(f"{A}category").get("term") == "posture"


def test_atom_escapes_markup_and_round_trips_text(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    title = "<script>alert('x')</script> & \"Ж\" ]]>"
    send(tmp_path, [ChannelConfig(kind="atom", path=path)],
         alert(title=title, summary="a < b && c\x00"))
    assert b"<script>" not in path.read_bytes()
    [entry] = atom_entries(path)
    assert entry.findtext(f"{A}title") == f"russia-nato warning (index 63): {title}"
    assert entry.findtext(f"{A}summary") == "a < b && c"
    assert title in entry.findtext(f"{A}content")


def test_atom_sets_aside_a_corrupt_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(b"<feed><entry>broken")
    sent = send(tmp_path, [ChannelConfig(kind="atom", path=path)], alert())
    assert sum(sent.report.delivered.values()) == 1
    assert (tmp_path / "feed.xml.corrupt").read_bytes() == b"<feed><entry>broken"
    assert len(atom_entries(path)) == 1
    [channel] = sent.outbox.channels.values()
    assert "feed.xml.corrupt" in channel.notes[0]  # type: ignore[attr-defined]


def test_atom_caps_the_number_of_entries(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    old = [alert(id=n) for n in range(250, 0, -1)]
    path.write_bytes(render_atom(old, feed_id="urn:x", title="t", updated=datetime.now(UTC)))
    send(tmp_path, [ChannelConfig(kind="atom", path=path)], alert(id=999))
    ids = [e.findtext(f"{A}id") for e in atom_entries(path)]
    assert len(ids) == 200
    assert ids[:2] == ["urn:tocsin:alert:999", "urn:tocsin:alert:250"]


def test_terminal_prints_markup_literally_and_strips_escapes() -> None:
    out = io.StringIO()
    console = Console(file=out, width=300, color_system=None)
    [terminal] = make_channels([ChannelConfig(kind="terminal")], console=console)
    terminal.send(alert(title="[red]x[/red] \x1b[2Jgone"), "")
    printed = out.getvalue()
    assert printed.strip() == (
        "ALERT #12 russia-nato warning (index 63) · raised · [red]x[/red] [2Jgone")
    assert "\x1b" not in printed
    out.truncate(0)
    out.seek(0)
    terminal.send(alert(level=None, index=0.04, rule_level="warning"), "")
    # below the watch's `watch` level, a rule asked for warning: the line says so; and an
    # index above 0 never reads 0
    assert out.getvalue().strip() == ("ALERT #12 russia-nato below watch (index 0.1), rule "
                                      "level warning · raised · Drills near the border")


# -- routing and configuration ------------------------------------------------------------


def test_routing_by_watch(tmp_path: Path) -> None:
    only, every = tmp_path / "only.jsonl", tmp_path / "every.jsonl"
    send(tmp_path, [ChannelConfig(kind="jsonl", path=only, watch="russia-nato"),
                    ChannelConfig(kind="jsonl", path=every)],
         alert(id=1), alert(id=2, watch="india-pakistan"))
    assert [json.loads(x)["id"] for x in only.read_text().splitlines()] == [1]
    assert [json.loads(x)["id"] for x in every.read_text().splitlines()] == [1, 2]


@pytest.mark.parametrize(("settings", "message"), [
    ({"kind": "webhook"}, "needs url"),
    ({"kind": "webhook", "url": "ftp://x.example/"}, "http"),
    ({"kind": "webhook", "url": "https://x.example/", "secret": "a", "secret_env": "B"}, "either"),
    ({"kind": "smtp", "sender": "a@b.example"}, "needs recipients"),
    ({"kind": "smtp", "sender": "a@b", "recipients": ["c@d"], "secret": "x"}, "secret does not"),
    ({"kind": "smtp", "recipients": ["a@b.example"]}, "needs sender"),
    ({"kind": "jsonl"}, "needs path"),
    ({"kind": "atom", "path": "f.xml", "url": "https://x.example/"}, "url does not apply"),
    ({"kind": "terminal", "colour": True}, "Extra inputs"),
])
def test_config_validation_names_the_setting(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ChannelConfig.model_validate(settings)


def test_config_repr_hides_the_secret() -> None:
    config = ChannelConfig(kind="webhook", url="https://x.example/", secret="hunter2")
    assert "hunter2" not in repr(config)


def test_atom_strips_what_xml_forbids_wherever_it_comes_from(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    sent = send(tmp_path, [ChannelConfig(kind="atom", path=path, watch="w\uffff")],
                alert(watch="w\uffff", title="a\uffff\ufffeb\x00c\ud800", summary="x\x0cy",
                      categories=["c\ufffe"]))
    assert sent.rows[0].state == "delivered", sent.rows[0].last_error
    [entry] = atom_entries(path)
    assert entry.findtext(f"{A}title") == "w warning (index 63): abc"
    assert entry.findtext(f"{A}summary") == "xy"
    feed = render_atom([], feed_id="urn:x", title="t\uffff\x01", updated=datetime.now(UTC))
    assert safe_fromstring(feed).findtext(f"{A}title") == "t"


def test_atom_links_the_alert_and_the_feed_as_configured(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    config = ChannelConfig(kind="atom", path=path, feed_url="https://desk.example/alerts.atom",
                           alert_url="https://desk.example/alerts/{id}")
    send(tmp_path, [config], alert(trail=TRAIL))
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert [(x.rel, x.href) for x in feed.feed.links] == [
        ("self", "https://desk.example/alerts.atom")]
    [entry] = feed.entries
    assert entry.link == "https://desk.example/alerts/12"
    assert [x.href for x in entry.links if x.rel == "related"] == [
        "https://northgate.example/drills"]


def test_atom_links_only_plain_web_addresses(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    hostile = [dict(TRAIL[0], url=url) for url in (
        "javascript:alert(1)", "data:text/html,x", "https://a.example/\x00x",
        "https://a.example/ x", "file:///etc/passwd")]
    send(tmp_path, [ChannelConfig(kind="atom", path=path)],
         alert(trail=[*hostile, TRAIL[0]]))
    feed = feedparser.parse(path.read_bytes())
    [entry] = feed.entries
    assert [x.href for x in entry.links] == ["https://northgate.example/drills"]
    # with no link configured, the self link is the file
    assert safe_fromstring(path.read_bytes()).find(f"{A}link").get("href") == path.as_uri()


@pytest.mark.parametrize(("settings", "message"), [
    ({"kind": "atom", "path": "f.xml", "feed_url": "javascript:x"}, "feed_url must be"),
    ({"kind": "atom", "path": "f.xml", "alert_url": "https://x.example/a"}, "needs {id}"),
    ({"kind": "jsonl", "path": "f.jsonl", "alert_url": "https://x.example/{id}"},
     "does not apply"),
])
def test_atom_link_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ChannelConfig.model_validate(settings)


def test_the_strongest_evidence_comes_first_each_origin_once_before_any_twice() -> None:
    def piece(n: int, origin: str, severity: int, grade: str,
              polarity: str = "asserted") -> dict[str, Any]:
        return {"evidence": n, "origin": origin, "severity": severity, "grade": grade,
                "polarity": polarity, "published_at": datetime(2024, 1, 1, n, tzinfo=UTC)}

    trail = [piece(1, "wire", 5, "B"), piece(2, "wire", 5, "A"), piece(3, "paper", 3, "C"),
             piece(4, "blog", 5, "B", "hypothetical"), piece(5, "wire", 4, "A")]
    assert [t["evidence"] for t in strongest(trail)] == [2, 4, 3, 1, 5]
    assert [t["evidence"] for t in strongest(trail, 2)] == [2, 4]


@pytest.mark.parametrize(("url", "kept"), [
    ("https://a.example/x?y=1", True), ("http://a.example", True),
    ("javascript:alert(1)", False), ("https:///nohost", False), ("ftp://a.example/", False),
    ("https://a.example/\u202ex", False), (None, False), ("https://a.example/a b", False),
])
def test_only_plain_http_links_leave_in_a_notification(url: str | None, kept: bool) -> None:
    assert safe_url(url) == (url if kept else None)
