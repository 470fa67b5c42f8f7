"""Bodies of the actions on existing messages and what reads about them answer (OpenWA's message DTOs;
`openwa` SDK `ReactMessageRequest`, `EditMessageRequest`, `PinMessageRequest`, `ReactionRecord`...).

A message id must be serialized (`<true|false>_<chatId>_<ID>`) and belong to the body's `chatId`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from functions.core.chats import PIN_DURATIONS, chat_of_key
from functions.schemas.chats import MessageKey
from functions.schemas.common import StrictBoolean, StrictInteger
from functions.schemas.messages import MAX_MENTIONS, MAX_TEXT, ChatId

MAX_HISTORY, MAX_DEEP_HISTORY = 100, 2000


def _same_chat(data: dict[str, Any], field: str) -> None:
    key, chat = data.get(field), data.get("chatId")
    if key and chat and chat_of_key(key) != chat:
        raise ValidationError(f"The message does not belong to chat {chat}", field_name=field)


class OnMessageSchema(Schema):
    chatId = ChatId(required=True)
    messageId = MessageKey(required=True)

    @validates_schema
    def _message_in_chat(self, data: dict[str, Any], **_: Any) -> None:
        _same_chat(data, "messageId")


class ReactSchema(OnMessageSchema):
    emoji = fields.String(
        required=True, validate=validate.Length(max=32), metadata={"description": '"" removes the reaction'}
    )


class DeleteMessageSchema(OnMessageSchema):
    forEveryone = StrictBoolean(load_default=True)


class EditMessageSchema(OnMessageSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    mentions = fields.List(ChatId(), load_default=list, validate=validate.Length(max=MAX_MENTIONS))


class StarMessageSchema(OnMessageSchema):
    star = StrictBoolean(required=True)


class PinMessageSchema(OnMessageSchema):
    durationSeconds = StrictInteger(
        load_default=PIN_DURATIONS[0],
        validate=validate.OneOf(PIN_DURATIONS),
        metadata={"description": "86400 (24 h, the default), 604800 (7 days) or 2592000 (30 days)"},
    )


class UnpinMessageSchema(OnMessageSchema):
    durationSeconds = StrictInteger(
        validate=validate.OneOf(PIN_DURATIONS), metadata={"description": "Accepted and ignored"}
    )


class VotePollSchema(Schema):
    chatId = ChatId(required=True)
    pollMessageId = MessageKey(required=True)
    options = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        required=True,
        validate=validate.Length(max=12),
        metadata={"description": "Option texts; [] clears the vote"},
    )

    @validates_schema
    def _poll_in_chat(self, data: dict[str, Any], **_: Any) -> None:
        _same_chat(data, "pollMessageId")


class HistoryQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_DEEP_HISTORY))
    includeMedia = fields.Boolean(
        load_default=False,
        metadata={"description": "Accepted; media is described, never inlined (use the media route)"},
    )
    deep = fields.Boolean(
        load_default=False, metadata={"description": f"Allow limit up to {MAX_DEEP_HISTORY}"}
    )

    @validates_schema
    def _bounded(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("deep") and data.get("limit", 0) > MAX_HISTORY:
            raise ValidationError(f"Must be at most {MAX_HISTORY} (or use deep=true)", field_name="limit")


class IncomingMessageSchema(Schema):
    """A message read live from WhatsApp (OpenWA's IncomingMessage, the `message.received` payload)."""

    id = fields.String(required=True)
    chatId = fields.String(required=True)
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    author = fields.String(allow_none=True)
    body = fields.String()
    type = fields.String(required=True)
    timestamp = fields.Integer(required=True, metadata={"description": "Epoch seconds"})
    isGroup = fields.Boolean()
    kind = fields.String()
    fromMe = fields.Boolean()
    ack = fields.Integer()
    hasMedia = fields.Boolean()
    contact = fields.Dict(allow_none=True)
    caption = fields.String()
    media = fields.Dict(metadata={"description": "mimetype, filename, sizeBytes (never the bytes)"})
    location = fields.Dict()
    vcards = fields.List(fields.String(allow_none=True))
    poll = fields.Dict()
    quotedMessageId = fields.String()
    mentionedIds = fields.List(fields.String())


class ReactionSenderSchema(Schema):
    senderId = fields.String(required=True)
    emoji = fields.String(required=True)
    timestamp = fields.Integer(allow_none=True, metadata={"description": "Epoch seconds"})


class ReactionSchema(Schema):
    emoji = fields.String(required=True)
    senders = fields.List(fields.Nested(ReactionSenderSchema), required=True)
