"""Recording audit entries from a request: who (key), from where (IP, agent), what and on which session."""

from __future__ import annotations

from typing import Any

from flask import g, request

from functions.api.client_ip import client_ip
from functions.api.wiring import services
from functions.core.models import AuditEntry, Session
from functions.log import get_logger

log = get_logger(__name__)


def audit(action: str, *, session: Session | None = None, severity: str = "info", **metadata: Any) -> None:
    """Append an audit entry for the current request. Never fails the request: a lost audit line is
    logged, the user's action already happened."""
    wired = services()
    principal = g.get("principal")
    entry = AuditEntry(
        action=action,
        severity=severity,
        api_key_id=principal.key.id if principal else None,
        api_key_name=principal.key.name if principal else None,
        session_id=session.id if session else None,
        session_name=session.name if session else None,
        ip_address=client_ip(tuple(wired.settings.trusted_proxies)),
        user_agent=request.headers.get("User-Agent"),
        method=request.method,
        path=request.path,
        metadata={"requestId": g.get("request_id"), **metadata},
    )
    try:
        wired.audit.record(entry)
    except Exception:
        log.exception("audit_write_failed", action=action)
