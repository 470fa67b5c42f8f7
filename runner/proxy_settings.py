"""The proxy a session's browser starts behind: the session record's sealed proxy URL, opened and checked.

Read once when the session's process starts (a change made through `PATCH /api/sessions/<id>/proxy`
applies at the next start, as upstream's). A proxy that cannot be used (its URL sealed under a key this
runner does not have, or stored before URLs were checked strictly) is a ProxyNotUsable whose message
becomes the session's `lastError`: starting without it would send the session's traffic around the proxy
the admin asked for.
"""

from __future__ import annotations

from functions.core.errors import DomainError
from functions.core.models import Session
from functions.core.proxy import parse_proxy_url, proxy_context
from functions.crypto.envelope import Envelope
from runner.engines.webjs.browser import BrowserProxy


class ProxyNotUsable(Exception):
    """The session has a proxy this process cannot use; the message says why."""


def browser_proxy(session: Session | None, envelope: Envelope) -> BrowserProxy | None:
    """The session's proxy for its browser, None when it has none; ProxyNotUsable when it cannot be used."""
    if session is None or not session.proxy_url_encrypted:
        return None
    context = proxy_context(session.id).encode()
    try:
        proxy = parse_proxy_url(envelope.decrypt_text(session.proxy_url_encrypted, context=context))
    except DomainError as exc:
        raise ProxyNotUsable(f"the session's proxy cannot be used: {exc.message}") from exc
    return BrowserProxy(proxy.server, proxy.username, proxy.password)
