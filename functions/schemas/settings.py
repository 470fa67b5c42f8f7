"""`GET /api/settings` (upstream OpenWA's `Settings`)."""

from __future__ import annotations

from marshmallow import Schema, fields


class _General(Schema):
    apiBaseUrl = fields.String(required=True, metadata={"example": "https://wa.example.com"})
    autoReconnect = fields.Boolean(required=True, metadata={"example": True})
    debugMode = fields.Boolean(required=True, metadata={"description": "LOG_LEVEL=debug", "example": False})


class _Api(Schema):
    rateLimit = fields.Integer(
        required=True,
        metadata={
            "description": "Requests per key in the widest window (0: rate limiting off)",
            "example": 3000,
        },
    )
    rateLimitWindow = fields.Integer(
        required=True, metadata={"description": "Milliseconds", "example": 60000}
    )
    enableDocs = fields.Boolean(required=True, metadata={"description": "ENABLE_SWAGGER", "example": True})


class _Notifications(Schema):
    emailEnabled = fields.Boolean(required=True, metadata={"example": False})
    notificationEmail = fields.String(required=True, metadata={"example": ""})
    webhookAlerts = fields.Boolean(required=True, metadata={"example": True})


class SettingsSchema(Schema):
    general = fields.Nested(_General, required=True)
    api = fields.Nested(_Api, required=True)
    notifications = fields.Nested(_Notifications, required=True)
