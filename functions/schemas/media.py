"""Media conversion bodies (the `openwa` SDK's `media` resource: `ConvertedMedia`,
`MediaConversionAvailability`). A conversion takes exactly one of `url` and `base64`; the SDK sends no
`mimetype`, and none is needed: the bytes are read by ffmpeg, whatever they claim to be."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class ConvertMediaSchema(Schema):
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048))
    base64 = fields.String(validate=validate.Length(min=1), metadata={"description": "The media, base64."})
    mimetype = fields.String(validate=validate.Regexp(r"^[\w.+-]+/[\w.+-]+$"))

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_: Any) -> None:
        if ("url" in data) == ("base64" in data):
            raise ValidationError("Provide exactly one of url and base64", field_name="url")


class ConvertedMediaSchema(Schema):
    base64 = fields.String(required=True, metadata={"description": "The converted bytes, base64."})
    mimetype = fields.String(required=True, metadata={"example": "audio/ogg; codecs=opus"})
    bytes = fields.Integer(required=True, metadata={"description": "Decoded size", "example": 5321})


class ConversionAvailabilitySchema(Schema):
    available = fields.Boolean(
        required=True, metadata={"description": "Conversion is switched on here and ffmpeg runs."}
    )
