"""Webhook routes (OpenWA's): per-session configuration, the test delivery, the cross-session list, the
dead letters and their redrive, one delivery's attempt log, and a webhook's delivery log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView

from functions.api.audit import audit
from functions.api.auth import current_principal, requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.clock import iso
from functions.core.enums import Role
from functions.core.models import Webhook
from functions.schemas.webhooks import (
    CreateWebhookSchema,
    DeliveryFailureSchema,
    DeliverySchema,
    FailuresQuerySchema,
    PageQuerySchema,
    RedriveResultSchema,
    RedriveSchema,
    UpdateWebhookSchema,
    WebhookAttemptSchema,
    WebhookAttemptsQuerySchema,
    WebhookSchema,
    WebhookTestResultSchema,
)
from functions.state.deliveries import Delivery

blp = Blueprint("webhooks", __name__, url_prefix="/api", description="Webhooks and their deliveries")


def webhook_to_wire(hook: Webhook) -> dict[str, Any]:
    """The wire shape; `secret` and `headers` are never included."""
    return {
        "id": hook.id,
        "sessionId": hook.session_id,
        "url": hook.url,
        "events": hook.events,
        "active": hook.active,
        "filters": hook.filters,
        "retryCount": hook.retry_count,
        "lastTriggeredAt": iso(hook.last_triggered_at),
        "createdAt": iso(hook.created_at),
        "updatedAt": iso(hook.updated_at),
    }


def _ms_iso(epoch_ms: int | None) -> str:
    return iso(datetime.fromtimestamp((epoch_ms or 0) / 1000, UTC)) or ""


def failure_to_wire(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "webhookId": row.webhook_id,
        "sessionId": row.session_id,
        "event": row.event,
        "url": row.url,
        "idempotencyKey": row.idempotency_key,
        "deliveryId": row.id,
        "attempts": row.attempts_made,
        "lastStatusCode": row.last_status,
        "lastError": row.last_error or "",
        "createdAt": _ms_iso(row.failed_at or row.created_at),
        "replayable": row.replayable,
    }


def _scope() -> list[str] | None:
    return current_principal().key.allowed_sessions or None


@blp.route("/sessions/<session_id>/webhooks")
class SessionWebhooks(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, WebhookSchema(many=True))
    @blp.errors(404)
    def get(self, session_id: str) -> list[dict[str, Any]]:
        """List the session's webhooks."""
        return [webhook_to_wire(hook) for hook in services().webhooks.list_for_session(session_id)]

    @requires(Role.OPERATOR)
    @blp.arguments(CreateWebhookSchema())
    @blp.response(201, WebhookSchema)
    @blp.errors(404, 409, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Create a webhook. The URL must be a public http(s) target (SSRF guard) unless allow-listed."""
        hook = services().webhooks.create(session_id, body)
        audit("webhook_created", session_id=session_id, webhookId=hook.id)
        return webhook_to_wire(hook)


@blp.route("/sessions/<session_id>/webhooks/<webhook_id>")
class SessionWebhook(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, WebhookSchema)
    @blp.errors(404)
    def get(self, session_id: str, webhook_id: str) -> dict[str, Any]:
        """Get one webhook."""
        return webhook_to_wire(services().webhooks.get(session_id, webhook_id))

    @requires(Role.OPERATOR)
    @blp.arguments(UpdateWebhookSchema())
    @blp.response(200, WebhookSchema)
    @blp.errors(404, body=True)
    def put(self, body: dict[str, Any], session_id: str, webhook_id: str) -> dict[str, Any]:
        """Partially update a webhook (also `active`); an empty `secret` removes the secret."""
        hook = services().webhooks.update(session_id, webhook_id, body)
        audit("webhook_updated", session_id=session_id, webhookId=hook.id)
        return webhook_to_wire(hook)

    @requires(Role.OPERATOR)
    @blp.response(204)
    @blp.errors(404)
    def delete(self, session_id: str, webhook_id: str) -> None:
        """Delete a webhook; its queued deliveries are dropped when they come up."""
        services().webhooks.delete(session_id, webhook_id)
        audit("webhook_deleted", session_id=session_id, webhookId=webhook_id)


@blp.route("/sessions/<session_id>/webhooks/<webhook_id>/test")
class SessionWebhookTest(MethodView):
    @requires(Role.OPERATOR)
    @blp.response(200, WebhookTestResultSchema)
    @blp.errors(404)
    def post(self, session_id: str, webhook_id: str) -> dict[str, Any]:
        """Send a signed `{event: "test"}` delivery now and report the receiver's answer."""
        return services().webhooks.test(session_id, webhook_id)


_ATTEMPTS_EXAMPLE = [
    {
        "attempt": 2,
        "at": "2026-01-05T10:00:03.120Z",
        "statusCode": 200,
        "latencyMs": 41.7,
        "error": None,
        "deliveryId": "dlv_0b9c6a52-5f0e-4a61-9d38-3c1f0c7e2b11",
        "event": "message.received",
    },
    {
        "attempt": 1,
        "at": "2026-01-05T10:00:01.004Z",
        "statusCode": None,
        "latencyMs": 5000.3,
        "error": "timeout",
        "deliveryId": "dlv_0b9c6a52-5f0e-4a61-9d38-3c1f0c7e2b11",
        "event": "message.received",
    },
]


@blp.route("/sessions/<session_id>/webhooks/<webhook_id>/deliveries")
class SessionWebhookDeliveries(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(WebhookAttemptsQuerySchema(), location="query")
    @blp.response(200, WebhookAttemptSchema(many=True), example=_ATTEMPTS_EXAMPLE)
    @blp.errors(400, 404)
    def get(self, query: dict[str, Any], session_id: str, webhook_id: str) -> list[dict[str, Any]]:
        """The webhook's delivery log, newest first: each attempt of its deliveries and tests (time, HTTP
        status or none, latency in ms, error). The last 100 are kept, for 14 days after the newest; deleting
        the webhook deletes its log. 404 SESSION_NOT_FOUND or WEBHOOK_NOT_FOUND; 401 for a session outside
        the key's scope."""
        return services().webhooks.attempts(session_id, webhook_id, query["limit"])


@blp.route("/webhooks")
class AllWebhooks(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(PageQuerySchema(), location="query")
    @blp.response(200, WebhookSchema(many=True))
    @blp.errors(400)
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """List webhooks across the sessions the key may see."""
        hooks = services().webhooks.list_all(_scope(), limit=query["limit"], offset=query["offset"])
        return [webhook_to_wire(hook) for hook in hooks]


@blp.route("/webhooks/delivery-failures")
class DeliveryFailures(MethodView):
    @requires(Role.ADMIN)
    @blp.arguments(FailuresQuerySchema(), location="query")
    @blp.response(200, DeliveryFailureSchema(many=True))
    @blp.errors(400)
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Dead letters: deliveries that exhausted their attempts or could not be sent, newest first."""
        rows = services().webhooks.failures(_scope(), query.get("sessionId"))
        return [failure_to_wire(row) for row in rows[query["offset"] : query["offset"] + query["limit"]]]


@blp.route("/webhooks/delivery-failures/redrive")
class DeliveryFailuresRedrive(MethodView):
    @requires(Role.ADMIN)
    @blp.arguments(RedriveSchema(), required=False)
    @blp.response(200, RedriveResultSchema)
    @blp.errors(body=True)
    def post(self, body: dict[str, Any]) -> dict[str, int]:
        """Replay dead letters (by `ids`, or all of a `webhookId`/`sessionId`) as new deliveries that keep
        their idempotency keys; they are queued (`enqueued`), not sent inline."""
        result = services().webhooks.redrive(_scope(), body)
        audit("webhook_failures_redriven", result=result)
        return result


@blp.route("/webhooks/deliveries/<delivery_id>")
class DeliveryItem(MethodView):
    @requires(Role.ADMIN)
    @blp.response(200, DeliverySchema)
    @blp.errors(404)
    def get(self, delivery_id: str) -> dict[str, Any]:
        """One delivery with its attempt log (time, status, latency, error of each attempt)."""
        row, attempts = services().webhooks.delivery(delivery_id, _scope())
        return {
            "id": row.id,
            "webhookId": row.webhook_id,
            "sessionId": row.session_id,
            "eventId": row.event_id,
            "event": row.event,
            "idempotencyKey": row.idempotency_key,
            "state": row.state,
            "attempts": row.attempts_made,
            "maxAttempts": row.max_attempts,
            "lastStatusCode": row.last_status,
            "lastError": row.last_error,
            "createdAt": _ms_iso(row.created_at),
            "attemptLog": attempts,
        }
