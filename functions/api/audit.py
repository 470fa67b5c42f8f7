"""Recording audit entries from a request: who (key), from where (IP, agent), what and on which session."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, g, request

from functions.api.client_ip import client_ip
from functions.api.wiring import services
from functions.core.errors import DomainError
from functions.core.models import AuditEntry, Session
from functions.log import get_logger
from functions.services.api_keys import KEY_PREFIX, display_prefix
from functions.state import metrics

log = get_logger(__name__)

AUTH_FAILED = "api_key_auth_failed"
AUTH_FAILURE_SAMPLE_SECONDS = 60


def audit(
    action: str,
    *,
    session: Session | None = None,
    session_id: str | None = None,
    severity: str = "info",
    status_code: int | None = None,
    error_message: str | None = None,
    on_failure: bool = False,
    **metadata: Any,
) -> None:
    """Append an audit entry for the current request, once its response is known and only if the request
    succeeded (`flush_audit`): a client that got an error must not find the action recorded as done.
    `on_failure` writes at once, whatever the outcome (the record of a refusal). Never fails the request: a
    lost audit line is logged. `session_id` names a session when no record is at hand."""
    wired = services()
    principal = g.get("principal")
    entry = AuditEntry(
        action=action,
        severity=severity,
        api_key_id=principal.key.id if principal else None,
        api_key_name=principal.key.name if principal else None,
        session_id=session.id if session else session_id,
        session_name=session.name if session else None,
        ip_address=client_ip(tuple(wired.settings.trusted_proxies)),
        user_agent=(request.headers.get("User-Agent") or "")[:500] or None,
        method=request.method,
        path=request.path[:500],
        status_code=status_code,
        metadata={"requestId": g.get("request_id"), **metadata},
        error_message=error_message,
    )
    if on_failure:
        _record(entry)
    else:
        g.setdefault("audit_pending", []).append(entry)


def flush_audit(response: Response) -> Response:
    """`after_request`: write the request's pending audit entries if it succeeded (status below 400)."""
    pending: list[AuditEntry] = g.pop("audit_pending", [])
    if response.status_code < 400:
        for entry in pending:
            _record(entry)
    return response


def _record(entry: AuditEntry) -> None:
    try:
        services().audit.record(entry)
    except Exception:
        log.exception("audit_write_failed", action=entry.action)


def audit_auth_failure(error: DomainError, presented: str | None) -> None:
    """Count a refused request (401 or 403) in `openwa_auth_failures_total{status}` and audit it as
    `api_key_auth_failed` (warn), sampled: at most one entry a minute per client IP for requests with no
    valid key, and per (key id, IP) for a valid key refused (403), in the same round trip as the count
    (`SET NX EX`). Not per presented key: a client choosing a new junk key for every request would
    otherwise write an entry each time and push real entries out of the capped log. Never raises."""
    wired = services()
    principal = g.get("principal")
    ip = client_ip(tuple(wired.settings.trusted_proxies))
    subject = f"key {principal.key.id}" if principal is not None else "no valid key"
    digest = hashlib.sha256(f"{subject}\n{ip}".encode()).hexdigest()[:32]
    try:
        with wired.redis.pipeline(transaction=False) as pipe:
            pipe.set(wired.keys.audit_sample(digest), 1, nx=True, ex=AUTH_FAILURE_SAMPLE_SECONDS)
            metrics.incr_counter(pipe, wired.keys, metrics.AUTH_FAILURES, {"status": str(error.status)})
            first, _ = pipe.execute()
    except Exception:
        log.exception("auth_failure_not_recorded", code=error.code)
        return
    if first:
        # Only a well-formed key's prefix is kept: anything else may be a secret pasted in the wrong place.
        key_prefix = display_prefix(presented) if presented and presented.startswith(KEY_PREFIX) else None
        audit(
            AUTH_FAILED,
            on_failure=True,
            severity="warn",
            status_code=error.status,
            error_message=error.message,
            code=error.code,
            keyPrefix=key_prefix,
            keyPresented=bool(presented),
        )
