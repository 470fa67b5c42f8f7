"""A session's outbound proxy: the URL an admin sets, read strictly, and what may be shown of it.

A proxy URL is `<scheme>://[user:password@]host:port` with scheme http, https, socks4 or socks5 (what
Chromium speaks), a host, an explicit port (1-65535), and nothing else (no path, query or fragment).
Credentials are only for http(s) proxies: Chromium cannot authenticate to a SOCKS proxy, so a SOCKS URL
with credentials would fail at every start. `parse_proxy_url` raises InvalidProxyUrl (400) for anything
else. The URL is stored encrypted (`functions.services.session_proxy`) and only `masked` is ever shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from functions.core.errors import DomainError

PROXY_SCHEMES = ("http", "https", "socks4", "socks5")
MASK = "****"


def proxy_context(session_id: str) -> str:
    """The envelope context a session's proxy URL is sealed under (it only opens as that session's)."""
    return f"session:{session_id}:proxy"


class InvalidProxyUrl(DomainError):
    status, code, default_message = 400, "INVALID_PROXY_URL", "Not a usable proxy URL"


@dataclass(frozen=True)
class ProxyUrl:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def server(self) -> str:
        """`scheme://host:port`, without credentials (what a browser is pointed at)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def masked(self) -> str:
        """The URL with its password replaced by `****` (the username is kept: it names the account)."""
        if self.username is None:
            return self.server
        host = self.server.split("://", 1)[1]
        return f"{self.scheme}://{self.username}:{MASK}@{host}"


def _refuse(reason: str) -> InvalidProxyUrl:
    return InvalidProxyUrl(f"Not a usable proxy URL: {reason}", details={"reason": reason})


def parse_proxy_url(value: str) -> ProxyUrl:
    """The proxy `value` names; InvalidProxyUrl saying what is wrong otherwise."""
    if not value or len(value) > 2048 or any(c.isspace() or ord(c) < 0x20 for c in value):
        raise _refuse("empty, too long, or containing spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise _refuse(f"malformed ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise _refuse(f"the scheme must be one of {', '.join(PROXY_SCHEMES)}")
    if not parts.hostname:
        raise _refuse("a host is required")
    if port is None or not 1 <= port <= 65535:
        raise _refuse("a port (1-65535) is required")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise _refuse("a proxy URL has no path, query or fragment")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if (username is not None or password is not None) and scheme.startswith("socks"):
        raise _refuse("Chromium cannot authenticate to a SOCKS proxy: use an http(s) proxy for credentials")
    if password is not None and not username:
        raise _refuse("a password needs a username")
    return ProxyUrl(scheme, parts.hostname, port, username or None, password)
