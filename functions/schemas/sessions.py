"""Session request and response bodies (OpenWA's session DTOs)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from functions.core.enums import SessionStatus
from functions.schemas.common import NonEmptyUpdateSchema, StrictBoolean, StrictInteger

SESSION_NAME = validate.Regexp(
    r"^[A-Za-z0-9_-]{3,50}$", error="must be 3-50 characters: letters, digits, '-' or '_'"
)
PROXY_SCHEMES = ("http", "https", "socks4", "socks5")


class SessionConfigInputSchema(Schema):
    """Tunables; in PATCH, `null` resets a key to its default."""

    maxReconnectAttempts = StrictInteger(
        allow_none=True, validate=validate.Range(0, 20), metadata={"description": "null = unlimited"}
    )
    reconnectBaseDelay = StrictInteger(
        allow_none=True, validate=validate.Range(1000, 300_000), metadata={"description": "milliseconds"}
    )
    autoRejectCalls = StrictBoolean(allow_none=True)


class SessionConfigPatchSchema(SessionConfigInputSchema, NonEmptyUpdateSchema):
    """PATCH body: at least one tunable."""


class SessionConfigSchema(Schema):
    autoRejectCalls = fields.Boolean(required=True)
    maxReconnectAttempts = fields.Integer(required=True, allow_none=True)
    reconnectBaseDelay = fields.Integer(required=True)


class CreateSessionSchema(Schema):
    name = fields.String(required=True, validate=SESSION_NAME)
    config = fields.Nested(SessionConfigInputSchema)
    proxyUrl = fields.String(
        validate=validate.Length(1, 2048),
        metadata={"description": "Proxy URL, scheme http, https, socks4 or socks5 (admin only)"},
    )
    proxyType = fields.String(
        validate=validate.OneOf(PROXY_SCHEMES), metadata={"description": "Deprecated; the URL scheme wins"}
    )

    @validates("proxyUrl")
    def _proxy_url(self, value: str, **_: Any) -> None:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in PROXY_SCHEMES or not rest or any(c.isspace() for c in value):
            raise ValidationError(f"must be a URL with scheme {', '.join(PROXY_SCHEMES)}")


class ListSessionsQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**9))
    name = fields.String(validate=validate.Length(1, 100))


class RestrictionSchema(Schema):
    kind = fields.String()
    code = fields.Raw()
    expiresAt = fields.String(allow_none=True)


class SessionSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in SessionStatus]))
    phone = fields.String(allow_none=True)
    pushName = fields.String(allow_none=True)
    connectedAt = fields.String(allow_none=True)
    lastActive = fields.String(allow_none=True)
    createdAt = fields.String(required=True)
    updatedAt = fields.String(required=True)
    lastError = fields.String(allow_none=True)
    restriction = fields.Nested(RestrictionSchema, allow_none=True)
    engineLoaded = fields.Boolean(required=True)


class QrQuerySchema(Schema):
    format = fields.String(load_default="image", validate=validate.OneOf(["image", "raw"]))


class QrSchema(Schema):
    qrCode = fields.String(metadata={"description": "PNG data URL (format=image)"})
    raw = fields.String(metadata={"description": "Raw QR string (format=raw)"})
    status = fields.String(required=True)


class PairingCodeRequestSchema(Schema):
    phoneNumber = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^\+?[0-9]{6,15}$", error="must be 6-15 digits, optionally with a leading +"
        ),
    )


class PairingCodeSchema(Schema):
    pairingCode = fields.String(required=True)
    status = fields.String(required=True)


class MemoryUsageSchema(Schema):
    heapUsed = fields.Integer()
    heapTotal = fields.Integer()
    rss = fields.Integer()


class SessionStatsSchema(Schema):
    total = fields.Integer(required=True)
    active = fields.Integer(required=True)
    ready = fields.Integer(required=True)
    disconnected = fields.Integer(required=True)
    byStatus = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    memoryUsage = fields.Nested(MemoryUsageSchema)
