"""Publishing events: the one entry point for event producers (the runner's session processes).

    publish_event(conn, settings, session_id, "message.received", data) -> event id

appends the event to the session's capped stream (and the all-sessions stream, and the pending set) in
one atomic step, then enqueues one delivery job per matching webhook, writing each delivery record in
the same transaction as its job. If the producer dies between those two steps, the reconciler
(`reconcile_pending`, run by every `openwa worker`) fans the event out later; delivery ids are derived
from (session, event, webhook), so a second fan-out never duplicates a delivery.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from redis import Redis

from functions.config import Settings
from functions.core.clock import iso, utcnow
from functions.core.models import Webhook
from functions.log import get_logger
from functions.queueing import enqueue_auto_reply, enqueue_webhook_delivery
from functions.state.automation_rules import AutomationRuleRepository
from functions.state.deliveries import Delivery, DeliveryRepository
from functions.state.events import EventLog, StoredEvent
from functions.state.keys import Keys
from functions.state.webhooks import WebhookRepository
from functions.webhooks.events import PayloadTooLarge, idempotency_key, render_body
from functions.webhooks.filters import matches, subscribed

log = get_logger(__name__)

_DELIVERY_NAMESPACE = uuid.UUID("5b0e4c1e-7a52-4c1f-9d0e-6f1f0c8a2b77")


def now_ms() -> int:
    return int(time.time() * 1000)


def job_timeout(settings: Settings) -> int:
    """RQ's hard limit for one delivery job: the HTTP timeout plus room for Redis round trips."""
    return int(settings.webhook_timeout / 1000) + 5


def delivery_id_for(session_id: str, event_id: str, webhook_id: str) -> str:
    """`dlv_` + the UUIDv5 of `{session_id}/{event_id}/{webhook_id}` in the fixed namespace
    `5b0e4c1e-7a52-4c1f-9d0e-6f1f0c8a2b77`: the same (event, webhook) always gets the same id, so a
    re-fan-out (reconciler, late producer) finds the existing delivery instead of sending twice."""
    return "dlv_" + str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{session_id}/{event_id}/{webhook_id}"))


def event_log(conn: Redis, settings: Settings) -> EventLog:
    return EventLog(conn, Keys(settings.redis_prefix), maxlen=settings.event_stream_maxlen)


def publish_event(
    conn: Redis,
    settings: Settings,
    session_id: str,
    event: str,
    data: dict[str, Any],
    *,
    occurred_at: datetime | None = None,
) -> str:
    """Record `event` for `session_id` and queue its webhook deliveries; returns the event's stream id.

    `data` must be JSON-serialisable (orjson); `occurred_at` (default now) becomes the body's `timestamp`
    and feeds the idempotency key of events without a natural id. Safe to call from any process that has
    the settings and a Redis connection. Raises StateUnavailable when Redis is down (nothing recorded).
    """
    timestamp = iso(occurred_at or utcnow()) or ""
    raw = orjson.dumps(data)
    event_id = event_log(conn, settings).append(session_id, event, raw, timestamp, now_ms())
    stored = StoredEvent(event_id, session_id, event, timestamp, raw, event_id)
    fan_out(conn, settings, stored, data)
    return event_id


def _new_delivery(settings: Settings, hook: Webhook, stored: StoredEvent, data: dict[str, Any]) -> Delivery:
    delivery_id = delivery_id_for(stored.session_id, stored.id, hook.id)
    key = idempotency_key(stored.session_id, stored.event, data, stored.timestamp, hook.id)
    delivery = Delivery(
        id=delivery_id,
        webhook_id=hook.id,
        session_id=stored.session_id,
        event_id=stored.id,
        event=stored.event,
        idempotency_key=key,
        body=b"",
        max_attempts=max(1, hook.retry_count),
        created_at=now_ms(),
        url=hook.url,
    )
    try:
        body = render_body(
            event=stored.event,
            timestamp=stored.timestamp,
            session_id=stored.session_id,
            idempotency_key=key,
            delivery_id=delivery_id,
            data=data,
            max_bytes=settings.webhook_max_payload_bytes,
        )
    except PayloadTooLarge as exc:
        return replace(delivery, state="failed", last_error=str(exc), replayable=False)
    return replace(delivery, body=body)


def _plan(settings: Settings, hook: Webhook, stored: StoredEvent, data: dict[str, Any]) -> Delivery | None:
    """The delivery of this event to `hook`, or None when the hook does not take it. A hook that cannot be
    evaluated (a stored filter of a shape no version accepts) is logged and skipped: it must not keep the
    event from the session's other webhooks."""
    try:
        if not (hook.active and subscribed(hook.events, stored.event) and matches(hook.filters, data)):
            return None
        return _new_delivery(settings, hook, stored, data)
    except Exception as exc:  # a bad hook, whatever its fault; the others still get the event
        log.warning(
            "webhook_skipped_in_fanout",
            webhook_id=hook.id,
            session_id=stored.session_id,
            event_id=stored.id,
            error=type(exc).__name__,
        )
        return None


def fan_out(
    conn: Redis, settings: Settings, stored: StoredEvent, data: dict[str, Any], *, skip_existing: bool = False
) -> int:
    """Enqueue a delivery for every active webhook of the session that selects this event and whose
    filters pass, then clear the event's pending mark, all in one transaction. Returns how many were
    queued. `skip_existing` (the reconciler) leaves out deliveries already recorded. A `message.received`
    of a session with automation rules also gets its auto-reply job in that transaction (the job is
    idempotent, so a re-fan-out may queue it again)."""
    keys = Keys(settings.redis_prefix)
    auto_reply = (
        stored.event == "message.received"
        and bool(data.get("id"))
        and AutomationRuleRepository(conn, keys).any_for(stored.session_id)
    )
    hooks = WebhookRepository(conn, keys).list_for_session(stored.session_id)  # unreadable ones skipped
    deliveries = DeliveryRepository(conn, keys)
    planned = [delivery for hook in hooks if (delivery := _plan(settings, hook, stored, data)) is not None]
    if skip_existing and planned:
        already = deliveries.existing([delivery.id for delivery in planned])
        planned = [delivery for delivery in planned if delivery.id not in already]
    retention = settings.webhook_failure_retention_days * 86_400
    queued = 0
    with deliveries.pipeline() as pipe:
        for delivery in planned:
            if delivery.state == "failed":  # over the size cap: a dead letter with 0 attempts
                deliveries.put(pipe, replace(delivery, failed_at=now_ms()), retention)
                deliveries.add_failure(pipe, delivery.id, now_ms())
                continue
            deliveries.put(pipe, delivery)
            enqueue_webhook_delivery(conn, delivery.id, 0, timeout=job_timeout(settings), pipeline=pipe)
            queued += 1
        if auto_reply:
            enqueue_auto_reply(conn, stored.session_id, str(data["id"]), pipeline=pipe)
        event_log(conn, settings).mark_dispatched(pipe, stored.session_id, stored.id)
        pipe.execute()
    return queued


def reconcile_pending(conn: Redis, settings: Settings, *, limit: int = 100) -> int:
    """Fan out events marked pending for longer than WEBHOOK_RECONCILE_GRACE_SECONDS (their producer died
    between appending and enqueueing). Events the capped stream already dropped, and events whose data is
    not readable JSON, are forgotten, with a warning. Returns how many events were fanned out."""
    events = event_log(conn, settings)
    cutoff = now_ms() - int(settings.webhook_reconcile_grace_seconds * 1000)
    done = 0
    for session_id, event_id in events.pending_before(cutoff, limit):
        stored = events.get(session_id, event_id)
        if stored is None:
            log.warning("webhook_event_lost_before_fanout", session_id=session_id, event_id=event_id)
            events.forget_pending(session_id, event_id)
            continue
        try:
            data = orjson.loads(stored.data)
        except orjson.JSONDecodeError as exc:
            # Unreadable (an older producer stored a lone surrogate, say): it can never be delivered, and
            # left pending it would come first in every round. Dropped, with the reason.
            log.warning("webhook_event_unreadable", session_id=session_id, event_id=event_id, reason=exc.msg)
            events.forget_pending(session_id, event_id)
            continue
        fan_out(conn, settings, stored, data, skip_existing=True)
        log.info("webhook_event_reconciled", session_id=session_id, event_id=event_id)
        done += 1
    return done
