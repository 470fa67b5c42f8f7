"""Running one delivery attempt and deciding what happens next (DESIGN §1.3).

- 2xx: delivered (the webhook's `lastTriggeredAt` is set).
- 410: the receiver is gone: the webhook is disabled and the delivery dead-lettered.
- other 4xx except 408 and 429: the request will not get better: dead-lettered at once.
- 408, 429, 5xx, 3xx, timeouts, network errors, refused targets: retried after the next delay of
  WEBHOOK_RETRY_SCHEDULE (with jitter), or after the receiver's Retry-After (capped), until the webhook's
  `retryCount` attempts are spent; then dead-lettered.

An attempt is marked in flight (with a deadline) while it runs, so that if its worker dies the sweeper
(`functions.webhooks.maintenance`) re-queues it; whichever of the job and the sweeper clears that mark
first decides, so an attempt is never settled twice.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from functools import lru_cache

import orjson
from redis import Redis

from functions.config import Settings, get_settings
from functions.core.clock import iso, utcnow
from functions.core.errors import DomainError
from functions.core.models import Webhook
from functions.crypto.envelope import Envelope, envelope_from_settings
from functions.log import get_logger
from functions.queueing import enqueue_webhook_delivery
from functions.state.connection import redis_from_settings
from functions.state.deliveries import Delivery, DeliveryRepository
from functions.state.keys import Keys
from functions.state.webhooks import WebhookRepository
from functions.webhooks.dispatch import job_timeout, now_ms
from functions.webhooks.sender import Outcome, Sender
from functions.webhooks.signing import delivery_headers
from functions.webhooks.ssrf import pin

log = get_logger(__name__)

INFLIGHT_GRACE_SECONDS = 5


@dataclass
class DeliveryContext:
    """What attempts need, built once per process (the sender's pool is what makes keep-alive work)."""

    settings: Settings
    conn: Redis
    deliveries: DeliveryRepository
    webhooks: WebhookRepository
    envelope: Envelope
    sender: Sender

    @classmethod
    def build(cls, settings: Settings, conn: Redis | None = None) -> DeliveryContext:
        conn = conn or redis_from_settings(settings)
        keys = Keys(settings.redis_prefix)
        return cls(
            settings,
            conn,
            DeliveryRepository(conn, keys),
            WebhookRepository(conn, keys),
            envelope_from_settings(settings),
            Sender(settings.webhook_timeout / 1000),
        )


@lru_cache(maxsize=1)
def worker_context() -> DeliveryContext:
    """The delivery context of this worker process, from the environment's settings."""
    return DeliveryContext.build(get_settings())


def webhook_secret(envelope: Envelope, hook: Webhook) -> str | None:
    if not hook.secret_encrypted:
        return None
    return envelope.decrypt_text(hook.secret_encrypted, context=f"webhook:{hook.id}".encode())


def webhook_headers(envelope: Envelope, hook: Webhook) -> dict[str, str]:
    if not hook.headers_encrypted:
        return {}
    plain = envelope.decrypt_text(hook.headers_encrypted, context=f"webhook:{hook.id}:headers".encode())
    headers: dict[str, str] = orjson.loads(plain)
    return headers


def send_attempt(
    ctx: DeliveryContext, hook: Webhook, *, body: bytes, event: str, key: str, delivery_id: str, retry: int
) -> Outcome:
    """Pin the URL (SSRF guard, DNS resolved once), sign and POST `body`. Never raises."""
    try:
        settings = ctx.settings
        target = pin(hook.url, protect=settings.webhook_ssrf_protect, allowed=settings.ssrf_allowed_hosts)
        headers = delivery_headers(
            body=body,
            event=event,
            idempotency_key=key,
            delivery_id=delivery_id,
            retry_count=retry,
            timestamp=int(time.time()),
            secret=webhook_secret(ctx.envelope, hook),
            custom=webhook_headers(ctx.envelope, hook),
        )
    except DomainError as exc:
        return Outcome(None, 0.0, f"{exc.code}: {exc.message}")
    return ctx.sender.post(target, body, headers)


def verdict(outcome: Outcome) -> str:
    """`delivered`, `gone` (410), `rejected` (4xx that retrying cannot fix) or `retry`."""
    if outcome.ok:
        return "delivered"
    status = outcome.status
    if status == 410:
        return "gone"
    if status is not None and 400 <= status < 500 and status not in (408, 429):
        return "rejected"
    return "retry"


def next_delay(settings: Settings, attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt `attempt + 1`: the receiver's Retry-After (capped) if it sent one, else the
    schedule's delay for this attempt (the last one repeats) spread by +/- WEBHOOK_RETRY_JITTER."""
    if retry_after is not None:
        return min(retry_after, float(settings.webhook_retry_after_max_seconds))
    delays = settings.webhook_retry_delays
    base = delays[min(attempt, len(delays) - 1)]
    spread = settings.webhook_retry_jitter
    return max(0.0, base * random.uniform(1 - spread, 1 + spread))


def run_attempt(ctx: DeliveryContext, delivery_id: str, attempt: int) -> str:
    """Attempt `attempt` of a delivery, idempotently: a job for an attempt already settled (a duplicate,
    or one the sweeper re-queued) does nothing. Returns what happened, for the job's log."""
    delivery = ctx.deliveries.get(delivery_id)
    if delivery is None or delivery.state not in ("pending", "delivering") or delivery.attempt != attempt:
        return "stale"
    hook = ctx.webhooks.get(delivery.webhook_id)
    if hook is None or not hook.active:
        with ctx.deliveries.pipeline() as pipe:
            ctx.deliveries.update(pipe, delivery_id, state="dropped")
            ctx.deliveries.expire(pipe, delivery_id, ctx.settings.webhook_delivery_retention_hours * 3600)
            pipe.execute()
        return "dropped"
    deadline = now_ms() + (job_timeout(ctx.settings) + INFLIGHT_GRACE_SECONDS) * 1000
    ctx.deliveries.begin(delivery_id, attempt, deadline)
    outcome = send_attempt(
        ctx,
        hook,
        body=delivery.body,
        event=delivery.event,
        key=delivery.idempotency_key,
        delivery_id=delivery.id,
        retry=attempt,
    )
    if not ctx.deliveries.claim_inflight(delivery_id, attempt):
        return "superseded"  # the sweeper presumed this worker dead and re-queued the attempt
    return settle(ctx, hook, delivery, attempt, outcome)


def settle(ctx: DeliveryContext, hook: Webhook, delivery: Delivery, attempt: int, outcome: Outcome) -> str:
    """Record the attempt, then mark delivered, schedule the next attempt, or dead-letter."""
    settings = ctx.settings
    result = verdict(outcome)
    made = delivery.attempts_made + 1
    entry = {
        "attempt": attempt + 1,
        "at": iso(utcnow()),
        "statusCode": outcome.status,
        "latencyMs": outcome.latency_ms,
        "error": outcome.error,
    }
    status_fields = {"lastStatus": outcome.status} if outcome.status is not None else {}
    error = outcome.error or (f"HTTP {outcome.status}" if not outcome.ok else None)
    with ctx.deliveries.pipeline() as pipe:
        ctx.deliveries.log_attempt(pipe, delivery.id, entry)
        if result == "delivered":
            ctx.deliveries.update(pipe, delivery.id, state="delivered", attemptsMade=made, **status_fields)
            ctx.deliveries.expire(pipe, delivery.id, settings.webhook_delivery_retention_hours * 3600)
        elif result == "retry" and attempt + 1 < delivery.max_attempts:
            delay = next_delay(settings, attempt, outcome.retry_after)
            ctx.deliveries.update(
                pipe,
                delivery.id,
                state="pending",
                attempt=attempt + 1,
                attemptsMade=made,
                lastError=error or "",
                **status_fields,
            )
            enqueue_webhook_delivery(
                ctx.conn, delivery.id, attempt + 1, timeout=job_timeout(settings), delay=delay, pipeline=pipe
            )
            result = "retrying"
        else:
            ctx.deliveries.update(
                pipe,
                delivery.id,
                state="failed",
                attemptsMade=made,
                lastError=error or "",
                failedAt=now_ms(),
                url=hook.url,
                **status_fields,
            )
            ctx.deliveries.add_failure(pipe, delivery.id, now_ms())
            ctx.deliveries.expire(pipe, delivery.id, settings.webhook_failure_retention_days * 86_400)
            result = "gone" if result == "gone" else "dead_lettered"
        pipe.execute()
    if result == "delivered":
        ctx.webhooks.set_if_exists(hook.id, last_triggered_at=utcnow())
    elif result == "gone":
        ctx.webhooks.set_if_exists(hook.id, active=False, updated_at=utcnow())
        log.warning("webhook_disabled_gone", webhook_id=hook.id, session_id=hook.session_id)
    return result
