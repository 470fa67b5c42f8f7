"""The client's address: the peer, or the first untrusted hop of X-Forwarded-For behind TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from flask import request


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in proxies)


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(proxies))


def client_ip(trusted_proxies: tuple[str, ...]) -> str:
    """Walk X-Forwarded-For from the right while the hop is a trusted proxy (never trust the header
    when the peer itself is not one)."""
    peer = request.remote_addr or ""
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer
