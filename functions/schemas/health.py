"""Health bodies."""

from __future__ import annotations

from marshmallow import Schema, fields


class HealthSchema(Schema):
    status = fields.String(required=True)
    timestamp = fields.String(required=True)
    version = fields.String()


class LiveSchema(Schema):
    status = fields.String(required=True)


class DependencySchema(Schema):
    status = fields.String(required=True)
    error = fields.String()


class ReadySchema(Schema):
    status = fields.String(required=True)
    details = fields.Dict(keys=fields.String(), values=fields.Nested(DependencySchema), required=True)
