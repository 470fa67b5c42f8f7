"""Running one delivery attempt and deciding what happens next (DESIGN §1.3).

- 2xx: delivered (the webhook's `lastTriggeredAt` is set).
- 410: the receiver is gone: the webhook is disabled and the delivery dead-lettered.
- other 4xx except 408 and 429: the request will not get better: dead-lettered at once.
- 408, 429, 5xx, 3xx, timeouts, network errors, refused targets: retried after the next delay of
  WEBHOOK_RETRY_SCHEDULE (with jitter), or after the receiver's Retry-After (capped), until the webhook's
  `retryCount` attempts are spent; then dead-lettered.

A delivery is marked in flight (with a deadline) in the same atomic step that takes it off the ready list,
so that if its worker dies the sweeper (`functions.webhooks.maintenance`) re-queues it; whichever of the
worker and the sweeper clears that mark first decides, so an attempt is never settled twice.

A drain job claims ready deliveries in batches of DRAIN_BATCH, attempts them one after another on its
keep-alive connections, and settles each batch in one transaction: per delivery that is a few pipelined
commands instead of a dequeue, two round trips and RQ's bookkeeping (~75 commands a job, measured).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

import orjson
from redis import Redis
from redis.client import Pipeline

from functions.config import Settings, get_settings
from functions.core.clock import iso, utcnow
from functions.core.errors import DomainError
from functions.core.models import Webhook
from functions.crypto.envelope import Envelope, envelope_from_settings
from functions.log import get_logger
from functions.queueing import (
    WEBHOOK_DRAIN_SECONDS,
    WEBHOOKS_READY_KEY,
    WEBHOOKS_WAKE_KEY,
    enqueue_webhook_delivery,
    ready_entry,
    wait_webhook_ready,
    wake_webhook_drain,
)
from functions.state import metrics
from functions.state.connection import redis_from_settings
from functions.state.deliveries import Delivery, DeliveryRepository
from functions.state.keys import Keys
from functions.state.webhooks import WebhookRepository
from functions.webhooks.dispatch import job_timeout, now_ms
from functions.webhooks.sender import Outcome, Sender
from functions.webhooks.signing import delivery_headers
from functions.webhooks.targets import pin_webhook_url

log = get_logger(__name__)

INFLIGHT_GRACE_SECONDS = 5
# Deliveries claimed per round trip by a drain job. Small enough that a batch stuck behind one slow
# receiver is handed back soon (see `run_claimed`), large enough to amortise the claim and the settle.
DRAIN_BATCH = 16


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
        target = pin_webhook_url(hook.url, ctx.settings)
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


def claim_deadline_ms(settings: Settings) -> int:
    """When a worker claiming deliveries now is presumed dead. A drain job starts attempts for at most
    WEBHOOK_DRAIN_SECONDS and RQ kills it one attempt's job timeout after that, so the deadline (the same
    two plus a grace) always falls after the kill: the sweeper never re-queues a delivery a live worker
    may still settle."""
    return now_ms() + (job_timeout(settings) + WEBHOOK_DRAIN_SECONDS + INFLIGHT_GRACE_SECONDS) * 1000


def run_attempt(ctx: DeliveryContext, delivery_id: str, attempt: int) -> str:
    """Attempt `attempt` of a delivery, idempotently: a job for an attempt already settled or running (a
    duplicate, or one the sweeper re-queued) does nothing. Returns what happened, for the job's log."""
    entry = ready_entry(delivery_id, attempt)
    claimed, _ = ctx.deliveries.claim(WEBHOOKS_READY_KEY, claim_deadline_ms(ctx.settings), entries=(entry,))
    return run_claimed(ctx, claimed)[0] if claimed else "stale"


def drain(ctx: DeliveryContext) -> str:
    """Attempt ready deliveries, a batch at a time, for WEBHOOK_DRAIN_SECONDS. While some remain, another
    drain job is kept waiting on the queue, so every worker can join in; when none is left, the job waits
    for new ones until its time is up. Lingering is what makes a trickle of events cheap too: without it,
    each event would get a drain job of its own, and RQ's bookkeeping costs more than the delivery."""
    stop_at = time.monotonic() + WEBHOOK_DRAIN_SECONDS
    timeout = job_timeout(ctx.settings)
    results: Counter[str] = Counter()
    wake_key: str | None = WEBHOOKS_WAKE_KEY  # this job was the one waiting: clear its flag on the claim
    while True:
        claimed, remaining = ctx.deliveries.claim(
            WEBHOOKS_READY_KEY, claim_deadline_ms(ctx.settings), take=DRAIN_BATCH, wake_key=wake_key
        )
        wake_key = None
        if remaining:
            wake_webhook_drain(ctx.conn, timeout=timeout)
        results.update(run_claimed(ctx, claimed, stop_at))
        left = stop_at - time.monotonic()
        if left <= 0 or (not remaining and not wait_webhook_ready(ctx.conn, left)):
            return " ".join(f"{result}={count}" for result, count in sorted(results.items())) or "idle"


def run_claimed(ctx: DeliveryContext, claimed: list[Delivery], stop_at: float | None = None) -> list[str]:
    """Attempt claimed deliveries in order, then settle them together. Past `stop_at`, the ones not yet
    attempted go back to the ready list untouched. Returns each attempted delivery's result."""
    hooks = ctx.webhooks.get_many(sorted({delivery.webhook_id for delivery in claimed}))
    attempted: list[tuple[Delivery, Webhook | None, Outcome | None]] = []
    for index, delivery in enumerate(claimed):
        if stop_at is not None and time.monotonic() >= stop_at:
            unattempted = [ready_entry(rest.id, rest.attempt) for rest in claimed[index:]]
            ctx.deliveries.release(WEBHOOKS_READY_KEY, unattempted)
            wake_webhook_drain(ctx.conn, timeout=job_timeout(ctx.settings))
            break
        hook = hooks.get(delivery.webhook_id)
        if hook is None or not hook.active:
            attempted.append((delivery, None, None))
            continue
        outcome = send_attempt(
            ctx,
            hook,
            body=delivery.body,
            event=delivery.event,
            key=delivery.idempotency_key,
            delivery_id=delivery.id,
            retry=delivery.attempt,
        )
        if verdict(outcome) == "gone":  # the webhook gets disabled: later deliveries to it are dropped
            hooks[hook.id] = replace(hook, active=False)
        attempted.append((delivery, hook, outcome))
    return _settle_all(ctx, attempted)


def _settle_all(
    ctx: DeliveryContext, attempted: list[tuple[Delivery, Webhook | None, Outcome | None]]
) -> list[str]:
    """Clear the in-flight marks, then record every delivery this worker still owns in one transaction
    (a mark already cleared means the sweeper re-queued that attempt: it is not settled twice)."""
    owned = ctx.deliveries.claim_inflight_many([ready_entry(d.id, d.attempt) for d, _, _ in attempted])
    results: list[str] = []
    triggered: set[str] = set()
    gone: dict[str, Webhook] = {}
    with ctx.deliveries.pipeline() as pipe:
        for (delivery, hook, outcome), mine in zip(attempted, owned, strict=True):
            if not mine:
                results.append("superseded")
                continue
            if hook is None or outcome is None:
                ctx.deliveries.update(pipe, delivery.id, state="dropped")
                ctx.deliveries.expire(pipe, delivery.id, ctx.settings.webhook_delivery_retention_hours * 3600)
                results.append("dropped")
                continue
            result = settle(ctx, hook, delivery, delivery.attempt, outcome, pipe)
            if result == "delivered":
                triggered.add(hook.id)
            elif result == "gone":
                gone[hook.id] = hook
            results.append(result)
        now = utcnow()
        for hook_id in triggered:
            ctx.webhooks.set_if_exists_on(pipe, hook_id, last_triggered_at=now)
        for hook_id in gone:
            ctx.webhooks.set_if_exists_on(pipe, hook_id, active=False, updated_at=now)
        pipe.execute()
    for hook in gone.values():
        log.warning("webhook_disabled_gone", webhook_id=hook.id, session_id=hook.session_id)
    return results


def count_attempt(pipe: Pipeline, keys: Keys, outcome: Outcome, result: str) -> None:
    """The attempt's outcome and duration (and a dead letter) into the shared metrics, queued on the
    settle pipeline: no round trip of their own."""
    metrics.incr_counter(pipe, keys, metrics.WEBHOOK_ATTEMPTS, {"outcome": result})
    metrics.observe(pipe, keys, metrics.WEBHOOK_ATTEMPT_DURATION, outcome.latency_ms / 1000)
    if result in ("dead_lettered", "gone"):
        metrics.incr_counter(pipe, keys, metrics.WEBHOOK_DELIVERY_FAILURES)


def settle(
    ctx: DeliveryContext, hook: Webhook, delivery: Delivery, attempt: int, outcome: Outcome, pipe: Pipeline
) -> str:
    """Queue on `pipe` the attempt's record and what follows: delivered, the next attempt scheduled, or a
    dead letter. The webhook's own fields (`lastTriggeredAt`, disabling on 410) are the caller's."""
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
    ctx.deliveries.log_attempt(pipe, delivery.id, entry)
    ctx.deliveries.log_webhook_attempt(pipe, delivery.webhook_id, delivery.id, delivery.event, entry)
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
    count_attempt(pipe, Keys(settings.redis_prefix), outcome, result)
    return result
