"""API key request and response bodies (OpenWA's api-key DTOs)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from functions.schemas.common import NonEmptyUpdateSchema

ROLES = ("admin", "operator", "viewer")


def _check_cidrs(values: list[str]) -> None:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ValidationError(f"{value!r} is not an IPv4/IPv6 address or CIDR range") from exc


class ApiKeyFieldsSchema(Schema):
    """Fields shared by create (POST) and update (PUT)."""

    role = fields.String(validate=validate.OneOf(ROLES))
    allowedIps = fields.List(
        fields.String(validate=validate.Length(1, 64)),
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "IPv4/IPv6 addresses or CIDR ranges; null or [] = any"},
    )
    allowedSessions = fields.List(
        fields.String(validate=validate.Length(1, 64)), allow_none=True, validate=validate.Length(max=1000)
    )
    expiresAt = fields.AwareDateTime(
        allow_none=True, default_timezone=UTC, metadata={"description": "Must be in the future"}
    )

    @validates("allowedIps")
    def _ips(self, value: list[str] | None, **_: Any) -> None:
        _check_cidrs(value or [])

    @validates("expiresAt")
    def _future(self, value: datetime | None, **_: Any) -> None:
        if value is not None and value <= datetime.now(UTC):
            raise ValidationError("must be in the future")


class CreateApiKeySchema(ApiKeyFieldsSchema):
    name = fields.String(required=True, validate=validate.Length(3, 100))
    role = fields.String(load_default="operator", validate=validate.OneOf(ROLES))


class UpdateApiKeySchema(ApiKeyFieldsSchema, NonEmptyUpdateSchema):
    name = fields.String(validate=validate.Length(3, 100))


class ApiKeySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    keyPrefix = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    allowedIps = fields.List(fields.String(), allow_none=True)
    allowedSessions = fields.List(fields.String(), allow_none=True)
    isActive = fields.Boolean(required=True)
    expiresAt = fields.String(allow_none=True)
    lastUsedAt = fields.String(allow_none=True)
    usageCount = fields.Integer(required=True)
    createdAt = fields.String(required=True)
    updatedAt = fields.String(required=True)


class CreatedApiKeySchema(ApiKeySchema):
    apiKey = fields.String(required=True, metadata={"description": "The plaintext key; shown only once"})


class ValidateKeySchema(Schema):
    valid = fields.Boolean(required=True)
    role = fields.String(required=True)
    scoped = fields.Boolean(required=True)
    engineType = fields.String()
