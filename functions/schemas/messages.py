"""Send and message bodies (OpenWA's message DTOs, `openwa` SDK `SendTextRequest`, `SendMediaRequest`...).

Every send body also takes `queue` (wait for the session instead of 409 when it is not ready) and `sendAt`
(an ISO time: send then). Unknown fields are refused (400), chat ids are validated and normalised.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from functions.core.messages import InvalidChatId, normalize_chat_id
from functions.schemas.common import StrictBoolean, check_media_source

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_MENTIONS = 256


class ChatId(fields.String):
    """A WhatsApp chat id (`<digits>@c.us`, `<id>@g.us`, `@lid`...); a bare phone number is normalised."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_chat_id(text)
        except InvalidChatId as exc:
            raise ValidationError(exc.message) from exc


class MessageId(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=1, max=256), **kwargs)


def _mentions() -> fields.List[Any]:
    return fields.List(ChatId(), validate=validate.Length(max=MAX_MENTIONS))


class SendOptionsSchema(Schema):
    """Options every send route accepts (ours; OpenWA has no equivalent)."""

    queue = StrictBoolean(
        load_default=False,
        metadata={"description": "When the session is not ready: hold the message until it is (no 409)."},
    )
    sendAt = fields.AwareDateTime(
        metadata={"description": "Send at this time (ISO 8601 with offset) instead of now."}
    )


class SendTextSchema(SendOptionsSchema):
    chatId = ChatId(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    mentions = _mentions()
    linkPreview = StrictBoolean()
    quotedMessageId = MessageId()


class ReplySchema(SendOptionsSchema):
    chatId = ChatId(required=True)
    quotedMessageId = MessageId(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    mentions = _mentions()


class SendMediaSchema(SendOptionsSchema):
    """Exactly one of `url` and `base64`; `mimetype` optional (the type is sniffed from the bytes)."""

    chatId = ChatId(required=True)
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048))
    base64 = fields.String(validate=validate.Length(min=1))
    mimetype = fields.String(validate=validate.Regexp(r"^[\w.+-]+/[\w.+-]+$"))
    filename = fields.String(validate=validate.Length(min=1, max=255))
    caption = fields.String(validate=validate.Length(max=MAX_CAPTION))
    mentions = _mentions()
    quotedMessageId = MessageId()

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        check_media_source(data)


class SendAudioSchema(SendMediaSchema):
    ptt = StrictBoolean(metadata={"description": "Send as a voice note (Ogg/Opus)."})


class SendLocationSchema(SendOptionsSchema):
    chatId = ChatId(required=True)
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90), allow_nan=False)
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180), allow_nan=False)
    description = fields.String(validate=validate.Length(max=256))
    address = fields.String(validate=validate.Length(max=512))
    quotedMessageId = MessageId()


class SendContactSchema(SendOptionsSchema):
    chatId = ChatId(required=True)
    contactName = fields.String(required=True, validate=validate.Length(min=1, max=256))
    contactNumber = fields.String(required=True, validate=validate.Regexp(r"^\+?[\d\s().-]{5,30}$"))
    quotedMessageId = MessageId()


class SendPollSchema(SendOptionsSchema):
    chatId = ChatId(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    options = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        required=True,
        validate=validate.Length(min=2, max=12),
    )
    allowMultipleAnswers = StrictBoolean(load_default=False)
    quotedMessageId = MessageId()

    @validates_schema
    def _distinct(self, data: dict[str, Any], **_: Any) -> None:
        options = data.get("options") or []
        if len(set(options)) != len(options):
            raise ValidationError("Poll options must be distinct", field_name="options")


class ForwardSchema(SendOptionsSchema):
    fromChatId = ChatId(required=True)
    toChatId = ChatId(required=True)
    messageId = MessageId(required=True)


class MessageAcceptedSchema(Schema):
    messageId = fields.String(required=True)
    timestamp = fields.Integer(required=True, metadata={"description": "Epoch seconds"})


class ListMessagesQuerySchema(Schema):
    chatId = ChatId()
    from_ = ChatId(data_key="from")
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class MessageRecordSchema(Schema):
    """OpenWA's Message, plus `ack`, `error` and `media` (a signed, expiring URL to the stored bytes)."""

    id = fields.String(required=True)
    sessionId = fields.String(required=True)
    waMessageId = fields.String(
        allow_none=True,
        metadata={"description": "WhatsApp's own key for the message (its remote may be the chat's @lid)"},
    )
    chatId = fields.String(required=True)
    chatLid = fields.String(
        allow_none=True,
        metadata={"description": "The chat's LID (`<id>@lid`) when WhatsApp addressed it by LID"},
    )
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    type = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["incoming", "outgoing"]))
    fromMe = fields.Boolean()
    isGroup = fields.Boolean()
    timestamp = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    ack = fields.Integer(allow_none=True)
    hasMedia = fields.Boolean()
    mediaPath = fields.String(allow_none=True)
    mediaMimetype = fields.String(allow_none=True)
    media = fields.Dict(allow_none=True)
    metadata = fields.Dict(allow_none=True)
    error = fields.Dict(allow_none=True)
    batchId = fields.String(allow_none=True)
    starred = fields.Boolean()
    pinnedUntil = fields.Integer(allow_none=True, metadata={"description": "Epoch seconds; null = unpinned"})
    editedAt = fields.String()
    revokedAt = fields.String()
    createdAt = fields.String(required=True)
    updatedAt = fields.String()


class MessageListSchema(Schema):
    messages = fields.List(fields.Nested(MessageRecordSchema), required=True)
    total = fields.Integer(required=True)
