"""Contact answers (OpenWA's Contact, `openwa` SDK `ContactRecord`, `CheckNumberResponse`...)."""

from __future__ import annotations

import re

from marshmallow import Schema, fields

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
