"""Webhook, dead-letter and event-stream request/response bodies (OpenWA's webhook DTOs, `openwa` SDK)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from functions.schemas.common import NonEmptyUpdateSchema, StrictBoolean, StrictInteger
from functions.state.deliveries import MAX_WEBHOOK_ATTEMPTS
from functions.webhooks.events import EVENT_NAMES, WILDCARD
from functions.webhooks.filters import FIELDS, MAX_CONDITIONS, MAX_TEXT, MAX_VALUES, condition_problem

SUBSCRIBABLE = [*EVENT_NAMES, WILDCARD]
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
# RFC 9110 field values we can send: visible ASCII, spaces and tabs. Control characters would split or
# corrupt the request (or be refused by the HTTP client at every delivery), and httpx sends values as ASCII.
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]{0,4096}")
MAX_HEADERS = 50


class ConditionValue(fields.Field):  # type: ignore[type-arg]
    """A string (≤1000 chars), a list of ≤100 such strings, or a boolean; nothing else."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            return value
        if (
            isinstance(value, list)
            and len(value) <= MAX_VALUES
            and all(isinstance(item, str) and len(item) <= MAX_TEXT for item in value)
        ):
            return value
        raise ValidationError(f"must be a string, a list of at most {MAX_VALUES} strings, or a boolean")


class FilterConditionSchema(Schema):
    field = fields.String(required=True, validate=validate.OneOf(list(FIELDS)))
    operator = fields.String(required=True, validate=validate.OneOf(["is", "isNot", "contains", "equals"]))
    value = ConditionValue(required=True, metadata={"oneOf": [{"type": "string"}, {"type": "boolean"}]})
    caseSensitive = StrictBoolean()

    @validates_schema
    def _fits_field(self, data: dict[str, Any], **_: Any) -> None:
        problem = condition_problem(data)
        if problem:
            raise ValidationError(problem)


class FiltersSchema(Schema):
    conditions = fields.List(
        fields.Nested(FilterConditionSchema), required=True, validate=validate.Length(max=MAX_CONDITIONS)
    )


def _validate_headers(value: dict[str, str]) -> None:
    if len(value) > MAX_HEADERS:
        raise ValidationError(f"at most {MAX_HEADERS} headers")
    for name, header in value.items():
        if not _HEADER_NAME.match(name):
            raise ValidationError(f"{name!r} is not a valid header name")
        if not _HEADER_VALUE.fullmatch(header):
            raise ValidationError(f"header {name!r}: at most 4096 visible ASCII characters, spaces and tabs")


class _WebhookFields(Schema):
    url = fields.String(validate=validate.Length(1, 2048))
    events = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)), validate=validate.Length(1, len(SUBSCRIBABLE))
    )
    headers = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        validate=_validate_headers,
        metadata={"description": "Sent with every delivery; never returned; cannot override ours"},
    )
    filters = fields.Nested(FiltersSchema, allow_none=True)
    retryCount = StrictInteger(
        validate=validate.Range(0, 5), metadata={"description": "Total attempts (0 and 1: one attempt)"}
    )


class CreateWebhookSchema(_WebhookFields):
    url = fields.String(required=True, validate=validate.Length(1, 2048))
    events = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)),
        load_default=lambda: ["message.received"],
        validate=validate.Length(1, len(SUBSCRIBABLE)),
    )
    secret = fields.String(
        validate=validate.Length(16, 255),
        metadata={"description": "HMAC secret (16-255 chars; `whsec_...` accepted); never returned"},
    )
    retryCount = StrictInteger(load_default=3, validate=validate.Range(0, 5))


class UpdateWebhookSchema(_WebhookFields, NonEmptyUpdateSchema):
    secret = fields.String(metadata={"description": "16-255 characters, or empty to remove the secret"})
    active = StrictBoolean()

    @validates("secret")
    def _secret(self, value: str, **_: Any) -> None:
        if value and not 16 <= len(value) <= 255:
            raise ValidationError("must be empty (no secret) or 16-255 characters")


class WebhookSchema(Schema):
    id = fields.String(required=True)
    sessionId = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    filters = fields.Nested(FiltersSchema, allow_none=True)
    retryCount = fields.Integer(required=True)
    lastTriggeredAt = fields.String(allow_none=True)
    createdAt = fields.String(required=True)
    updatedAt = fields.String(required=True)


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**9))


class FailuresQuerySchema(PageQuerySchema):
    sessionId = fields.String(validate=validate.Length(1, 100))


class WebhookTestResultSchema(Schema):
    success = fields.Boolean(required=True)
    statusCode = fields.Integer()
    error = fields.String()


class AttemptSchema(Schema):
    attempt = fields.Integer(required=True)
    at = fields.String(required=True)
    statusCode = fields.Integer(allow_none=True)
    latencyMs = fields.Float(allow_none=True)
    error = fields.String(allow_none=True)


class WebhookAttemptsQuerySchema(Schema):
    limit = fields.Integer(
        load_default=20,
        validate=validate.Range(1, MAX_WEBHOOK_ATTEMPTS),
        metadata={"description": f"How many of the last attempts (the log keeps {MAX_WEBHOOK_ATTEMPTS})"},
    )


class WebhookAttemptSchema(AttemptSchema):
    deliveryId = fields.String(required=True, metadata={"description": "`dlv_…`; tests have no record"})
    event = fields.String(required=True, metadata={"description": "The delivered event, or `test`"})


class DeliveryFailureSchema(Schema):
    id = fields.String(required=True)
    webhookId = fields.String(required=True)
    sessionId = fields.String(required=True)
    event = fields.String(required=True)
    url = fields.String(required=True)
    idempotencyKey = fields.String(allow_none=True)
    deliveryId = fields.String(allow_none=True)
    attempts = fields.Integer(required=True)
    lastStatusCode = fields.Integer(allow_none=True)
    lastError = fields.String(required=True)
    createdAt = fields.String(required=True)
    replayable = fields.Boolean(required=True)


class DeliverySchema(Schema):
    id = fields.String(required=True)
    webhookId = fields.String(required=True)
    sessionId = fields.String(required=True)
    eventId = fields.String(required=True)
    event = fields.String(required=True)
    idempotencyKey = fields.String(required=True)
    state = fields.String(required=True)
    attempts = fields.Integer(required=True)
    maxAttempts = fields.Integer(required=True)
    lastStatusCode = fields.Integer(allow_none=True)
    lastError = fields.String(allow_none=True)
    createdAt = fields.String(required=True)
    attemptLog = fields.List(fields.Nested(AttemptSchema), required=True)


class RedriveSchema(Schema):
    sessionId = fields.String(validate=validate.Length(1, 100))
    webhookId = fields.String(validate=validate.Length(1, 100))
    ids = fields.List(fields.String(validate=validate.Length(1, 100)), validate=validate.Length(1, 500))
    limit = StrictInteger(load_default=100, validate=validate.Range(1, 500))


class RedriveResultSchema(Schema):
    redriven = fields.Integer(required=True)
    delivered = fields.Integer(required=True)
    enqueued = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    remaining = fields.Integer(required=True)


class EventsQuerySchema(Schema):
    events = fields.String(
        validate=validate.Length(1, 2000), metadata={"description": "Comma list of event names to keep"}
    )
    lastEventId = fields.String(
        validate=validate.Regexp(r"^\d{1,20}-\d{1,20}$"),
        metadata={"description": "Resume after this id (the Last-Event-ID header wins)"},
    )

    @validates("events")
    def _names(self, value: str, **_: Any) -> None:
        unknown = [name for name in value.split(",") if name.strip() not in SUBSCRIBABLE]
        if unknown:
            raise ValidationError(f"unknown event names: {', '.join(unknown)}")
