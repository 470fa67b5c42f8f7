"""Label bodies and answers (OpenWA's Label; `openwa` SDK `LabelRecord`, `UpsertLabelRequest`,
`AddLabelRequest`). Unknown fields are refused (400)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from functions.core import labels
from functions.core.errors import ValidationFailed
from functions.schemas.common import StrictInteger

_NAME = [validate.Length(min=1, max=labels.MAX_NAME), validate.Regexp(r"\S", error="must not be blank")]


class LabelId(fields.String):
    """A label id (decimal digits, as WhatsApp numbers labels)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return labels.label_id(text)
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc


class LabelSchema(Schema):
    id = fields.String(required=True, metadata={"example": "3"})
    name = fields.String(required=True, metadata={"example": "New customer"})
    hexColor = fields.String(required=True, metadata={"example": "#25D366"})


class UpsertLabelSchema(Schema):
    """The whole label: its name, and optionally its colour (a palette index; WhatsApp picks one if not)."""

    name = fields.String(required=True, validate=_NAME, metadata={"example": "New customer"})
    color = StrictInteger(
        validate=validate.Range(min=0, max=labels.MAX_COLOR),
        metadata={"description": "WhatsApp's colour index (0-19), not a hex value", "example": 4},
    )


class UpsertLabelAnswerSchema(Schema):
    success = fields.Boolean(required=True)
    message = fields.String()
    label = fields.Nested(LabelSchema, required=True, metadata={"description": "The label as it is now"})


class AddLabelSchema(Schema):
    labelId = LabelId(required=True, metadata={"example": "3"})
