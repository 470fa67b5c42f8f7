"""Webhook configuration, the test delivery, dead letters and redrive, as the API sees them.

Secrets and custom headers are sealed with the envelope before they reach Redis (contexts
`webhook:<id>` and `webhook:<id>:headers`) and are never returned. URLs pass the SSRF guard here, at
registration, and again at every delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson

from functions.config import Settings
from functions.core.clock import iso, utcnow
from functions.core.errors import Conflict, NotFound
from functions.core.models import Webhook
from functions.queueing import enqueue_webhook_delivery
from functions.services.sessions import SessionNotFound
from functions.state.codec import CorruptRecord
from functions.state.deliveries import Delivery, DeliveryRepository
from functions.state.sessions import SessionRepository
from functions.state.webhooks import WebhookRepository
from functions.webhooks.delivery import DeliveryContext, send_attempt
from functions.webhooks.dispatch import job_timeout, now_ms
from functions.webhooks.events import TEST_EVENT
from functions.webhooks.filters import subscribed
from functions.webhooks.sender import Outcome
from functions.webhooks.targets import pin_webhook_url


class WebhookNotFound(NotFound):
    code, default_message = "WEBHOOK_NOT_FOUND", "Webhook not found"


class DeliveryNotFound(NotFound):
    code, default_message = "DELIVERY_NOT_FOUND", "Delivery not found"


class WebhookLimitReached(Conflict):
    code, default_message = "WEBHOOK_LIMIT_REACHED", "This session has the maximum number of webhooks"


class WebhookService:
    """CRUD plus test/failures/redrive. `context` builds the delivery context on first use (envelope and
    HTTP sender are not needed by most requests)."""

    def __init__(
        self,
        settings: Settings,
        repo: WebhookRepository,
        sessions: SessionRepository,
        deliveries: DeliveryRepository,
        context: Callable[[], DeliveryContext],
    ) -> None:
        self._settings = settings
        self._repo = repo
        self._sessions = sessions
        self._deliveries = deliveries
        self._context = context

    def _require_session(self, session_id: str) -> None:
        if self._sessions.get(session_id) is None:
            raise SessionNotFound(details={"sessionId": session_id})

    def check_url(self, url: str) -> None:
        """The registration-time SSRF check (400 with a code when refused)."""
        pin_webhook_url(url, self._settings)

    def list_for_session(self, session_id: str) -> list[Webhook]:
        self._require_session(session_id)
        return self._repo.list_for_session(session_id)

    def list_all(self, only: list[str] | None, *, limit: int, offset: int) -> list[Webhook]:
        return self._repo.list_all(only)[offset : offset + limit]

    def get(self, session_id: str, webhook_id: str) -> Webhook:
        """The session's webhook; WebhookNotFound, or CorruptRecord (500) when its record is unreadable."""
        try:
            hook = self._repo.get(webhook_id)
        except CorruptRecord:
            if self._repo.belongs_to(webhook_id, session_id):
                raise
            hook = None
        if hook is None or hook.session_id != session_id:
            self._require_session(session_id)
            raise WebhookNotFound(details={"webhookId": webhook_id})
        return hook

    def create(self, session_id: str, body: dict[str, Any]) -> Webhook:
        self._require_session(session_id)
        self.check_url(body["url"])
        if self._repo.count_for_session(session_id) >= self._settings.webhook_max_per_session:
            raise WebhookLimitReached(details={"max": self._settings.webhook_max_per_session})
        now = utcnow()
        hook = Webhook(
            id=str(uuid.uuid4()),
            session_id=session_id,
            url=body["url"],
            created_at=now,
            updated_at=now,
            events=list(dict.fromkeys(body["events"])),
            filters=body.get("filters"),
            retry_count=body["retryCount"],
        )
        self._seal(hook, body)
        self._repo.save(hook)
        return hook

    def update(self, session_id: str, webhook_id: str, body: dict[str, Any]) -> Webhook:
        hook = self.get(session_id, webhook_id)
        if "url" in body:
            self.check_url(body["url"])
            hook.url = body["url"]
        if "events" in body:
            hook.events = list(dict.fromkeys(body["events"]))
        if "filters" in body:
            hook.filters = body["filters"]
        if "retryCount" in body:
            hook.retry_count = body["retryCount"]
        if "active" in body:
            hook.active = body["active"]
        self._seal(hook, body)
        hook.updated_at = utcnow()
        self._repo.save(hook)
        return hook

    def _seal(self, hook: Webhook, body: dict[str, Any]) -> None:
        envelope = self._context().envelope
        if "secret" in body:
            secret = body["secret"]
            hook.secret_encrypted = (
                envelope.encrypt_text(secret, context=f"webhook:{hook.id}".encode()) if secret else None
            )
        if "headers" in body:
            headers = body["headers"]
            hook.headers_encrypted = (
                envelope.encrypt_text(
                    orjson.dumps(headers).decode(), context=f"webhook:{hook.id}:headers".encode()
                )
                if headers
                else None
            )

    def delete(self, session_id: str, webhook_id: str) -> None:
        """Delete a webhook of the session; one whose record cannot be read (CorruptRecord) too, found by
        the session's index, so an operator can always remove a bad record."""
        try:
            hook = self.get(session_id, webhook_id)
        except CorruptRecord:  # `get` checked that the session's index lists it
            self._repo.purge(session_id, webhook_id)
            self._deliveries.forget_webhook_attempts(webhook_id)
            return
        self._repo.delete(hook)
        self._deliveries.forget_webhook_attempts(webhook_id)

    def test(self, session_id: str, webhook_id: str) -> dict[str, Any]:
        """Send `{event: "test"}` now, with the real headers and signature; never sets lastTriggeredAt."""
        hook = self.get(session_id, webhook_id)
        delivery_id = f"dlv_{uuid.uuid4()}"
        key = f"test_{session_id}_{uuid.uuid4().hex}_{hook.id}"
        body = orjson.dumps(
            {
                "event": TEST_EVENT,
                "timestamp": iso(utcnow()),
                "sessionId": session_id,
                "idempotencyKey": key,
                "deliveryId": delivery_id,
                "data": {"message": "Test delivery from OpenWA", "webhookId": hook.id},
            }
        )
        outcome = send_attempt(
            self._context(), hook, body=body, event=TEST_EVENT, key=key, delivery_id=delivery_id, retry=0
        )
        self._log_test(hook, delivery_id, outcome)
        if outcome.ok:
            return {"success": True, "statusCode": outcome.status}
        if outcome.status is not None:
            return {"success": False, "statusCode": outcome.status, "error": f"HTTP {outcome.status}"}
        return {"success": False, "error": outcome.error or "delivery failed"}

    def _log_test(self, hook: Webhook, delivery_id: str, outcome: Outcome) -> None:
        """A test is an attempt too: it goes in the webhook's delivery log (it has no delivery record)."""
        entry = {
            "attempt": 1,
            "at": iso(utcnow()),
            "statusCode": outcome.status,
            "latencyMs": outcome.latency_ms,
            "error": outcome.error,
        }
        with self._deliveries.pipeline() as pipe:
            self._deliveries.log_webhook_attempt(pipe, hook.id, delivery_id, TEST_EVENT, entry)
            pipe.execute()

    def attempts(self, session_id: str, webhook_id: str, limit: int) -> list[dict[str, Any]]:
        """The webhook's delivery log, newest first: every attempt of its deliveries and tests."""
        hook = self.get(session_id, webhook_id)
        return self._deliveries.webhook_attempts(hook.id, limit)

    def failures(self, only: list[str] | None, session_id: str | None = None) -> list[Delivery]:
        """Dead letters in scope, newest first."""
        rows = self._deliveries.failures()
        return [
            row
            for row in rows
            if (only is None or row.session_id in only)
            and (session_id is None or row.session_id == session_id)
        ]

    def delivery(self, delivery_id: str, only: list[str] | None) -> tuple[Delivery, list[dict[str, Any]]]:
        found = self._deliveries.get(delivery_id)
        if found is None or (only is not None and found.session_id not in only):
            raise DeliveryNotFound(details={"deliveryId": delivery_id})
        return found, self._deliveries.attempts(delivery_id)

    def redrive(self, only: list[str] | None, body: dict[str, Any]) -> dict[str, int]:
        """Replay dead letters (by ids, or all of a webhook or session) as new deliveries with new ids and
        the same idempotency keys, fewest attempts first, then oldest; at most `limit` per call."""
        ids = set(body.get("ids") or [])
        in_scope = [
            row
            for row in self.failures(only, body.get("sessionId"))
            if row.replayable and (not body.get("webhookId") or row.webhook_id == body["webhookId"])
        ]
        rows = [row for row in in_scope if not ids or row.id in ids]
        rows.sort(key=lambda row: (row.attempts_made, row.failed_at or 0))
        batch = rows[: body["limit"]]
        redriven = skipped = 0
        hooks = self._repo.get_many(sorted({row.webhook_id for row in batch}))  # unreadable ones left out
        for row in batch:
            hook = hooks.get(row.webhook_id)
            if hook is None or not hook.active or not subscribed(hook.events, row.event):
                skipped += 1
                continue
            self._replay(row, hook)
            redriven += 1
        return {
            "redriven": redriven,
            "delivered": 0,
            "enqueued": redriven,
            "failed": 0,
            "skipped": skipped,
            "remaining": len(in_scope) - redriven,
        }

    def _replay(self, row: Delivery, hook: Webhook) -> None:
        new_id = f"dlv_{uuid.uuid4()}"
        envelope = orjson.loads(row.body)
        envelope["deliveryId"] = new_id
        fresh = replace(
            row,
            id=new_id,
            body=orjson.dumps(envelope),
            max_attempts=max(1, hook.retry_count),
            created_at=now_ms(),
            url=hook.url,
            state="pending",
            attempt=0,
            attempts_made=0,
            last_status=None,
            last_error=None,
            failed_at=None,
        )
        with self._deliveries.pipeline() as pipe:
            self._deliveries.put(pipe, fresh)
            enqueue_webhook_delivery(
                self._deliveries.connection, new_id, 0, timeout=job_timeout(self._settings), pipeline=pipe
            )
            self._deliveries.remove_failure(pipe, row.id)
            self._deliveries.update(pipe, row.id, state="redriven", redrivenAs=new_id)
            pipe.execute()
