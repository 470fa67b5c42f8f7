"""Profile bodies (OpenWA's profile DTOs; `openwa` SDK `SetProfileNameRequest`, `SetProfileStatusRequest`,
`SetProfilePictureRequest`). WhatsApp's limits: a name of 1-25 characters, an about text of at most 139
("" clears it). Unknown fields are refused (400)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from functions.schemas.groups import GroupPictureSchema

MAX_NAME = 25
MAX_STATUS = 139


class ProfileNameSchema(Schema):
    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_NAME), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "Alice"},
    )


class ProfileStatusSchema(Schema):
    status = fields.String(
        required=True, validate=validate.Length(max=MAX_STATUS), metadata={"example": "Available"}
    )


class ProfilePictureBodySchema(GroupPictureSchema):
    """Exactly one of `url` and `base64` (an image); `mimetype` optional (the bytes are sniffed)."""
