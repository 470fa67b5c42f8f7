"""Contact bodies and answers (OpenWA's Contact, `openwa` SDK `ContactRecord`, `CheckNumberResponse`,
`UpsertContactRequest`, `ContactPhoneResponse`, `ProfilePicturesResponse`...)."""

from __future__ import annotations

import re

from marshmallow import Schema, fields, validate

from functions.core.errors import ValidationFailed

_PHONE = re.compile(r"^\+?[\d\s().-]{5,30}$")


def path_phone_number(value: str, field: str = "number") -> str:
    """A phone number from the URL path as digits (`+1 555-010` → `1555010`); a 400 naming `field`."""
    digits = re.sub(r"\D", "", value)
    if not _PHONE.match(value) or not 5 <= len(digits) <= 20:
        message = f"'{value}' is not a phone number (5 to 20 digits, country code first)"
        raise ValidationFailed(message, details={"fields": {field: [message]}})
    return digits


class ContactSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)
    pushName = fields.String(allow_none=True)
    number = fields.String(allow_none=True)
    isMyContact = fields.Boolean()
    isBlocked = fields.Boolean()
    profilePicUrl = fields.String(allow_none=True)


class CheckNumberSchema(Schema):
    number = fields.String(required=True)
    exists = fields.Boolean(required=True)
    whatsappId = fields.String(allow_none=True, required=True)


class ProfilePictureSchema(Schema):
    url = fields.String(allow_none=True, required=True)


MAX_NAME = 100
_NAME = [validate.Length(min=1, max=MAX_NAME), validate.Regexp(r"\S", error="must not be blank")]


class UpsertContactSchema(Schema):
    """An address-book entry: the first name, and optionally the last name."""

    firstName = fields.String(required=True, validate=_NAME, metadata={"example": "Robert"})
    lastName = fields.String(validate=_NAME, metadata={"example": "Brown"})


class ProfilePicturesQuerySchema(Schema):
    ids = fields.String(
        required=True,
        validate=validate.Length(min=1, max=8192),
        metadata={
            "description": "Comma-separated contact ids (only the first 50 are looked up)",
            "example": "15550002222@c.us,15550003333@c.us",
        },
    )


class ProfilePicturesSchema(Schema):
    pictures = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        required=True,
        metadata={"description": "Contact id -> picture URL (null when it shows none or the lookup failed)"},
    )


class ContactPhoneSchema(Schema):
    contactId = fields.String(required=True)
    phone = fields.String(
        allow_none=True, required=True, metadata={"description": "The phone number (digits), null if unknown"}
    )
