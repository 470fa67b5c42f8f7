"""Statistics bodies (upstream OpenWA's `StatsService` shapes: `OverviewStats`, `MessageStats`,
`SessionStats`). Hours and days are UTC."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from functions.services.stats import PERIODS

_SESSION_EXAMPLE = "0b8e3f4c-2a1d-4c5e-9f7a-6b3d2e1c0a9f"
_CHAT_EXAMPLE = "15550001111@c.us"


class PeriodQuerySchema(Schema):
    period = fields.String(
        load_default="24h",
        validate=validate.OneOf(PERIODS),
        metadata={"description": "24h: hourly buckets; 7d and 30d: daily buckets", "example": "7d"},
    )


class _Directions(Schema):
    sent = fields.Integer(required=True, metadata={"example": 12})
    received = fields.Integer(required=True, metadata={"example": 30})


class _OverviewSessions(Schema):
    active = fields.Integer(required=True, metadata={"description": "Sessions that are ready", "example": 2})
    total = fields.Integer(required=True, metadata={"example": 3})
    byStatus = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"example": {"ready": 2}}
    )


class _OverviewMessages(_Directions):
    failed = fields.Integer(required=True, metadata={"example": 1})
    today = fields.Nested(_Directions, required=True)


class StatsOverviewSchema(Schema):
    sessions = fields.Nested(_OverviewSessions, required=True)
    messages = fields.Nested(_OverviewMessages, required=True)


class _Point(_Directions):
    timestamp = fields.String(required=True, metadata={"example": "2026-12-07 13:00:00"})


class _SessionTraffic(_Directions):
    sessionId = fields.String(required=True, metadata={"example": _SESSION_EXAMPLE})
    name = fields.String(required=True, metadata={"example": "support"})


class _TopChat(Schema):
    chatId = fields.String(required=True, metadata={"example": _CHAT_EXAMPLE})
    chatName = fields.String(required=True, allow_none=True)
    messageCount = fields.Integer(required=True, metadata={"example": 8})


class StatsMessagesSchema(Schema):
    timeSeries = fields.List(fields.Nested(_Point), required=True)
    byType = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"example": {"text": 40}}
    )
    bySession = fields.List(fields.Nested(_SessionTraffic), required=True)
    topChats = fields.List(fields.Nested(_TopChat), required=True)


class _SessionRef(Schema):
    id = fields.String(required=True, metadata={"example": _SESSION_EXAMPLE})
    name = fields.String(required=True, metadata={"example": "support"})
    status = fields.String(required=True, metadata={"example": "ready"})


class _SessionMessages(_Directions):
    today = fields.Integer(required=True, metadata={"example": 5})
    failed = fields.Integer(required=True, metadata={"example": 0})


class _SessionTopChat(Schema):
    chatId = fields.String(required=True, metadata={"example": _CHAT_EXAMPLE})
    chatName = fields.String(required=True, allow_none=True)
    count = fields.Integer(required=True, metadata={"example": 8})
    lastActive = fields.String(
        required=True, allow_none=True, metadata={"example": "2026-12-07T13:05:00.000Z"}
    )


class _Hour(_Directions):
    hour = fields.Integer(required=True, metadata={"description": "UTC hour of day, 0-23", "example": 13})


class StatsSessionSchema(Schema):
    session = fields.Nested(_SessionRef, required=True)
    messages = fields.Nested(_SessionMessages, required=True)
    topChats = fields.List(fields.Nested(_SessionTopChat), required=True)
    hourlyActivity = fields.List(fields.Nested(_Hour), required=True)
