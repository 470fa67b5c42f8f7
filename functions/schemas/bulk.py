"""Bulk bodies and answers (OpenWA's `SendBulkMessageDto`; `openwa` SDK `SendBulkRequest`,
`BulkMessageResponse`, `BatchStatusResponse`, `BatchCancelResponse`). Unknown fields are refused (400)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from functions.core.batches import MAX_MESSAGES, BatchStatus, ItemStatus
from functions.core.templates import MAX_NAME as MAX_TEMPLATE_NAME
from functions.schemas.common import StrictBoolean, check_media_source
from functions.schemas.messages import MAX_CAPTION, MAX_MENTIONS, MAX_TEXT, ChatId

MEDIA_TYPES = ("image", "video", "audio", "document")
# A text item may name a stored template instead of carrying its text; `variables` fill it.
TEMPLATE_FIELDS = ("templateId", "templateName")


class BulkMediaSchema(Schema):
    """Exactly one of `url` and `base64`; `mimetype` optional (the type is sniffed from the bytes)."""

    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048))
    base64 = fields.String(validate=validate.Length(min=1))
    mimetype = fields.String(validate=validate.Regexp(r"^[\w.+-]+/[\w.+-]+$"))
    filename = fields.String(validate=validate.Length(min=1, max=255))
    ptt = StrictBoolean(metadata={"description": "Audio only: send as a voice note."})

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        check_media_source(data)


class BulkContentSchema(Schema):
    text = fields.String(validate=validate.Length(min=1, max=MAX_TEXT))
    image = fields.Nested(BulkMediaSchema)
    video = fields.Nested(BulkMediaSchema)
    audio = fields.Nested(BulkMediaSchema)
    document = fields.Nested(BulkMediaSchema)
    caption = fields.String(validate=validate.Length(max=MAX_CAPTION))
    mentions = fields.List(ChatId(), validate=validate.Length(max=MAX_MENTIONS))
    templateId = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Text messages: send this stored template instead of `text`."},
    )
    templateName = fields.String(
        validate=validate.Length(min=1, max=MAX_TEMPLATE_NAME),
        metadata={"description": "Text messages: send the template of this name instead of `text`."},
    )


class BulkMessageSchema(Schema):
    chatId = ChatId(required=True)
    type = fields.String(required=True, validate=validate.OneOf(["text", *MEDIA_TYPES]))
    content = fields.Nested(BulkContentSchema, required=True)
    variables = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$")),
        values=fields.String(validate=validate.Length(max=MAX_TEXT)),
        validate=validate.Length(max=50),
        metadata={
            "description": "Values for `{{name}}` placeholders in the content's texts or its template."
        },
    )

    @validates_schema
    def _content_of_type(self, data: dict[str, Any], **_: Any) -> None:
        kind, content = data.get("type"), data.get("content") or {}
        templates = [name for name in TEMPLATE_FIELDS if name in content]
        if templates and kind != "text":
            raise ValidationError(f"content.{templates[0]} goes only with type text", field_name="content")
        if len(templates) + ("text" in content) > 1 and kind == "text":
            raise ValidationError(
                "content takes exactly one of text, templateId and templateName", field_name="content"
            )
        if kind and kind not in content and not templates:
            raise ValidationError(f"content.{kind} is required for a {kind} message", field_name="content")
        extra = [name for name in ("text", *MEDIA_TYPES) if name in content and name != kind]
        if extra:
            raise ValidationError(f"content.{extra[0]} does not go with type {kind}", field_name="content")


class BulkOptionsSchema(Schema):
    delayBetweenMessages = fields.Integer(
        validate=validate.Range(min=1000, max=60_000),
        metadata={"description": "Milliseconds between two messages (default 3000)."},
    )
    randomizeDelay = StrictBoolean(metadata={"description": "Add 0-2 s to each delay (default true)."})
    stopOnError = StrictBoolean(
        metadata={"description": "Cancel the rest of the batch at the first failed message (default false)."}
    )


class SendBulkSchema(Schema):
    batchId = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"),
        metadata={"description": "Your id for the batch (unique per session); generated when absent."},
    )
    messages = fields.List(
        fields.Nested(BulkMessageSchema), required=True, validate=validate.Length(min=1, max=MAX_MESSAGES)
    )
    options = fields.Nested(BulkOptionsSchema)


class BulkAcceptedSchema(Schema):
    batchId = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in BatchStatus]))
    totalMessages = fields.Integer(required=True)
    estimatedCompletionTime = fields.String(metadata={"description": "ISO-8601 UTC, the last message's time"})
    statusUrl = fields.String(required=True)


class BatchProgressSchema(Schema):
    total = fields.Integer(required=True)
    sent = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)


class BatchErrorSchema(Schema):
    code = fields.String()
    message = fields.String()


class BatchResultSchema(Schema):
    chatId = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ItemStatus]))
    messageId = fields.String()
    sentAt = fields.String(allow_none=True)
    error = fields.Nested(BatchErrorSchema)


class BatchCancelSchema(Schema):
    batchId = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in BatchStatus]))
    progress = fields.Nested(BatchProgressSchema, required=True)


class BatchStatusSchema(BatchCancelSchema):
    results = fields.List(fields.Nested(BatchResultSchema), required=True)
    startedAt = fields.String(allow_none=True)
    completedAt = fields.String(allow_none=True)
