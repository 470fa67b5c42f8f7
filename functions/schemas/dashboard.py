"""The dashboard overview body (`GET /api/dashboard/overview`)."""

from __future__ import annotations

from marshmallow import Schema, fields

from functions.core.enums import SessionStatus


class SessionCountsSchema(Schema):
    total = fields.Integer(required=True)
    byStatus = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Every status: " + ", ".join(s.value for s in SessionStatus)},
    )


class MessageCountsSchema(Schema):
    day = fields.String(required=True, metadata={"description": "The UTC day counted, YYYY-MM-DD"})
    sent = fields.Integer(required=True)
    received = fields.Integer(required=True)


class QueueDepthsSchema(Schema):
    sessions = fields.Integer(required=True, metadata={"description": "Jobs waiting on every session queue"})
    webhooks = fields.Integer(required=True, metadata={"description": "Webhook deliveries waiting"})
    default = fields.Integer(required=True, metadata={"description": "Other background jobs waiting"})


class RunnerSchema(Schema):
    id = fields.String(required=True)
    host = fields.String(required=True, allow_none=True)
    pid = fields.Integer(required=True, allow_none=True)
    sessions = fields.Integer(required=True, metadata={"description": "Sessions it holds"})
    maxSessions = fields.Integer(required=True)
    free = fields.Integer(required=True)


class RunnersSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Runners with a live heartbeat"})
    capacity = fields.Integer(required=True, metadata={"description": "Sum of their MAX_SESSIONS"})
    held = fields.Integer(required=True)
    free = fields.Integer(required=True, metadata={"description": "Sessions they could still claim"})
    items = fields.List(fields.Nested(RunnerSchema), required=True)


class DashboardOverviewSchema(Schema):
    sessions = fields.Nested(SessionCountsSchema, required=True)
    messages = fields.Nested(MessageCountsSchema, required=True)
    queues = fields.Nested(QueueDepthsSchema, required=True)
    runners = fields.Nested(RunnersSchema, required=True)
    generatedAt = fields.String(required=True)
