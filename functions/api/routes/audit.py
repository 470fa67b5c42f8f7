"""`GET /api/audit`: the audit log (OpenWA's), newest first, for admins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.clock import iso
from functions.core.enums import Role
from functions.core.models import AuditEntry
from functions.schemas.audit import AuditPageSchema, AuditQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit log")


def entry_to_wire(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "action": entry.action,
        "severity": entry.severity,
        "apiKeyId": entry.api_key_id,
        "apiKeyName": entry.api_key_name,
        "sessionId": entry.session_id,
        "sessionName": entry.session_name,
        "ipAddress": entry.ip_address,
        "userAgent": entry.user_agent,
        "method": entry.method,
        "path": entry.path,
        "statusCode": entry.status_code,
        "metadata": entry.metadata,
        "errorMessage": entry.error_message,
        "createdAt": iso(entry.created_at) or "",
    }


@blp.route("")
class AuditLogView(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.arguments(AuditQuerySchema(), location="query")
    @blp.response(200, AuditPageSchema)
    @blp.errors(400)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The audit log, newest first.

        Filter by action, severity, session, acting key and time. Page with `limit`/`offset` (OpenWA's), or
        pass the previous page's `nextCursor` as `cursor`; `total` counts the entries matching the filters
        (older than `cursor`, when given)."""
        entries, total = services().audit.query(
            limit=query["limit"],
            offset=query["offset"],
            since=query.get("since"),
            until=query.get("until"),
            before=query.get("cursor"),
            action=query.get("action"),
            severity=query.get("severity"),
            session_id=query.get("sessionId"),
            api_key_id=query.get("apiKeyId"),
        )
        more = query["offset"] + len(entries) < total
        return {
            "data": [entry_to_wire(entry) for entry in entries],
            "total": total,
            "nextCursor": entries[-1].id if more and entries else None,
        }
