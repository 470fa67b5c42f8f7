"""The SSRF guard: webhook URLs must be public http(s) targets, checked at registration and at delivery.

At delivery the name is resolved once and the connection goes to that checked address (DNS pinning), so a
name that re-resolves to an internal address between the check and the connect cannot be used to reach it.
`SSRF_ALLOWED_HOSTS` lists names, IPs or CIDRs exempt from the guard (tests allow-list loopback this way).
`SSRF_HOST_OVERRIDES` answers chosen names from a fixed table instead of DNS (like `curl --resolve`); the
guard still checks the mapped address, so an override never exempts a name. Empty by default (DNS only); tests
use it to make resolution deterministic without the network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from functions.core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class InvalidWebhookUrl(DomainError):
    status, code, default_message = (
        400,
        "INVALID_WEBHOOK_URL",
        "Webhook URL must be http(s) without credentials",
    )


class WebhookUrlRefused(DomainError):
    """The URL points (or resolves) at a private, loopback, link-local or otherwise internal address."""

    status, code, default_message = 400, "WEBHOOK_URL_REFUSED", "Webhook URL targets a non-public address"


class WebhookUrlUnresolvable(DomainError):
    status, code, default_message = 400, "WEBHOOK_URL_UNRESOLVABLE", "Webhook URL host cannot be resolved"


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
    """Split a webhook URL; InvalidWebhookUrl unless http(s), with a host and without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhookUrl(details={"reason": str(exc)}) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhookUrl("Webhook URL must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("Webhook URL must not contain credentials")
    if port == 0 or any(ch.isspace() for ch in url):
        raise InvalidWebhookUrl()
    return parts


def is_internal(address: IPAddress) -> bool:
    """Private, loopback, link-local, shared, reserved, unspecified or multicast (IPv4-mapped unwrapped)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


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
        raise WebhookUrlUnresolvable(details={"host": host, "reason": str(exc)}) from exc
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise WebhookUrlUnresolvable(details={"host": host})
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
    be public or allow-listed (WebhookUrlRefused otherwise). Raises InvalidWebhookUrl and
    WebhookUrlUnresolvable."""
    parts = parse_url(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port, overrides or {})
    if protect:
        for address in addresses:
            if is_internal(address) and not _allowed(host, address, allowed):
                raise WebhookUrlRefused(details={"host": host, "address": str(address)})
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return PinnedTarget(url, parts.scheme, host, port, str(addresses[0]), target)
