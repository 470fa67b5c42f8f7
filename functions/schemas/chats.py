"""Chat bodies and answers (OpenWA's chat DTOs; `openwa` SDK `ArchiveChatRequest`, `ChatSummary`...).

Unknown fields are refused (400); chat ids are validated and normalised (a bare phone number becomes
`<digits>@c.us`), in bodies and in paths alike.
"""

from __future__ import annotations

import time
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from functions.core.chats import TYPING_STATES, is_message_key
from functions.core.errors import ValidationFailed
from functions.core.messages import InvalidChatId, normalize_chat_id
from functions.schemas.common import StrictBoolean, StrictInteger
from functions.schemas.messages import ChatId

MAX_PAGE = 1000


def path_chat_id(value: str, field: str = "chatId") -> str:
    """A chat id taken from the URL path, normalised; a 400 naming `field` when it is not one."""
    try:
        return normalize_chat_id(value)
    except InvalidChatId as exc:
        raise ValidationFailed(exc.message, details={"fields": {field: [exc.message]}}) from exc


class MessageKey(fields.String):
    """A serialized WhatsApp message id: `<true|false>_<chatId>_<ID>[_<participant>]`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 256 or not is_message_key(text):
            raise ValidationError("Not a WhatsApp message id (<true|false>_<chatId>_<ID>)")
        return text


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class ChatBodySchema(Schema):
    chatId = ChatId(required=True)


class MarkReadSchema(ChatBodySchema):
    messageIds = fields.List(
        MessageKey(),
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Accepted for OpenWA compatibility; WhatsApp Web marks the whole chat."},
    )


class ArchiveChatSchema(ChatBodySchema):
    archive = StrictBoolean(required=True)


class PinChatSchema(ChatBodySchema):
    pin = StrictBoolean(required=True)


class MuteChatSchema(ChatBodySchema):
    muteUntil = StrictInteger(
        required=True,
        allow_none=True,
        metadata={"description": "Epoch milliseconds to mute until (in the future), or null to unmute."},
    )

    @validates("muteUntil")
    def _future(self, value: int | None, **_: Any) -> None:
        if value is not None and value <= time.time() * 1000:
            raise ValidationError("Must be a time in the future, in epoch milliseconds")


class TypingSchema(ChatBodySchema):
    state = fields.String(required=True, validate=validate.OneOf(TYPING_STATES))


class SuccessSchema(Schema):
    success = fields.Boolean(required=True)
    message = fields.String()


class ChatSummarySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    isGroup = fields.Boolean(required=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["individual", "group", "channel", "status", "broadcast", "unknown"]),
    )
    unreadCount = fields.Integer(required=True, metadata={"description": "-1: marked unread"})
    timestamp = fields.Integer(required=True, metadata={"description": "Epoch seconds of the last activity"})
    lastMessage = fields.String(metadata={"description": "A preview: the last message's text or caption"})
    lastMessageType = fields.String()
    archived = fields.Boolean(required=True)
    pinned = fields.Boolean(required=True)
    muted = fields.Boolean(required=True)
    muteExpiration = fields.Integer(metadata={"description": "Epoch ms the mute ends; 0 = until unmuted"})
