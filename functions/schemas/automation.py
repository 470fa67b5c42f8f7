"""Auto-reply rule bodies (OpenWA's automation rule: `name`, `replyText`, `conditions`, `cooldownSeconds`,
`enabled`; `reference/openwa.md` §2.4). Ours adds a stored template as the reply (`templateId` with
`templateVars`) and `includeGroups`. `conditions` are webhook filter conditions. Unknown fields are 400."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from functions.core.automation import DEFAULT_COOLDOWN_SECONDS, MAX_COOLDOWN_SECONDS, MAX_NAME, MAX_REPLY
from functions.core.templates import MAX_RENDERED
from functions.schemas.common import NonEmptyUpdateSchema, StrictBoolean, StrictInteger
from functions.schemas.templates import MAX_VARS
from functions.schemas.webhooks import FilterConditionSchema
from functions.webhooks.filters import MAX_CONDITIONS

_CONDITIONS_EXAMPLE = [{"field": "body", "operator": "contains", "value": "price"}]


def _name(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=MAX_NAME), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"example": "Price enquiries"},
        **kwargs,
    )


class _RuleFieldsSchema(Schema):
    """The writable fields, all optional (create adds its requirements; the service its defaults)."""

    replyText = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=MAX_REPLY),
        metadata={"example": "Thanks! Our price list: https://example.com/prices"},
    )
    templateId = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Reply with this stored template instead of `replyText`."},
    )
    templateVars = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.String(validate=validate.Length(max=MAX_RENDERED)),
        validate=validate.Length(max=MAX_VARS),
        metadata={"example": {"name": "there"}},
    )
    conditions = fields.List(
        fields.Nested(FilterConditionSchema),
        validate=validate.Length(max=MAX_CONDITIONS),
        metadata={
            "description": "Webhook filter conditions, all of which must hold (none: every message).",
            "example": _CONDITIONS_EXAMPLE,
        },
    )
    cooldownSeconds = StrictInteger(
        validate=validate.Range(min=0, max=MAX_COOLDOWN_SECONDS),
        metadata={"description": "Per chat: no second reply from this rule there for this long (60)."},
    )
    enabled = StrictBoolean()
    includeGroups = StrictBoolean(metadata={"description": "Answer in groups too (default false)."})

    @validates_schema
    def _one_reply(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("replyText") is not None and data.get("templateId") is not None:
            raise ValidationError("Provide only one of replyText and templateId", field_name="replyText")


class CreateAutomationRuleSchema(_RuleFieldsSchema):
    """A reply: exactly one of `replyText` and `templateId`."""

    name = _name(required=True)

    @validates_schema
    def _a_reply(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("replyText") is None and data.get("templateId") is None:
            raise ValidationError("Provide replyText or templateId", field_name="replyText")


class UpdateAutomationRuleSchema(NonEmptyUpdateSchema, _RuleFieldsSchema):
    """Some fields. A new `replyText` replaces a template reply, a new `templateId` replaces `replyText`."""

    name = _name()


class AutomationRuleSchema(Schema):
    id = fields.String(required=True, metadata={"example": "4f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"})
    sessionId = fields.String(required=True)
    name = fields.String(required=True, metadata={"example": "Price enquiries"})
    enabled = fields.Boolean(required=True)
    conditions = fields.List(fields.Nested(FilterConditionSchema), required=True)
    replyText = fields.String(allow_none=True, required=True)
    templateId = fields.String(allow_none=True, required=True)
    templateVars = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    cooldownSeconds = fields.Integer(required=True, metadata={"example": DEFAULT_COOLDOWN_SECONDS})
    includeGroups = fields.Boolean(required=True)
    createdAt = fields.String(required=True, metadata={"example": "2026-12-01T10:00:00.000Z"})
    updatedAt = fields.String(required=True, metadata={"example": "2026-12-01T10:00:00.000Z"})
