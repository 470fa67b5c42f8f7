"""Template bodies (OpenWA's template DTOs; `openwa` SDK `TemplateRecord`, `CreateTemplateRequest`,
`UpdateTemplateRequest`, `SendTemplateRequest`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from functions.core.templates import MAX_BODY, MAX_HEADER_FOOTER, MAX_NAME, MAX_RENDERED
from functions.schemas.common import NonEmptyUpdateSchema, StrictBoolean
from functions.schemas.messages import MAX_MENTIONS, ChatId, SendOptionsSchema

MAX_VARS = 100
_BODY_EXAMPLE = "Hello {{name}}, your order {{order}} has shipped."


def _name(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=MAX_NAME), metadata={"example": "order-shipped"}, **kwargs
    )


def _body(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=MAX_BODY),
        metadata={"example": _BODY_EXAMPLE, "description": "Text with `{{variable}}` placeholders"},
        **kwargs,
    )


def _part(example: str) -> fields.String:
    return fields.String(
        allow_none=True, validate=validate.Length(max=MAX_HEADER_FOOTER), metadata={"example": example}
    )


class CreateTemplateSchema(Schema):
    name = _name(required=True)
    body = _body(required=True)
    header = _part("Acme Store")
    footer = _part("Reply STOP to opt out")


class UpdateTemplateSchema(NonEmptyUpdateSchema):
    """Some fields; `header` or `footer` null removes it."""

    name = _name()
    body = _body()
    header = _part("Acme Store")
    footer = _part("Reply STOP to opt out")


class TemplateSchema(Schema):
    id = fields.String(required=True, metadata={"example": "9b2f7c4e-1d2a-4c1e-8f3b-2a6d5e4c3b21"})
    sessionId = fields.String(required=True)
    name = fields.String(required=True, metadata={"example": "order-shipped"})
    body = fields.String(required=True, metadata={"example": _BODY_EXAMPLE})
    header = fields.String(allow_none=True, required=True)
    footer = fields.String(allow_none=True, required=True)
    createdAt = fields.String(required=True, metadata={"example": "2026-12-01T10:00:00.000Z"})
    updatedAt = fields.String(required=True, metadata={"example": "2026-12-01T10:00:00.000Z"})


class SendTemplateSchema(SendOptionsSchema):
    """Exactly one of `templateId` and `templateName`; every placeholder needs a value in `vars`."""

    chatId = ChatId(required=True, metadata={"example": "15550001111@c.us"})
    templateId = fields.String(validate=validate.Length(min=1, max=64))
    templateName = fields.String(validate=validate.Length(min=1, max=MAX_NAME))
    vars = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.String(validate=validate.Length(max=MAX_RENDERED)),
        validate=validate.Length(max=MAX_VARS),
        metadata={"example": {"name": "Ana", "order": "A-1042"}},
    )
    mentions = fields.List(ChatId(), validate=validate.Length(max=MAX_MENTIONS))
    linkPreview = StrictBoolean()

    @validates_schema
    def _one_template(self, data: dict[str, Any], **_: Any) -> None:
        if ("templateId" in data) == ("templateName" in data):
            raise ValidationError(
                "Provide exactly one of templateId and templateName", field_name="templateId"
            )
