"""The SSRF guard for every caller-given URL we connect to (webhook targets, media URLs): public http(s)
targets only, checked when the URL is accepted and again at every connection.

At connection time the name is resolved once and the connection goes to that checked address (DNS pinning),
so a name that re-resolves to an internal address between the check and the connect cannot reach it.
`SSRF_ALLOWED_HOSTS` lists names, IPs or CIDRs exempt from the guard (tests allow-list loopback this way).
`SSRF_HOST_OVERRIDES` answers chosen names from a fixed table instead of DNS (like `curl --resolve`); the
guard still checks the mapped address, so an override never exempts a name. Empty by default (DNS only); tests
use it to make resolution deterministic without the network.

Callers translate the errors into their own codes (`functions.webhooks.targets`, `functions.services.media`).
Errors name the host as given, never the address a name resolved to: that would make the guard an oracle
for internal DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from functions.core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges refused whatever they embed: deprecated forms no legitimate public target uses. IPv4-compatible
# `::a.b.c.d` (RFC 4291 §2.5.5.1), IPv4-translated `::ffff:0:a.b.c.d` (SIIT, RFC 2765, obsoleted by RFC
# 6145), site-local `fec0::/10` (RFC 3879), and the local-use NAT64 prefix `64:ff9b:1::/48` (RFC 8215: a
# network's own translator, where the IPv4 sits wherever that network chose, so it cannot be judged).
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(net) for net in ("::/96", "::ffff:0:0:0/96", "fec0::/10", "64:ff9b:1::/48")
)
# The well-known NAT64 prefix (RFC 6052): the last 32 bits are the IPv4 address the translator connects to.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class InvalidTargetUrl(DomainError):
    status, code, default_message = 400, "INVALID_URL", "URL must be http(s) without credentials"


class TargetRefused(DomainError):
    """The URL points (or resolves) at a private, loopback, link-local or otherwise internal address."""

    status, code, default_message = 400, "URL_REFUSED", "URL targets a non-public address"


class TargetUnresolvable(DomainError):
    status, code, default_message = 400, "URL_UNRESOLVABLE", "URL host cannot be resolved"


@dataclass(frozen=True)
class PinnedTarget:
    """Where one attempt connects: the checked `address`, with the original host for Host and SNI."""

    url: str
    scheme: str
    host: str
    port: int
    address: str
    target: str  # path and query, as sent in the request line

    @property
    def connect_url(self) -> str:
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{literal}:{self.port}{self.target}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> SplitResult:
    """Split a target URL; InvalidTargetUrl unless http(s), with a host and without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidTargetUrl(details={"reason": str(exc)}) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidTargetUrl("URL must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidTargetUrl("URL must not contain credentials")
    if port == 0 or any(ch.isspace() for ch in url):
        raise InvalidTargetUrl()
    return parts


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and would reach: IPv4-mapped, well-known NAT64, 6to4
    (the relay's site), Teredo (server and client)."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def is_internal(address: IPAddress) -> bool:
    """Private, loopback, link-local, shared, reserved, unspecified or multicast; for IPv6 also a deprecated
    or local-use range (`_REFUSED_V6`), or any embedded IPv4 address that is internal. (`is_global` alone is
    True for most IPv6 forms that embed an internal IPv4 address.)"""
    if isinstance(address, ipaddress.IPv4Address):
        return not address.is_global or address.is_multicast
    if any(address in network for network in _REFUSED_V6):
        return True
    embedded = embedded_ipv4(address)
    if address.ipv4_mapped is not None:  # a plain IPv4 connection: only the IPv4 address counts
        return is_internal(embedded[0])
    own = not address.is_global or address.is_multicast
    return own or any(is_internal(inner) for inner in embedded)


def _allowed(host: str, address: IPAddress, allowed: Sequence[str]) -> bool:
    for entry in allowed:
        entry = entry.strip().lower()
        if entry == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _resolve(host: str, port: int, overrides: Mapping[str, str]) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    override = overrides.get(host.lower())
    if override is not None:
        return [ipaddress.ip_address(override)]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetUnresolvable(details={"host": host, "reason": str(exc)}) from exc
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise TargetUnresolvable(details={"host": host})
    return found


def pin(
    url: str,
    *,
    protect: bool = True,
    allowed: Sequence[str] = (),
    overrides: Mapping[str, str] | None = None,
) -> PinnedTarget:
    """Check `url` and resolve it once: an IP literal as itself, a name in `overrides` (lowercase name to
    IP) to that address, any other name through DNS. With `protect`, every address the name resolves to must
    be public or allow-listed (TargetRefused otherwise, naming the host but not the address). Raises
    InvalidTargetUrl and TargetUnresolvable."""
    parts = parse_url(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port, overrides or {})
    if protect:
        for address in addresses:
            if is_internal(address) and not _allowed(host, address, allowed):
                raise TargetRefused(details={"host": host})
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return PinnedTarget(url, parts.scheme, host, port, str(addresses[0]), target)
