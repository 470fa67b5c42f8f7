"""Query of a signed storage URL (local backend)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class SignedUrlQuerySchema(Schema):
    expires = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{1,12}$"))
    signature = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
