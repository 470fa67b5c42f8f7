"""`GET /api/audit`: the query and OpenWA's audit entry (`audit_logs`), with a cursor for paging."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

MAX_PAGE = 200  # OpenWA's MAX_AUDIT_PAGE_SIZE
SEVERITIES = ("info", "warn", "error")
# A stream id `<ms>-<sequence>`, bounded so it is always a valid Redis stream id.
CURSOR_PATTERN = r"^\d{1,15}-\d{1,19}$"
ACTIONS_WRITTEN = (
    "api_key_created, api_key_updated, api_key_revoked, api_key_deleted, api_key_auth_failed, "
    "session_created, session_started, session_stopped, session_restarted, session_logged_out, "
    "session_force_killed, session_deleted, session_config_updated, webhook_created, webhook_updated, "
    "webhook_deleted, webhook_failures_redriven"
)


class AuditQuerySchema(Schema):
    action = fields.String(
        validate=validate.Regexp(r"^[a-z][a-z0-9_.]{0,63}$"),
        metadata={"description": f"Exact action, e.g. one of: {ACTIONS_WRITTEN}"},
    )
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    sessionId = fields.String(validate=validate.Length(1, 100))
    apiKeyId = fields.String(
        validate=validate.Length(1, 100), metadata={"description": "The key that made the request"}
    )
    since = fields.AwareDateTime(
        default_timezone=UTC, metadata={"description": "Entries recorded at or after this time"}
    )
    until = fields.AwareDateTime(
        default_timezone=UTC, metadata={"description": "Entries recorded at or before this time"}
    )
    cursor = fields.String(
        validate=validate.Regexp(CURSOR_PATTERN),
        metadata={"description": "Continue after this entry id (the previous page's `nextCursor`)"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since > until:
            raise ValidationError("must not be after `until`", field_name="since")


class AuditEntrySchema(Schema):
    id = fields.String(required=True, metadata={"description": "Entry id; usable as a `cursor`"})
    action = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    apiKeyId = fields.String(allow_none=True)
    apiKeyName = fields.String(allow_none=True)
    sessionId = fields.String(allow_none=True)
    sessionName = fields.String(allow_none=True)
    ipAddress = fields.String(allow_none=True)
    userAgent = fields.String(allow_none=True)
    method = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    statusCode = fields.Integer(allow_none=True)
    metadata = fields.Dict(allow_none=True, metadata={"description": "Includes the request's `requestId`"})
    errorMessage = fields.String(allow_none=True)
    createdAt = fields.String(required=True)


class AuditPageSchema(Schema):
    data = fields.List(fields.Nested(AuditEntrySchema), required=True)
    total = fields.Integer(required=True, metadata={"description": "Entries matching the filters in all"})
    nextCursor = fields.String(
        allow_none=True, required=True, metadata={"description": "Pass as `cursor` for the next page"}
    )
