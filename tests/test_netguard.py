"""The SSRF guard: which URLs are refused and why, and that requests go to the checked address.

No test touches the network: host names go through fake resolvers; IP literals
and numeric encodings go through the real resolver, which parses them itself.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.errors import TocsinError
from tocsin.netguard import (
    BlockedURL,
    Target,
    allow_private_from_env,
    check_url,
    guarded_request,
    system_resolve,
)

Resolve = Callable[[str, int], list[str]]

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"

FAKE_DNS: dict[str, list[str]] = {
    "localhost": ["127.0.0.1", "::1"],
    "hooks.example": [PUBLIC_V4],
    "dual.example": [PUBLIC_V6, PUBLIC_V4],
    "mixed.example": [PUBLIC_V4, "10.1.2.3"],
    "intranet.example": ["192.168.1.10"],
    "meta.example": ["169.254.169.254"],
    "v6loop.example": ["::1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "empty.example": [],
    "garbage.example": ["not-an-ip"],
}


def fake_resolve(host: str, port: int) -> list[str]:
    """Names from FAKE_DNS; numeric hosts as the C library reads them; never DNS."""
    if host in FAKE_DNS:
        return list(FAKE_DNS[host])
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def one_address(address: str) -> Resolve:
    return lambda host, port: [address]


def reason_of(url: str, allow_private: bool = False, resolve: Resolve | None = None) -> str:
    with pytest.raises(BlockedURL) as info:
        check_url(url, allow_private=allow_private, resolve=resolve)
    return info.value.reason


# (url, reason, resolver); resolver None = the real system resolver, used only
# for hosts that never need DNS (IP literals and numeric encodings).
REFUSED: list[tuple[str, str, Resolve | None]] = [
    # cloud metadata
    ("http://169.254.169.254/latest/meta-data/", "metadata", None),
    ("http://[fd00:ec2::254]/latest/api/token", "metadata", None),
    ("http://100.100.100.200/latest/meta-data/", "metadata", None),
    ("http://169.254.170.2/v2/credentials", "metadata", None),
    ("http://[::ffff:169.254.169.254]/", "metadata", None),
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata", None),
    ("http://meta.example/", "metadata", fake_resolve),
    # private ranges
    ("http://10.0.0.1/hook", "private", None),
    ("http://172.16.5.4/", "private", None),
    ("http://172.31.255.254/", "private", None),
    ("http://192.168.1.1/", "private", None),
    ("http://100.64.0.1/", "private", None),
    ("http://[fc00::1]/", "private", None),
    ("http://[fd12:3456:789a::1]/", "private", None),
    ("http://[::ffff:10.0.0.1]/", "private", None),
    ("http://[2002:c0a8:101::1]/", "private", None),  # 6to4 of 192.168.1.1
    ("http://intranet.example/hook", "private", fake_resolve),
    ("http://mixed.example/hook", "private", fake_resolve),  # one bad address is enough
    # loopback, written every way the system resolver accepts
    ("http://127.0.0.1:8080/hook?token=abc", "loopback", None),
    ("http://[::1]/", "loopback", None),
    ("http://localhost/", "loopback", fake_resolve),
    ("http://2130706433/", "loopback", None),  # decimal
    ("http://0x7f.1/", "loopback", None),  # hex, short form
    ("http://0x7f000001/", "loopback", None),  # hex
    ("http://017700000001/", "loopback", None),  # octal
    ("http://127.1/", "loopback", None),  # short form
    ("http://[::ffff:127.0.0.1]/", "loopback", None),  # IPv4-mapped
    ("http://[::127.0.0.1]/", "loopback", None),  # IPv4-compatible
    ("http://[64:ff9b::7f00:1]/", "loopback", None),  # NAT64
    ("http://[2002:7f00:1::]/", "loopback", None),  # 6to4
    ("http://v6loop.example/", "loopback", fake_resolve),
    ("http://mapped.example/", "loopback", fake_resolve),
    # link-local
    ("http://169.254.1.1/", "link-local", None),
    ("http://[fe80::1]/", "link-local", None),
    ("http://[fe80::1%25eth0]/", "link-local", None),
    # multicast
    ("http://224.0.0.1/", "multicast", None),
    ("http://[ff02::1]/", "multicast", None),
    # unspecified
    ("http://0.0.0.0:8080/", "unspecified", None),
    ("http://0/", "unspecified", None),
    ("http://[::]/", "unspecified", None),
    # reserved, broadcast, documentation
    ("http://240.0.0.1/", "reserved", None),
    ("http://255.255.255.255/", "reserved", None),
    ("http://192.0.2.1/", "reserved", None),
    ("http://198.18.0.1/", "reserved", None),
    ("http://[2001:db8::1]/", "reserved", None),
    ("http://[2001::1]/", "reserved", None),  # Teredo
    ("http://[64:ff9b:1::1]/", "reserved", None),
    # schemes
    ("ftp://example.org/", "scheme", None),
    ("file:///etc/passwd", "scheme", None),
    ("gopher://127.0.0.1:25/_HELO%20localhost", "scheme", None),
    ("dict://127.0.0.1:11211/stats", "scheme", None),
    ("javascript:alert(1)", "scheme", None),
    ("example.org/hook", "scheme", None),
    # no host
    ("http://", "no-host", None),
    ("http:///hook", "no-host", None),
    ("https://:443/hook", "no-host", None),
    # unparseable
    ("http://[::1/", "invalid", None),
    ("http://0177.0.0.1/", "invalid", None),  # httpx refuses leading zeros itself
    ("http://10.0.0.1:99999/", "invalid", None),
    ("http://999.1.1.1/", "invalid", None),
    ("http://10.0.0.1/\nHost: x", "invalid", None),
    # names that do not resolve
    ("http://nowhere.invalid/", "unresolvable", fake_resolve),
    ("http://empty.example/", "unresolvable", fake_resolve),
    ("http://garbage.example/", "unresolvable", fake_resolve),
]


@pytest.mark.parametrize(("url", "reason", "resolve"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_by_default(
    url: str, reason: str, resolve: Resolve | None
) -> None:
    assert reason_of(url, resolve=resolve) == reason


def test_refusal_is_a_tocsin_error_that_says_what_and_how_to_fix() -> None:
    with pytest.raises(TocsinError) as info:
        check_url("http://10.0.0.1/hook")
    assert str(info.value) == (
        "http://10.0.0.1/hook: refused: 10.0.0.1 is a private address (set "
        "fetch.allow_private = true or TOCSIN_FETCH_ALLOW_PRIVATE=1 to allow intranet targets)"
    )


def test_message_names_the_resolved_and_the_embedded_address() -> None:
    with pytest.raises(BlockedURL) as info:
        check_url("http://2130706433/x")
    assert "2130706433 resolves to 127.0.0.1, a loopback address" in str(info.value)

    with pytest.raises(BlockedURL) as info:
        check_url("http://[::ffff:169.254.169.254]/", allow_private=True)
    message = str(info.value)
    assert "::ffff:169.254.169.254 is an address embedding 169.254.169.254" in message
    assert "never allowed" in message and "allow_private" not in message


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cret@127.0.0.1/hook?token=abc123#frag",
        "http://user:s3cret@10.0.0.1:8080/hook?token=abc123",
        "ftp://user:s3cret@example.org/?token=abc123",
        "http://user:s3cret@[::1/hook?token=abc123",  # unparseable
        "http://user:s3cret@nowhere.invalid/hook?token=abc123",
    ],
)
def test_message_hides_credentials_and_query(url: str) -> None:
    with pytest.raises(BlockedURL) as info:
        check_url(url, resolve=fake_resolve)
    for secret in ("s3cret", "abc123", "frag", "user"):
        assert secret not in str(info.value)
        assert secret not in info.value.url


def test_message_keeps_scheme_host_port_and_path() -> None:
    with pytest.raises(BlockedURL) as info:
        check_url("http://user:pw@127.0.0.1:8080/hook?token=abc")
    assert info.value.url == "http://127.0.0.1:8080/hook"
    assert str(info.value).startswith("http://127.0.0.1:8080/hook: refused: ")


def test_real_resolver_maps_localhost_to_loopback() -> None:
    try:
        socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
    except socket.gaierror:
        pytest.skip("this machine cannot resolve localhost")
    assert reason_of("http://localhost:8080/hook") == "loopback"
    assert reason_of("http://LocalHost/") == "loopback"


ENCODED_LOOPBACK = ["2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "017700000001", "127.1"]


@pytest.mark.parametrize("host", ENCODED_LOOPBACK)
def test_system_resolver_decodes_numeric_ipv4_forms(host: str) -> None:
    # AI_NUMERICHOST forbids DNS: the C library parses these forms itself.
    numeric = socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    assert {info[4][0] for info in numeric} == {"127.0.0.1"}
    assert system_resolve(host, 80) == ["127.0.0.1"]


def test_system_resolver_returns_distinct_addresses() -> None:
    assert system_resolve("10.0.0.1", 443) == ["10.0.0.1"]
    assert system_resolve("::1", 80) == ["::1"]


def test_resolver_is_called_once_with_host_and_port() -> None:
    calls: list[tuple[str, int]] = []

    def counting(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return [PUBLIC_V4]

    target = check_url("https://hooks.example:8443/in", resolve=counting)
    assert calls == [("hooks.example", 8443)]
    assert target == Target(
        url=httpx.URL("https://hooks.example:8443/in"),
        host="hooks.example",
        port=8443,
        address=PUBLIC_V4,
    )


def test_ip_literals_are_not_sent_to_the_resolver() -> None:
    def refuse_to_resolve(host: str, port: int) -> list[str]:
        raise AssertionError(f"resolver called for {host}")

    assert check_url(f"http://{PUBLIC_V4}/", resolve=refuse_to_resolve).address == PUBLIC_V4
    assert reason_of("http://[::1]/", resolve=refuse_to_resolve) == "loopback"


@pytest.mark.parametrize(
    ("url", "host", "port", "address"),
    [
        (f"http://{PUBLIC_V4}/hook", PUBLIC_V4, 80, PUBLIC_V4),
        (f"https://[{PUBLIC_V6}]/hook", PUBLIC_V6, 443, PUBLIC_V6),
        ("https://hooks.example/services/T0/B0", "hooks.example", 443, PUBLIC_V4),
        ("http://hooks.example:8080/", "hooks.example", 8080, PUBLIC_V4),
        ("https://dual.example/", "dual.example", 443, PUBLIC_V6),  # first answer is used
        ("http://[2002:5db8:d70e::1]/", "2002:5db8:d70e::1", 80, "2002:5db8:d70e::1"),
        ("http://[64:ff9b::5db8:d70e]/", "64:ff9b::5db8:d70e", 80, "64:ff9b::5db8:d70e"),
        ("HTTPS://Hooks.Example/", "hooks.example", 443, PUBLIC_V4),
    ],
)
def test_public_targets_are_allowed(url: str, host: str, port: int, address: str) -> None:
    target = check_url(url, resolve=fake_resolve)
    assert (target.host, target.port, target.address) == (host, port, address)
    assert target.url == httpx.URL(url)


def test_idn_host_is_checked_in_its_ascii_form() -> None:
    seen: list[str] = []

    def record(host: str, port: int) -> list[str]:
        seen.append(host)
        return [PUBLIC_V4]

    assert check_url("https://münchen.example/", resolve=record).host == "xn--mnchen-3ya.example"
    assert seen == ["xn--mnchen-3ya.example"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://169.254.1.1/",
        "http://100.64.0.1/",
        "http://[fd12::1]/",
        "http://[::ffff:192.168.0.1]/",
        "http://2130706433/",
        "http://localhost/",
        "http://intranet.example/",
    ],
)
def test_allow_private_admits_intranet_targets(url: str) -> None:
    assert check_url(url, allow_private=True, resolve=fake_resolve).address


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://100.100.100.200/", "metadata"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://2852039166/", "metadata"),  # 169.254.169.254 in decimal
        ("http://meta.example/", "metadata"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://0.0.0.0/", "unspecified"),
        ("file:///etc/passwd", "scheme"),
    ],
)
def test_allow_private_never_admits_metadata_or_non_unicast(url: str, reason: str) -> None:
    assert reason_of(url, allow_private=True, resolve=fake_resolve) == reason


IPV4 = st.integers(min_value=0, max_value=2**32 - 1).map(ipaddress.IPv4Address)


def verdict(url: str) -> str | None:
    try:
        check_url(url)
    except BlockedURL as exc:
        return exc.reason
    return None


@settings(max_examples=300)
@given(IPV4)
def test_ipv6_forms_are_judged_by_the_embedded_ipv4(v4: ipaddress.IPv4Address) -> None:
    hi, lo = int(v4) >> 16, int(v4) & 0xFFFF
    expected = verdict(f"http://{v4}/")
    mapped, translated = f"::ffff:{v4}", f"::ffff:0:{v4}"
    for v6 in (mapped, translated, f"64:ff9b::{hi:x}:{lo:x}", f"2002:{hi:x}:{lo:x}::1"):
        assert verdict(f"http://[{v6}]/") == expected, v6
    if int(v4) > 1:  # ::0 and ::1 are unspecified and loopback in their own right
        assert verdict(f"http://[::{v4}]/") == expected


@settings(max_examples=100)
@given(IPV4)
def test_decimal_and_hex_forms_get_the_dotted_verdict(v4: ipaddress.IPv4Address) -> None:
    expected = verdict(f"http://{v4}/")
    assert verdict(f"http://{int(v4)}/") == expected
    assert verdict(f"http://{int(v4):#x}/") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("Yes", True), (" yes ", True),
     ("0", False), ("false", False), ("no", False), ("", False), ("on", False)],
)
def test_allow_private_from_env(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("TOCSIN_FETCH_ALLOW_PRIVATE", value)
    assert allow_private_from_env() is expected


def test_allow_private_from_env_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOCSIN_FETCH_ALLOW_PRIVATE", raising=False)
    assert allow_private_from_env() is False


# --- guarded_request against a real server on loopback -----------------------


@dataclass
class Seen:
    method: str
    path: str
    host: str | None
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    port: int
    requests: list[Seen] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)


@contextmanager
def serve(ssl_context: ssl.SSLContext | None = None) -> Iterator[Server]:
    server_state = Server(port=0)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            server_state.requests.append(
                Seen(self.command, self.path, self.headers.get("Host"),
                     dict(self.headers.items()), self.rfile.read(length))
            )
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if ssl_context is not None:
        ssl_context.sni_callback = lambda sock, name, ctx: server_state.sni.append(name)
        httpd.socket = ssl_context.wrap_socket(httpd.socket, server_side=True)
    server_state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as running:
        yield running


def test_loopback_server_is_refused_by_default(server: Server) -> None:
    with pytest.raises(BlockedURL) as info:
        guarded_request("POST", f"http://127.0.0.1:{server.port}/hook",
                        allow_private=False, timeout=5, content=b"{}")
    assert info.value.reason == "loopback"
    assert server.requests == []


def test_loopback_server_is_reached_with_allow_private(server: Server) -> None:
    response = guarded_request("POST", f"http://127.0.0.1:{server.port}/hook",
                               allow_private=True, timeout=5, content=b'{"a": 1}',
                               headers={"Content-Type": "application/json"})
    assert (response.status_code, response.content) == (200, b"ok")
    [seen] = server.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/hook", b'{"a": 1}')
    assert seen.host == f"127.0.0.1:{server.port}"
    assert seen.headers["Content-Type"] == "application/json"


def test_request_is_pinned_to_the_checked_address(server: Server) -> None:
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["127.0.0.1"]

    response = guarded_request(
        "POST", f"http://hook.example:{server.port}/hook?x=1", allow_private=True, timeout=5,
        content=b"{}", headers={"Host": "evil.example", "X-Signature": "sig"}, resolve=resolve,
    )
    assert response.status_code == 200
    # hook.example exists nowhere: the request arrived only because the
    # connection used the address the guard resolved, once.
    assert calls == [("hook.example", server.port)]
    [seen] = server.requests
    assert seen.host == f"hook.example:{server.port}"  # the caller cannot override it
    assert seen.path == "/hook?x=1"
    assert seen.headers["X-Signature"] == "sig"
    assert response.request.url.host == "127.0.0.1"


def test_redirect_is_returned_not_followed(server: Server) -> None:
    response = guarded_request("GET", f"http://127.0.0.1:{server.port}/redirect",
                               allow_private=True, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"] == "http://169.254.169.254/latest/meta-data/"
    assert [seen.path for seen in server.requests] == ["/redirect"]


# --- pinning details, seen by an in-process transport ---------------------------


def capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(204)

    return requests, httpx.MockTransport(handler)


def test_https_sends_the_name_as_sni_and_host() -> None:
    requests, transport = capture()
    guarded_request("POST", "https://hooks.example/services/x", allow_private=False, timeout=5,
                    content=b"{}", resolve=fake_resolve, transport=transport)
    [request] = requests
    assert request.url == httpx.URL(f"https://{PUBLIC_V4}/services/x")
    assert request.headers["Host"] == "hooks.example"
    assert request.extensions["sni_hostname"] == "hooks.example"


def test_plain_http_sets_no_sni() -> None:
    requests, transport = capture()
    guarded_request("GET", "http://hooks.example:8080/", allow_private=False, timeout=5,
                    resolve=fake_resolve, transport=transport)
    [request] = requests
    assert request.url == httpx.URL(f"http://{PUBLIC_V4}:8080/")
    assert request.headers["Host"] == "hooks.example:8080"
    assert "sni_hostname" not in request.extensions


def test_ipv6_address_is_bracketed() -> None:
    requests, transport = capture()
    guarded_request("GET", "https://dual.example:8443/in", allow_private=False, timeout=5,
                    resolve=fake_resolve, transport=transport)
    [request] = requests
    assert request.url.netloc == f"[{PUBLIC_V6}]:8443".encode()
    assert request.headers["Host"] == "dual.example:8443"


def test_dns_rebinding_cannot_swap_the_address() -> None:
    answers = iter([[PUBLIC_V4], ["127.0.0.1"]])  # public when checked, loopback after

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    requests, transport = capture()
    guarded_request("GET", "http://rebind.example/", allow_private=False, timeout=5,
                    resolve=rebinding, transport=transport)
    [request] = requests
    assert request.url.host == PUBLIC_V4
    assert next(answers) == ["127.0.0.1"]  # the second answer was never asked for


def test_blocked_request_never_reaches_the_transport() -> None:
    requests, transport = capture()
    with pytest.raises(BlockedURL):
        guarded_request("GET", "http://mixed.example/", allow_private=False, timeout=5,
                        resolve=fake_resolve, transport=transport)
    assert requests == []


# --- TLS: the certificate is checked against the name, not the pinned IP --------


@pytest.fixture
def hook_cert(tmp_path: Path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=hook.example", "-addext", "subjectAltName=DNS:hook.example"],
        check=True, capture_output=True,
    )
    (tmp_path / "both.pem").write_text(cert.read_text() + key.read_text())
    return tmp_path


def test_tls_verifies_the_original_name_over_the_pinned_address(hook_cert: Path) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(hook_cert / "both.pem")
    client_context = ssl.create_default_context(cafile=str(hook_cert / "cert.pem"))
    with serve(server_context) as tls_server:
        response = guarded_request(
            "POST", f"https://hook.example:{tls_server.port}/hook", allow_private=True,
            timeout=5, content=b"{}", resolve=one_address("127.0.0.1"),
            transport=httpx.HTTPTransport(verify=client_context),
        )
        assert response.status_code == 200
        assert tls_server.sni == ["hook.example"]
        assert tls_server.requests[0].host == f"hook.example:{tls_server.port}"

        # Without the sni_hostname extension the same connection fails: the
        # certificate names hook.example, not 127.0.0.1.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://127.0.0.1:{tls_server.port}/hook", verify=client_context,
                      headers={"Host": "hook.example"})
