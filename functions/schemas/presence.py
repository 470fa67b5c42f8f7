"""Presence bodies and answers (`openwa` SDK `SetOwnPresenceRequest`, `SubscribePresenceRequest`,
`ChatPresence`). Unknown fields are refused (400)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from functions.schemas.common import StrictBoolean

_STATES = ("available", "unavailable", "composing", "recording", "paused")


class SetOwnPresenceSchema(Schema):
    available = StrictBoolean(
        required=True, metadata={"description": "true: appear online; false: offline", "example": False}
    )


class SubscribePresenceSchema(Schema):
    chatId = fields.String(
        required=True, validate=validate.Length(min=1, max=128), metadata={"example": "15550002222@c.us"}
    )


class ParticipantPresenceSchema(Schema):
    id = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(_STATES))
    lastSeen = fields.Integer(metadata={"description": "Epoch seconds; absent when privacy hides it"})


class ChatPresenceSchema(Schema):
    chatId = fields.String(required=True)
    participants = fields.List(fields.Nested(ParticipantPresenceSchema), required=True)
    groupOnlineCount = fields.Integer()
    observedAt = fields.String(
        required=True, metadata={"description": "When the session was told (ISO-8601), not a WhatsApp time"}
    )
