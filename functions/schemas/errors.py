"""The error body every route may answer with (DESIGN.md §1.1): OpenWA's fields plus ours, flat."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    statusCode = fields.Integer(required=True, metadata={"description": "HTTP status code", "example": 409})
    error = fields.String(
        required=True, metadata={"description": "HTTP reason phrase", "example": "Conflict"}
    )
    message = fields.Raw(
        required=True,
        metadata={
            "description": "Human-readable message; a list of strings for validation errors",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        },
    )
    code = fields.String(required=True, metadata={"description": "Machine code", "example": "CONFLICT"})
    details = fields.Dict(metadata={"description": "Extra context, e.g. field errors"})
    timestamp = fields.String(required=True, metadata={"description": "ISO-8601 UTC"})
    requestId = fields.String(required=True, metadata={"description": "Echo of X-Request-ID"})
    path = fields.String(required=True)
    retryAfterSeconds = fields.Integer(metadata={"description": "Seconds to wait (429 only)"})
