"""Story (WhatsApp "Status") bodies and answers: upstream's status DTOs, the `openwa` SDK's
`SendTextStatusRequest`, `SendImageStatusRequest`, `SendVideoStatusRequest`, `SendVoiceStatusRequest`,
`StatusResult` and `StatusRecord`. Media is `{url | base64 (+ mimetype)}` under `image`, `video` or `audio`.
`recipients` is accepted as the SDK sends it and not used: only Baileys addresses a story (upstream, "Baileys
only"); WhatsApp Web posts it to the account's contacts. Unknown fields are refused (400)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from functions.core.stories import STORY_FONTS
from functions.schemas.groups import GroupPictureSchema

MAX_TEXT = 700  # WhatsApp's limit on a text status
MAX_CAPTION = 1024
_COLOR = validate.Regexp(r"^#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?$", error="must be a colour such as #25D366")
_USER = "15550001111@c.us"
_STATUS_ID = "true_status@broadcast_3EB0A1B2C3D4E5F60718_15550001111@c.us"
_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _recipients() -> fields.List[str]:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=1024),
        metadata={"description": "Baileys only; accepted and not used by WhatsApp Web", "example": [_USER]},
    )


def _caption() -> fields.String:
    return fields.String(validate=validate.Length(max=MAX_CAPTION), metadata={"example": "Opening today"})


class StatusMediaSchema(GroupPictureSchema):
    """Exactly one of `url` and `base64`; `mimetype` with base64 (the bytes are sniffed anyway), with
    parameters allowed: the SDK's voice default is `audio/ogg; codecs=opus`."""

    mimetype = fields.String(
        validate=validate.Regexp(r"^[\w.+-]+/[\w.+-]+(?:\s*;\s*[\w.+-]+=[\w.+-]+)*$"),
        metadata={"example": "audio/ogg; codecs=opus"},
    )


class SendTextStatusSchema(Schema):
    text = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_TEXT), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "Back at 3 pm"},
    )
    backgroundColor = fields.String(validate=_COLOR, metadata={"example": "#25D366"})
    font = fields.Integer(validate=validate.OneOf(STORY_FONTS), metadata={"example": 1})
    recipients = _recipients()


def _media(example_type: str) -> fields.Nested:
    return fields.Nested(
        StatusMediaSchema,
        required=True,
        metadata={"example": {"base64": _PNG, "mimetype": example_type}},
    )


class SendImageStatusSchema(Schema):
    image = _media("image/png")
    caption = _caption()
    recipients = _recipients()


class SendVideoStatusSchema(Schema):
    video = _media("video/mp4")
    caption = _caption()
    recipients = _recipients()


class SendVoiceStatusSchema(Schema):
    audio = _media("audio/ogg")
    backgroundColor = fields.String(validate=_COLOR, metadata={"description": "Baileys only; not used"})
    recipients = _recipients()


class StatusResultSchema(Schema):
    statusId = fields.String(required=True, metadata={"example": _STATUS_ID})
    timestamp = fields.String(required=True, metadata={"example": "2026-12-08T10:00:00.000Z"})
    expiresAt = fields.String(required=True, metadata={"example": "2026-12-09T10:00:00.000Z"})


class StatusContactSchema(Schema):
    id = fields.String(metadata={"example": _USER})
    name = fields.String(allow_none=True)
    pushName = fields.String(allow_none=True)


class StatusRecordSchema(Schema):
    id = fields.String(required=True, metadata={"example": _STATUS_ID})
    contact = fields.Nested(StatusContactSchema, required=True)
    type = fields.String(required=True, metadata={"example": "image"})
    caption = fields.String()
    mediaUrl = fields.String(metadata={"description": "A signed, expiring URL of the stored media"})
    backgroundColor = fields.String()
    font = fields.Integer()
    hasMedia = fields.Boolean()
    mediaOmitted = fields.Boolean()
    omitReason = fields.String()
    timestamp = fields.String(required=True, metadata={"example": "2026-12-08T10:00:00.000Z"})
    expiresAt = fields.String(required=True, metadata={"example": "2026-12-09T10:00:00.000Z"})


class StatusListSchema(Schema):
    statuses = fields.List(fields.Nested(StatusRecordSchema), required=True)
