"""The webhook delivery jobs (queue `webhooks`; paths `WEBHOOK_DRAIN_JOB` and `WEBHOOK_DELIVERY_JOB` of
`functions.queueing`)."""

from __future__ import annotations

from functions.webhooks.delivery import drain as drain_ready
from functions.webhooks.delivery import run_attempt, worker_context


def drain() -> str:
    """Attempt the deliveries on the ready list, in batches, for about a second (see
    `functions.webhooks.delivery.drain`). Idempotent: entries already settled or running are skipped, and
    a drain job that finds nothing ready does nothing."""
    return drain_ready(worker_context())


def deliver(delivery_id: str, attempt: int) -> str:
    """Run attempt `attempt` (0-based) of delivery `delivery_id` (a retry released by RQ's scheduler).
    Idempotent: a duplicate or stale job is a no-op. Retries are not RQ's: a failed attempt schedules the
    next one itself (jitter, Retry-After, no retry on most 4xx), and the job's timeout is the HTTP timeout
    plus a margin."""
    return run_attempt(worker_context(), delivery_id, attempt)
