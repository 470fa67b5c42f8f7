"""A session's outbound proxy (`GET/PATCH /api/sessions/<id>/proxy`, the `openwa` SDK's `get_proxy` and
`update_proxy`): set, cleared and read back masked.

The URL is checked strictly (`functions.core.proxy`) and stored sealed with the envelope (AES-256-GCM,
context `session:<id>:proxy`, as `create` seals it), never in clear; a read shows the scheme, host and port,
whether there are credentials, and the URL with its password as `****`. It applies to the session's browser
at its next start (`runner.session_process`), as upstream's: no restart here. The runner mirrors the session,
proxy included, to storage at its next auth snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.core.errors import DomainError
from functions.core.models import Session
from functions.core.proxy import InvalidProxyUrl, ProxyUrl, parse_proxy_url, proxy_context
from functions.services.sessions import SessionNotFound
from functions.state.sessions import SessionRepository

Seal = Callable[[str, str], str]  # (text, context) -> token
Open = Callable[[str, str], str]  # (token, context) -> text


class ProxyUnreadable(DomainError):
    """The stored proxy cannot be opened (the encryption key that sealed it is gone)."""

    status, code, default_message = 500, "PROXY_UNREADABLE", "The session's stored proxy cannot be read"


class SessionProxyService:
    def __init__(self, repo: SessionRepository, seal: Seal, unseal: Open) -> None:
        self._repo, self._seal, self._unseal = repo, seal, unseal

    def _session(self, session_id: str) -> Session:
        session = self._repo.get(session_id)
        if session is None:
            raise SessionNotFound(details={"sessionId": session_id})
        return session

    def get(self, session_id: str) -> dict[str, Any]:
        """The masked proxy of the session (`enabled` false when it has none)."""
        session = self._session(session_id)
        try:
            return masked(self.proxy_of(session))
        except InvalidProxyUrl as exc:  # stored before URLs were checked this strictly: it cannot work
            return {**masked(None), "enabled": True, "proxyType": session.proxy_type, "error": exc.message}

    def proxy_of(self, session: Session) -> ProxyUrl | None:
        if not session.proxy_url_encrypted:
            return None
        try:
            url = self._unseal(session.proxy_url_encrypted, proxy_context(session.id))
        except DomainError as exc:
            raise ProxyUnreadable(details={"sessionId": session.id}) from exc
        return parse_proxy_url(url)

    def update(self, session_id: str, proxy_url: str | None) -> dict[str, Any]:
        """Set (`proxy_url`) or clear (None) the proxy; InvalidProxyUrl (400) for a URL that cannot work."""
        self._session(session_id)
        proxy = parse_proxy_url(proxy_url) if proxy_url is not None else None
        sealed = self._seal(proxy_url, proxy_context(session_id)) if proxy_url is not None else None
        scheme = proxy.scheme if proxy is not None else None
        if not self._repo.update(session_id, proxy_url_encrypted=sealed, proxy_type=scheme):
            raise SessionNotFound(details={"sessionId": session_id})
        return masked(proxy)


def masked(proxy: ProxyUrl | None) -> dict[str, Any]:
    """The SDK's SessionProxy (credentials never shown), plus the URL with its password masked."""
    if proxy is None:
        return {
            "enabled": False,
            "proxyType": None,
            "proxyHost": None,
            "hasCredentials": False,
            "proxyUrl": None,
        }
    host = proxy.server.split("://", 1)[1]
    return {
        "enabled": True,
        "proxyType": proxy.scheme,
        "proxyHost": host,
        "hasCredentials": proxy.username is not None,
        "proxyUrl": proxy.masked,
    }
