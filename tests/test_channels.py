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
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from defusedxml.ElementTree import fromstring as safe_fromstring
from pydantic import ValidationError
from rich.console import Console

from tocsin.alerts.channels import (
    ChannelConfig,
    Dispatcher,
    _backoff_delay,
)
from tocsin.alerts.feed import ATOM_NS, render_atom
from tocsin.errors import ConfigError

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


def dead_letters(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- webhook ------------------------------------------------------------------------------


def test_webhook_retries_503_then_delivers_signed_body(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 503 if n < 2 else 200)
    with http_server(recorder) as url:
        hook = ChannelConfig(kind="webhook", url=url, secret="s3cret", backoff=0.01)
        dispatcher = Dispatcher([hook], dead_letter=tmp_path / "dead.jsonl")
        dispatcher.dispatch(alert(title="Учения у границы"))
        report = dispatcher.close(timeout=WAIT)
    [counts] = report.channels.values()
    assert (counts.delivered, counts.failed, counts.dropped) == (1, 0, 0)
    assert len(recorder.requests) == 3
    assert len({headers["X-Tocsin-Delivery"] for headers, _ in recorder.requests}) == 1
    for headers, body in recorder.requests:
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert headers["X-Tocsin-Event"] == "raised"
        signed = f"{headers['X-Tocsin-Timestamp']}.".encode() + body
        expected = hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Tocsin-Signature"], f"sha256={expected}")
    assert json.loads(recorder.requests[-1][1]) == alert(title="Учения у границы")
    assert not (tmp_path / "dead.jsonl").exists()


def test_webhook_label_hides_query_token() -> None:
    url = "https://user:pw@hooks.example/alert?token=abc"
    report = Dispatcher([ChannelConfig(kind="webhook", url=url)]).close(timeout=0)
    assert list(report.channels) == ["webhook:https://hooks.example/alert"]


def test_webhook_without_secret_sends_no_signature() -> None:
    recorder = Recorder(lambda n: 204)
    with http_server(recorder) as url:
        dispatcher = Dispatcher([ChannelConfig(kind="webhook", url=url)])
        dispatcher.dispatch(alert())
        assert dispatcher.close(timeout=WAIT).delivered == 1
    assert "X-Tocsin-Signature" not in recorder.requests[0][0]


def test_webhook_dispatch_never_waits_for_a_hanging_server(tmp_path: Path) -> None:
    entered, release = threading.Event(), threading.Event()

    def hang(n: int) -> int:
        entered.set()
        release.wait(WAIT)
        return 200

    recorder = Recorder(hang)
    dead = tmp_path / "dead.jsonl"
    try:
        with http_server(recorder) as url:
            hook = ChannelConfig(kind="webhook", url=url, queue_size=3, timeout=WAIT)
            dispatcher = Dispatcher([hook], dead_letter=dead)
            dispatcher.dispatch(alert(id=0))
            assert entered.wait(WAIT)  # the worker is now stuck inside the first request
            for n in range(1, 7):
                dispatcher.dispatch(alert(id=n))
            assert recorder.finished == 0  # every dispatch returned while the handler hung
            assert dispatcher.report().dropped == 3
            report = dispatcher.close(timeout=0.5)
            release.set()
    finally:
        release.set()
    [counts] = report.channels.values()
    assert (counts.delivered, counts.failed, counts.dropped) == (0, 4, 3)
    assert counts.dead_lettered == 7
    records = dead_letters(dead)
    assert sorted(r["payload"]["id"] for r in records) == list(range(7))
    assert {r["outcome"] for r in records} == {"failed", "dropped"}
    assert all("token=abc" not in json.dumps(r) for r in records)


def test_webhook_does_not_retry_400(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 400)
    with http_server(recorder) as url:
        dispatcher = Dispatcher([ChannelConfig(kind="webhook", url=url, backoff=0.01)],
                                dead_letter=tmp_path / "dead.jsonl")
        dispatcher.dispatch(alert())
        report = dispatcher.close(timeout=WAIT)
    assert len(recorder.requests) == 1
    assert (report.delivered, report.failed) == (0, 1)
    [record] = dead_letters(tmp_path / "dead.jsonl")
    assert "HTTP 400" in record["reason"]
    assert record["payload"] == alert()


def test_webhook_gives_up_after_retries_on_permanent_500(tmp_path: Path) -> None:
    recorder = Recorder(lambda n: 500)
    with http_server(recorder) as url:
        hook = ChannelConfig(kind="webhook", url=url, retries=2, backoff=0.01)
        dispatcher = Dispatcher([hook], dead_letter=tmp_path / "dead.jsonl")
        dispatcher.dispatch(alert())
        report = dispatcher.close(timeout=WAIT)
    assert len(recorder.requests) == 3
    assert report.failed == 1
    [record] = dead_letters(tmp_path / "dead.jsonl")
    assert record["reason"] == "gave up after 3 attempts: HTTP 500"
    assert record["attempts"] == 3
    assert record["delivery"] == recorder.requests[0][0]["X-Tocsin-Delivery"]


def test_webhook_honours_retry_after_over_backoff() -> None:
    # With backoff=600 only the server's Retry-After: 0 lets the retry happen before close.
    recorder = Recorder(lambda n: (429, {"Retry-After": "0"}) if n == 0 else 200)
    with http_server(recorder) as url:
        dispatcher = Dispatcher([ChannelConfig(kind="webhook", url=url, backoff=600)])
        dispatcher.dispatch(alert())
        assert dispatcher.close(timeout=WAIT).delivered == 1
    assert len(recorder.requests) == 2


def test_webhook_connection_refused_is_retried_then_dead_lettered(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    dispatcher = Dispatcher([ChannelConfig(kind="webhook", url=url, retries=1, backoff=0.01)],
                            dead_letter=tmp_path / "dead.jsonl")
    dispatcher.dispatch(alert())
    assert dispatcher.close(timeout=WAIT).failed == 1
    [record] = dead_letters(tmp_path / "dead.jsonl")
    assert record["attempts"] == 2 and "ConnectError" in record["reason"]


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    assert 1.0 <= _backoff_delay(1, 1.0) <= 1.1
    assert 4.0 <= _backoff_delay(3, 1.0) <= 4.4
    assert _backoff_delay(12, 1.0) == 60.0
    assert _backoff_delay(1, 1.0, retry_after=5) == 5
    assert _backoff_delay(1, 1.0, retry_after=3600) == 60.0


def test_missing_secret_env_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOCSIN_TEST_HOOK_KEY", raising=False)
    hook = ChannelConfig(kind="webhook", url="https://x.example/",
                         secret_env="TOCSIN_TEST_HOOK_KEY")
    with pytest.raises(ConfigError, match="TOCSIN_TEST_HOOK_KEY"):
        Dispatcher([hook])


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


def test_smtp_sends_subject_and_body_without_header_injection() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        dispatcher = Dispatcher([mail_channel(port)])
        dispatcher.dispatch(alert(title="Hello\r\nBcc: x@y", evidence=[7, 8]))
        report = dispatcher.close(timeout=WAIT)
    assert report.delivered == 1
    [(rcpt, raw)] = mailbox.messages
    assert rcpt == ["duty@example.org"]
    message = message_from_bytes(raw, policy=default_policy)
    assert message["Subject"] == "[tocsin] warning russia-nato: Hello Bcc: x@y"
    assert message["Bcc"] is None
    body = message.get_content()
    for expected in ("Index: 63 / 100", "Categories: posture", "Indicators: exercise",
                     "Rules: r-posture-1", "Evidence: 7, 8", "2026-11-25T10:00:00+00:00"):
        assert expected in body


def test_smtp_retries_a_temporary_refusal() -> None:
    mailbox = Mailbox(replies=["451 4.3.0 try again later"])
    with smtp_server(mailbox) as port:
        dispatcher = Dispatcher([mail_channel(port)])
        dispatcher.dispatch(alert())
        assert dispatcher.close(timeout=WAIT).delivered == 1
    assert len(mailbox.messages) == 1


def test_smtp_permanent_refusal_is_not_retried(tmp_path: Path) -> None:
    mailbox = Mailbox(replies=["554 5.7.1 rejected", "554 5.7.1 rejected"])
    with smtp_server(mailbox) as port:
        dispatcher = Dispatcher([mail_channel(port)], dead_letter=tmp_path / "dead.jsonl")
        dispatcher.dispatch(alert())
        assert dispatcher.close(timeout=WAIT).failed == 1
    assert mailbox.replies == ["554 5.7.1 rejected"]  # only one attempt used a reply
    assert "SMTP 554" in dead_letters(tmp_path / "dead.jsonl")[0]["reason"]


# -- local channels -----------------------------------------------------------------------


def test_jsonl_appends_one_line_per_payload(tmp_path: Path) -> None:
    path = tmp_path / "out" / "alerts.jsonl"
    dispatcher = Dispatcher([ChannelConfig(kind="jsonl", path=path)])
    dispatcher.dispatch(alert(id=1, title="Ядерные учения"))
    dispatcher.dispatch(alert(id=2, title="line\nbreak\u2028and\x85more"))
    assert dispatcher.close().delivered == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    assert "Ядерные учения" in lines[0]  # not \u-escaped
    assert json.loads(lines[1])["title"] == "line\nbreak\u2028and\x85more"


def test_jsonl_write_error_is_counted_and_dead_lettered(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    dispatcher = Dispatcher([ChannelConfig(kind="jsonl", path=tmp_path / "dir")],
                            dead_letter=tmp_path / "dead.jsonl")
    dispatcher.dispatch(alert())
    report = dispatcher.close()
    assert (report.delivered, report.failed) == (0, 1)
    assert dead_letters(tmp_path / "dead.jsonl")[0]["payload"] == alert()


def test_unserialisable_payload_fails_without_raising(tmp_path: Path) -> None:
    dispatcher = Dispatcher([ChannelConfig(kind="jsonl", path=tmp_path / "a.jsonl")])
    dispatcher.dispatch(alert(evidence={1, 2}))
    assert dispatcher.close().failed == 1


def atom_entries(path: Path) -> list[Any]:
    return safe_fromstring(path.read_bytes()).findall(f"{A}entry")


def test_atom_keeps_one_entry_per_alert_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    dispatcher = Dispatcher([ChannelConfig(kind="atom", path=path)])
    dispatcher.dispatch(alert(id=1, title="first"))
    dispatcher.dispatch(alert(id=2, title="second"))
    dispatcher.dispatch(alert(id=1, event="updated", level="critical", title="first, worse",
                              updated_at="2026-11-25T11:30:00+00:00"))
    assert dispatcher.close().delivered == 3
    entries = atom_entries(path)
    assert [e.findtext(f"{A}id") for e in entries] == ["urn:tocsin:alert:1", "urn:tocsin:alert:2"]
    assert entries[0].findtext(f"{A}title") == "critical russia-nato: first, worse"
    assert entries[0].findtext(f"{A}updated") == "2026-11-25T11:30:00Z"
    assert entries[0].findtext(f"{A}published") == "2026-11-25T10:00:00Z"
    assert entries[0].find(f"{A}category").get("term") == "posture"


def test_atom_escapes_markup_and_round_trips_text(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    title = "<script>alert('x')</script> & \"Ж\" ]]>"
    dispatcher = Dispatcher([ChannelConfig(kind="atom", path=path)])
    dispatcher.dispatch(alert(title=title, summary="a < b && c\x00"))
    dispatcher.close()
    assert b"<script>" not in path.read_bytes()
    [entry] = atom_entries(path)
    assert entry.findtext(f"{A}title") == f"warning russia-nato: {title}"
    assert entry.findtext(f"{A}summary") == "a < b && c"
    assert title in entry.findtext(f"{A}content")


def test_atom_sets_aside_a_corrupt_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(b"<feed><entry>broken")
    dispatcher = Dispatcher([ChannelConfig(kind="atom", path=path)])
    dispatcher.dispatch(alert())
    report = dispatcher.close()
    assert report.delivered == 1
    assert (tmp_path / "feed.xml.corrupt").read_bytes() == b"<feed><entry>broken"
    assert len(atom_entries(path)) == 1
    assert "feed.xml.corrupt" in report.channels[f"atom:{path}"].notes[0]


def test_atom_caps_the_number_of_entries(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    old = [alert(id=n) for n in range(250, 0, -1)]
    path.write_bytes(render_atom(old, feed_id="urn:x", title="t", updated=datetime.now(UTC)))
    dispatcher = Dispatcher([ChannelConfig(kind="atom", path=path)])
    dispatcher.dispatch(alert(id=999))
    dispatcher.close()
    ids = [e.findtext(f"{A}id") for e in atom_entries(path)]
    assert len(ids) == 200
    assert ids[:2] == ["urn:tocsin:alert:999", "urn:tocsin:alert:250"]


def test_terminal_prints_markup_literally_and_strips_escapes() -> None:
    out = io.StringIO()
    console = Console(file=out, width=300, color_system=None)
    dispatcher = Dispatcher([ChannelConfig(kind="terminal")], console=console)
    dispatcher.dispatch(alert(title="[red]x[/red] \x1b[2Jgone"))
    dispatcher.close()
    printed = out.getvalue()
    assert printed.strip() == (
        "ALERT #12 warning russia-nato index 63 · raised · [red]x[/red] [2Jgone")
    assert "\x1b" not in printed


# -- routing and configuration ------------------------------------------------------------


def test_routing_by_watch_and_dispatch_after_close(tmp_path: Path) -> None:
    only, every = tmp_path / "only.jsonl", tmp_path / "every.jsonl"
    dispatcher = Dispatcher([ChannelConfig(kind="jsonl", path=only, watch="russia-nato"),
                             ChannelConfig(kind="jsonl", path=every)])
    dispatcher.dispatch(alert(id=1))
    dispatcher.dispatch(alert(id=2, watch="india-pakistan"))
    dispatcher.close()
    dispatcher.dispatch(alert(id=3))
    assert [json.loads(x)["id"] for x in only.read_text().splitlines()] == [1]
    assert [json.loads(x)["id"] for x in every.read_text().splitlines()] == [1, 2]
    assert dispatcher.report().dropped == 2


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
