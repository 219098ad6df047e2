"""The one SSRF guard in front of every outgoing HTTP request tocsin makes.

tocsin posts alerts to webhooks (and will fetch feeds) at URLs that come from
config files, shared packs and copied documentation. Any of those can be
untrusted: a URL such as ``http://169.254.169.254/latest/meta-data/`` or
``http://127.1:8080/admin`` would make tocsin call a cloud metadata service or
an internal admin interface on the attacker's behalf. So every request goes
through here:

* :func:`check_url` accepts only ``http``/``https`` URLs whose host resolves,
  once, to public unicast addresses. Private, loopback and link-local targets
  need an explicit opt-in (``fetch.allow_private`` or
  ``TOCSIN_FETCH_ALLOW_PRIVATE=1``); cloud metadata addresses never pass.
* :func:`guarded_request` then connects to the very address that was checked,
  keeping the original name for the ``Host`` header and TLS (SNI and
  certificate check). The name is never looked up a second time, so a DNS
  answer that changes between check and connect (DNS rebinding) cannot
  redirect the request, and redirects are handed back, never followed.

Addresses are judged from the resolver's answer, not from the URL text: the
system resolver turns encoded forms (``2130706433``, ``0x7f.1``, ``127.1``)
into ``127.0.0.1``, and the check sees that.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from tocsin.errors import TocsinError

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_PRIVATE_ENV = "TOCSIN_FETCH_ALLOW_PRIVATE"

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Reasons that `allow_private` unlocks: an intranet webhook is a legitimate setup.
_INTRANET = frozenset({"private", "loopback", "link-local"})

_HINTS = {
    "intranet": (
        "set fetch.allow_private = true or TOCSIN_FETCH_ALLOW_PRIVATE=1 "
        "to allow intranet targets"
    ),
    "metadata": "never allowed: cloud metadata services hand out credentials",
    "other": "only public unicast addresses are allowed",
}

_NOUNS = {
    "private": "a private address",
    "loopback": "a loopback address",
    "link-local": "a link-local address",
    "metadata": "a cloud metadata address",
    "multicast": "a multicast address",
    "reserved": "a reserved address (not globally routable)",
    "unspecified": "an unspecified address",
}

# Instance metadata and credential endpoints. They sit in link-local or private
# ranges, but serve cloud credentials, so `allow_private` does not unlock them.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
    )
)

# Written out rather than taken from `ip.is_private`/`is_global`, whose
# answers changed between Python patch releases (3.11.7 calls 192.0.0.0/24
# and fec0::/10 global). First match wins.
_V4_RANGES: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "unspecified"),  # "this network"; 0.0.0.0 reaches the local host
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "private"),  # shared address space (carrier-grade NAT)
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.0.2.0/24", "reserved"),  # documentation
        ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("198.51.100.0/24", "reserved"),  # documentation
        ("203.0.113.0/24", "reserved"),  # documentation
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # includes broadcast 255.255.255.255
    )
)

_V6_RANGES: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "reserved"),  # local-use IPv4/IPv6 translation
        ("100::/64", "reserved"),  # discard-only
        ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo
        ("2001:db8::/32", "reserved"),  # documentation
        ("3fff::/20", "reserved"),  # documentation
        ("5f00::/16", "reserved"),  # SRv6 segment identifiers
        ("fc00::/7", "private"),  # unique local
        ("fe80::/10", "link-local"),
        ("fec0::/10", "private"),  # deprecated site-local
        ("ff00::/8", "multicast"),
    )
)

# Only this block holds globally routable IPv6 unicast; anything else is refused.
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# IPv6 forms that carry an IPv4 address in their last 32 bits; the packet ends
# up at that IPv4 address (via a translator or the host's own stack).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIIT = ipaddress.IPv6Network("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)


class BlockedURL(TocsinError):
    """A URL that tocsin refuses to contact.

    ``reason`` is a short stable code: ``scheme``, ``no-host``, ``invalid``,
    ``unresolvable``, or the class of a refused address (``private``,
    ``loopback``, ``link-local``, ``metadata``, ``multicast``, ``reserved``,
    ``unspecified``). ``url`` is shown without credentials, query or fragment.
    """

    def __init__(self, url: str, reason: str, detail: str) -> None:
        self.url = url
        self.reason = reason
        self.detail = detail
        super().__init__(f"{url}: refused: {detail}")


@dataclass(frozen=True)
class Target:
    """A URL that passed the guard, and the address to connect to for it."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host, without brackets
    port: int
    address: str  # the checked IP: connect here, never re-resolve `host`


def redact_url(url: str | httpx.URL) -> str:
    """``url`` fit for messages and logs: no user, password, query or fragment."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))
    except (httpx.InvalidURL, UnicodeError, ValueError):
        pass
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def system_resolve(host: str, port: int) -> list[str]:
    """The distinct IP addresses ``getaddrinfo`` gives for ``host``, in its order.

    Numeric hosts never reach DNS: like ``inet_aton``, glibc's ``getaddrinfo``
    reads ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1`` as
    ``127.0.0.1``, which is exactly what the guard must then judge.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = (
        str(sockaddr[0])
        for family, _, _, _, sockaddr in infos
        if family in (socket.AF_INET, socket.AF_INET6)
    )
    return list(dict.fromkeys(addresses))


def allow_private_from_env() -> bool:
    """True when ``TOCSIN_FETCH_ALLOW_PRIVATE`` is ``1``, ``true`` or ``yes``."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes"}


def check_url(
    url: str,
    *,
    allow_private: bool = False,
    resolve: Resolver | None = None,
) -> Target:
    """Check ``url`` and return where to connect; raise :class:`BlockedURL` if refused.

    The host is resolved once (``resolve``, default :func:`system_resolve`;
    IP literals are used as they are) and every address must pass, so a name
    with one public and one internal address is refused.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError) as exc:  # UnicodeError: bad IDNA labels
        raise BlockedURL(redact_url(url), "invalid", f"not a valid URL ({exc})") from exc
    shown = redact_url(parsed)
    if parsed.scheme not in _DEFAULT_PORTS:
        scheme = parsed.scheme or "(none)"
        raise BlockedURL(
            shown, "scheme", f"scheme {scheme!r} is not allowed (use http or https)"
        )
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise BlockedURL(shown, "no-host", "the URL has no host (write scheme://host/path)")
    port = _DEFAULT_PORTS[parsed.scheme] if parsed.port is None else parsed.port
    if not 0 < port < 65536:  # httpx accepts any digits
        raise BlockedURL(shown, "invalid", f"port {port} is out of range (1-65535)")

    literal = _parse_ip(unquote(host))  # unquote: a zone id arrives as %25eth0
    if literal is not None:
        addresses = [unquote(host)]
    else:
        addresses = _resolve(shown, host, port, resolve or system_resolve)

    for address in addresses:
        ip = _parse_ip(address)
        if ip is None:
            raise BlockedURL(
                shown, "unresolvable", f"{host} resolved to {address!r}, not an IP address"
            )
        reason, judged = _classify(ip)
        if reason is None or (allow_private and reason in _INTRANET):
            continue
        detail = _refusal(host, literal is not None, address, ip, judged, reason)
        raise BlockedURL(shown, reason, detail)
    return Target(url=parsed, host=host, port=port, address=addresses[0])


def guarded_request(
    method: str,
    url: str,
    *,
    allow_private: bool,
    timeout: float,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    resolve: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Response:
    """Send one request to ``url`` after :func:`check_url`, pinned to the checked address.

    A redirect comes back as the 3xx response, never followed: its target has
    not been checked. ``response.request.url`` names the IP that was contacted.
    Transport failures surface as ``httpx.TransportError``; a refused URL as
    :class:`BlockedURL`, before anything is sent.
    """
    target = check_url(url, allow_private=allow_private, resolve=resolve)
    # Connect to the checked IP, not the name: a second lookup could answer
    # with an internal address (DNS rebinding).
    pinned = target.url.copy_with(host=target.address)
    request_headers = httpx.Headers(headers)
    request_headers["Host"] = target.url.netloc.decode("ascii")  # name[:port], no userinfo
    # httpcore sends SNI and verifies the certificate against `sni_hostname`
    # when given (httpcore/_sync/connection.py), otherwise against the IP.
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    # trust_env=False: an environment proxy would receive the IP (tunnels then
    # verify TLS against the IP, not the name), and .netrc would be keyed by IP.
    with httpx.Client(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    ) as client:
        return client.request(
            method, pinned, content=content, headers=request_headers, extensions=extensions
        )


def _resolve(shown: str, host: str, port: int, resolve: Resolver) -> list[str]:
    try:
        addresses = resolve(host, port)
    except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: label over 63 chars
        raise BlockedURL(
            shown, "unresolvable", f"cannot resolve {host} ({exc}); check the host name"
        ) from exc
    if not addresses:
        raise BlockedURL(shown, "unresolvable", f"cannot resolve {host} (no addresses)")
    return addresses


def _parse_ip(text: str) -> IPAddress | None:
    # The zone id (fe80::1%eth0) picks an interface; it does not change the class.
    try:
        return ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return ip.ipv4_mapped
    if ip.sixtofour is not None:  # 2002:AABB:CCDD::/48
        return ip.sixtofour
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64 or ip in _SIIT:
        return low32
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return low32
    return None


def _classify(ip: IPAddress) -> tuple[str | None, IPAddress]:
    """The refusal reason for ``ip`` (None if public) and the address judged."""
    if ip in _METADATA:
        return "metadata", ip
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return _classify(embedded)[0], embedded
        for net6, reason in _V6_RANGES:
            if ip in net6:
                return reason, ip
        if ip not in _V6_GLOBAL_UNICAST:
            return "reserved", ip
    else:
        for net4, reason in _V4_RANGES:
            if ip in net4:
                return reason, ip
    # Belt and braces for ranges registered after this table was written.
    if not ip.is_global:
        return "reserved", ip
    return None, ip


def _refusal(
    host: str, is_literal: bool, address: str, ip: IPAddress, judged: IPAddress, reason: str
) -> str:
    noun = _NOUNS[reason]
    if judged != ip:
        noun = f"an address embedding {judged}, {noun}"
    # `address` as written or resolved: str(ip) would print ::ffff:a9fe:a9fe.
    what = f"{address} is {noun}" if is_literal else f"{host} resolves to {address}, {noun}"
    if reason == "metadata":
        hint = _HINTS["metadata"]
    elif reason in _INTRANET:
        hint = _HINTS["intranet"]
    else:
        hint = _HINTS["other"]
    return f"{what} ({hint})"
